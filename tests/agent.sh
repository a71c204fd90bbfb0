#!/bin/sh
# agent.sh - throttlebot agent over real HTTPS on loopback: authentication (token, client certificate), a
# cpu_quota throttle by pid and by container id applied and restored to the exact previous value, hostile
# targets, values, bodies and handles refused with nothing changed, leases enforced, and what an agent
# killed with SIGKILL left restored by the next one.
# No cluster here: the "node" is this host, its targets real processes in real cgroups.  No container
# engine is used either: the "container" is a cgroup named as docker's cgroupfs driver names one.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
[ -d /sys/fs/cgroup/cpu ] || { echo "skipped: needs the cgroup v1 cpu hierarchy"; exit 77; }
for p in openssl curl; do command -v $p >/dev/null || { echo "skipped: needs $p"; exit 77; }; done
tb=$abs_top_builddir/throttlebot
tmp=$(mktemp -d /tmp/throttlebot-agent-XXXXXX)
chmod 700 "$tmp"
port=$((20000 + $$ % 20000))
url=https://127.0.0.1:$port
cg=/sys/fs/cgroup/cpu/throttlebot-agent-test-$$
cid=$(printf '%064x' $$)
ccg=/sys/fs/cgroup/cpu/docker/$cid
kid=$(printf '%064x' $(($$ + 1)))
ktop=/sys/fs/cgroup/cpu/throttlebot-agent-k8s-$$
kcg=$ktop/kubepods/pod1/cri-containerd-$kid.scope
made_docker=
agent=; spin=; cspin=
cleanup() {
	[ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	for p in $spin $cspin; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rmdir "$kcg" "$ktop/kubepods/pod1" "$ktop/kubepods" "$ktop" "$cg" "$ccg" 2>/dev/null
	[ -n "$made_docker" ] && rmdir /sys/fs/cgroup/cpu/docker 2>/dev/null
	rm -rf "$tmp"
}
. "$abs_top_srcdir/tests/agent-lib.sh"

# A CA, the agent's certificate for 127.0.0.1, a client certificate from the CA, one from nowhere, a token.
cd "$tmp" || exit 1
agent_certs 127.0.0.1
tok=$(cat token)

conf() {   # conf FILE [extra lines]: the agent's configuration, token and client CA both required
	cat > "$1" <<CONF
listen = "127.0.0.1:$port";
certificate = "$tmp/server.crt";
key = "$tmp/server.key";
journal = "$tmp/agent-journal";
lock = "$tmp/agent-lock";
max_lease_seconds = 120;
throttlers = ( { plugin = "cpu_quota"; } );
$2
CONF
}
conf agent.conf "token_file = \"$tmp/token\"; client_ca = \"$tmp/ca.crt\";"

start_agent() {
	"$tb" agent --config "$tmp/agent.conf" >>"$tmp/agent.log" 2>&1 &
	agent=$!
	for _ in $(seq 1 50); do
		[ "$(api GET /v1/health)" = 200 ] && return 0
		kill -0 "$agent" 2>/dev/null || break
		sleep 0.1
	done
	bad "the agent did not come up"; cat "$tmp/agent.log"; exit 1
}
# api METHOD PATH [BODY] [curl options...]: prints the status; the answer is in $tmp/body.
api() {
	m=$1 p=$2 d=${3:-}
	shift; shift; [ $# -gt 0 ] && shift
	[ "${noauth:-}" ] && set -- --cacert ca.crt "$@" ||
		set -- --cacert ca.crt --cert client.crt --key client.key -H "Authorization: Bearer $tok" "$@"
	curl -s --max-time 5 -o "$tmp/body" -w '%{http_code}' -X "$m" ${d:+-H 'Content-Type: application/json' --data "$d"} "$@" "$url$p"
}
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$tmp/body"; }
quota() { cat "$cg/cpu.cfs_quota_us"; }
throttle() {   # throttle PID LEASE: apply cpu_quota at stress 0.5, handle in $handle
	st=$(api POST /v1/throttles "{\"target\":{\"kind\":\"pid\",\"id\":$1},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":$2}")
	[ "$st" = 201 ] || bad "apply answered $st: $(cat "$tmp/body")"
	handle=$(field handle)
}

# An operator's cgroup with its own limit (70000 of 100000 us): the agent must put back exactly that.
mkdir "$cg" && echo 70000 > "$cg/cpu.cfs_quota_us" || exit 1
( exec sh -c 'i=0; while [ $i -lt 300000000 ]; do i=$((i+1)); done' ) &
spin=$!
echo "$spin" > "$cg/cgroup.procs"

# It refuses to start without authentication, without a certificate, or with a token others can read.
conf noauth.conf ""
"$tb" agent --config noauth.conf >out 2>&1; st=$?
[ $st = 2 ] && grep -q "token_file, client_ca or both" out || bad "started without authentication ($st): $(cat out)"
grep -v '^certificate' agent.conf > nocert.conf
"$tb" agent --config nocert.conf >out 2>&1 && bad "started without a certificate"
cp token open-token; chmod 644 open-token
conf opentoken.conf "token_file = \"$tmp/open-token\";"
"$tb" agent --config opentoken.conf >out 2>&1 && bad "took a world-readable token"
grep -q "others may read it" out || bad "no reason given for the open token: $(cat out)"

start_agent
[ "$(field status)" = ok ] || bad "health: $(cat body)"

# Apply by pid: the quota halves, the kernel throttles the busy process, DELETE puts back 70000 exactly.
throttle "$spin" 30
[ "$(quota)" = 35000 ] || bad "quota is $(quota) under throttle, not 35000"
thr0=$(sed -n 's/^nr_throttled //p' "$cg/cpu.stat")
sleep 0.5
thr1=$(sed -n 's/^nr_throttled //p' "$cg/cpu.stat")
[ "$thr1" -gt "$thr0" ] || bad "the busy process was never throttled ($thr0 -> $thr1)"
[ "$(api GET /v1/throttles)" = 200 ] && grep -q "$handle" body || bad "GET /v1/throttles: $(cat body)"
[ "$(api POST /v1/throttles "{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"cpu_quota\",\"stress\":0.2,\"lease_seconds\":5}")" = 409 ] ||
	bad "a second throttle on the same cgroup was not refused: $(cat body)"
[ "$(api DELETE "/v1/throttles/$handle")" = 200 ] || bad "DELETE: $(cat body)"
[ "$(quota)" = 70000 ] || bad "quota is $(quota) after DELETE, not 70000"
[ "$(api DELETE "/v1/throttles/$handle")" = 404 ] || bad "a second DELETE was not 404"

# A handle the client chose (a controller journals it first) is taken as given; a malformed one is not.
h=0123456789abcdef0123456789abcdef
st=$(api POST /v1/throttles "{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":30,\"handle\":\"$h\"}")
[ "$st" = 201 ] && [ "$(field handle)" = $h ] || bad "a client's handle: $st $(cat body)"
[ "$(api DELETE /v1/throttles/$h)" = 200 ] && [ "$(quota)" = 70000 ] || bad "DELETE of a client's handle"
st=$(api POST /v1/throttles "{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":30,\"handle\":\"../x\"}")
[ "$st" = 400 ] || bad "a malformed handle answered $st"
[ "$(api POST /v1/throttles "{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"nope\",\"stress\":0.5,\"lease_seconds\":30}")" = 400 ] ||
	bad "an unknown throttler was not 400"
curl -s --max-time 5 --tls-max 1.1 --cacert ca.crt -o /dev/null "$url/v1/health" && bad "TLS 1.1 was accepted"

# unchanged: nothing of a refused request reached the host: the quota and the weight as the operator set
# them, nothing in the agent's table, nothing pending in its journal.
unchanged() {
	[ "$(quota)" = 70000 ] || bad "$1 changed the quota to $(quota)"
	[ "$(cat "$cg/cpu.shares")" = "$shares" ] || bad "$1 changed cpu.shares to $(cat "$cg/cpu.shares")"
	api GET /v1/throttles >/dev/null; grep -q '"throttles":\[\]' body || bad "$1 left something applied: $(cat body)"
	[ "$(pending)" = 0 ] || bad "$1 left $(pending) record(s) pending in the agent's journal"
}
pending() { agent_pending agent-journal; }
shares=$(cat "$cg/cpu.shares")

# Authentication: each refused, and nothing changed.
body="{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":30}"
st=$(noauth=1 api POST /v1/throttles "$body" --cert client.crt --key client.key); [ "$st" = 401 ] || bad "no token: $st"
st=$(noauth=1 api POST /v1/throttles "$body" --cert client.crt --key client.key -H "Authorization: Bearer x$tok")
[ "$st" = 401 ] || bad "wrong token: $st"
st=$(noauth=1 api POST /v1/throttles "$body" -H "Authorization: Bearer $tok"); [ "$st" = 403 ] || bad "no client certificate: $st"
st=$(noauth=1 api POST /v1/throttles "$body" --cert rogue.crt --key rogue.key -H "Authorization: Bearer $tok")
[ "$st" = 403 ] || bad "a certificate from another CA: $st"
unchanged "a refused client"

# Hostile targets: never a path, never another kind, never a top cgroup (pid 2, kthreadd, is there), no
# control characters; 400 and nothing changes.
for t in '"kind":"pid","id":"../../etc"' '"kind":"pid","id":"/sys/fs/cgroup/cpu"' \
	 '"kind":"container","id":"../../../sys/fs/cgroup/cpu"' '"kind":"cgroup","id":"/throttlebot-agent-test"' \
	 '"kind":"pid","id":"1/../2"' '"kind":"pid","id":-1' '"kind":"pid","id":2' '"kind":"container","id":"/sys/fs/cgroup/cpu/docker"' \
	 "\"kind\":\"pid\",\"id\":\"$spin\\n\"" "\"kind\":\"pid\",\"id\":\"$spin\\u0000\"" "\"kind\":\"pid\",\"id\":\"\\u001b[2J$spin\"" \
	 "\"kind\":\"pid\\r\",\"id\":$spin"; do
	st=$(api POST /v1/throttles "{\"target\":{$t},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":5}")
	[ "$st" = 400 ] || bad "target {$t} answered $st, not 400"
	st=$(api POST /v1/allocation "{\"target\":{$t},\"throttler\":\"cpu_quota\"}")
	[ "$st" = 400 ] || bad "allocation of target {$t} answered $st, not 400"
done
unchanged "a hostile target"
# Hostile values: a stress that is no number, 1 or more, below 0; an allocation of 0 or below, a priority
# factor of 1 or below, two changes at once, an unknown throttler, a lease too long; 400 each.
pre="\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"cpu_quota\",\"lease_seconds\":5"
for v in '"stress":"0.5"' '"stress":null' '"stress":[0.5]' '"stress":1' '"stress":1.5' '"stress":-0.1' '"stress":-1e308' \
	 '"allocate":0' '"allocate":-2' '"allocate":"2"' '"prioritize":1' '"prioritize":0.5' '"stress":0.5,"allocate":2' \
	 '"stress":0.5,"throttler":"nope"' '"stress":0.5,"lease_seconds":1000' '"stress":0.5,"lease_seconds":0'; do
	st=$(api POST /v1/throttles "{$pre,$v}")
	[ "$st" = 400 ] || bad "{$v} answered $st, not 400"
done
[ "$(api POST /v1/throttles '{"target":')" = 400 ] || bad "broken JSON accepted"
[ "$(api POST /v1/allocation "{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"nope\"}")" = 400 ] ||
	bad "the allocation of an unknown throttler was not 400"
# A body past 64 KiB is refused as too large, whatever it holds.
{ printf '{"target":{"kind":"pid","id":%s},"throttler":"cpu_quota","stress":0.5,"lease_seconds":5,"pad":"' "$spin"
  head -c 70000 /dev/zero | tr '\0' x; printf '"}'; } > big.json
[ "$(api POST /v1/throttles @big.json)" = 413 ] || bad "a 70 KB body answered $(cat body)"
unchanged "a hostile value"

# A handle that is not ours (never given out, or another throttle's): renew, keep, check and DELETE answer
# 404, and the throttle that is held stays as it is.
throttle "$spin" 30
other=fedcba9876543210fedcba9876543210
for m in "POST /renew" "POST /keep" "GET /check" "DELETE "; do
	st=$(api ${m% *} "/v1/throttles/$other${m#* }")
	[ "$st" = 404 ] || bad "$m of a handle not ours answered $st"
done
[ "$(api DELETE /v1/throttles/../$handle)" = 404 ] || bad "a handle with a path answered $(cat body)"
[ "$(quota)" = 35000 ] && [ "$(pending)" = 1 ] || bad "a handle not ours changed the held throttle (quota $(quota))"
api DELETE "/v1/throttles/$handle" >/dev/null
unchanged "a foreign handle"

# A container by its id (a cgroup named as docker names it, with a process in it): applied, restored.
[ -d /sys/fs/cgroup/cpu/docker ] || { mkdir /sys/fs/cgroup/cpu/docker && made_docker=1; }
mkdir "$ccg" || exit 1
( exec sh -c 'i=0; while [ $i -lt 300000000 ]; do i=$((i+1)); done' ) &
cspin=$!
echo "$cspin" > "$ccg/cgroup.procs"
before=$(cat "$ccg/cpu.cfs_quota_us")
st=$(api POST /v1/throttles "{\"target\":{\"kind\":\"container\",\"id\":\"$cid\"},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":30}")
[ "$st" = 201 ] || bad "apply by container answered $st: $(cat body)"
[ "$(cat "$ccg/cpu.cfs_quota_us")" != "$before" ] || bad "the container's quota did not change"
api DELETE "/v1/throttles/$(field handle)" >/dev/null
[ "$(cat "$ccg/cpu.cfs_quota_us")" = "$before" ] || bad "container quota $(cat "$ccg/cpu.cfs_quota_us"), not $before"
[ "$(api POST /v1/throttles "{\"target\":{\"kind\":\"container\",\"id\":\"$(printf '%064x' 1)\"},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":5}")" = 404 ] ||
	bad "an unknown container was not 404"
kill -9 "$cspin"; wait "$cspin" 2>/dev/null; cspin=
rmdir "$ccg"
# One named as containerd's systemd driver names it, four levels down as kubelet puts pods.
mkdir -p "$kcg" || exit 1
st=$(api POST /v1/throttles "{\"target\":{\"kind\":\"container\",\"id\":\"$kid\"},\"throttler\":\"cpu_quota\",\"stress\":0.5,\"lease_seconds\":30}")
[ "$st" = 201 ] && [ "$(cat "$kcg/cpu.cfs_quota_us")" != -1 ] || bad "a containerd scope: $st $(cat body)"
api DELETE "/v1/throttles/$(field handle)" >/dev/null
[ "$(cat "$kcg/cpu.cfs_quota_us")" = -1 ] || bad "containerd scope quota $(cat "$kcg/cpu.cfs_quota_us"), not -1"
rmdir "$kcg" "$ktop/kubepods/pod1" "$ktop/kubepods" "$ktop"

# Changes stack: an allocation (0.9 CPU), a throttle over it (half of that), and a second allocation is
# refused over the throttle; the older may not be released first (409).  Its lease lapsing takes the
# throttle with it, and the quota comes back to exactly 70000.
st=$(api POST /v1/throttles "{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"cpu_quota\",\"allocate\":0.9,\"lease_seconds\":2}")
[ "$st" = 201 ] && [ "$(quota)" = 90000 ] || bad "allocate 0.9: $st, quota $(quota): $(cat body)"
below=$(field handle)
throttle "$spin" 30
[ "$(quota)" = 45000 ] || bad "a throttle over the allocation left quota $(quota), not 45000"
[ "$(api POST /v1/throttles "{\"target\":{\"kind\":\"pid\",\"id\":$spin},\"throttler\":\"cpu_quota\",\"allocate\":0.5,\"lease_seconds\":5}")" = 409 ] ||
	bad "a change over a throttle was not refused: $(cat body)"
[ "$(api DELETE "/v1/throttles/$below")" = 409 ] || bad "the change below a throttle was released first: $(cat body)"
[ "$(api GET "/v1/throttles/$handle/check")" = 501 ] || bad "cpu_quota has no check, yet: $(cat body)"
for _ in $(seq 1 60); do [ "$(quota)" = 70000 ] && break; sleep 0.05; done
[ "$(quota)" = 70000 ] || bad "the lapsed allocation and the throttle over it left quota $(quota), not 70000"
[ "$(api DELETE "/v1/throttles/$handle")" = 404 ] || bad "the throttle over a lapsed change is still held"
unchanged "the stacked changes, lapsed,"

# A lease of 1 s, not renewed: restored by the agent itself within lease + 1 s.
t0=$(date +%s%N)
throttle "$spin" 1
[ "$(quota)" = 35000 ] || bad "lease test: not throttled"
for _ in $(seq 1 40); do [ "$(quota)" = 70000 ] && break; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(quota)" = 70000 ] || bad "a lapsed lease was not restored (quota $(quota))"
[ "$ms" -le 2000 ] || bad "a 1 s lease was restored after $ms ms"
echo "lease of 1 s restored after $ms ms"

# Renewed every 0.4 s, a 1 s lease holds for 2.5 s; then it lapses.
throttle "$spin" 1
for _ in 1 2 3 4 5 6; do
	sleep 0.4
	[ "$(api POST "/v1/throttles/$handle/renew")" = 200 ] || bad "renew: $(cat body)"
done
[ "$(quota)" = 35000 ] || bad "a renewed lease lapsed (quota $(quota))"
sleep 1.6
[ "$(quota)" = 70000 ] || bad "the lease outlived its last renewal"
[ "$(api POST "/v1/throttles/$handle/renew")" = 404 ] || bad "a lapsed handle could be renewed"

# SIGKILL mid-throttle: the journal keeps it; the next agent restores it before it serves.
throttle "$spin" 60
kill -9 "$agent"; wait "$agent" 2>/dev/null; agent=
[ "$(quota)" = 35000 ] || bad "the throttle went away with the agent"
start_agent
[ "$(quota)" = 70000 ] || bad "the restarted agent did not restore (quota $(quota))"
grep -q "restored pid $spin" agent.log || bad "the restart did not say what it restored"

# SIGTERM: it restores everything it holds and exits 0, its journal gone.
throttle "$spin" 60
kill -TERM "$agent"; wait "$agent"; st=$?; agent=
[ $st = 0 ] || bad "SIGTERM: exit status $st"
[ "$(quota)" = 70000 ] || bad "quota $(quota) after SIGTERM"
[ -e agent-journal ] && bad "the agent left its journal"

[ $fail = 0 ] || { echo "--- agent.log"; cat "$tmp/agent.log"; }
exit $fail
