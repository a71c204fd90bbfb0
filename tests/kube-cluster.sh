#!/bin/sh
# kube-cluster.sh - the kubernetes orchestrator finds the pods of an application and, through the API, the
# agent on each pod's node; the run throttles each container through its node's agent and names the MIMR,
# whose bottleneck sits on the second node; a controller killed with SIGKILL leaves what `throttlebot
# restore` puts back exactly.
# No Kubernetes API server can run here: tests/kube-apiserver.py stands in for one, serving pods this test
# writes (the application's and the agents' DaemonSet pods, in the API's v1 Pod shape).  The nodes are
# network namespaces made by this test, each with a real agent on its own address; the containers are
# cgroups named as containerd's systemd driver names them, kubelet's four levels down, with real processes.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
n=$$
top=/sys/fs/cgroup/cpu/throttlebot-kube-$n
ida=$(printf 'a%063x' $n); idb=$(printf 'b%063x' $n)
cga=$top/kubepods/poda/cri-containerd-$ida.scope
cgb=$top/kubepods/podb/cri-containerd-$idb.scope
agents=; pids=; run=
cleanup() {
	cluster_stop
	# The workload of a killed run may still be running in storage's container.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		procs=$(cat "$cga/cgroup.procs" "$cgb/cgroup.procs" 2>/dev/null)
		[ -z "$procs" ] && break
		kill -9 $procs 2>/dev/null
		sleep 0.1
	done
	for i in 1 2; do ip netns del "throttlebot-k$i-$n" 2>/dev/null; done
	for d in "$cga" "$cgb" "$top/kubepods/poda" "$top/kubepods/podb" "$top/kubepods" "$top"; do
		rmdir "$d" 2>/dev/null
	done
	rm -rf "$tmp"
}
. "$abs_top_srcdir/tests/agent-lib.sh"
cluster_begin kcluster python3

# Two nodes: namespace k<i> at 10.226.<i>.2, this host at 10.226.<i>.1.
for i in 1 2; do agent_node "throttlebot-k$i-$n" "tbk$i.$n" "10.226.$i"; done
agent_certs 10.226.1.2 10.226.2.2 127.0.0.1
for i in 1 2; do
	agent_conf k$i.conf "10.226.$i.2:7443" token k$i
	agent_start "throttlebot-k$i-$n" k$i.conf k$i.log
done

# The containers: frontend (node k1) and storage (node k2), half a core each, each with a process.
mkdir -p "$cga" "$cgb" && echo 50000 > "$cga/cpu.cfs_quota_us" && echo 50000 > "$cgb/cpu.cfs_quota_us" || exit 1
for cg in "$cga" "$cgb"; do
	sleep 600 &
	pids="$pids $!"
	echo $! > "$cg/cgroup.procs"
done

# The API: the application's pods in "shop", the agents' DaemonSet pods in "throttlebot".
mkdir fixtures && echo '{}' > faults.json
python3 - "$n" "$ida" "$idb" <<'PY' || exit 1
import json, sys
n, ida, idb = sys.argv[1:]
ready = [{"type": t, "status": "True"} for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
def pod(ns, name, labels, node, ip, container, cid=None, ports=None):
    spec = {"name": container, "image": "registry.local/%s:1" % container}
    if ports:
        spec["ports"] = ports
    status = {"name": container, "ready": True, "started": True, "restartCount": 0,
              "state": {"running": {"startedAt": "2026-11-20T09:14:09Z"}}}
    if cid:
        status["containerID"] = "containerd://" + cid
    return {"metadata": {"name": name, "namespace": ns, "uid": "%s-%s-uid" % (name, n), "labels": labels},
            "spec": {"containers": [spec], "nodeName": node},
            "status": {"phase": "Running", "conditions": ready, "hostIP": ip, "podIP": ip,
                       "containerStatuses": [status]}}
def lst(items):
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items}
shop = lambda name: {"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/name": name}
agent = {"app.kubernetes.io/name": "throttlebot-agent"}
https = [{"name": "https", "containerPort": 7443, "protocol": "TCP"}]
json.dump(lst([pod("shop", "frontend-0", shop("frontend"), "k1", "10.244.1.5", "app", ida),
               pod("shop", "storage-0", shop("storage"), "k2", "10.244.2.5", "db", idb)]),
          open("fixtures/pods-shop.json", "w"))
json.dump(lst([pod("throttlebot", "throttlebot-agent-%d" % i, agent, "k%d" % i, "10.226.%d.2" % i, "agent",
                   ports=https) for i in (1, 2)]),
          open("fixtures/pods-throttlebot.json", "w"))
PY
python3 "$abs_top_srcdir/tests/kube-apiserver.py" fixtures port server.crt server.key "$(cat token)" \
	faults.json > apiserver.log 2>&1 &
pids="$pids $!"
agent_wait k1.log k2.log || exit 1
for _ in $(seq 1 50); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || { bad "the API stand-in did not start"; cat apiserver.log; exit 1; }
cat > kubeconfig <<YAML
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:$(cat port)
    certificate-authority: $tmp/ca.crt
contexts:
- name: test
  context:
    cluster: test
    user: controller
    namespace: shop
users:
- name: controller
  user:
    tokenFile: $tmp/token
YAML

# The workload does its work inside storage's container: storage's CPU is the bottleneck, frontend's
# is not.  The agents are named by nobody but the API; "*" gives the credentials to reach them.
cat > app.conf <<CONF
application = "kube-cluster";
output_dir = "$tmp/out";
seed = 7;
orchestrator = { plugin = "kubernetes"; kubeconfig = "$tmp/kubeconfig";
  selector = "app.kubernetes.io/part-of=shop"; };
throttlers = ( { plugin = "cpu_quota"; } );
metrics = ( { plugin = "command";
  command = ["/bin/sh", "-c", "echo \$\$ > $cgb/cgroup.procs && i=0 && while [ \$i -lt 400000 ]; do i=\$((i+1)); done"]; } );
stress_levels = [0.5];
trials = 5;
baseline_trials = 5;
warmup_trials = 1;
max_extra_trials = 6;
agents = ( { node = "*"; token_file = "$tmp/token"; ca = "$tmp/ca.crt"; lease_seconds = 5; } );
CONF
# probe names each target's node and the agent found for it.
"$tb" probe app.conf > probe.log 2>&1 || { bad "probe failed"; cat probe.log; }
grep -A4 "storage-0/db" probe.log | grep -q "agent   https://10.226.2.2:7443" ||
	{ bad "probe does not name storage's agent"; cat probe.log; }
o1=$(agent_opens "throttlebot-k1-$n") o2=$(agent_opens "throttlebot-k2-$n")
"$tb" run app.conf > run.log 2>&1; st=$?
[ $st = 0 ] || { bad "the run exited $st"; tail -20 run.log; }
# A run keeps its connection to each agent alive: fewer connections reach a node than throttles.
o1=$(($(agent_opens "throttlebot-k1-$n") - o1)) o2=$(($(agent_opens "throttlebot-k2-$n") - o2))
a1=$(grep -c "applied stress" k1.log) a2=$(grep -c "applied stress" k2.log)
echo "connections to the agents: k1 $o1 for $a1 throttles, k2 $o2 for $a2"
[ "$o1" -lt "$a1" ] && [ "$o2" -lt "$a2" ] || bad "a connection a request: the run does not keep them alive"
grep -q "applied stress 0.500" k1.log && grep -q "applied stress 0.500" k2.log ||
	bad "not every node's agent applied a throttle"
grep -q "released by the client" k1.log && grep -q "released by the client" k2.log || bad "the run did not release"
python3 - out/report.json <<'PY' || fail=1
import json, sys
r = json.load(open(sys.argv[1]))
m = r.get("mimr") or {}
print("MIMR: %s %s (%+.0f%%)" % (m.get("service"), m.get("resource"), 100 * (m.get("degradation") or 0)))
if (m.get("service"), m.get("resource")) != ("storage", "cpu"):
    sys.exit("FAILED: the MIMR is not storage's cpu")
imrs = {(p["service"], p["resource"]) for p in r.get("imrs", [])}
if ("frontend", "cpu") in imrs:
    sys.exit("FAILED: frontend's cpu, which the workload never uses, is an IMR")
PY
[ "$(cat "$cga/cpu.cfs_quota_us")" = 50000 ] || bad "frontend's quota is $(cat "$cga/cpu.cfs_quota_us"), not 50000"
[ "$(cat "$cgb/cpu.cfs_quota_us")" = 50000 ] || bad "storage's quota is $(cat "$cgb/cpu.cfs_quota_us"), not 50000"
[ -e "$THROTTLEBOT_JOURNAL" ] && bad "the run left its journal"

# SIGKILL while storage is throttled: the journal names its node's agent, found through the API.
sed -i "s/^trials = 5;/trials = 30;/" app.conf
"$tb" run app.conf > run2.log 2>&1 &
run=$!
for _ in $(seq 1 600); do [ "$(cat "$cgb/cpu.cfs_quota_us")" = 25000 ] && break; sleep 0.1; done
kill -9 "$run"; wait "$run" 2>/dev/null; run=
[ "$(cat "$cgb/cpu.cfs_quota_us")" = 25000 ] || bad "storage was not throttled when the controller was killed"
"$tb" restore > restore.log 2>&1 || { bad "restore failed"; cat restore.log; }
[ "$(cat "$cgb/cpu.cfs_quota_us")" = 50000 ] || bad "storage's quota is $(cat "$cgb/cpu.cfs_quota_us") after restore"
grep -q "at its node's agent" restore.log || { bad "restore did not go through the agent"; cat restore.log; }

for p in $agents; do kill -TERM "$p"; done
for p in $agents; do wait "$p" || bad "an agent exited $?"; done
agents=
[ $fail = 0 ] || { echo "--- run.log"; grep -i "error\|fail" run.log | head -20; tail -30 run.log; echo "--- k1.log"; tail -20 k1.log; echo "--- k2.log"; tail -20 k2.log; }
exit $fail
