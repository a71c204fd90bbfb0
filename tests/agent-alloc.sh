#!/bin/sh
# agent-alloc.sh - boost and clampdown of a service on another node go through that node's agent: the
# cgroup's limit really changes while the boost holds and is exactly back after; clampdown --keep leaves
# the cut applied with both journals closed; a controller killed with SIGKILL mid-boost leaves the node
# restored by its agent within the lease, with no restore run; an OOM kill there fails the trial through the
# agent's check.
# No cluster here: the node is a network namespace made by this test, its agent listening on the
# namespace's own address, reached over a veth pair; the service is a process of this host in a cgroup
# of its own, which the agent finds by pid.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
n=$$
ns=throttlebot-alloc-$n
cga=/sys/fs/cgroup/cpu/throttlebot-alloc-a-$n
agents=; pids=; run=
cleanup() {
	cluster_stop
	ip netns del "$ns" 2>/dev/null
	rmdir "$cga" 2>/dev/null
	rm -rf "$tmp"
}
. "$abs_top_srcdir/tests/agent-lib.sh"
cluster_begin alloc

agent_node "$ns" "tba.$n" 10.219.9
agent_certs 10.219.9.2
agent_conf n1.conf 10.219.9.2:7443 token1 n1 "" \
	'{ plugin = "cpu_quota"; }, { plugin = "memory"; hard = true; capacity = 134217728; }'
agent_start "$ns" n1.conf n1.log
agent_wait n1.log || exit 1

# The service: busy, in an operator's cgroup held to 0.7 of a CPU.
mkdir "$cga" && echo 70000 > "$cga/cpu.cfs_quota_us" || exit 1
( exec sh -c 'i=0; while [ $i -lt 300000000 ]; do i=$((i+1)); done' ) &
pids=$!
echo $pids > "$cga/cgroup.procs"
quota() { cat "$cga/cpu.cfs_quota_us"; }
pending() { agent_pending n1-journal; }

cat > app.conf <<CONF
application = "alloc";
output_dir = "$tmp/out";
orchestrator = { plugin = "local";
  services = ( { name = "a"; cgroup = "/throttlebot-alloc-a-$n"; node = "n1"; } ); };
throttlers = ( { plugin = "cpu_quota"; } );
metrics = ( { plugin = "command"; command = ["/bin/sleep", "0.3"]; } );
stress_levels = [0.5];
trials = 2;
baseline_trials = 2;
warmup_trials = 0;
max_extra_trials = 0;
boost_trials = 4;
clampdown_step = 0.5;
clampdown_floor = 0.5;
agents = ( { node = "n1"; url = "https://10.219.9.2:7443"; token_file = "$tmp/token1"; ca = "$tmp/ca.crt";
             lease_seconds = 3; } );
CONF

# watch PID: until it ends (bounded: 120 s), the quotas seen, one a line, in seen.
watch() {
	: > seen
	for _ in $(seq 1 2400); do
		kill -0 "$1" 2>/dev/null || break
		quota >> seen
		sleep 0.05
	done
}

# Boost: the limit is raised 1.5 times at the agent while the boost's trials run, then put back exactly.
"$tb" boost app.conf > boost.log 2>&1 &
run=$!
watch $run
wait "$run"; st=$?; run=
[ $st = 0 ] || { bad "boost exited $st"; tail -20 boost.log; }
grep -qx 105000 seen || bad "the limit was never raised at the agent (seen: $(sort -u seen | tr '\n' ' '))"
[ "$(quota)" = 70000 ] || bad "the quota is $(quota) after boost, not 70000"
grep -q "applied allocate 1.05" n1.log || bad "the agent applied no allocation"
[ "$(pending)" = 0 ] || bad "the agent's journal holds $(pending) record(s) after boost"
[ -e "$THROTTLEBOT_JOURNAL" ] && bad "boost left its journal"

# SIGKILL of the controller while a boost holds: the agent puts back the limit when the lease (3 s) lapses.
"$tb" boost app.conf > boost2.log 2>&1 &
run=$!
for _ in $(seq 1 1200); do [ "$(quota)" = 105000 ] && break; kill -0 $run 2>/dev/null || break; sleep 0.05; done
kill -9 "$run"; wait "$run" 2>/dev/null
[ "$(quota)" = 105000 ] || bad "not boosted when the controller was killed (quota $(quota))"
t0=$(date +%s%N)
for _ in $(seq 1 100); do [ "$(quota)" = 70000 ] && break; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(quota)" = 70000 ] || bad "the agent did not restore the boost after the controller died (quota $(quota))"
[ "$ms" -le 4000 ] || bad "restored after $ms ms, past the lease of 3 s"
echo "boost of a killed controller restored by the agent after $ms ms (lease 3 s)"
grep -q "lease expired" n1.log || bad "the agent did not say the lease expired"
"$tb" restore > restore.log 2>&1 || { bad "restore failed"; cat restore.log; }
run=
[ "$(quota)" = 70000 ] || bad "restore changed the quota to $(quota)"

# Clampdown --keep: the service's CPU is not what sleep waits on, so the cut (half) is kept; the agent
# forgets it without restoring, and neither journal holds anything.
"$tb" clampdown app.conf --keep > clamp.log 2>&1 &
run=$!
watch $run
wait "$run"; st=$?; run=
[ $st = 0 ] || { bad "clampdown exited $st"; tail -20 clamp.log; }
[ "$(quota)" = 35000 ] || bad "the kept cut is $(quota), not 35000 (seen: $(sort -u seen | tr '\n' ' '))"
grep -q "kept .* as the client asked" n1.log || bad "the agent did not keep the cut"
[ "$(pending)" = 0 ] || bad "the agent's journal holds $(pending) record(s) after --keep"
[ -e "$THROTTLEBOT_JOURNAL" ] && bad "clampdown --keep left its journal"
sleep 3.5   # past the lease: a kept change is not restored by the agent
[ "$(quota)" = 35000 ] || bad "the agent restored a kept cut (quota $(quota))"
echo 70000 > "$cga/cpu.cfs_quota_us"

# An OOM kill on the node fails the trial: the controller asks the agent's check (the memory throttler's,
# there) before the release.  hog (tests/memsvc.py) allocates 96 MiB per request; a hard limit of 0.4 of
# 128 MiB kills it.  The run goes on with hog launched again.
py=$(command -v python3); [ -x /usr/bin/python3 ] && py=/usr/bin/python3     # not a version manager's shim: its start is slow
if [ -n "$py" ] && [ -d /sys/fs/cgroup/memory ]; then
	svc() {   # svc NAME HOG: a memsvc service on node n1
		printf '{ name = "%s"; node = "n1"; command = ["%s", "%s", "serve", "--socket", "%s/%s.sock", "--data", "%s/%s.dat", "--mib", "4", "--ready", "%s/%s.ready"%s];\n  ready_path = "%s/%s.ready"; ready_timeout = 30.0; }' \
			"$1" "$py" "$abs_top_srcdir/tests/memsvc.py" "$tmp" "$1" "$tmp" "$1" "$tmp" "$1" "${2:+, \"--hog\", \"$2\"}" "$tmp" "$1"
	}
	cat > oom.conf <<CONF
application = "alloc-oom";
output_dir = "$tmp/oom";
orchestrator = { plugin = "local"; services = ( $(svc hog 96), $(svc calm) ); cgroup_parent = "throttlebot"; log_dir = "$tmp"; };
throttlers = ( { plugin = "memory"; hard = true; capacity = 134217728; } );
metrics = ( { plugin = "command"; command = ["$py", "$abs_top_srcdir/tests/memsvc.py", "ask", "$tmp/hog.sock", "$tmp/calm.sock"]; timeout = 60.0; } );
strategy = { plugin = "exhaustive"; };
stress_levels = [0.6];
trials = 1;
baseline_trials = 2;
warmup_trials = 0;
max_extra_trials = 0;
agents = ( { node = "n1"; url = "https://10.219.9.2:7443"; token_file = "$tmp/token1"; ca = "$tmp/ca.crt";
             lease_seconds = 3; } );
CONF
	timeout 120 "$tb" run oom.conf > oom.log 2>&1 || { bad "the OOM run exited $?"; tail -20 oom.log; }
	grep -q "service 'hog'.*harmed by memory: oom_kill 1" oom.log ||
		{ bad "the OOM kill on the node was not found by the agent's check"; grep -i "hog\|fail" oom.log | tail; }
	grep -q "service 'calm'.*harmed" oom.log && bad "calm was found harmed"
	grep -q "brought hog pid [0-9]* back" oom.log || bad "hog was not launched again"
	[ "$(pending)" = 0 ] || bad "the agent's journal holds $(pending) record(s) after the OOM run"
else
	echo "no python3 or no cgroup v1 memory hierarchy: the OOM check through the agent is not tested"
fi

kill -TERM "$agents"; wait "$agents" || bad "the agent exited $?"
agents=
[ "$(quota)" = 70000 ] || bad "the agent's exit changed the quota to $(quota)"
[ $fail = 0 ] || { echo "--- boost.log"; tail -30 boost.log; echo "--- clamp.log"; tail -30 clamp.log; echo "--- n1.log"; cat n1.log; }
exit $fail
