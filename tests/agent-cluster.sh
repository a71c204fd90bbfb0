#!/bin/sh
# agent-cluster.sh - a controller whose services run on two "nodes" sends their throttles to each node's
# agent: applied there, kept alive past the lease by renewals, restored exactly at the end, and reached
# by `throttlebot restore` after the controller is killed with SIGKILL.
# No cluster here: each node is a network namespace made by this test, its agent listening on the
# namespace's own address (token on n1, token and client certificate on n2), reached over veth pairs.
# The services are processes of this host in cgroups of their own, which the agents find by pid.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
n=$$
cga=/sys/fs/cgroup/cpu/throttlebot-cluster-a-$n
cgb=/sys/fs/cgroup/cpu/throttlebot-cluster-b-$n
agents=; pids=; run=
cleanup() {
	cluster_stop
	for i in 1 2; do ip netns del "throttlebot-n$i-$n" 2>/dev/null; done
	rmdir "$cga" "$cgb" 2>/dev/null
	rm -rf "$tmp"
}
. "$abs_top_srcdir/tests/agent-lib.sh"
cluster_begin cluster

# Two nodes: namespace n<i> at 10.219.<i>.2, this host at 10.219.<i>.1.
for i in 1 2; do agent_node "throttlebot-n$i-$n" "tbc$i.$n" "10.219.$i"; done

agent_certs 10.219.1.2 10.219.2.2
for i in 1 2; do
	extra=; [ $i = 2 ] && extra="client_ca = \"$tmp/ca.crt\";"
	agent_conf n$i.conf "10.219.$i.2:7443" token$i n$i "$extra"
	agent_start "throttlebot-n$i-$n" n$i.conf n$i.log
done
agent_wait n1.log n2.log || exit 1

# A service on each node, each in an operator's cgroup with its own limit, each busy.
mkdir "$cga" "$cgb" && echo 70000 > "$cga/cpu.cfs_quota_us" && echo 60000 > "$cgb/cpu.cfs_quota_us" || exit 1
for cg in "$cga" "$cgb"; do
	( exec sh -c 'i=0; while [ $i -lt 300000000 ]; do i=$((i+1)); done' ) &
	pids="$pids $!"
	echo $! > "$cg/cgroup.procs"
done

# Trials of 5 s against leases of 3 s: only renewals keep the throttles on.
cat > app.conf <<CONF
application = "cluster";
output_dir = "$tmp/out";
orchestrator = { plugin = "local";
  services = ( { name = "a"; cgroup = "/throttlebot-cluster-a-$n"; node = "n1"; },
               { name = "b"; cgroup = "/throttlebot-cluster-b-$n"; node = "n2"; } ); };
throttlers = ( { plugin = "cpu_quota"; } );
$(cluster_trials 5)
agents = (
  { node = "n1"; url = "https://10.219.1.2:7443"; token_file = "$tmp/token1"; ca = "$tmp/ca.crt";
    lease_seconds = 3; },
  { node = "n2"; url = "https://10.219.2.2:7443"; token_file = "$tmp/token2"; ca = "$tmp/ca.crt";
    cert = "$tmp/client.crt"; key = "$tmp/client.key"; lease_seconds = 3; }
);
CONF
# While the run goes on (bounded: 60 s), the longest stretch each service stays throttled, in 0.1 s.
"$tb" run app.conf > run.log 2>&1 &
run=$!
ha=0; hb=0; ra=0; rb=0
for _ in $(seq 1 600); do
	kill -0 "$run" 2>/dev/null || break
	[ "$(cat "$cga/cpu.cfs_quota_us")" = 35000 ] && ra=$((ra + 1)) || ra=0
	[ "$(cat "$cgb/cpu.cfs_quota_us")" = 30000 ] && rb=$((rb + 1)) || rb=0
	[ $ra -gt $ha ] && ha=$ra
	[ $rb -gt $hb ] && hb=$rb
	sleep 0.1
done
echo "throttled through the agents: a for ${ha}00 ms, b for ${hb}00 ms, of 5 s trials (leases of 3 s)"
[ $ha -ge 40 ] || bad "service a on n1 was throttled for ${ha}00 ms only"
[ $hb -ge 40 ] || bad "service b on n2 was throttled for ${hb}00 ms only"
wait "$run"; st=$?; run=
[ $st = 0 ] || { bad "the run exited $st"; tail -20 run.log; }
[ "$(cat "$cga/cpu.cfs_quota_us")" = 70000 ] || bad "a's quota is $(cat "$cga/cpu.cfs_quota_us"), not 70000"
[ "$(cat "$cgb/cpu.cfs_quota_us")" = 60000 ] || bad "b's quota is $(cat "$cgb/cpu.cfs_quota_us"), not 60000"
grep -q "applied stress 0.500" n1.log && grep -q "applied stress 0.500" n2.log || bad "an agent applied nothing"
grep -q "released by the client" n1.log && grep -q "released by the client" n2.log || bad "the run did not release"
grep -q "lease expired" n1.log n2.log && bad "a lease ran out during the run"
[ -e "$THROTTLEBOT_JOURNAL" ] && bad "the run left its journal"

# SIGKILL mid-throttle: the journal names the agent and the handle; restore reaches it, before the lease.
"$tb" run app.conf > run2.log 2>&1 &
run=$!
for _ in $(seq 1 400); do [ "$(cat "$cga/cpu.cfs_quota_us")" = 35000 ] && break; sleep 0.1; done
kill -9 "$run"; wait "$run" 2>/dev/null; run=
[ "$(cat "$cga/cpu.cfs_quota_us")" = 35000 ] || bad "not throttled when the controller was killed"
"$tb" restore --check > check.log 2>&1
grep -q "pending .*: agent cpu_quota" check.log || { bad "the journal does not name the agent"; cat check.log; }
before=$(grep -c "released by the client" n1.log)
# The record names the token's file, and sends what it holds only if it is still that token: a record
# pointed at another file gets nothing of it out.
cp token1 token1.kept; cp token2 token1
"$tb" restore > refused.log 2>&1 && bad "restore sent a token other than the one the throttle was applied with"
grep -q "no longer holds the token" refused.log || { bad "no reason given"; cat refused.log; }
cp token1.kept token1
"$tb" restore > restore.log 2>&1 || { bad "restore failed"; cat restore.log; }
[ "$(cat "$cga/cpu.cfs_quota_us")" = 70000 ] || bad "a's quota is $(cat "$cga/cpu.cfs_quota_us") after restore"
[ "$(grep -c "released by the client" n1.log)" -gt "$before" ] || bad "restore did not reach n1's agent"
[ -e "$THROTTLEBOT_JOURNAL" ] && bad "restore left the journal"

for p in $agents; do kill -TERM "$p"; done
for p in $agents; do wait "$p" || bad "an agent exited $?"; done
agents=
[ $fail = 0 ] || { echo "--- run.log"; tail -30 run.log; echo "--- n1.log"; cat n1.log; echo "--- n2.log"; cat n2.log; }
exit $fail
