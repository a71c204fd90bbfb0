#!/bin/bash
# journal-run.sh - whole runs and the journal, on the sim plugins (no cgroups): one run per host at a
# time whatever journal each names, every terminating signal restores and exits non-zero, a restore
# that fails makes the run fail and name what is still throttled, and restore --check reports it.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (only root runs keep a journal)"; exit 77; }
tb=$abs_top_builddir/throttlebot
tmp=$(mktemp -d /tmp/throttlebot-jrun-XXXXXX)
export THROTTLEBOT_JOURNAL=$tmp/journal THROTTLEBOT_LOCK=$tmp/lock
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
check() { # description, then a command that must succeed
	what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}
# name, metric command: 3 services, 1 throttler, 5 trials each after 2 baselines, each trial >= 0.2 s.
write_conf() {
	cat > "$tmp/$1.conf" <<CONF
application = "journal-run";
output_dir = "$tmp/out-$1";
orchestrator = { plugin = "sim"; state = "$tmp/sim.state"; services = 3; seed = 1; };
throttlers = ( { plugin = "sim_cpu"; state = "$tmp/sim.state"; } );
metrics = ( { plugin = "command"; command = ["/bin/sh", "-c", "$2"]; },
            { plugin = "sim_jct"; state = "$tmp/sim.state"; } );
strategy = { plugin = "exhaustive"; };
stress_levels = [0.5];
trials = 5;
baseline_trials = 2;
CONF
}
write_conf slow "sleep 0.2"
# The sim orchestrator keeps each throttle as an "allow" line in its state file.
unthrottled() { ! grep -q '^allow' "$tmp/sim.state"; }
# Wait (bounded: 20 s) until the journal holds an applied throttle.
wait_pending() {
	for _ in $(seq 1 400); do
		"$tb" -q restore --check >/dev/null 2>&1 || return 0
		sleep 0.05
	done
	return 1
}

# Two runs at once, each with its own journal: one takes the host, the other is refused.
THROTTLEBOT_JOURNAL=$tmp/journal-a "$tb" run "$tmp/slow.conf" >"$tmp/a.log" 2>&1 &
a=$!
THROTTLEBOT_JOURNAL=$tmp/journal-b "$tb" run "$tmp/slow.conf" >"$tmp/b.log" 2>&1 &
b=$!
pids="$a $b"
wait $a; sa=$?
wait $b; sb=$?
pids=
check "two runs at once: one succeeds, one fails ($sa, $sb)" \
	test $((sa == 0 && sb != 0 || sa != 0 && sb == 0)) = 1
check "... the refused one says another run is active" \
	sh -c "grep -q 'another throttlebot run is active' '$tmp/a.log' '$tmp/b.log'"
check "... and both journals are gone" test ! -e "$tmp/journal-a" -a ! -e "$tmp/journal-b"
check "... and nothing is left throttled" unthrottled

# Every catchable signal that would end the process: restore, then exit 130.
for sig in HUP INT QUIT TERM USR1 USR2 ALRM PIPE VTALRM PROF IO PWR SYS XCPU XFSZ STKFLT \
	   RTMIN RTMIN+5 RTMAX; do
	"$tb" run "$tmp/slow.conf" >"$tmp/sig.log" 2>&1 &
	pid=$!; pids=$pid
	if ! wait_pending; then
		echo "FAILED: SIG$sig: the run never throttled"; cat "$tmp/sig.log"; fail=1
	fi
	kill -s "$sig" "$pid"
	wait "$pid"; st=$?; pids=
	if [ "$st" != 130 ] || [ -e "$THROTTLEBOT_JOURNAL" ] || ! unthrottled; then
		echo "FAILED: SIG$sig: exit status $st (want 130), journal $(ls "$THROTTLEBOT_JOURNAL" 2>&1)"
		sed 's/^/  /' "$tmp/sig.log"; fail=1
	else
		echo "ok: SIG$sig restores and exits 130"
	fi
done

# A restore that fails: the sim throttler cannot rewrite its state while STATE.tmp is a
# directory.  The metric makes it one as soon as a throttle is applied.
write_conf broken "grep -q ^allow '$tmp/sim.state' && mkdir -p '$tmp/sim.state.tmp'; exit 0"
sed -i 's/^trials = 5;/trials = 1;/' "$tmp/broken.conf"
"$tb" run "$tmp/broken.conf" >"$tmp/broken.log" 2>&1
st=$?
check "a run whose restore failed exits 1 (got $st)" test "$st" = 1
check "... naming what is still throttled" grep -q 'still throttled: sim:[0-9]* (sim_cpu)' "$tmp/broken.log"
check "... and that restore retries it" grep -q "'throttlebot restore' will retry" "$tmp/broken.log"
check "... which is still throttled" grep -q '^allow' "$tmp/sim.state"
"$tb" restore --check >"$tmp/check.out" 2>&1
st=$?
check "restore --check exits 1 with something pending (got $st)" test "$st" = 1
check "... listing it" grep -q '^pending [0-9]*: throttler sim_cpu, target sim:' "$tmp/check.out"
check "... changing nothing" test -e "$THROTTLEBOT_JOURNAL"
check "a new run is refused meanwhile" sh -c "! '$tb' run '$tmp/slow.conf' >'$tmp/refused.log' 2>&1"
check "... pointing at restore" grep -q "run 'throttlebot restore' first" "$tmp/refused.log"
rmdir "$tmp/sim.state.tmp"
check "restore then puts it back" "$tb" -q restore
check "... leaving nothing throttled" unthrottled
check "... and no journal" test ! -e "$THROTTLEBOT_JOURNAL"
check "restore --check exits 0 when nothing is pending" sh -c "'$tb' restore --check >/dev/null"
check "the lock file stays, for the next run" test -f "$THROTTLEBOT_LOCK"
exit $fail
