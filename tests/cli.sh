#!/bin/sh
# cli.sh - the command line: version, help, plan without root, refusal to throttle without root, plugins.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
tb=$abs_top_builddir/throttlebot
tmp=$(mktemp -d /tmp/throttlebot-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # description, then a command that must succeed
	what=$1; shift
	if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}
conf=$tmp/app.conf
cat > "$conf" <<CONF
application = "cli-test";
output_dir = "$tmp/out";
orchestrator = { plugin = "local";
  services = ( { name = "sleeper"; command = ["/bin/sleep", "30"]; } ); };
throttlers = ( { plugin = "cpu_quota"; } );
metrics = ( { plugin = "command"; command = ["/bin/true"]; } );
stress_levels = [0.5];
trials = 2;
baseline_trials = 3;
trial_seconds = 2.0;
CONF
chmod 0644 "$conf"; chmod 0755 "$tmp"

check "--version names the ABI" sh -c "'$tb' --version | grep -q 'plugin ABI 1\.[0-9][0-9]*'"
check "--help lists the commands" sh -c "'$tb' --help | grep -q 'restore'"
check "an unknown command is a usage error (2)" sh -c "'$tb' frobnicate; test \$? -eq 2"
check "plan counts a warm-up, 3 baseline, 2 trials and a closing baseline" sh -c "'$tb' plan '$conf' | grep -q 'schedule: *7 trials'"
check "hold refuses a stress of 0, by the levels' rule (status 2)" \
	sh -c "'$tb' hold '$conf' sleeper cpu_quota 0 >'$tmp/hold.out' 2>&1; test \$? -eq 2 &&
		grep -q \"stress '0' must be more than 0 and less than 1\" '$tmp/hold.out'"
check "plugins lists the built-in ones" sh -c "'$tb' plugins | grep -qE '^  cpu_quota +throttler +ABI 1\\.[0-9]'"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	check "plan works without root" sh -c "$(command -v setpriv) --reuid=65534 --regid=65534 --clear-groups '$tb' plan '$conf' >/dev/null"
	as_nobody "$tb" run "$conf" >"$tmp/out" 2>&1 &
	pid=$!; wait $pid; st=$?
	check "run without root fails at once (status 1)" test "$st" -eq 1
	check "... saying root is needed" grep -q 'needs root' "$tmp/out"
	check "... having started nothing" sh -c "! pgrep -u 65534 -f 'sleep 30' >/dev/null && ! ls -d /sys/fs/cgroup/*/throttlebot.$pid 2>/dev/null"
	# The simulator changes nothing of the kernel's: it runs without root.
	cat > "$tmp/sim.conf" <<CONF
application = "sim without root";
output_dir = "$tmp/sim-out";
orchestrator = { plugin = "sim"; state = "$tmp/sim.state"; services = 5; seed = 2; margin = 0.25; };
throttlers = ( { plugin = "sim_cpu"; state = "$tmp/sim.state"; } );
metrics = ( { plugin = "sim_jct"; state = "$tmp/sim.state"; noise = 0.02; } );
CONF
	chmod 0644 "$tmp/sim.conf"; chmod 0777 "$tmp"
	check "a simulated run works without root" sh -c "$(command -v setpriv) --reuid=65534 --regid=65534 --clear-groups '$tb' -q run '$tmp/sim.conf' >/dev/null && grep -q '\"mimr\": {' '$tmp/sim-out/report.json'"
	chmod 0755 "$tmp"
	check "restore without root fails" sh -c "! $(command -v setpriv) --reuid=65534 --regid=65534 --clear-groups '$tb' restore 2>/dev/null"
else
	echo "skipped: the non-root checks need root and setpriv"
fi
exit $fail
