#!/bin/bash
# bench-agent.sh - "make bench-agent" (root): one throttlebot agent on loopback over TLS with a bearer token.
# 1. AGENT_CYCLES (1000) apply+restore cycles of a cpu_quota throttle on a process's cgroup, each timed by
#    a client on one kept-alive TLS connection: median and p99 (targets: < 2 ms, < 10 ms);
# 2. AGENT_LEASES (20) throttles with a 1 s lease that nobody renews: how long after the lease each was
#    restored by the agent itself (target: within lease + 1 s, every time).
# The quota is checked to be exactly as before after each part.  Not a test: its numbers depend on the host.
set -u
tb=${abs_top_builddir:-.}/throttlebot
[ "$(id -u)" = 0 ] || { echo "bench-agent: needs root"; exit 77; }
for p in openssl python3; do command -v $p >/dev/null || { echo "bench-agent: needs $p"; exit 77; }; done
tmp=$(mktemp -d /tmp/throttlebot-bench-agent.XXXXXX) || exit 1
cg=/sys/fs/cgroup/cpu/throttlebot-bench-agent-$$
agent=; sleeper=
cleanup() {
	[ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	[ -n "$sleeper" ] && kill -9 "$sleeper" 2>/dev/null
	wait 2>/dev/null
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
. "${abs_top_srcdir:-.}/tests/agent-lib.sh"
cd "$tmp" || exit 1
agent_certs 127.0.0.1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
agent_conf agent.conf "127.0.0.1:$port" token agent
mkdir "$cg" && echo 70000 > "$cg/cpu.cfs_quota_us" || { echo "bench-agent: cannot make $cg"; exit 1; }
sleep 600 & sleeper=$!
echo "$sleeper" > "$cg/cgroup.procs"
"$tb" agent --config agent.conf >agent.log 2>&1 & agent=$!
python3 - "$port" "$sleeper" "$cg/cpu.cfs_quota_us" "${AGENT_CYCLES:-1000}" "${AGENT_LEASES:-20}" <<'PY'
import http.client, json, ssl, statistics, sys, time
port, pid, quota_file, cycles, leases = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
token = open("token").read().strip()
ctx = ssl.create_default_context(cafile="ca.crt")
head = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def connect():
    for _ in range(100):
        try:
            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
            c.request("GET", "/v1/health", headers=head); c.getresponse().read()
            return c
        except OSError:
            time.sleep(0.1)
    sys.exit("bench-agent: the agent did not come up")
def call(c, method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body else None, headers=head)
    r = c.getresponse(); data = r.read()
    return r.status, json.loads(data) if data else None
quota = lambda: open(quota_file).read().strip()
c = connect()
before = quota()
apply = lambda lease: {"target": {"kind": "pid", "id": pid}, "throttler": "cpu_quota", "stress": 0.5,
                       "lease_seconds": lease}
times = []
for i in range(cycles):
    t0 = time.perf_counter()
    st, body = call(c, "POST", "/v1/throttles", apply(30))
    assert st == 201, (st, body)
    st, _ = call(c, "DELETE", "/v1/throttles/" + body["handle"])
    assert st == 200, st
    times.append((time.perf_counter() - t0) * 1000)
assert quota() == before, "quota %s after the cycles, %s before" % (quota(), before)
times.sort()
p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
print("agent apply+restore over loopback TLS: %d cycles, median %.2f ms, p99 %.2f ms, max %.2f ms"
      % (cycles, statistics.median(times), p99, times[-1]))
late = []
for i in range(leases):
    st, body = call(c, "POST", "/v1/throttles", apply(1))
    assert st == 201, (st, body)
    t0 = time.perf_counter()
    assert quota() != before
    while quota() != before and time.perf_counter() - t0 < 5:
        time.sleep(0.005)
    late.append(time.perf_counter() - t0 - 1)
within = sum(1 for x in late if x <= 1)
print("lease expiry: %d of %d restored within lease + 1 s (after the lease: median %.3f s, max %.3f s)"
      % (within, leases, statistics.median(late), max(late)))
assert quota() == before
sys.exit(0 if within == leases else 1)
PY
st=$?
exit $st
