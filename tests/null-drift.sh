#!/bin/bash
# null-drift.sh - a service off the request path that only burns CPU is never named an IMR, while the
# host's speed changes in steps under the run.
#
# The application is the frontend/storage example (storage's disk is its bottleneck) plus "decoy",
# apps/spinwork burning one core that nothing waits for and that never touches the disk.  It is run by
# the local orchestrator with the real cpu_quota and blkio throttlers at the default schedule (stress
# 0.2-0.8, 3 trials per point, 5 untouched first), a shorter workload (150 requests) so that one run
# takes 1.5-2.5 minutes.  Meanwhile a load of the test's own, in a process group it creates, changes
# the host's speed in steps: every NULL_DRIFT_STEP seconds (5) it runs 0, 1 or 2 CPU burners (nice 10)
# drawn at random; once the run is four fifths through its trials a burner at full weight and a paced
# direct-I/O writer on the same disk, to its end: the host slows down in the last fifth of the run, as
# a shared host does.
#
# Asserted, for each of NULL_DRIFT_RUNS runs (2): the run exits 0; the decoy is an IMR for no resource
# and no metric (a ranking entry with "imr" true or "verdict" "imr", or an entry of "imrs"); nothing is
# left: no journal, no cgroup, qdisc, link or namespace of the run (tests/e2e-lib.sh), no process it or
# the load started.  Shown, not asserted: whether storage's disk was found.
#
# null-drift.sh --bench (make bench-null): NULL_DRIFT_RUNS runs (10), each one's decoy verdicts and
# whether storage's disk was found, and a summary; fails only when the harness or a run does.
# NULL_DRIFT_TIMEOUT bounds a run (300 s), NULL_DRIFT_SEED seeds the load (default: the pid),
# NULL_DRIFT_KEEP=1 keeps the reports and logs.  Needs root and cgroups with cpu and blkio/io; exit 77
# without.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
spin=$abs_top_builddir/apps/spinwork

# load_driver LOG STEP SEED PARENT LIMIT DIR N: the background load (run in a session of its own),
# recorded in DIR/loadN.log: one line a step, "seconds progress(per mille) burners writer".
# Each step starts its burners and writer bounded to the step, so a step ends by itself; the driver
# ends when PARENT is gone or after LIMIT seconds, whichever comes first.
load_driver() {
	local log=$1 step=$2 rnd=$3 parent=$4 dir=$6 n=$7 end=$((SECONDS + $5)) line done total f burners writer nice i
	while [ "$SECONDS" -lt "$end" ] && kill -0 "$parent" 2>/dev/null; do
		# The run's progress: its last "[trial I/N]" line.
		line=$(grep -o '^\[trial [0-9]*/[0-9]*\]' "$log" 2>/dev/null | tail -n 1)
		done=0 total=1
		[[ $line =~ ([0-9]+)/([0-9]+) ]] && done=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]}
		f=$((done * 1000 / (total ? total : 1)))
		if [ "$f" -ge 800 ]; then
			burners=1 writer=1 nice=0
		else
			rnd=$(((rnd * 1103515245 + 12345) % 2147483648))
			burners=$(((rnd >> 16) % 3)) writer=0 nice=10
		fi
		echo "$SECONDS $f $burners $writer" >>"$dir/load$n.log"
		for ((i = 0; i < burners; i++)); do
			nice -n "$nice" "$spin" spin --max-seconds "$step" >/dev/null 2>&1 &
		done
		[ "$writer" = 1 ] && write_for "$step" "$dir/load.dat" &
		sleep "$step"
		wait
	done
}

# write_for SECONDS FILE: direct writes of 16 MiB, paced (at most ~150 MB/s), for SECONDS.
write_for() {
	local end=$((SECONDS + $1)) n=0
	while [ "$SECONDS" -lt "$end" ] && [ "$n" -lt 1000 ]; do
		dd if=/dev/zero of="$2" bs=1M count=16 oflag=direct conv=notrunc status=none || return
		sleep 0.1
		n=$((n + 1))
	done
}

if [ "${1:-}" = --load ]; then
	shift
	load_driver "$@"
	exit 0
fi

bench=0
[ "${1:-}" = --bench ] && bench=1
runs=${NULL_DRIFT_RUNS:-$([ $bench = 1 ] && echo 10 || echo 2)}
limit=${NULL_DRIFT_TIMEOUT:-300}
step=${NULL_DRIFT_STEP:-5}
seed=${NULL_DRIFT_SEED:-$$}
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (cgroups)"
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	grep -qw cpu /sys/fs/cgroup/cgroup.controllers && grep -qw io /sys/fs/cgroup/cgroup.controllers ||
		skip "the cgroup v2 hierarchy has no cpu or io controller"
else
	[ -d /sys/fs/cgroup/cpu ] && [ -d /sys/fs/cgroup/blkio ] || skip "no cpu or blkio cgroup hierarchy"
fi
for p in python3 setsid dd; do command -v "$p" >/dev/null || skip "needs $p"; done
for p in spinwork tb-frontend tb-storage tb-client; do
	[ -x "$abs_top_builddir/apps/$p" ] || skip "apps/$p is not built"
done
case $runs$limit$step$seed in *[!0-9]*) echo "FAIL: NULL_DRIFT_* must be whole numbers"; exit 1 ;; esac
[ "$runs" -ge 1 ] && [ "$step" -ge 1 ] || { echo "FAIL: NULL_DRIFT_RUNS and NULL_DRIFT_STEP must be 1 or more"; exit 1; }

tb=$abs_top_builddir/throttlebot
# Under /var/tmp: storage's data file and the load's writes must be on a real disk.
work=$(mktemp -d /var/tmp/throttlebot-null-drift.XXXXXX) || exit 1
chmod 755 "$work"
export THROTTLEBOT_JOURNAL=$work/journal
# Every process of the run and of the load inherits this: what is left of them is found by it.
export THROTTLEBOT_NULL_DRIFT_TAG=$work
run_pid= load_pid=

. "$abs_top_srcdir/tests/e2e-lib.sh"

# tagged: the pids of live processes carrying our tag (this shell and its subshells aside).
tagged() {
	local e p
	for e in /proc/[0-9]*/environ; do
		p=${e#/proc/}
		p=${p%/environ}
		[ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
		{ tr '\0' '\n' <"$e"; } 2>/dev/null | grep -qxF "THROTTLEBOT_NULL_DRIFT_TAG=$work" && echo "$p"
	done
}

# stop_load: end the load's process group; 0 once none of it is left (bounded: SIGKILL after 5 s).
stop_load() {
	local g=$load_pid i
	[ -n "$g" ] || return 0
	load_pid=
	kill -TERM -- "-$g" 2>/dev/null
	for ((i = 0; i < 50; i++)); do pgrep -g "$g" >/dev/null || break; sleep 0.1; done
	[ "$i" -lt 50 ] || kill -KILL -- "-$g" 2>/dev/null
	wait "$g" 2>/dev/null
	for ((i = 0; i < 20; i++)); do pgrep -g "$g" >/dev/null || return 0; sleep 0.1; done
	return 1
}

cleanup() {
	stop_load
	# A run that is still going restores by itself on SIGTERM; the journal covers anything else.
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		kill -TERM "$run_pid"
		for _ in $(seq 1 200); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$run_pid" 2>/dev/null
	fi
	wait 2>/dev/null
	[ -s "$THROTTLEBOT_JOURNAL" ] && "$tb" restore
	if [ "${NULL_DRIFT_KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

base=$((25000 + ($$ % 400) * 10))
# The application: frontend/storage (apps/README.md) and the decoy, bounded in time by themselves.
cat >"$work/app.conf" <<CONF
application = "null-drift";
orchestrator = {
  plugin = "local";
  services = (
    { name = "storage";
      command = ["$abs_top_builddir/apps/tb-storage", "--listen", "127.0.0.1:$((base + 3))",
                 "--file", "$work/storage.dat", "--file-mib", "64", "--max-seconds", "$((limit + 60))",
                 "--ready-file", "$work/storage.ready"];
      ready_path = "$work/storage.ready";
      ready_timeout = 60.0; },
    { name = "frontend";
      command = ["$abs_top_builddir/apps/tb-frontend", "--listen", "127.0.0.1:$((base + 2))",
                 "--storage", "127.0.0.1:$((base + 3))", "--log-dir", "$work",
                 "--max-seconds", "$((limit + 60))", "--ready-file", "$work/frontend.ready"];
      ready_path = "$work/frontend.ready";
      ready_timeout = 10.0; },
    { name = "decoy";
      command = ["$spin", "spin", "--max-seconds", "$((limit + 60))"]; }
  );
  cgroup_parent = "throttlebot";
  log_dir = "$work";
};
throttlers = ( { plugin = "cpu_quota"; }, { plugin = "blkio"; path = "$work"; } );
metrics = ( { plugin = "command";
              command = ["$abs_top_builddir/apps/tb-client", "127.0.0.1:$((base + 2))", "150"];
              timeout = 60.0; } );
strategy = { plugin = "exhaustive"; };
stress_levels = [0.2, 0.4, 0.6, 0.8];
trials = 3;
baseline_trials = 5;
trial_seconds = 1.0;
CONF

# verdicts REPORT: one line: the decoy's verdict per resource, storage's disk; exit 1 when the decoy
# is an IMR anywhere, 2 when the report cannot be read.
verdicts() {
	python3 - "$1" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    sections = [r] + list(r.get("by_metric", []))
    ranking = r["ranking"]
except (OSError, ValueError, KeyError, TypeError) as e:
    print("report.json unreadable: %s" % e)
    sys.exit(2)

def verdict(p):
    if p.get("verdict"):
        return p["verdict"]
    return "imr" if p.get("imr") else "paradox" if p.get("paradox") else "none"

def is_imr(p):
    return bool(p.get("imr")) or p.get("verdict") == "imr"

false = set()
for sec in sections:
    false |= {i["resource"] for i in sec.get("imrs", []) if i.get("service") == "decoy"}
    false |= {p["resource"] for p in sec.get("ranking", []) if p.get("service") == "decoy" and is_imr(p)}
shown = []
for p in ranking:
    if p["service"] == "decoy":
        pv = p.get("adjusted_p", p.get("p_value"))
        shown.append("%s %s %+.1f%% @%s p=%s" % (p["resource"], verdict(p), 100 * (p.get("degradation") or 0),
                                                p.get("stress"), "?" if pv is None else "%.2g" % pv))
found = [p for p in ranking if (p["service"], p["resource"]) == ("storage", "disk")]
disk = found[0] if found else None
print("decoy: %s; storage disk: %s" % (
    ", ".join(shown) or "not ranked",
    "not ranked" if disk is None else "%s %+.0f%%" % ("found" if is_imr(disk) else "missed",
                                                       100 * (disk.get("degradation") or 0))))
if false:
    print("decoy falsely an IMR: %s" % ", ".join(sorted(false)))
# Trials that failed make the verdicts meaningless: the harness is wrong, not the statistics.
failed = [t.get("index") for t in r.get("trials", []) if t.get("failed")]
if failed:
    print("failed trials: %r" % failed)
    sys.exit(2)
sys.exit(1 if false else 0)
PY
}

# load_summary N: the share of the load's steps at each level, and when the final phase began.
load_summary() {
	awk -v step="$step" 'NR == 1 { first = $1 } { n++; k[$3 + 3 * $4]++ } $4 && !heavy { heavy = 1; t = $1 - first }
	     END { printf "load: %d steps of %d s: 0 burners %d, 1: %d, 2: %d, 1 + writer %d", n, step, k[0], k[1], k[2], k[4]
	           if (heavy) printf " (from %d s on)", t
	           print "" }' "$work/load$1.log" 2>/dev/null
}

# one_run N: the experiment with the load under it; sets elapsed, decoy_false (0/1), disk_found (0/1).
one_run() {
	local n=$1 log=$work/run$1.log st t0 pid line left before=$work/run$1.before
	host_snapshot >"$before"
	t0=$SECONDS
	(cd "$abs_top_builddir" && exec "$tb" run "$work/app.conf" --output "$work/out$n") >"$log" 2>&1 &
	run_pid=$!
	setsid bash "$0" --load "$log" "$step" $((seed + n)) $$ "$((limit + 30))" "$work" "$n" </dev/null >/dev/null 2>&1 &
	load_pid=$!
	# The load must lead a process group of its own, or stop_load could not end all of it.
	for _ in $(seq 1 20); do
		[ "$(ps -o pgid= -p "$load_pid" | tr -d ' ')" = "$load_pid" ] && break
		sleep 0.1
	done
	[ "$(ps -o pgid= -p "$load_pid" | tr -d ' ')" = "$load_pid" ] ||
		{ echo "FAIL: run $n: the load is not in a process group of its own"; harness_failed=1; }
	# Bounded: SIGTERM at the limit (the run restores and exits 130), SIGKILL 20 s later.
	while kill -0 "$run_pid" 2>/dev/null && [ $((SECONDS - t0)) -lt "$limit" ]; do sleep 0.5; done
	if kill -0 "$run_pid" 2>/dev/null; then
		echo "run $n: still going after $limit s: stopped"
		kill -TERM "$run_pid"
		for _ in $(seq 1 200); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$run_pid" 2>/dev/null
	fi
	wait "$run_pid"
	st=$?
	pid=$run_pid run_pid=
	elapsed=$((SECONDS - t0))
	stop_load || { echo "FAIL: run $n: the load's processes outlived it"; harness_failed=1; }
	[ -s "$work/load$n.log" ] || { echo "FAIL: run $n: the load never ran"; harness_failed=1; }
	printf 'run %d: %d s, exit %d, load seed %d; %s\n' "$n" "$elapsed" "$st" $((seed + n)) "$(load_summary "$n")"
	decoy_false=0 disk_found=0
	if [ "$st" != 0 ]; then
		tail -n 20 "$log"
		echo "FAIL: run $n: throttlebot run exited $st"
		run_failed=1
	else
		line=$(verdicts "$work/out$n/report.json")
		case $? in
		0) ;;
		1) decoy_false=1 ;;
		*) echo "FAIL: run $n: $line"; run_failed=1 ;;
		esac
		echo "run $n: $line"
		case $line in *"storage disk: found"*) disk_found=1 ;; esac
	fi
	# Nothing of the run may be left, whatever its verdicts.
	[ -s "$THROTTLEBOT_JOURNAL" ] && { echo "FAIL: run $n left a journal"; "$tb" restore; run_failed=1; }
	host_snapshot >"$work/run$n.after"
	host_compare "$before" "$work/run$n.after" "$pid" ||
		{ echo "FAIL: run $n changed the host's cgroups, qdiscs, links or namespaces (above)"; run_failed=1; }
	left=$(tagged)
	[ -z "$left" ] || { echo "FAIL: run $n left processes: $(ps -o pid=,args= -p ${left//$'\n'/,})"; run_failed=1; }
}

harness_failed=0 run_failed=0 falses=0 founds=0 slowest=0
echo "== null-drift: storage and frontend on the request path, decoy off it; $runs run(s), load seed $seed"
for ((n = 1; n <= runs; n++)); do
	one_run "$n"
	falses=$((falses + decoy_false)) founds=$((founds + disk_found))
	[ "$elapsed" -gt "$slowest" ] && slowest=$elapsed
	[ "$harness_failed" = 1 ] && break
done
echo "false IMRs on the decoy: $falses of $runs runs; true IMR found in $founds of $runs"
echo "slowest run: $slowest s"
[ "$harness_failed" = 0 ] && [ "$run_failed" = 0 ] || { echo "FAIL: the harness or a run failed (above)"; exit 1; }
[ $bench = 1 ] && exit 0
[ "$falses" = 0 ] || { echo "FAIL: the decoy, off the request path, was named an IMR in $falses of $runs runs"; exit 1; }
echo "PASS: the decoy was never an IMR over $runs runs under a stepping load; the host as before"
