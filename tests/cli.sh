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

check "--version names the ABI" sh -c "'$tb' --version | grep -q 'plugin ABI 1.0'"
check "--help lists the commands" sh -c "'$tb' --help | grep -q 'restore'"
check "an unknown command is a usage error (2)" sh -c "'$tb' frobnicate; test \$? -eq 2"
check "plan counts 3 baseline + 2 trials" sh -c "'$tb' plan '$conf' | grep -q 'schedule: *5 trials'"
check "plugins lists the built-in ones" sh -c "'$tb' plugins | grep -qE '^  cpu_quota +throttler +ABI 1\\.0'"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	check "plan works without root" sh -c "$(command -v setpriv) --reuid=65534 --regid=65534 --clear-groups '$tb' plan '$conf' >/dev/null"
	out=$(as_nobody "$tb" run "$conf" 2>&1); st=$?
	check "run without root fails at once (status 1)" test "$st" -eq 1
	check "... saying root is needed" sh -c "echo '$out' | grep -q 'needs root'"
	check "... having started nothing" sh -c "! pgrep -f 'sleep 30' -u 65534 >/dev/null && ! ls -d /sys/fs/cgroup/cpu/throttlebot.* 2>/dev/null"
	check "restore without root fails" sh -c "! $(command -v setpriv) --reuid=65534 --regid=65534 --clear-groups '$tb' restore 2>/dev/null"
else
	echo "skipped: the non-root checks need root and setpriv"
fi
exit $fail
