#!/bin/sh
# resume.sh - run --resume: a run killed with SIGKILL at a seeded trial, resumed, reports every scheduled
# trial once and the uninterrupted run's MIMR without re-running a recorded trial; what its journal held is
# restored before anything runs (the simulator, and a real cgroup); other configurations, seeds and
# unsafe directories are refused.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: throttlebot run needs root"; exit 77; }
top=${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
tb=$top/throttlebot
[ -x "$tb" ] || { echo "no $tb: build first"; exit 99; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit 77; }
work=$(mktemp -d /tmp/throttlebot-resume-XXXXXX) || exit 99
chmod 755 "$work"
cleanup() {
	[ -n "${runpid:-}" ] && kill -9 "$runpid" 2>/dev/null
	"$tb" restore > /dev/null 2>&1
	[ -n "${victim:-}" ] && rmdir "$victim" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
THROTTLEBOT_PLUGIN_PATH=$top/plugins/sim/.libs:$top/plugins/strategies/.libs:$top/plugins/metrics/.libs
THROTTLEBOT_JOURNAL=$work/journal
THROTTLEBOT_LOCK=$work/lock
export THROTTLEBOT_PLUGIN_PATH THROTTLEBOT_JOURNAL THROTTLEBOT_LOCK
fail=0
no() { echo "FAILED: $*"; fail=1; }

# The simulator's trials take a millisecond: no outside signal could land on a chosen one.  A second
# workload, a shell, counts every trial it runs in $work/calls and, while $work/killat holds a number,
# kills throttlebot (its parent) with SIGKILL at that trial, mid-trial, its throttle applied.  With the
# simulator's noise off a trial's value depends on its throttle alone: a resumed run must then agree
# with an uninterrupted one exactly.
conf() { # NAME STRATEGY SERVICES MORE
	cat > "$work/$1.conf" <<CONF
application = "sim";
output_dir = "$work/$1";
orchestrator = { plugin = "sim"; state = "$work/state"; services = $3; seed = 3; };
throttlers = ( { plugin = "sim_cpu"; state = "$work/state"; },
               { plugin = "sim_disk"; state = "$work/state"; },
               { plugin = "sim_net"; state = "$work/state"; } );
metrics = ( { plugin = "sim_jct"; state = "$work/state"; noise = 0; },
            { plugin = "command"; command = ["/bin/sh", "-c",
              "echo . >> $work/calls; [ -f $work/killat ] && [ \$(wc -l < $work/calls) -ge \$(cat $work/killat) ] && kill -9 \$PPID; exit 0"]; } );
strategy = { plugin = "$2"; };
stress_levels = [0.4, 0.8];
trials = 3;
seed = 5;
$4
CONF
}
calls() { wc -l < "$work/calls" 2>/dev/null || echo 0; }
# resume NAME LOG [CONFIG]: run --resume; $ran is how many trials it ran (the workload's calls).
resume() {
	before=$(calls)
	"$tb" run --resume "$work/$1" ${3:+"$3"} > "$work/$2" 2>&1 || { no "resuming $1 failed"; cat "$work/$2"; }
	ran=$(($(calls) - before))
}
# kill_at NAME K: run NAME's configuration until its K-th trial kills it.
kill_at() {
	rm -f "$work/calls"
	echo "$2" > "$work/killat"
	timeout 60 "$tb" run "$work/$1.conf" > "$work/$1.killed.log" 2>&1
	st=$?
	rm -f "$work/killat"
	[ $st = 137 ] || no "$1: the run was not killed at trial $2 (exit $st)"
}
# pick SEED TRIALS.JSONL: a throttle trial of the schedule (not the first two, not the last), drawn
# with a fixed seed: the same trial every time the test runs.
pick() {
	python3 - "$1" "$2" <<'PY'
import json, random, sys
t = [json.loads(l) for l in open(sys.argv[2])]
ok = [x["index"] for x in t[2:-1] if x["kind"] == "throttle" and not x["extra"]]
print(random.Random(int(sys.argv[1])).choice(ok))
PY
}

# interrupted NAME STRATEGY SERVICES MORE SEED: NAMEfull run to its end, NAME killed at a seeded
# trial $k of it; NAME.old is what NAME recorded.
interrupted() {
	conf "$1" "$2" "$3" "$4"
	conf "$1full" "$2" "$3" "$4"
	"$tb" run "$work/$1full.conf" > "$work/$1full.log" 2>&1 || { no "$1full failed"; cat "$work/$1full.log"; }
	k=$(pick "$5" "$work/$1full/trials.jsonl")
	kill_at "$1" "$k"
	cp "$work/$1/trials.jsonl" "$work/$1.old"
}

# compare NAME FULL OLD: the resumed report against the uninterrupted one and the trials recorded
# before the kill (OLD, a copy of trials.jsonl).
compare() {
	python3 - "$work/$1/report.json" "$work/$2/report.json" "$3" <<'PY' || fail=1
import json, sys
got, full = (json.load(open(p)) for p in sys.argv[1:3])
old = [json.loads(l) for l in open(sys.argv[3])]
key = lambda t: (t["kind"], tuple((x["service"], x["throttler"], x["stress"]) for x in t["throttles"]),
                 t["warmup"], t["extra"])
bad = []
idx = [t["index"] for t in got["trials"]]
if idx != list(range(1, len(idx) + 1)):
    bad.append("trial indices are not 1..%d once each" % len(idx))
sched = [key(t) for t in got["trials"] if not t["rejoin"] and not t["extra"]]
want = [key(t) for t in full["trials"] if not t["extra"]]
if sched != want:
    bad.append("the scheduled trials differ from the uninterrupted run's (%d vs %d)" % (len(sched), len(want)))
close = lambda a, b: a == b or (a is not None and b is not None and abs(a - b) <= 1e-5 * abs(b))
if [key(t) for t in got["trials"][:len(old)]] != [key(t) for t in old] or \
   not all(close(a["values"][v], b["values"][v]) for a, b in zip(got["trials"], old) for v in b["values"]) or \
   [(t["resumed"], t["rejoin"]) for t in got["trials"][:len(old)]] != \
   [(t.get("resumed"), t.get("rejoin")) for t in old]:
    bad.append("the recorded trials were not kept as they were")
new = got["trials"][len(old):]
if not all(t["resumed"] for t in new) or got["resumed_at_trial"] != len(old) + 1:
    bad.append("the trials after the gap are not all marked resumed from trial %d" % (len(old) + 1))
rejoin = [t for t in new if t["rejoin"]]
if len(old) > 0 and (not rejoin or not rejoin[0]["warmup"] or new[0] is not rejoin[0]):
    bad.append("no warm-up right after the gap")
if not any(t["kind"] == "baseline" and not t["warmup"] for t in new[:3]):
    bad.append("no baseline right after the gap")
m = lambda r: r["mimr"] and (r["mimr"]["service"], r["mimr"]["resource"])
if m(got) != m(full) or not m(full):
    bad.append("MIMR %s, uninterrupted %s" % (m(got), m(full)))
print("%s: %d trials recorded, %d run after the gap (%d warm-up/baseline to rejoin), MIMR %s" %
      (sys.argv[1].split("/")[-2], len(old), len(new), len(rejoin), m(got)))
for b in bad:
    print("FAILED:", b)
sys.exit(1 if bad else 0)
PY
}

# 1. Exhaustive, no replication: kill -9, restore, resume.
interrupted ex exhaustive 4 "max_extra_trials = 0;" 1
[ "$(wc -l < "$work/ex.old")" = $((k - 1)) ] || no "the run killed at trial $k recorded $(wc -l < "$work/ex.old") trials"
"$tb" restore > "$work/ex.restore.log" 2>&1 || no "restore after the kill"
resume ex ex.resume.log
resumed=$(grep -c '"resumed": true' "$work/ex/report.json")
[ "$ran" = "$resumed" ] || no "the resume ran $ran trials, its report marks $resumed as run after the gap"
compare ex exfull "$work/ex.old"
cmp -s -n "$(wc -c < "$work/ex.old")" "$work/ex.old" "$work/ex/trials.jsonl" ||
	no "the resume rewrote the trials recorded before the kill"
[ "$(wc -l < "$work/ex/trials.jsonl")" = "$(grep -c '"index"' "$work/ex/report.json")" ] ||
	no "trials.jsonl and report.json hold different trials"

# 1b. The same, but the resumed run is killed in turn and resumed again: the first resume's warm-up
# and baseline are kept where they were taken, the schedule still runs once.
kill_at ex "$k"
echo $((k + 12)) > "$work/killat"
"$tb" run --resume "$work/ex" > "$work/ex.resume1.log" 2>&1
st=$?
rm -f "$work/killat"
[ $st = 137 ] || no "the resumed run was not killed (exit $st)"
cp "$work/ex/trials.jsonl" "$work/ex.old2"
resume ex ex.resume2.log
[ "$ran" = $(($(wc -l < "$work/ex/trials.jsonl") - $(wc -l < "$work/ex.old2"))) ] ||
	no "the second resume ran $ran trials, it added $(($(wc -l < "$work/ex/trials.jsonl") - $(wc -l < "$work/ex.old2")))"
compare ex exfull "$work/ex.old2"
[ "$(grep -c '"rejoin": true' "$work/ex/report.json")" = 4 ] || no "two resumes did not add two warm-ups and two baselines"

# A finished run: nothing to do, nothing run.
before=$(calls)
out=$("$tb" run --resume "$work/ex" 2>&1) || no "resuming a finished run failed: $out"
echo "$out" | grep -q "nothing to do" || no "resuming a finished run said: $out"
[ "$(calls)" = "$before" ] || no "resuming a finished run ran trials"

# 2. Pruned (it adapts to what it observes), with replication, killed at a seeded trial and resumed
# without a restore: the journal still holds the throttle of the trial the kill cut short.
interrupted pr pruned 8 "" 2
grep -q '^allow' "$work/state" || no "the killed run left no throttle applied (trial $k)"
"$tb" restore --check > /dev/null 2>&1 && no "the killed run left nothing in the journal"
resume pr pr.resume.log "$work/pr.conf"
restored=$(grep -n "restored sim:" "$work/pr.resume.log" | head -n 1 | cut -d: -f1)
first=$(grep -n "^\[trial" "$work/pr.resume.log" | head -n 1 | cut -d: -f1)
[ -n "$restored" ] && [ -n "$first" ] && [ "$restored" -lt "$first" ] ||
	no "the throttle the journal held was not restored before the first trial (lines $restored, $first)"
grep -q '^allow' "$work/state" && no "a throttle is left applied after the resumed run"
[ -e "$THROTTLEBOT_JOURNAL" ] && no "the journal is left after the resumed run"
compare pr prfull "$work/pr.old"

# 3. Killed inside the replication pass, after the first half of a pair: the lone half is dropped
# and measured again with its partner; every pair in the report is whole.
first_extra=$(grep -n '"extra":true' "$work/prfull/trials.jsonl" | head -n 1 | cut -d: -f1)
if [ -n "$first_extra" ]; then
	kill_at pr $((first_extra + 1))
	resume pr pr2.resume.log
	grep -q "dropped: the first half of a replication pair" "$work/pr2.resume.log" ||
		no "the lone half of a replication pair was not dropped"
	python3 - "$work/pr/report.json" <<'PY' || fail=1
import json, sys
t = json.load(open(sys.argv[1]))["trials"]
at = {x["index"]: i for i, x in enumerate(t)}
pairs = [x for x in t if x["extra"] and x["kind"] == "throttle"]
bad = [x["index"] for x in pairs if x["paired_with"] is None or abs(at[x["paired_with"]] - at[x["index"]]) != 1]
print("replication: %d pairs, %d without their baseline beside them" % (len(pairs), len(bad)))
sys.exit(1 if bad or not pairs else 0)
PY
else
	no "the pruned run had no replication pass to interrupt"
fi

# 4. Refusals: another configuration, another seed, a directory that is not a run's, writable by
# others, or a symlinked file.  None may touch the directory.
kill_at ex 10
sed 's/^trials = 3;/trials = 2;/' "$work/ex.conf" > "$work/other.conf"
sed 's/^seed = 5;/seed = 6;/' "$work/ex.conf" > "$work/seed.conf"
refused() { # WHY PATTERN ARGS...
	why=$1 pattern=$2
	shift 2
	sum=$(cat "$work/ex/trials.jsonl" | md5sum)
	"$tb" run "$@" > "$work/refused.log" 2>&1 && no "$why: resumed"
	grep -q "$pattern" "$work/refused.log" || { no "$why: not said"; cat "$work/refused.log"; }
	[ "$(cat "$work/ex/trials.jsonl" | md5sum)" = "$sum" ] || no "$why: trials.jsonl changed"
}
refused "another configuration" "another configuration.*'trials' differs" --resume "$work/ex" "$work/other.conf"
refused "another seed" "seed 5.*sets seed 6" --resume "$work/ex" "$work/seed.conf"
mkdir "$work/empty"
refused "not an output dir" "not the output directory of a throttlebot run" --resume "$work/empty" "$work/ex.conf"
# Services discovered other than the run's (the orchestrator finds what it finds: here run.json is
# made to say the run had found others).
cp "$work/ex/run.json" "$work/run.json.saved"
python3 - "$work/ex/run.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["services"][1:3] = m["services"][2:0:-1]
json.dump(m, open(sys.argv[1], "w"))
PY
refused "other services" "the services found differ from the earlier run's (service 2 was 'svc2', is now 'svc1')" --resume "$work/ex"
mv "$work/run.json.saved" "$work/ex/run.json"
chmod 777 "$work/ex"
refused "writable by others" "writable by others" --resume "$work/ex"
chmod 755 "$work/ex"
mv "$work/ex/run.json" "$work/run.json.real" && ln -s "$work/run.json.real" "$work/ex/run.json"
refused "a symlinked run.json" "a symlink" --resume "$work/ex"
rm "$work/ex/run.json" && mv "$work/run.json.real" "$work/ex/run.json"
cp "$work/ex/trials.jsonl" "$work/trials.real" && ln -sf "$work/trials.real" "$work/ex/trials.jsonl"
refused "a symlinked trials.jsonl" "trials.jsonl: refused: a symlink" --resume "$work/ex"
rm "$work/ex/trials.jsonl" && mv "$work/trials.real" "$work/ex/trials.jsonl"
# A torn last line (the run died writing it) is ignored, not fatal.
printf '{"index":99,"kind":"basel' >> "$work/ex/trials.jsonl"
"$tb" run --resume "$work/ex" > "$work/torn.log" 2>&1 || { no "a torn last line stopped the resume"; cat "$work/torn.log"; }
grep -q "torn last line" "$work/torn.log" || no "the torn last line was not named"
[ "$(wc -l < "$work/ex/trials.jsonl")" = "$(grep -c '"index"' "$work/ex/report.json")" ] ||
	no "after a torn line, trials.jsonl and report.json hold different trials"

# 5. A real cgroup: the local orchestrator and cpu_quota on an operator's cgroup with a quota of its
# own (70000).  Killed while it is throttled (35000) and resumed without a restore: the quota is put
# back before the resumed run's first trial, and the launched service the killed run left is gone.
victim=/sys/fs/cgroup/cpu/throttlebot-resume-test-$$
if [ -w /sys/fs/cgroup/cpu ] && mkdir "$victim" 2>/dev/null; then
	echo 70000 > "$victim/cpu.cfs_quota_us"
	cat > "$work/local.conf" <<CONF
application = "resume-local";
output_dir = "$work/local";
orchestrator = { plugin = "local"; log_dir = "$work";
  services = ( { name = "operator"; cgroup = "/throttlebot-resume-test-$$"; },
               { name = "launched"; command = ["/bin/sleep", "300"]; } ); };
throttlers = ( { plugin = "cpu_quota"; } );
metrics = ( { plugin = "command"; command = ["/bin/sleep", "0.3"]; } );
stress_levels = [0.5];
trials = 2;
baseline_trials = 2;
max_extra_trials = 0;
CONF
	"$tb" run "$work/local.conf" > "$work/local.killed.log" 2>&1 &
	runpid=$!
	for _ in $(seq 1 100); do
		[ "$(cat "$victim/cpu.cfs_quota_us")" = 35000 ] && break
		sleep 0.1
	done
	[ "$(cat "$victim/cpu.cfs_quota_us")" = 35000 ] || no "the local run never throttled the operator's cgroup"
	launched=$(ls -d /sys/fs/cgroup/cpu/throttlebot.$runpid 2>/dev/null)
	kill -9 "$runpid"; wait "$runpid" 2>/dev/null; runpid=
	old=$(wc -l < "$work/local/trials.jsonl")
	timeout 60 "$tb" run --resume "$work/local" > "$work/local.resume.log" 2>&1 ||
		{ no "the local resume failed"; cat "$work/local.resume.log"; }
	restored=$(grep -n "restored operator cgroup /throttlebot-resume-test-$$ " "$work/local.resume.log" | head -n 1 | cut -d: -f1)
	first=$(grep -n "^\[trial" "$work/local.resume.log" | head -n 1 | cut -d: -f1)
	[ -n "$restored" ] && [ -n "$first" ] && [ "$restored" -lt "$first" ] ||
		{ no "the local resume did not restore the quota before its first trial"; cat "$work/local.resume.log"; }
	[ "$(cat "$victim/cpu.cfs_quota_us")" = 70000 ] || no "the quota is $(cat "$victim/cpu.cfs_quota_us") after the resume, not 70000"
	[ -e "$THROTTLEBOT_JOURNAL" ] && no "the local resume left its journal"
	for d in $launched; do [ -d "$d" ] && no "the killed run's $d is still there"; done
	total=$(grep -c '"index"' "$work/local/report.json")
	scheduled=$(grep -c '"rejoin": false' "$work/local/report.json")
	# A warm-up, 2 baselines, 2 services x 2 trials with a baseline closing the round.
	[ "$scheduled" = 8 ] || no "the local resumed run reports $scheduled scheduled trials, not 8"
	echo "local: killed with the quota at 35000 after $old trials; resumed: quota 70000, $total trials"
	rmdir "$victim" && victim=
else
	echo "local: skipped (no writable cgroup v1 cpu hierarchy)"
fi

[ $fail = 0 ] && echo "kill -9 at seeded trials, resumed: the schedule once, the same MIMR, recorded trials kept; refusals hold"
exit $fail
