#!/bin/sh
# kill-restore.sh - a run killed with SIGKILL mid-trial leaves its journal; `throttlebot restore` puts every
# cgroup value back exactly, removes what the run created, and a second restore finds nothing to do; a
# torn last record keeps new runs out until restore has read the rest.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
tb=$abs_top_builddir/throttlebot
tmp=$(mktemp -d /tmp/throttlebot-kill-XXXXXX)
chmod 755 "$tmp"
export THROTTLEBOT_JOURNAL=$tmp/journal THROTTLEBOT_LOCK=$tmp/lock
# An operator's cgroup with a limit of its own, attached by path: restore must put back 70000, not -1.
victim=/sys/fs/cgroup/cpu/throttlebot-kill-test-$$
cleanup() {
	[ -n "${runpid:-}" ] && kill -9 "$runpid" 2>/dev/null
	[ -n "${spin:-}" ] && kill -9 "$spin" 2>/dev/null
	wait 2>/dev/null
	"$tb" restore >/dev/null 2>&1
	rmdir "$victim" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$victim" && echo 70000 > "$victim/cpu.cfs_quota_us" || exit 1
( exec sh -c 'i=0; while [ $i -lt 100000000 ]; do i=$((i+1)); done' ) &
spin=$!
echo "$spin" > "$victim/cgroup.procs"
cat > "$tmp/app.conf" <<CONF
application = "kill-test";
output_dir = "$tmp/out";
orchestrator = { plugin = "local"; log_dir = "$tmp";
  services = ( { name = "operator"; cgroup = "/throttlebot-kill-test-$$"; },
               { name = "launched"; command = ["/bin/sleep", "300"]; } ); };
throttlers = ( { plugin = "cpu_quota"; } );
metrics = ( { plugin = "command"; command = ["/bin/sleep", "2"]; } );
stress_levels = [0.5];
trials = 5;
baseline_trials = 2;
CONF
# Start a run and wait until it throttles the operator's cgroup (bounded: 30 s).
start_run() {
	"$tb" run "$tmp/app.conf" >"$tmp/run.log" 2>&1 &
	runpid=$!
	for _ in $(seq 1 300); do
		[ "$(cat "$victim/cpu.cfs_quota_us")" = 35000 ] && break
		sleep 0.1
	done
	throttled=$(cat "$victim/cpu.cfs_quota_us")
	[ "$throttled" = 35000 ] || { echo "FAILED: the run never throttled (quota $throttled)"; cat "$tmp/run.log"; fail=1; }
	launched=$(ls -d /sys/fs/cgroup/cpu/throttlebot.$runpid/launched 2>/dev/null)
}
fail=0

# SIGTERM: the run restores by itself, stops what it launched, and exits 130.
start_run
kill -TERM "$runpid"; wait "$runpid"; st=$?; runpid=
[ $st = 130 ] || { echo "FAILED: SIGTERM exit status $st, not 130"; fail=1; }
[ "$(cat "$victim/cpu.cfs_quota_us")" = 70000 ] || { echo "FAILED: after SIGTERM the quota is $(cat "$victim/cpu.cfs_quota_us")"; fail=1; }
[ -e "$THROTTLEBOT_JOURNAL" ] && { echo "FAILED: SIGTERM left a journal"; fail=1; }
for d in $launched; do [ -d "$d" ] && { echo "FAILED: SIGTERM left $d"; fail=1; }; done

# SIGKILL: the journal stays, and `throttlebot restore` undoes everything.
start_run
kill -9 "$runpid"; wait "$runpid" 2>/dev/null; runpid=
[ -s "$THROTTLEBOT_JOURNAL" ] || { echo "FAILED: no journal after kill -9"; fail=1; }
"$tb" restore || { echo "FAILED: restore"; fail=1; }
[ "$(cat "$victim/cpu.cfs_quota_us")" = 70000 ] || { echo "FAILED: quota is $(cat "$victim/cpu.cfs_quota_us"), not 70000"; fail=1; }
[ -e "$THROTTLEBOT_JOURNAL" ] && { echo "FAILED: the journal is still there"; fail=1; }
for d in $launched; do [ -d "$d" ] && { echo "FAILED: $d is still there"; fail=1; }; done
pgrep -f "^/bin/sleep 300" >/dev/null && { echo "FAILED: the launched service survived"; fail=1; }
out=$("$tb" restore 2>&1) || { echo "FAILED: second restore"; fail=1; }
echo "$out" | grep -q "nothing to restore" || { echo "FAILED: second restore did something: $out"; fail=1; }
[ "$(cat "$victim/cpu.cfs_quota_us")" = 70000 ] || fail=1

# SIGKILL while the journal's last record was being written: a torn tail.  A new run refuses to
# start; restore --check names it; restore undoes every whole record and cuts the torn one off.
start_run
kill -9 "$runpid"; wait "$runpid" 2>/dev/null; runpid=
printf '{"v":2,"len":301,"crc32":1234,"record":"{\\"id\\":9,\\"op\\":\\"app' >> "$THROTTLEBOT_JOURNAL"
"$tb" run "$tmp/app.conf" >"$tmp/refused.log" 2>&1 && { echo "FAILED: a run started on a torn journal"; fail=1; }
grep -q "cannot be read: run 'throttlebot restore' first" "$tmp/refused.log" ||
	{ echo "FAILED: the refused run did not say why"; cat "$tmp/refused.log"; fail=1; }
"$tb" restore --check >"$tmp/check.out" 2>&1 && { echo "FAILED: restore --check found nothing"; fail=1; }
grep -q "torn last record" "$tmp/check.out" || { echo "FAILED: restore --check: $(cat "$tmp/check.out")"; fail=1; }
[ "$(cat "$victim/cpu.cfs_quota_us")" = 35000 ] || { echo "FAILED: restore --check changed the quota"; fail=1; }
"$tb" restore >"$tmp/restore.log" 2>&1 || { echo "FAILED: restore of a torn journal"; cat "$tmp/restore.log"; fail=1; }
[ "$(cat "$victim/cpu.cfs_quota_us")" = 70000 ] || { echo "FAILED: after the torn journal the quota is $(cat "$victim/cpu.cfs_quota_us")"; fail=1; }
[ -e "$THROTTLEBOT_JOURNAL" ] && { echo "FAILED: the torn journal is still there"; fail=1; }
for d in $launched; do [ -d "$d" ] && { echo "FAILED: $d is still there"; fail=1; }; done
[ $fail = 0 ] && echo "SIGTERM restores by itself; kill -9 then restore: quota back to 70000, launched service and cgroups gone; a torn last record blocks runs until restore"
exit $fail
