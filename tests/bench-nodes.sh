#!/bin/bash
# bench-nodes.sh - "make bench-nodes" (root): the wall time of one experiment with its services on three
# nodes, each node's throttling done by its own agent over TLS, against the same experiment throttled
# directly by the controller (one node, no agents).  The target: three nodes take at most 10% longer.
#
# No cluster here: a node is a network namespace made by this script, its agent listening on the
# namespace's own address; each service (spinwork servers, the workload's on node n2) is launched by the
# local orchestrator inside its node's namespace.  Both runs read the same configuration (same seed,
# trials and stress) but for the agents list.  NODES_PAIRS (7) pairs of runs, each pair's order
# alternated so that a drift of the host's speed falls on both sides alike; the median of the pairs'
# ratios decides.  Results also go to bench-nodes.txt in the build directory.  Exit 1 above 1.10.
set -u
: "${abs_top_builddir:?run me from make bench-nodes}" "${abs_top_srcdir:?}"
tb=$abs_top_builddir/throttlebot
spinwork=$abs_top_builddir/apps/spinwork
[ "$(id -u)" = 0 ] || { echo "bench-nodes: needs root"; exit 77; }
[ -d /sys/fs/cgroup/cpu ] || { echo "bench-nodes: needs the cgroup v1 cpu hierarchy"; exit 77; }
for p in openssl nsenter ip python3 tc; do command -v $p >/dev/null || { echo "bench-nodes: needs $p"; exit 77; }; done
pairs=${NODES_PAIRS:-7}
[ "$pairs" -ge 1 ] 2>/dev/null || { echo "bench-nodes: NODES_PAIRS is a number of pairs, 1 or more"; exit 1; }
limit=1.10
out=$abs_top_builddir/bench-nodes.txt
work=$(mktemp -d /tmp/throttlebot-bench-nodes.XXXXXX) || exit 1
chmod 700 "$work"
export THROTTLEBOT_JOURNAL=$work/journal THROTTLEBOT_LOCK=$work/lock
n=$$
agents=; run_pid=; log=
cleanup() {
	[ -n "$log" ] && cat "$log"
	e2e_stop_run       # the agents still serve: what the run left at them is restored through them
	for p in $agents; do kill -TERM "$p" 2>/dev/null; done
	for p in $agents; do wait "$p" 2>/dev/null; done
	for i in 1 2 3; do ip netns del "throttlebot-bn$i-$n" 2>/dev/null; done
	if [ "${NODES_KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
. "$abs_top_srcdir/tests/e2e-lib.sh"
. "$abs_top_srcdir/tests/agent-lib.sh"
cd "$work" || exit 1

# Three nodes: namespace bn<i> at 10.223.<i>.2, this host at 10.223.<i>.1; node i's agent takes token<i>
# (token for n3).
token() { [ "$1" = 3 ] && echo token || echo "token$1"; }
for i in 1 2 3; do agent_node "throttlebot-bn$i-$n" "tbbn$i.$n" "10.223.$i"; done
agent_certs 10.223.1.2 10.223.2.2 10.223.3.2
for i in 1 2 3; do
	agent_conf n$i.conf "10.223.$i.2:7443" "$(token $i)" n$i
	agent_start "throttlebot-bn$i-$n" n$i.conf n$i.log
done
agent_wait n1.log n2.log n3.log || exit 1

# service NAME NODE: a spinwork server in node NODE's namespace, on a socket of its own.
service() {
	printf '{ name = "%s"; node = "n%s"; ready_path = "%s/%s.sock"; ready_timeout = 10.0;\n' \
		"$1" "$2" "$work" "$1"
	printf '  command = ["%s", "--net=/run/netns/%s", "%s", "server", "%s/%s.sock", "--max-seconds", "600"]; }' \
		"$(command -v nsenter)" "throttlebot-bn$2-$n" "$spinwork" "$work" "$1"
}
# The workload asks the worker on n2 for 8 requests of 40 units (about 0.3 s idle, twice that with the
# worker's CPU throttled at 0.75); front on n1 and store on n3 are off its path.  3 services x 2 trials
# and 3 baseline trials (and the closing one): about 5 s a run on an idle host.
throttled=6 baselines=3
cat > one.conf <<CONF
application = "nodes";
output_dir = "$work/out";
seed = 20260101;
orchestrator = { plugin = "local"; cgroup_parent = "throttlebot"; log_dir = "$work";
  services = ( $(service front 1), $(service worker 2), $(service store 3) ); };
throttlers = ( { plugin = "cpu_quota"; } );
metrics = ( { plugin = "command"; command = ["$spinwork", "client", "$work/worker.sock", "40", "8"]; } );
strategy = { plugin = "exhaustive"; };
stress_levels = [0.75];
trials = $((throttled / 3));
baseline_trials = $baselines;
warmup_trials = 0;
max_extra_trials = 0;
CONF
{
	cat one.conf
	echo 'agents = ('
	for i in 1 2 3; do
		printf '  { node = "n%s"; url = "https://10.223.%s.2:7443"; token_file = "%s/%s"; ca = "%s/ca.crt"; }%s\n' \
			"$i" "$i" "$work" "$(token $i)" "$work" "$([ $i = 3 ] || echo ,)"
	done
	echo ');'
} > three.conf

# measure NAME: one run of NAME.conf; "wall trials workload" (s: the run, the sum of its trials, of their
# workload's own times) is appended to NAME.runs.  Every throttle of the three-node run must have gone
# through the agents (their logs grow by one apply a throttled trial), none of the one-node run's.
applied() { cat n1.log n2.log n3.log | grep -c "applied stress"; }
measure() {
	local before sent
	before=$(applied)
	log=$work/$1-$k.out    # shown if the run fails: e2e_run exits
	e2e_run "$1-$k" "$work/$1.conf" > "$log"
	log=
	sent=$(($(applied) - before))
	[ "$1" = three ] && [ "$sent" != "$throttled" ] &&
		{ bad "the three-node run sent $sent throttles to the agents, not $throttled"; exit 1; }
	[ "$1" = one ] && [ "$sent" != 0 ] && { bad "the one-node run reached an agent"; exit 1; }
	python3 - "$work/$1-$k/report.json" "$elapsed" >> "$1.runs" <<'PY' || exit 1
import json, sys
trials = json.load(open(sys.argv[1]))["trials"]
print(sys.argv[2], sum(t["duration_s"] for t in trials), sum(t["values"]["jct"] for t in trials))
PY
}

echo "bench-nodes: $pairs pairs of runs, one node (no agents) and three nodes (an agent each, TLS)"
for k in $(seq 1 "$pairs"); do
	if [ $((k % 2)) = 1 ]; then measure one; measure three; else measure three; measure one; fi
	paste one.runs three.runs | tail -1 | awk -v k="$k" '{
		printf "pair %d: one node %.2f s, three nodes %.2f s, ratio %.3f\n", k, $1, $4, $4 / $1 }' |
		tee -a pairs.txt
done
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio=$(sed 's/.*ratio //' pairs.txt | median)
# What the controller adds to the workload's own time: in the trials (applying and restoring), per
# throttled trial; and around them (starting the services, stopping everything).
overhead() {
	printf '%s: %.1f ms a throttled trial, %.2f s start and stop' "$1" \
		"$(awk -v n="$throttled" '{ print 1000 * ($2 - $3) / n }' "$2.runs" | median)" \
		"$(awk '{ print $1 - $2 }' "$2.runs" | median)"
}
{
	echo "bench-nodes: $(date -u +%FT%TZ), $pairs pairs of runs of $throttled throttled and $baselines baseline trials"
	cat pairs.txt
	printf 'median wall time: one node %.2f s, three nodes with agents %.2f s\n' \
		"$(cut -d' ' -f1 one.runs | median)" "$(cut -d' ' -f1 three.runs | median)"
	echo "beyond the workload (medians): $(overhead "one node" one); $(overhead "three nodes" three)"
	printf 'three nodes / one node: median ratio %.3f (target: at most %s): %s\n' "$ratio" "$limit" \
		"$(awk -v r="$ratio" -v l="$limit" 'BEGIN { print r <= l ? "PASS" : "FAIL" }')"
} > "$out"
tail -3 "$out"
echo "(written to $out)"
awk -v r="$ratio" -v l="$limit" 'BEGIN { exit !(r <= l) }' || exit 1
exit $fail
