#!/bin/sh
# abi-compat.sh - a strategy built to ABI 1.0 drives a real run of the simulator under this host;
# one built to ABI 2.0 is refused, the message naming the file and both versions.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
tb=$abs_top_builddir/throttlebot
tmp=$(mktemp -d /tmp/throttlebot-abi-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # description, then a command that must succeed
	what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}
# The fixtures, copied where the loader accepts them (not group-writable, ours).
mkdir "$tmp/plugins"
for p in fake_strategy10 fake_strategy20; do
	cp "$abs_top_builddir/tests/.libs/$p.so" "$tmp/plugins/$p.so" || exit 1
done
chmod 0755 "$tmp" "$tmp/plugins"; chmod 0644 "$tmp/plugins/"*.so
export THROTTLEBOT_PLUGIN_PATH="$tmp/plugins:$abs_top_builddir/plugins/sim/.libs"
conf() { # strategy plugin, output directory
	cat <<CONF
application = "abi compatibility";
output_dir = "$2";
orchestrator = { plugin = "sim"; state = "$tmp/sim.state"; services = 4; seed = 5; margin = 0.25; };
throttlers = ( { plugin = "sim_cpu"; state = "$tmp/sim.state"; },
               { plugin = "sim_disk"; state = "$tmp/sim.state"; } );
metrics = ( { plugin = "sim_jct"; state = "$tmp/sim.state"; noise = 0.02; } );
strategy = { plugin = "$1"; };
baseline_trials = 2;
CONF
}
conf fake_strategy10 "$tmp/out10" > "$tmp/10.conf"
conf fake_strategy20 "$tmp/out20" > "$tmp/20.conf"

check "plugins lists the 1.0 strategy as ABI 1.0" \
	sh -c "'$tb' plugins | grep -qE '^  fake_strategy10 +strategy +ABI 1\\.0'"

"$tb" run "$tmp/10.conf" >"$tmp/run10.out" 2>&1; st=$?
check "a 1.0 strategy drives a run to the end" test "$st" -eq 0
[ "$st" -eq 0 ] || cat "$tmp/run10.out"
# It read the host's space through the 1.0 layout: 4 services x 2 throttlers.
check "... and reads the space through the 1.0 layout" \
	grep -q "fake_strategy10: ABI 1.0 strategy: 4 services, 2 throttlers, 8 pairs, 11 trials" "$tmp/run10.out"
if [ -f "$tmp/out10/report.json" ]; then
	# Its 2 baselines, 8 pairs and a baseline, besides the core's warm-up and extra trials.
	n=$(( $(grep -c '"extra": false' "$tmp/out10/report.json") - $(grep -c '"warmup": true' "$tmp/out10/report.json") ))
	check "... running the 11 trials it asked for (ran $n)" test "$n" -eq 11
	check "... and ranking the pairs it throttled" grep -q '"ranking": \[' "$tmp/out10/report.json"
else
	check "... writing report.json" false
fi

"$tb" -q run "$tmp/20.conf" >"$tmp/run20.out" 2>&1; st=$?
check "a 2.0 strategy is refused as a configuration error (status 2)" test "$st" -eq 2
check "... naming the file" grep -q "$tmp/plugins/fake_strategy20.so: refused" "$tmp/run20.out"
check "... its version and the host's" grep -q 'plugin ABI 2\.0, this ThrottleBot is ABI 1\.[0-9]*' "$tmp/run20.out"
check "... before any trial" test ! -e "$tmp/out20/report.json"
[ "$fail" = 0 ] || cat "$tmp/run20.out"
exit $fail
