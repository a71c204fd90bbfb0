#!/bin/sh
# plugin-contracts.sh - what the core makes of plugins' answers in a real run: alive() 1 running,
# 0 stopped or restarted (the trial fails, naming the target), -errno could not tell (taken as
# running, said once); a failed apply() is restored by the core, like every other; an empty
# saved text is handed back as it is; check() is asked after each trial, before restore, and a harm
# fails the trial naming service, target and reason, and the orchestrator revives the target; after
# a crash, a fresh instance without settings restores.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
tb=$abs_top_builddir/throttlebot
tmp=$(mktemp -d /tmp/throttlebot-alive-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # description, then a command that must succeed
	what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}
export THROTTLEBOT_PLUGIN_PATH="$abs_top_builddir/plugins/sim/.libs:$abs_top_builddir/plugins/strategies/.libs"
sim_cpu="{ plugin = \"sim_cpu\"; state = \"$tmp/sim.state\"; }"
conf() { # name, what alive() answers, the throttler: writes $tmp/NAME.conf
	cat > "$tmp/$1.conf" <<CONF
application = "plugin contracts";
output_dir = "$tmp/$1";
orchestrator = { plugin = "sim"; state = "$tmp/sim.state"; services = 2; seed = 5; alive = "$2"; };
throttlers = ( $3 );
metrics = ( { plugin = "sim_jct"; state = "$tmp/sim.state"; noise = 0.02; } );
strategy = { plugin = "exhaustive"; };
stress_levels = [0.5];
trials = 2;
baseline_trials = 2;
max_extra_trials = 0;
CONF
}
run() { # as conf; leaves $tmp/NAME.out and $tmp/NAME/report.json
	conf "$@"
	"$tb" run "$tmp/$1.conf" >"$tmp/$1.out" 2>&1
}
failed() { grep -o '"failed": true' "$tmp/$1/report.json" | wc -l; }

run running running "$sim_cpu"; st=$?
check "running: the run succeeds" test "$st" -eq 0
check "... with no failed trial" test "$(failed running)" -eq 0

run unknown unknown "$sim_cpu"; st=$?
check "could not tell: the run succeeds" test "$st" -eq 0
check "... with no failed trial" test "$(failed unknown)" -eq 0
check "... saying so once" test "$(grep -c 'could not tell whether .* is still running (Input/output error): taken as running' "$tmp/unknown.out")" -eq 1

run stopped stopped "$sim_cpu"; st=$?
check "stopped: the run still ends (status 0)" test "$st" -eq 0
check "... every throttled trial failed (4)" test "$(failed stopped)" -eq 4
check "... naming the target" grep -q "service 'svc0': sim:0 stopped or restarted during the trial" "$tmp/stopped/report.json"

# A throttler whose apply() fails on svc1, that saves nothing for svc0, and records every call.
mkdir "$tmp/plugins"
cp "$abs_top_builddir/tests/.libs/fake_recorder.so" "$tmp/plugins/" || exit 1
chmod 0755 "$tmp" "$tmp/plugins"; chmod 0644 "$tmp/plugins/fake_recorder.so"
export THROTTLEBOT_PLUGIN_PATH="$tmp/plugins:$THROTTLEBOT_PLUGIN_PATH"
run apply running \
	"{ plugin = \"fake_recorder\"; log = \"$tmp/calls\"; fail = \"sim:1\"; empty = \"sim:0\"; }"
st=$?
check "failed apply: the run ends (status 0)" test "$st" -eq 0
check "... the 2 trials of svc1 failed" test "$(failed apply)" -eq 2
check "... every apply, failed or not, was followed by its restore" \
	test "$(awk '$1 == "apply" { want = $2; next } $1 == "restore" && $2 == want { ok++; want = "" }
		END { print ok + 0 }' "$tmp/calls")" -eq 4
check "... svc0's empty saved text was applied and restored as it is" \
	test "$(grep -c '^restore <empty>$' "$tmp/calls")" -eq 2
check "... check() after each trial that ran (svc0's 2), before its restore" \
	test "$(awk '$1 == "check" { want = $2; next } $1 == "restore" && want != "" { ok += $2 == want; want = "" }
		END { print ok + 0 }' "$tmp/calls")" -eq 2
check "... and nothing else was called, between one init and one fini" \
	test "$(wc -l < "$tmp/calls")-$(head -1 "$tmp/calls")-$(tail -1 "$tmp/calls")" = \
		"12-init configured-fini <empty>"
check "... nothing left in the journal" sh -c "'$tb' restore --check >/dev/null"

# check() finds svc0 harmed: its trials fail naming it and why, and the orchestrator revives it.
run harm running "{ plugin = \"fake_recorder\"; log = \"$tmp/harmed\"; harm = \"sim:0\"; }"
st=$?
check "harmed: the run ends (status 0)" test "$st" -eq 0
check "... svc0's 2 trials failed" test "$(failed harm)" -eq 2
check "... naming service, target, throttler and reason" \
	grep -q "service 'svc0': sim:0 harmed by fake_recorder: fake harm" "$tmp/harm/report.json"
check "... and svc0 was revived after each" test "$(grep -c 'sim: brought sim:0 back' "$tmp/harm.out")" -eq 2
check "... nothing left in the journal" sh -c "'$tb' restore --check >/dev/null"

# A hold killed while it holds: "throttlebot restore" undoes it with a fresh instance.
conf crash running "{ plugin = \"fake_recorder\"; log = \"$tmp/held\"; }"
"$tb" hold "$tmp/crash.conf" svc1 fake_recorder 0.5 --for 60 >"$tmp/hold.out" 2>&1 &
pid=$!
i=0
while ! grep -q '^apply sim:1$' "$tmp/held" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check "a killed hold had applied" grep -q '^apply sim:1$' "$tmp/held"
check "... and left it in the journal" sh -c "! '$tb' restore --check >/dev/null"
FAKE_RECORDER_LOG=$tmp/restored "$tb" restore >"$tmp/restore.out" 2>&1
check "restore: init without settings, restore the saved text, fini" \
	test "$(cat "$tmp/restored" 2>/dev/null)" = "$(printf 'init restore-only\nrestore sim:1\nfini <empty>')"
check "... nothing left in the journal" sh -c "'$tb' restore --check >/dev/null"
[ "$fail" = 0 ] || cat "$tmp/unknown.out" "$tmp/stopped.out" "$tmp/apply.out" "$tmp/calls" "$tmp/harm.out" \
	"$tmp/hold.out" "$tmp/restore.out"
exit $fail
