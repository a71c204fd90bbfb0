#!/bin/bash
# apps-groundtruth.sh - check by hand-made throttles that the reference apps have the bottlenecks apps/README.md claims.
#
# Each service runs as a local process in its own cgroup (cpu, cpuacct, blkio);
# single-service's sink sits in a network namespace behind a veth pair.  For
# every (service, resource) the job completion time at stress 0.8 (20% of the
# capacity left) is compared with the untouched baseline: an IMR must slow the
# job by >= 30%, anything else by < 10%.  Needs root; exits 77 otherwise.
#
# Environment: APPS_BIN (directory holding the built tb-* programs; built here
# with $CC when absent), TRIALS (3), NET_CAPACITY (bytes/s of the modelled
# link, default 125000000 = 1 Gbit/s), STRESS (0.8).
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (cgroups, netns, tc)"
for t in ip tc dd awk; do
	command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
done
for c in cpu cpuacct blkio; do
	[ -f "/sys/fs/cgroup/$c/cgroup.procs" ] || skip "needs the cgroup v1 $c controller at /sys/fs/cgroup/$c"
done

TRIALS=${TRIALS:-3}
STRESS=${STRESS:-0.8}
NET_CAPACITY=${NET_CAPACITY:-125000000}
IMR_MIN=30
OTHER_MAX=10
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
CG=throttlebot-apps-test-$$
NS=throttlebot-apps-$$
VH=tbapp$(($$ % 100000))h
VN=tbapp$(($$ % 100000))n
NET=10.201.$(($$ % 250 + 1))
PORT=$((30000 + $$ % 20000))
WORK=$(mktemp -d /var/tmp/throttlebot-apps-test.XXXXXX) || exit 1
PIDS=
FAILED=0

cleanup() {
	local p c d i
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 30); do
		alive=0
		for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for c in cpu cpuacct blkio; do
		for d in /sys/fs/cgroup/$c/$CG/*/; do
			[ -f "$d/cgroup.procs" ] || continue
			for p in $(cat "$d/cgroup.procs"); do kill -KILL "$p" 2>/dev/null; done
		done
	done
	sleep 0.2
	for c in cpu cpuacct blkio; do
		for d in /sys/fs/cgroup/$c/$CG/*/; do
			[ -d "$d" ] && rmdir "$d" 2>/dev/null
		done
		[ -d "/sys/fs/cgroup/$c/$CG" ] && rmdir "/sys/fs/cgroup/$c/$CG"
	done
	tc qdisc del dev "$VH" root 2>/dev/null
	ip link del "$VH" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A failing workload inside $(...) signals the script itself, which then stops.
trap 'echo "FAIL: a workload failed (see above)"; exit 1' USR1

# --- the programs ---------------------------------------------------------
if [ -z "${APPS_BIN:-}" ]; then
	if [ -x "${builddir:-.}/apps/tb-single" ]; then
		APPS_BIN=${builddir:-.}/apps
	else
		APPS_BIN=$WORK/bin
		mkdir -p "$APPS_BIN"
		for p in tb-single tb-single-run tb-sink tb-frontend tb-storage tb-client; do
			${CC:-cc} -std=gnu11 -O2 -pthread -o "$APPS_BIN/$p" "$srcdir/apps/$p.c" "$srcdir/apps/tbapp.c" ||
				{ echo "FAIL: cannot build $p"; exit 1; }
		done
	fi
fi

# --- the disk under $WORK: whole-disk MAJ:MIN and its measured capacity ----
devnum=$(stat -c %d "$WORK")
DEV=$(( (devnum >> 8) & 0xfff )):$(( (devnum & 0xff) | ((devnum >> 12) & 0xfff00) ))
if [ -f "/sys/dev/block/$DEV/partition" ]; then
	DEV=$(cat "$(readlink -f "/sys/dev/block/$DEV/..")/dev")
fi
[ -e "/sys/dev/block/$DEV" ] || skip "$WORK is not on a block device ($DEV)"

# The best of two short direct-I/O runs, in bytes/s.
dd_rate() {
	local best=0 r i
	for i in 1 2; do
		r=$(dd "$@" bs=1M count=256 2>&1 | awk '/copied/ { print int($1 / $(NF-3)) }')
		[ -n "$r" ] && [ "$r" -gt "$best" ] && best=$r
	done
	echo $best
}
DISK_W=$(dd_rate if=/dev/zero of="$WORK/capacity" oflag=direct)
DISK_R=$(dd_rate if="$WORK/capacity" of=/dev/null iflag=direct)
rm -f "$WORK/capacity"
[ "$DISK_W" -gt 0 ] && [ "$DISK_R" -gt 0 ] || { echo "FAIL: cannot measure the disk"; exit 1; }
NCPU=$(nproc)

# --- helpers ---------------------------------------------------------------
# launch NAME NETNS(or "") PROGRAM ARGS...: in its own cgroups, logs in $WORK.
launch() {
	local name=$1 ns=$2 c
	shift 2
	for c in cpu cpuacct blkio; do mkdir -p "/sys/fs/cgroup/$c/$CG/$name" || exit 1; done
	[ -n "$ns" ] && set -- ip netns exec "$ns" "$@"
	# Join the cgroups before exec so that every thread of the service is in them.
	sh -c 'for c in cpu cpuacct blkio; do echo $$ > /sys/fs/cgroup/$c/$0/cgroup.procs || exit 1; done
		exec "$@"' "$CG/$name" "$@" >"$WORK/$name.log" 2>&1 &
	PIDS="$PIDS $!"
	for i in $(seq 100); do
		[ -e "$WORK/$name.ready" ] && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: $name did not start:"; cat "$WORK/$name.log"; exit 1
}

now() { date +%s.%N; }
# trial COMMAND...: runs the workload once, prints its wall time in seconds.
trial() {
	local t0 t1
	t0=$(now)
	"$@" >>"$WORK/driver.log" 2>&1 ||
		{ echo "workload failed: $*" >&2; tail -3 "$WORK/driver.log" >&2; kill -USR1 $$; exit 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Throttles: set SVC's RESOURCE to (1 - STRESS) of its capacity; "restore" puts back what was there.
throttle() {
	local svc=$1 res=$2 d
	case $res in
	cpu)
		d=/sys/fs/cgroup/cpu/$CG/$svc
		SAVED=$(cat "$d/cpu.cfs_quota_us")
		awk -v p="$(cat "$d/cpu.cfs_period_us")" -v n="$NCPU" -v s="$STRESS" \
			'BEGIN { printf "%d\n", p * n * (1 - s) }' >"$d/cpu.cfs_quota_us" ;;
	disk)
		d=/sys/fs/cgroup/blkio/$CG/$svc
		SAVED=$(cat "$d/blkio.throttle.read_bps_device" "$d/blkio.throttle.write_bps_device")
		echo "$DEV $(awk -v c="$DISK_R" -v s="$STRESS" 'BEGIN { printf "%d", c * (1 - s) }')" \
			>"$d/blkio.throttle.read_bps_device"
		echo "$DEV $(awk -v c="$DISK_W" -v s="$STRESS" 'BEGIN { printf "%d", c * (1 - s) }')" \
			>"$d/blkio.throttle.write_bps_device" ;;
	net)
		SAVED=$(tc qdisc show dev "$VH")
		rate=$(awk -v c="$NET_CAPACITY" -v s="$STRESS" 'BEGIN { printf "%d", c * 8 * (1 - s) }')
		tc qdisc add dev "$VH" root handle b07: htb default 1 &&
		tc class add dev "$VH" parent b07: classid b07:1 htb rate "${rate}bit" ceil "${rate}bit" ||
			{ echo "FAIL: tc"; exit 1; } ;;
	esac
}
unthrottle() {
	local svc=$1 res=$2 d now_
	case $res in
	cpu)
		d=/sys/fs/cgroup/cpu/$CG/$svc
		echo "$SAVED" >"$d/cpu.cfs_quota_us"
		now_=$(cat "$d/cpu.cfs_quota_us") ;;
	disk)
		d=/sys/fs/cgroup/blkio/$CG/$svc
		echo "$DEV 0" >"$d/blkio.throttle.read_bps_device"
		echo "$DEV 0" >"$d/blkio.throttle.write_bps_device"
		now_=$(cat "$d/blkio.throttle.read_bps_device" "$d/blkio.throttle.write_bps_device") ;;
	net)
		tc qdisc del dev "$VH" root
		now_=$(tc qdisc show dev "$VH") ;;
	esac
	[ "$now_" = "$SAVED" ] || { echo "FAIL: $svc $res not restored: '$now_' != '$SAVED'"; exit 1; }
}

ROWS=
# measure N SVC RES WORKLOAD...: N untouched and N throttled trials, alternating
# so that a change in the machine's load weighs on both alike; sets BASE, THR, SLOW.
measure() {
	local n=$1 svc=$2 res=$3 bases= thrs= i
	shift 3
	for i in $(seq "$n"); do
		bases="$bases $(trial "$@")"
		throttle "$svc" "$res"
		thrs="$thrs $(trial "$@")"
		unthrottle "$svc" "$res"
	done
	BASE=$(echo "$bases" | median)
	THR=$(echo "$thrs" | median)
	SLOW=$(awk -v b="$BASE" -v t="$THR" 'BEGIN { printf "%.1f", (t / b - 1) * 100 }')
}
judge() {
	if [ "$1" = imr ]; then
		awk -v s="$SLOW" -v m=$IMR_MIN 'BEGIN { print (s >= m) ? "ok" : "WRONG" }'
	else
		awk -v s="$SLOW" -v m=$OTHER_MAX 'BEGIN { print (s < m) ? "ok" : "WRONG" }'
	fi
}
# check APP SERVICE RESOURCE EXPECT(imr|no) WORKLOAD...: throttle, measure, judge.
check() {
	local app=$1 svc=$2 res=$3 expect=$4 verdict note=
	shift 4
	measure "$TRIALS" "$svc" "$res" "$@"
	verdict=$(judge "$expect")
	if [ "$verdict" != ok ]; then
		# Another process's burst of disk I/O can pass for an effect: a
		# wrong verdict is measured once more, with twice the trials.
		note="(first $SLOW%, measured again)"
		measure $((TRIALS * 2)) "$svc" "$res" "$@"
		verdict=$(judge "$expect")
	fi
	[ "$verdict" = ok ] || FAILED=1
	ROWS="$ROWS$(printf '%-16s %-9s %-5s %8.3f %9.3f %9s%%  %-7s %s %s' "$app" "$svc" "$res" "$BASE" "$THR" \
		"$SLOW" "$([ "$expect" = imr ] && echo IMR || echo no)" "$verdict" "$note")
"
}

cg_usage() { cat "/sys/fs/cgroup/cpuacct/$CG/$1/cpuacct.usage"; }
cg_bytes() { awk -v d="$DEV" -v op="$2" '$1 == d && $2 == op { print $3 }' \
	"/sys/fs/cgroup/blkio/$CG/$1/blkio.throttle.io_service_bytes" | grep . || echo 0; }
# utilization SVC NET(net|-) WORKLOAD...: one untouched run, printed as shares of capacity.
utilization() {
	local svc=$1 net=$2 u0 w0 r0 n0 t
	shift 2
	u0=$(cg_usage "$svc"); w0=$(cg_bytes "$svc" Write); r0=$(cg_bytes "$svc" Read)
	n0=$(cat "/sys/class/net/$VH/statistics/tx_bytes" 2>/dev/null || echo 0)
	t=$(trial "$@")
	awk -v t="$t" -v u="$(( $(cg_usage "$svc") - u0 ))" \
		-v w="$(( $(cg_bytes "$svc" Write) - w0 ))" -v r="$(( $(cg_bytes "$svc" Read) - r0 ))" \
		-v n="$(( $(cat "/sys/class/net/$VH/statistics/tx_bytes" 2>/dev/null || echo 0) - n0 ))" \
		-v cw="$DISK_W" -v cr="$DISK_R" -v cn="$NET_CAPACITY" -v svc="$svc" -v net="$net" 'BEGIN {
		printf "  %-9s job %.3f s: cpu %4.1f%% of a core, disk %4.1f%% of its bandwidth", svc, t,
			u / 1e9 / t * 100, (w / cw + r / cr) / t * 100
		if (net == "net") printf ", net %4.1f%% of the link", n / cn / t * 100
		printf "\n" }'
}

echo "disk $DEV: write $((DISK_W / 1000000)) MB/s, read $((DISK_R / 1000000)) MB/s (dd, direct I/O);" \
	"link $((NET_CAPACITY * 8 / 1000000)) Mbit/s; $NCPU CPUs; stress $STRESS; $TRIALS trials"

# --- single-service ------------------------------------------------------------
ip netns add "$NS" || exit 1
ip link add "$VH" type veth peer name "$VN" netns "$NS" || exit 1
ip addr add "$NET.1/24" dev "$VH" && ip link set "$VH" up &&
	ip -n "$NS" addr add "$NET.2/24" dev "$VN" && ip -n "$NS" link set "$VN" up &&
	ip -n "$NS" link set lo up || exit 1
launch sink "$NS" "$APPS_BIN/tb-sink" --listen "$NET.2:$((PORT + 1))" --max-seconds 600 \
	--ready-file "$WORK/sink.ready"
launch single "" "$APPS_BIN/tb-single" --listen "127.0.0.1:$PORT" --sink "$NET.2:$((PORT + 1))" \
	--data-dir "$WORK" --max-seconds 600 --ready-file "$WORK/single.ready"
RUN_SINGLE="$APPS_BIN/tb-single-run 127.0.0.1:$PORT 1"
trial $RUN_SINGLE >/dev/null    # warm up: the sink connection
echo "utilization at baseline:"
utilization single net $RUN_SINGLE
check single-service single cpu no $RUN_SINGLE
check single-service single disk imr $RUN_SINGLE
check single-service single net imr $RUN_SINGLE
check single-service sink cpu no $RUN_SINGLE

# --- frontend/storage ------------------------------------------------------------
launch storage "" "$APPS_BIN/tb-storage" --listen "127.0.0.1:$((PORT + 3))" --file "$WORK/storage.dat" \
	--max-seconds 600 --ready-file "$WORK/storage.ready"
launch frontend "" "$APPS_BIN/tb-frontend" --listen "127.0.0.1:$((PORT + 2))" \
	--storage "127.0.0.1:$((PORT + 3))" --log-dir "$WORK" --max-seconds 600 --ready-file "$WORK/frontend.ready"
RUN_CLIENT="$APPS_BIN/tb-client 127.0.0.1:$((PORT + 2)) 400"
trial $RUN_CLIENT >/dev/null
echo "utilization at baseline:"
utilization storage - $RUN_CLIENT
utilization frontend - $RUN_CLIENT
check frontend-storage storage disk imr $RUN_CLIENT
check frontend-storage storage cpu no $RUN_CLIENT
check frontend-storage frontend cpu no $RUN_CLIENT
check frontend-storage frontend disk no $RUN_CLIENT

echo
printf '%-16s %-9s %-5s %8s %9s %10s  %-7s %s\n' app service res base_s stress_s slowdown truth verdict
printf '%s' "$ROWS"
if [ $FAILED = 0 ]; then
	echo "PASS: IMRs slow the job by >= $IMR_MIN%, the other resources by < $OTHER_MAX%"
else
	echo "FAIL: the ground truth does not hold on this machine (see WRONG above)"
fi
exit $FAILED
