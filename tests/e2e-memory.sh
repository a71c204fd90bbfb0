#!/bin/bash
# e2e-memory.sh - `throttlebot run` with the memory throttler and the local orchestrator: a service whose
# working set (its page cache) outgrows the limit at stress 0.6 is an IMR for memory, one with a small
# working set is not; and with hard = true a trial that OOM-kills a service fails naming the service and
# the reason, the service is launched again, the run ends normally and the host is as it was.
#
# The services are tests/memsvc.py: "big" reads 3000 random pages of its 64 MiB file per request,
# "small" of its 4 MiB one; the memory throttler's default base is the usage when a trial starts (cache included), and its
# 16 MiB floor is above all "small" holds.  "hog" allocates 96 MiB per request: under a hard 51 MiB
# limit (0.4 of capacity = 128 MiB) the kernel kills it.  Needs root; exit 77 without.
# E2E_KEEP=1 keeps the reports and logs.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (cgroups)"
[ -d /sys/fs/cgroup/memory ] || [ -n "$(grep -w memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null)" ] ||
	skip "no memory cgroup controller"
py=$(command -v python3) || skip "needs python3"
[ -x /usr/bin/python3 ] && py=/usr/bin/python3     # not a version manager's shim: its start is slow
tb=$abs_top_builddir/throttlebot
svc=$abs_top_srcdir/tests/memsvc.py
. "$abs_top_srcdir/tests/e2e-lib.sh"
# On a real disk (/var/tmp): what a limit evicts from the page cache is read again from there.
e2e_workdir e2e-memory

# service NAME MIB [HOG]: one entry of the local orchestrator's services.
service() {
	printf '{ name = "%s"; command = ["%s", "%s", "serve", "--socket", "%s/%s.sock", "--data", "%s/%s.dat", "--mib", "%s", "--ready", "%s/%s.ready"%s];\n  ready_path = "%s/%s.ready"; ready_timeout = 30.0; }' \
		"$1" "$py" "$svc" "$work" "$1" "$work" "$1" "$2" "$work" "$1" "${3:+, \"--hog\", \"$3\"}" "$work" "$1"
}

# config NAME THROTTLER SERVICES TRIALS BASELINE: a run's configuration; services as "NAME:MIB[:HOG]".
config() {
	local out=$work/$1.conf entries="" socks="" s
	for s in $3; do
		IFS=: read -r name mib hog <<<"$s"
		entries="$entries${entries:+,
}$(service "$name" "$mib" "$hog")"
		socks="$socks, \"$work/$name.sock\""
	done
	cat >"$out" <<EOF
application = "$1";
output_dir = "$work/$1";
orchestrator = { plugin = "local"; services = (
$entries
); cgroup_parent = "throttlebot"; log_dir = "$work"; };
throttlers = ( $2 );
metrics = ( { plugin = "command"; command = ["$py", "$svc", "ask"$socks]; timeout = 60.0; } );
strategy = { plugin = "exhaustive"; };
stress_levels = [0.6];
trials = $4;
baseline_trials = $5;
EOF
	echo "$out"
}


# ---- an IMR for memory, and not one ----
# verdict NAME SERVICE IMR: SERVICE's memory is (IMR=1) or is not (0) an IMR in run NAME, no trial failed.
verdict() {
	python3 - "$work/$1/report.json" "$1" "$2" "$3" <<'PY'
import json, sys
path, name, service, want = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
r = json.load(open(path))
p = {(q["service"], q["resource"]): q for q in r["ranking"]}.get((service, "memory"))
failed = [(t["index"], t["error"]) for t in r["trials"] if t["failed"]]
seen = "missing" if p is None else "%+.0f%% p=%.3g imr=%s" % (100 * p["degradation"], p["p_value"], p["imr"])
print("%s: baseline median %.3f s; %s memory %s" % (name, r["baseline"]["median"], service, seen))
errors = ["no trial fails: %r" % failed] if failed else []
if p is None or bool(p["imr"]) != want:
    errors.append("%s's memory is %san IMR (%s)" % (service, "" if want else "not ", seen))
for e in errors:
    print("FAIL: %s: expected %s" % (name, e))
sys.exit(1 if errors else 0)
PY
}

# study NAME SERVICES SERVICE IMR: a run, its verdict on SERVICE; a wrong verdict counts once seen twice
# (one slow baseline on a busy host can hide or fake an effect).
study() {
	conf=$(config "$1" '{ plugin = "memory"; }' "$2" 5 6) || exit 1
	e2e_run "$1" "$conf"
	t_study="$t_study $elapsed"
	verdict "$1" "$3" "$4" && return
	echo "== measured again before the verdict counts"
	rm -f "$work"/*.ready
	e2e_run "$1-again" "$conf"
	t_study="$t_study $elapsed"
	verdict "$1-again" "$3" "$4" || exit 1
}

# Each service in a run of its own: what a limit evicts from one service's cache is read again in the
# trial after it, which would be charged to whichever pair that trial throttles.
t_study=
echo "== a working set beyond the limit is an IMR for memory"
study big "big:64" big 1
echo "== a small working set is not"
study small "small:4" small 0

# ---- an OOM kill ----
echo "== hard = true: a trial that OOM-kills a service fails, names it, and the service comes back"
conf=$(config oom '{ plugin = "memory"; hard = true; capacity = 134217728; }' "hog:4:96 calm:4" 1 2) || exit 1
e2e_run oom "$conf"
t_oom=$elapsed
python3 - "$work/oom/report.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
trials = r["trials"]
failed = [t for t in trials if t["failed"]]
errors = []
if len(failed) != 1:
    errors.append("exactly one trial fails, hog's: %r" % [(t["index"], t["error"]) for t in failed])
else:
    e = failed[0]["error"]
    if not ("service 'hog'" in e and "harmed by memory" in e and "oom_kill 1 (memory." in e):
        errors.append("the failed trial names hog and the OOM kill: %r" % e)
    # The schedule is drawn at random: hog's trial may be the last (its revival is checked below).
    later = [t for t in trials if t["index"] > failed[0]["index"]]
    if any(t["failed"] for t in later):
        errors.append("trials after it ran with hog back: %r" % [(t["index"], t["failed"]) for t in later])
    print("oom: trial %d failed: %s; %d trials after it passed" % (failed[0]["index"], e, len(later)))
for e in errors:
    print("FAIL: oom: expected %s" % e)
sys.exit(1 if errors else 0)
PY
grep -q "brought hog pid [0-9]* back" "$work/oom.log" ||
	{ grep -i "hog" "$work/oom.log" | tail; echo "FAIL: oom: hog was not launched again"; exit 1; }
echo "PASS: memory IMR and not (runs of$t_study s); OOM kill named, hog revived, host as before ($t_oom s)"
