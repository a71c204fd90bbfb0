#!/bin/bash
# engine-throttle.sh - a container on a "remote" Docker engine (this machine's, reached over TCP as node
# far-node, with no agent) is throttled through the Engine API: during the trials its real cgroup quota
# is (1 - stress) of its CPUs, after the run exactly what it was; a run killed with SIGKILL mid-trial
# leaves a journal that `throttlebot restore` undoes through the engine alone.
#
# Needs root, a Docker engine answering (DOCKER_HOST or /var/run/docker.sock), socat (the engine's socket
# on a loopback TCP port) and a static /bin/busybox (the image is imported from it); exit 77 without.
# Everything it makes (container, image, proxy, files) goes on any exit.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (the container's cgroup is read)"
command -v docker >/dev/null && docker info >/dev/null 2>&1 || skip "no Docker engine answers"
command -v socat >/dev/null || skip "needs socat"
tb=$abs_top_builddir/throttlebot
image=throttlebot-test/busybox:latest
name=throttlebot-engine-$$
work=$(mktemp -d /tmp/throttlebot-engine.XXXXXX) || exit 1
chmod 755 "$work"
export THROTTLEBOT_JOURNAL=$work/journal THROTTLEBOT_LOCK=$work/lock
made_image= proxy= runpid=

cleanup() {
	[ -n "$runpid" ] && kill -9 "$runpid" 2>/dev/null && wait "$runpid" 2>/dev/null
	[ -e "$THROTTLEBOT_JOURNAL" ] && "$tb" restore >/dev/null 2>&1
	docker rm -f "$name" >/dev/null 2>&1
	[ -n "$made_image" ] && docker rmi -f "$image" >/dev/null 2>&1
	[ -n "$proxy" ] && kill "$proxy" 2>/dev/null && wait "$proxy" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! docker image inspect "$image" >/dev/null 2>&1; then
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || skip "needs a static /bin/busybox"
	mkdir -p "$work/rootfs/bin" && cp /bin/busybox "$work/rootfs/bin/" || exit 1
	for a in sh sleep; do ln -s busybox "$work/rootfs/bin/$a"; done
	tar -C "$work/rootfs" -c . | docker import - "$image" >/dev/null || fail "docker import"
	made_image=1
fi
docker run -d --name "$name" --network none "$image" sleep 600 >/dev/null || fail "docker run"
pid=$(docker inspect -f '{{.State.Pid}}' "$name")
cg1=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "/proc/$pid/cgroup")
cg2=$(awk -F: '$2 == "" { print $3 }' "/proc/$pid/cgroup")
quota_file=/sys/fs/cgroup/cpu$cg1/cpu.cfs_quota_us
[ -n "$cg1" ] && [ -e "$quota_file" ] || quota_file=/sys/fs/cgroup$cg2/cpu.max
quota0=$(cat "$quota_file") || fail "cannot read the container's $quota_file"
ncpu=$(docker info -f '{{.NCPU}}')

# The engine as another node's: its socket on a loopback port (DOCKER_HOST's own when it is tcp://).
case "${DOCKER_HOST:-}" in
tcp://*) host=$DOCKER_HOST ;;
*)	sock=${DOCKER_HOST:-unix:///var/run/docker.sock}; sock=${sock#unix://}
	port=$((21000 + $$ % 4000))
	socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$sock" &
	proxy=$!
	for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
	host=tcp://127.0.0.1:$port ;;
esac

# config NAME METRIC-COMMAND [THROTTLER]: the container, on node far-node, throttled (its CPU by
# default) at stress 0.5.
config() {
	cat >"$work/$1.conf" <<CONF
application = "engine-throttle";
output_dir = "$work/$1";
orchestrator = { plugin = "docker"; containers = ["$name"];
  engines = ( { host = "$host"; node = "far-node"; insecure = true; } ); };
throttlers = ( { plugin = "${3:-cpu_quota}"; } );
metrics = ( { plugin = "command"; command = $2; } );
stress_levels = [0.5];
trials = 2;
baseline_trials = 2;
warmup_trials = 0;
CONF
}
# Half of the engine's CPUs at the default period, as the cpu_quota throttler reckons.
if [ "${quota_file##*/}" = cpu.max ]; then want="$((ncpu * 50000)) 100000"; else want=$((ncpu * 50000)); fi

echo "== a run: the container's $quota_file is \"$quota0\" before"
config run "[\"/bin/sh\", \"-c\", \"cat $quota_file >> $work/during\"]"
(cd "$abs_top_builddir" && exec "$tb" run "$work/run.conf") >"$work/run.log" 2>&1
st=$?
[ "$st" = 0 ] || { tail -30 "$work/run.log"; fail "throttlebot run exited $st"; }
echo "during the trials: $(sort "$work/during" | uniq -c | tr '\n' ';')"
grep -qx -e "$want" "$work/during" || { cat "$work/run.log"; fail "the quota was never \"$want\" during a trial"; }
grep -qx -e "$quota0" "$work/during" || fail "the baseline did not see the container unthrottled"
[ "$(cat "$quota_file")" = "$quota0" ] || fail "after the run the quota is \"$(cat "$quota_file")\", not \"$quota0\""
[ -e "$THROTTLEBOT_JOURNAL" ] && fail "the run left a journal"
echo "after the run: \"$(cat "$quota_file")\", as before"

echo "== a run killed with SIGKILL while it throttles, then throttlebot restore"
config killed '["/bin/sleep", "20"]'
(cd "$abs_top_builddir" && exec "$tb" run "$work/killed.conf") >"$work/killed.log" 2>&1 &
runpid=$!
for _ in $(seq 1 600); do
	[ "$(cat "$quota_file")" = "$want" ] && break
	kill -0 "$runpid" 2>/dev/null || break
	sleep 0.1
done
[ "$(cat "$quota_file")" = "$want" ] || { cat "$work/killed.log"; fail "the run never throttled the container"; }
kill -9 "$runpid"; wait "$runpid" 2>/dev/null; runpid=
[ "$(cat "$quota_file")" = "$want" ] || fail "the throttle did not outlive the killed run"
"$tb" restore --check | tee "$work/check.log"
grep -q "pending .*: engine docker" "$work/check.log" || fail "the journal holds no engine throttle"
"$tb" restore 2>&1 | tee "$work/restore.log" || fail "throttlebot restore failed"
[ "$(cat "$quota_file")" = "$quota0" ] || fail "after restore the quota is \"$(cat "$quota_file")\", not \"$quota0\""
[ -e "$THROTTLEBOT_JOURNAL" ] && fail "restore left a journal"
echo "== memory, which the Engine API is not used for: the trial fails saying what to do"
config refused '["/bin/true"]' memory
(cd "$abs_top_builddir" && exec "$tb" run "$work/refused.conf") >"$work/refused.log" 2>&1 ||
	{ tail -30 "$work/refused.log"; fail "the run with memory exited $?"; }
grep -q "give node far-node an agent in the configuration's agents list" "$work/refused/report.json" ||
	{ tail -30 "$work/refused.log"; fail "the failed trial does not say to give far-node an agent"; }
grep "trial .* failed" "$work/refused.log"
echo "PASS: throttled through the Engine API during the trials, \"$quota0\" again after the run and after restore"
