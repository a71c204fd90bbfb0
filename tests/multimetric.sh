#!/bin/sh
# multimetric.sh - one real run ranks the webstack by p99 latency and by throughput, and both name the backend's CPU.
#
# Runs etc/examples/web-multimetric.conf.in (JMeter against apps/webstack, CPU
# throttled through real cgroups) with its ports, paths and JMeter command
# adapted to this tree, then checks report.json's by_metric sections and the
# printed table.  Root; skips (77) without JMeter, a JDK or python3.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
jhome=/usr/share/jmeter
[ -f "$jhome/bin/ApacheJMeter.jar" ] && command -v java >/dev/null 2>&1 ||
	{ echo "SKIP: JMeter is not installed"; exit 77; }
[ -f "$jhome/lib/ext/ApacheJMeter_http.jar" ] ||
	{ echo "SKIP: JMeter's HTTP sampler is not installed (Debian: jmeter-http)"; exit 77; }
command -v javac >/dev/null 2>&1 || { echo "SKIP: javac (a JDK) is not installed"; exit 77; }
for p in tb-web tb-backend tb-busy; do
	[ -x "$abs_top_builddir/apps/webstack/$p" ] || { echo "ERROR: build apps/webstack/$p first"; exit 99; }
done

tmp=$(mktemp -d /tmp/throttlebot-multimetric-XXXXXX) || exit 99
run=
cpu=/sys/fs/cgroup/cpu
boost=$cpu/throttlebot-multimetric.$$
cleanup() {
	# An interrupted run restores its throttles and stops the services on SIGTERM.
	if [ -n "$run" ] && kill -0 "$run" 2>/dev/null; then
		kill -TERM "$run" 2>/dev/null
		i=0
		while kill -0 "$run" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$run" 2>/dev/null
	fi
	if [ -d "$boost" ]; then
		echo $$ > "$cpu/cgroup.procs"
		rmdir "$boost"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Debian 12's JMeter 2.13 cannot load plans with Debian's XStream: run it
# through the launcher that opens XStream's allow-list, compiled once here
# (Java's source launcher would add seconds to every trial).
cp=$jhome/bin/ApacheJMeter.jar
for j in "$jhome"/lib/*.jar "$jhome"/lib/ext/*.jar; do cp=$cp:$j; done
mkdir "$tmp/classes" &&
	javac -nowarn -cp "$cp" -d "$tmp/classes" "$abs_top_srcdir/tests/fixtures/JMeterLauncher.java" ||
	{ echo "ERROR: cannot compile JMeterLauncher.java"; exit 99; }
jmeter="\"java\", \"-XX:TieredStopAtLevel=1\", \"-XX:+UseSerialGC\", \"-Djmeter.home=$jhome\", \"-cp\", \"$tmp/classes:$cp\", \"JMeterLauncher\","

ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))') || exit 99
set -- $ports
web_port=$1 backend_port=$2

# The example, with this tree's programs and plan, free ports, and files under $tmp.
sed -e "s|\"jmeter\",|$jmeter|" \
    -e "s|\"@examplesdir@/webstack.jmx\"|\"$abs_top_srcdir/etc/examples/webstack.jmx\"|" \
    -e "s|\"@pkglibexecdir@/|\"$abs_top_builddir/apps/webstack/|" \
    -e "s|18480|$web_port|g" -e "s|18481|$backend_port|g" \
    -e "s|/tmp/throttlebot-webstack-|$tmp/|g" \
    -e "s|log_dir = \"/tmp\"|log_dir = \"$tmp\"|" \
    "$abs_top_srcdir/etc/examples/web-multimetric.conf.in" > "$tmp/run.conf" || exit 99
grep -q JMeterLauncher "$tmp/run.conf" && grep -q "\"$web_port\"" "$tmp/run.conf" ||
	{ echo "ERROR: the example's command or ports changed; adapt this test"; exit 99; }

# This host may be shared (a parallel make check, other work): a few
# competing processes would make the baseline as slow as a throttled run.
# So the run (with JMeter) and the services' cgroup get a high CPU weight
# (cgroup v1 cpu.shares; elsewhere the test runs unboosted).  Weights only
# matter under contention; the quotas the experiment sets are unaffected.
shares=16384
if [ -f "$cpu/cpu.shares" ]; then
	mkdir "$boost" && echo $shares > "$boost/cpu.shares" && echo $$ > "$boost/cgroup.procs" ||
		{ echo "ERROR: cannot make $boost"; exit 99; }
fi

export THROTTLEBOT_JOURNAL="$tmp/journal" THROTTLEBOT_LOCK="$tmp/lock"
cd "$tmp" || exit 99
start=$(date +%s)
"$abs_top_builddir/throttlebot" run "$tmp/run.conf" --output "$tmp/out" >"$tmp/table" 2>"$tmp/log" &
run=$!
# The services' cgroup appears at launch, before the first baseline trial
# (which waits for the services' ready files and JMeter's start-up).
if [ -f "$cpu/cpu.shares" ]; then
	i=0
	until [ -d "$cpu/throttlebot.$run" ] || [ $i -ge 500 ] || ! kill -0 $run 2>/dev/null; do
		sleep 0.02; i=$((i + 1))
	done
	echo $shares > "$cpu/throttlebot.$run/cpu.shares" 2>/dev/null ||
		echo "note: the services run at the default CPU weight"
fi
wait $run
status=$?
echo "throttlebot run: exit $status after $(($(date +%s) - start)) s"
cat "$tmp/table"
if [ $status -ne 0 ]; then
	echo "FAIL: throttlebot run failed"; tail -n 30 "$tmp/log"
	for f in "$tmp"/throttlebot-*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 5 "$f"; }; done
	exit 1
fi

fail=0
# MULTIMETRIC_KEEP=DIR keeps a copy of the reports.
[ -n "${MULTIMETRIC_KEEP:-}" ] && cp -r "$tmp/out" "$MULTIMETRIC_KEEP"
python3 - "$tmp/out/report.json" <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
sec = {s["metric"]: s for s in r["by_metric"]}
assert [s["metric"] for s in r["by_metric"]] == ["p99", "throughput"], \
    "by_metric sections: %r" % [s["metric"] for s in r["by_metric"]]
assert sec["p99"]["direction"] == "lower", sec["p99"]["direction"]
assert sec["throughput"]["direction"] == "higher", sec["throughput"]["direction"]
failed = [t for t in r["trials"] if t["failed"]]
assert not failed, "failed trials: %r" % [t["error"] for t in failed]
for name, s in sec.items():
    m = s["mimr"]
    assert m and (m["service"], m["resource"]) == ("backend", "cpu"), "%s: MIMR is %r" % (name, m)
    pairs = {(p["service"], p["resource"]): p for p in s["ranking"]}
    back = pairs["backend", "cpu"]["degradation"]
    # Off the path, or doing little on it: neither may come near the backend
    # (a shared host can still push one just past the baseline's spread).
    for svc in ("web", "busy"):
        p = pairs[svc, "cpu"]
        assert not p["imr"] or p["degradation"] < back / 2, \
            "%s: %s's CPU is an IMR of %.3f (backend %.3f)" % (name, svc, p["degradation"], back)
    print("%-10s baseline median %8.2f %-9s MIMR %s %s %+6.0f%% at stress %.1f; web %+.0f%%, busy %+.0f%%" % (
        name, s["baseline"]["median"], s["unit"], m["service"], m["resource"], 100 * m["delta"],
        m["stress"], 100 * pairs["web", "cpu"]["delta"], 100 * pairs["busy", "cpu"]["delta"]))
PY

# The table printed one section per value, each naming its MIMR.
grep -q '^p99 (ms, lower is better)' "$tmp/table" || { echo "FAIL: no p99 section in the table"; fail=1; }
grep -q '^throughput (samples/s, higher is better)' "$tmp/table" ||
	{ echo "FAIL: no throughput section in the table"; fail=1; }
n=$(grep -c '^  MIMR: backend cpu' "$tmp/table")
[ "$n" -eq 2 ] || { echo "FAIL: the table names backend cpu as MIMR $n times, want 2"; fail=1; }

# Nothing left behind: the run's cgroups, the services, their ready files.
left=$(find /sys/fs/cgroup -maxdepth 2 -type d -name "throttlebot.$run")
[ -z "$left" ] || { echo "FAIL: cgroups left behind: $left"; fail=1; }
ls "$tmp"/*.ready >/dev/null 2>&1 && { echo "FAIL: a service's ready file is left"; fail=1; }
for port in $web_port $backend_port; do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null &&
		{ echo "FAIL: something still listens on port $port"; fail=1; }
done
[ $fail -eq 0 ] && echo PASS
exit $fail
