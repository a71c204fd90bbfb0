#!/bin/sh
# kube-manifests.sh - the Kubernetes manifests hang together: what the DaemonSet mounts exists, its labels are
# what the kubernetes orchestrator looks for, the agent's configuration is one it accepts.
# No API server can run here, so kubectl's server-side checks cannot; kustomize builds them when kubectl is there.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${srcdir:-$top}/etc/kubernetes
python3 - "$dir" "$top/plugins/orchestrators/kubernetes.c" <<'PY'
import re, sys, yaml
d, plugin = sys.argv[1], sys.argv[2]
docs = []
for name in ("namespace.yaml", "rbac.yaml", "agent-config.yaml", "agent-daemonset.yaml"):
    with open("%s/%s" % (d, name)) as f:
        docs += [x for x in yaml.safe_load_all(f) if x]
fail = []
def check(ok, what):
    print(("ok: " if ok else "FAILED: ") + what)
    if not ok:
        fail.append(what)
for x in docs:
    check(all(k in x for k in ("apiVersion", "kind", "metadata")) and x["metadata"].get("name"),
          "%s %s has apiVersion, kind and a name" % (x.get("kind"), x.get("metadata", {}).get("name")))
by = {(x["kind"], x["metadata"]["name"]): x for x in docs}
ds = by[("DaemonSet", "throttlebot-agent")]
tpl = ds["spec"]["template"]
sel = ds["spec"]["selector"]["matchLabels"]
check(all(tpl["metadata"]["labels"].get(k) == v for k, v in sel.items()), "the selector matches the pods")
src = open(plugin).read()
default = re.search(r'DEFAULT_AGENT_SELECTOR "([^"]+)"', src).group(1)
ns_default = re.search(r'DEFAULT_AGENT_NAMESPACE "([^"]+)"', src).group(1)
k, v = default.split("=")
check(tpl["metadata"]["labels"].get(k) == v, "the agents carry the orchestrator's default agent_selector")
check(ds["metadata"]["namespace"] == ns_default, "in the orchestrator's default agent_namespace")
spec = tpl["spec"]
check(spec.get("hostPID") and spec.get("hostNetwork"), "host PID and network")
c = spec["containers"][0]
check(c["securityContext"].get("privileged") is True, "privileged")
vols = {v["name"]: v for v in spec["volumes"]}
for m in c["volumeMounts"]:
    check(m["name"] in vols, "mount %s has a volume" % m["name"])
check(vols["cgroup"]["hostPath"]["path"] == "/sys/fs/cgroup", "the cgroup tree is the host's")
check(("ConfigMap", vols["config"]["configMap"]["name"]) in by, "its ConfigMap is defined")
check(("ServiceAccount", spec["serviceAccountName"]) in by, "its ServiceAccount is defined")
readme = open("%s/README.md" % d).read()
for v in vols.values():
    if "secret" in v:
        check(v["secret"]["secretName"] in readme, "Secret %s is made in README.md" % v["secret"]["secretName"])
conf = by[("ConfigMap", "throttlebot-agent")]["data"]["throttlebot-agent.conf"]
for path in re.findall(r'"(/etc/throttlebot/[^"]+)"', conf):
    check(any(path.startswith(m["mountPath"] + "/") for m in c["volumeMounts"]), "%s is mounted" % path)
check("@NODE_IP@" in conf and "@NODE_IP@" in " ".join(c["args"]), "it listens on its node's address")
role = by[("ClusterRole", "throttlebot-controller")]
check(all(set(r["verbs"]) <= {"get", "list", "watch"} for r in role["rules"]), "the controller only reads")
sys.exit(1 if fail else 0)
PY
if command -v kubectl >/dev/null 2>&1; then
	kubectl kustomize "$dir" >/dev/null
	echo "ok: kubectl kustomize builds them"
fi
