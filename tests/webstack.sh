#!/bin/sh
# webstack.sh - apps/webstack on its own: HTTP/1.1 behaviour, the CPU each service spends per request, clean SIGTERM exits.
#
# The multi-metric experiment relies on this ground truth: the backend spends
# --work-us of CPU per request and the front next to nothing; busy burns its
# --duty share of a core.  CPU time is read from /proc/PID/stat.  No root.
set -u
: "${abs_top_builddir:?run me from make check}"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
bin=$abs_top_builddir/apps/webstack
for p in tb-web tb-backend tb-busy; do
	[ -x "$bin/$p" ] || { echo "ERROR: build apps/webstack/$p first"; exit 99; }
done

tmp=$(mktemp -d /tmp/throttlebot-webstack-XXXXXX) || exit 99
pids=
cleanup() {
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ports=$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))') || exit 99
set -- $ports
web_port=$1 backend_port=$2

# wait_file PATH: until it exists (5 s at most).
wait_file() {
	i=0
	until [ -e "$1" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "ERROR: $1 never appeared"; exit 99; }
		sleep 0.05
	done
}

"$bin/tb-backend" --port "$backend_port" --work-us 3000 --ready-file "$tmp/backend.ready" \
	--max-seconds 120 2>"$tmp/backend.log" &
backend=$!
pids="$pids $backend"
wait_file "$tmp/backend.ready"
"$bin/tb-web" --port "$web_port" --backend-port "$backend_port" --ready-file "$tmp/web.ready" \
	--max-seconds 120 2>"$tmp/web.log" &
web=$!
pids="$pids $web"
wait_file "$tmp/web.ready"
"$bin/tb-busy" --duty 0.3 --max-seconds 120 2>"$tmp/busy.log" &
busy=$!
pids="$pids $busy"

fail=0
python3 - "$web_port" "$backend" "$web" "$busy" <<'PY' || fail=1
import http.client, os, socket, sys, time

port, backend, web, busy = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    """utime + stime of a process (all its threads), in seconds."""
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)

# Keep-alive: many requests on one connection, each answered through the backend.
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
b0, w0 = cpu(backend), cpu(web)
n = 300
for i in range(n):
    c.request("GET", "/page?i=%d" % i)
    r = c.getresponse()
    body = r.read()
    check(r.status == 200 and body.startswith(b"done "), "request %d: %d %r" % (i, r.status, body))
b1, w1 = cpu(backend), cpu(web)
per_req_ms = 1000 * (b1 - b0) / n
print("backend: %.2f ms of CPU per request (3 ms asked); web: %.3f ms" % (per_req_ms, 1000 * (w1 - w0) / n))
check(2.6 <= per_req_ms <= 4.0, "the backend spent %.2f ms per request, want about 3" % per_req_ms)
check(w1 - w0 < (b1 - b0) / 10, "the front spent %.3f s, the backend %.3f s" % (w1 - w0, b1 - b0))

# /health does not reach the backend; HEAD has no body; POST is refused; a body is skipped.
b0 = cpu(backend)
for i in range(50):
    c.request("GET", "/health")
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"ok\n", "/health")
check(cpu(backend) - b0 < 0.05, "/health used the backend")
c.request("HEAD", "/")
r = c.getresponse()
check(r.status == 200 and r.read() == b"" and int(r.getheader("Content-Length")) > 0, "HEAD")
c.request("POST", "/", body=b"x" * 5000, headers={"Content-Length": "5000"})
r = c.getresponse()
check(r.status == 405 and r.read(), "POST")
c.request("GET", "/")
r = c.getresponse()
check(r.status == 200 and r.read().startswith(b"done "), "GET after a skipped body")

# HTTP/1.0 and "Connection: close" close the connection after the answer.
for req in (b"GET / HTTP/1.0\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    check(data.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in data, "close: %r" % data)
    s.close()

# Two pipelined requests in one write get two answers.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
data, deadline = b"", time.time() + 10
while data.count(b"HTTP/1.1 200 OK") < 2 and time.time() < deadline:
    data += s.recv(4096)
check(data.count(b"HTTP/1.1 200 OK") == 2, "pipelined: %r" % data)
s.close()

# Garbage is a 400 and the end of the connection.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"hello\r\n\r\n")
check(s.recv(4096).startswith(b"HTTP/1.1 400"), "400")
s.close()

# busy: about its duty share of a core (less when the host is busy: it counts wall time).
u0, t0 = cpu(busy), time.time()
time.sleep(2)
share = (cpu(busy) - u0) / (time.time() - t0)
print("busy: %.2f of a core (0.3 asked)" % share)
check(0.1 <= share <= 0.45, "busy used %.2f of a core, want about 0.3" % share)
PY

# SIGTERM: each exits 0 within a second and removes its ready file.
for p in $web $backend $busy; do kill -TERM "$p"; done
for p in $web $backend $busy; do
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.05; i=$((i + 1)); done
	kill -0 "$p" 2>/dev/null && { echo "FAIL: process $p ignored SIGTERM"; fail=1; kill -KILL "$p"; }
	wait "$p"
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL: process $p exited $rc on SIGTERM"; fail=1; }
done
pids=
for f in backend web; do
	[ -e "$tmp/$f.ready" ] && { echo "FAIL: $f left its ready file"; fail=1; }
done
[ $fail -eq 0 ] && echo PASS
exit $fail
