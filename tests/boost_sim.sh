#!/bin/bash
# boost_sim.sh - throttlebot boost on a simulated application: the MIMR's boost is confirmed, a service
# off the critical path gains nothing, a pair whose own limit the throttles never reach (throttling hurts
# nothing there) is found by boost; `boost = true` in run gives the same report; every allocation is back
# as it was, also after kill -9 mid-boost and `throttlebot restore`.
set -u
# throttlebot run insists on root (and the journal is a root's), though the sim touches no kernel state.
[ "$(id -u)" = 0 ] || { echo "SKIP: throttlebot boost needs root"; exit 77; }
top=${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
. "${abs_top_srcdir:-$(dirname "$0")/..}/tests/e2e-lib.sh"
bin=$top/throttlebot
[ -x "$bin" ] || { echo "no $bin: build first"; exit 99; }
work=$(mktemp -d /tmp/throttlebot-boost-XXXXXX) || exit 99
runpid=
cleanup() {
	[ -n "$runpid" ] && kill -9 "$runpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
THROTTLEBOT_PLUGIN_PATH=$top/plugins/sim/.libs:$top/plugins/metrics/.libs:$top/plugins/strategies/.libs
THROTTLEBOT_JOURNAL=$work/journal
THROTTLEBOT_LOCK=$work/lock
export THROTTLEBOT_PLUGIN_PATH THROTTLEBOT_JOURNAL THROTTLEBOT_LOCK
fail=0
check() {        # check WHAT JQ-EXPRESSION [REPORT]: the expression must be true
	jq -e "$2" "${3:-$work/out/report.json}" >/dev/null ||
		{ echo "FAILED: $1"; jq -c '.boost[]? | [.service, .resource, .imr, .how, .gain, .adjusted_p, .confirmed]' \
			"${3:-$work/out/report.json}"; fail=1; }
}

# Seed 1 with 5 services: the MIMR is svc0 disk; svc4 cpu is capped, a container held to a quarter of
# what the host can give: the throttles (a share of the host's capacity, up to 60% here) never reach
# it, while twice its limit makes the application ~10% faster (the orchestrator logs both truths).
# svc3 is off the critical path: more of anything gains it nothing.
conf() {
	cat <<CONF
application = "sim-boost";
output_dir = "$work/$1";
orchestrator = { plugin = "sim"; state = "$work/state"; services = 5; seed = 1; margin = 1.0;
                 capped = "svc4:cpu"; };
throttlers = ( { plugin = "sim_cpu"; state = "$work/state"; },
               { plugin = "sim_disk"; state = "$work/state"; },
               { plugin = "sim_net"; state = "$work/state"; } );
metrics = ( { plugin = "sim_jct"; state = "$work/state"; noise = 0.02; } $2 );
stress_levels = [0.2, 0.4, 0.6];
trial_seconds = 0.01;
seed = 5;
boost_factor = 2;
boost_max_pairs = 15;
$3
CONF
}
conf out "" "" > "$work/boost.conf"
# What discovery leaves in the state file: the application, nothing throttled or boosted.
"$bin" plan "$work/boost.conf" > /dev/null 2>&1 || { echo "FAILED: plan"; exit 1; }
cp "$work/state" "$work/state.before"
timeout 100 "$bin" boost "$work/boost.conf" > "$work/boost.out" 2>&1 ||
	{ echo "FAILED: throttlebot boost exited $?"; cat "$work/boost.out"; exit 1; }
grep -q "the MIMR is svc0 disk" "$work/boost.out" || { echo "FAILED: not the planted application"; exit 1; }
check "the run's MIMR is svc0 disk" '.mimr.service == "svc0" and .mimr.resource == "disk"'
check "every pair boosted (15), twice its limit" '(.boost | length) == 15 and
	all(.boost[]; .how == "limit 1 -> 2 share" and .kind == "allocate" and .n >= 12)'
check "the MIMR's boost is confirmed and confirms the ranking" \
	'.boost[0] | .mimr and .imr and .confirmed and .confirms_ranking and .gain > 0.15 and
	 .ci[0] > 0.15 and .adjusted_p < 0.05 and (.found_by_boost | not)'
check "svc3 (off the critical path) gains nothing from more cpu" \
	'.boost[] | select(.service == "svc3" and .resource == "cpu") |
	 (.confirmed | not) and .confirms_ranking and (.found_by_boost | not) and (.gain | fabs) < 0.02'
check "throttling svc4 cpu hurts nothing: not an IMR" \
	'.ranking[] | select(.service == "svc4" and .resource == "cpu") | (.imr | not) and .degradation < 0.03'
check "boosting svc4 cpu helps: found by boost" \
	'.boost[] | select(.service == "svc4" and .resource == "cpu") |
	 (.imr | not) and .confirmed and .found_by_boost and (.confirms_ranking | not) and .gain > 0.05'
check "only the MIMR and svc4 cpu are confirmed" '[.boost[] | select(.confirmed)] | length == 2'
check "boosted trials sit beside baselines of their own, ranked nothing" \
	'([.boost[].n] | add) as $n | [.trials[] | select(.kind == "boost")] |
	 length == $n and all(.[]; .paired_with != null and .boost.service != null)'
grep -q "found by boost" "$work/boost.out" && grep -q "MIMR +[0-9.]*% @0.6 (+[0-9.]*%^)" "$work/boost.out" ||
	{ echo "FAILED: the table does not show the boost"; cat "$work/boost.out"; fail=1; }
grep -q "found by boost" "$work/out/report.html" || { echo "FAILED: the page does not show the boost"; fail=1; }
cmp -s "$work/state" "$work/state.before" || { echo "FAILED: the allocations changed:"; diff "$work/state.before" "$work/state"; fail=1; }
[ -e "$THROTTLEBOT_JOURNAL" ] && { echo "FAILED: the boost left a journal"; fail=1; }

# boost = true in the configuration: run does the same, to the same numbers (one seed, one schedule).
conf out-run "" "boost = true;" > "$work/run.conf"
timeout 100 "$bin" run "$work/run.conf" > "$work/run.out" 2>&1 || { echo "FAILED: run with boost = true"; fail=1; }
jq -S .boost "$work/out/report.json" > "$work/boost.a"
jq -S .boost "$work/out-run/report.json" > "$work/boost.b"
cmp -s "$work/boost.a" "$work/boost.b" || { echo "FAILED: run with boost = true differs from boost"; fail=1; }
conf out-plain "" "" > "$work/plain.conf"
timeout 100 "$bin" run "$work/plain.conf" > /dev/null 2>&1 || { echo "FAILED: plain run"; fail=1; }
check "a run without boost has no boost" 'has("boost") | not' "$work/out-plain/report.json"

# No headroom (x5 passes the simulated host's 4) and no share to raise: every IMR is listed as not
# boosted, with both reasons, and no trial is spent on it.
conf out-none "" 'boost_pairs = "imr";' | sed 's/boost_factor = 2;/boost_factor = 5;/' > "$work/none.conf"
timeout 100 "$bin" boost "$work/none.conf" > "$work/none.out" 2>&1 || { echo "FAILED: boost without headroom"; fail=1; }
check "IMRs without headroom are listed, not boosted, and cost no trial" \
	'(.boost | length) == (.imrs | length) and (.boost | length) > 0 and
	 all(.boost[]; .imr and .how == null and .confirms_ranking == null and .n == 0 and
	     (.error | test("no headroom.*cannot raise a share"))) and
	 ([.trials[] | select(.boost)] | length) == 0' "$work/out-none/report.json"

# kill -9 while a boost is made: the journal holds it, restore puts the state file back byte for byte.
# Each trial also runs a 0.3 s command, so that a boost is held long enough to be caught.
conf out-kill ', { plugin = "command"; command = ["/bin/sleep", "0.3"]; }' \
	"stress_levels = [0.5]; trials = 1; baseline_trials = 2; warmup_trials = 0; max_extra_trials = 0;" |
	sed 's/services = 5; seed = 1; margin = 1.0;/services = 2; seed = 1;/; s/capped = "svc4:cpu"; //
	     /^stress_levels = \[0.2/d' \
	> "$work/kill.conf"
"$bin" plan "$work/kill.conf" > /dev/null 2>&1 || { echo "FAILED: plan"; exit 1; }
cp "$work/state" "$work/state.before"
"$bin" boost "$work/kill.conf" > "$work/kill.out" 2>&1 &
runpid=$!
# A boost held by a trial (0.3 s), not the instant one made and undone when the pair is picked.
boosted() { grep -q '^allow sim:[0-9]* [0-9] 2$' "$work/state" 2>/dev/null; }
kill_when_held "$runpid" 30 boosted || { echo "FAILED: never saw a boost made"; cat "$work/kill.out"; fail=1; }
runpid=
grep -q '^allow' "$work/state" || { echo "FAILED: the boost was gone before the kill"; fail=1; }
[ -s "$THROTTLEBOT_JOURNAL" ] || { echo "FAILED: no journal after kill -9"; fail=1; }
"$bin" restore > "$work/restore.out" 2>&1 || { echo "FAILED: restore"; cat "$work/restore.out"; fail=1; }
cmp -s "$work/state" "$work/state.before" ||
	{ echo "FAILED: after restore the allocations differ:"; diff "$work/state.before" "$work/state"; fail=1; }
[ -e "$THROTTLEBOT_JOURNAL" ] && { echo "FAILED: the journal is still there"; fail=1; }

[ $fail = 0 ] && echo "boost: MIMR confirmed, an idle service not, a capped pair found by boost; run with boost = true agrees; allocations back as found, also after kill -9 and restore"
exit $fail
