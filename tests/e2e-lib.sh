# e2e-lib.sh - shared by the end-to-end tests: run throttlebot, snapshot what a run could leave on the host, and compare.
#
# A snapshot lists the throttlebot* cgroups, the host's qdiscs (veth names, which Docker makes anew on
# every container start, shown as veth*), its links and the throttlebot* network namespaces.  Any
# change to what the run owns (names carrying its pid, the devices that were there before) fails.  A
# change that is plainly another process's (a cgroup, namespace or link of another name appearing or
# going, a qdisc on such a link) is shown and, unless E2E_STRICT_HOST=1, tolerated: on a busy host
# other tests come and go during a run.

# host_snapshot: the host's state, one item a line, in sections.
host_snapshot() {
	echo "## cgroups"; find /sys/fs/cgroup -name 'throttlebot*' 2>/dev/null | sort
	echo "## qdiscs"; tc qdisc show | sed -E 's/dev veth[0-9a-f]+/dev veth*/' | sort
	echo "## netns"; ip netns list 2>/dev/null | awk '$1 ~ /^throttlebot/ { print $1 }' | sort
	echo "## links"; ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
}

# host_compare BEFORE AFTER PID: 0 when nothing of run PID's (or of the devices in BEFORE) changed.
host_compare() {
	python3 - "$1" "$2" "$3" "${E2E_STRICT_HOST:-0}" <<'PY'
import re, sys
before_path, after_path, pid, strict = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"

def load(path):
    sections, cur = {}, None
    for line in open(path).read().splitlines():
        if line.startswith("## "):
            cur = sections.setdefault(line[3:], [])
        elif cur is not None:
            cur.append(line)
    return sections

b, a = load(before_path), load(after_path)
# Names the run makes: cgroups throttlebot.PID, namespaces throttlebot-PID-SERVICE, veths tbvPIDsN.
ours = re.compile(r"throttlebot[.-]%s\b|\btbv%ds" % (pid, int(pid) % 10000000))
old_links = set(b.get("links", []))
mine, foreign = [], []
for sec in sorted(set(a) | set(b)):
    was, now = b.get(sec, []), a.get(sec, [])
    changed = [("-", l) for l in was if l not in now] + [("+", l) for l in now if l not in was]
    if sec == "qdiscs" and sorted(was) != sorted(now) and not changed:
        changed = [("~", "the number of qdiscs on veth* links")]
    for sign, line in changed:
        m = re.search(r" dev (\S+)", line)
        dev = m.group(1) if m else ""
        if ours.search(line):
            mine.append((sec, sign, line))
        elif sec == "qdiscs" and dev == "veth*":
            # Containers come and go with a noqueue qdisc; anything else on a veth is a throttle.
            (foreign if " noqueue " in line else mine).append((sec, sign, line))
        elif sec == "qdiscs" and (dev.startswith("tbifb") or
                                  (dev in old_links and dev in a.get("links", []))):
            mine.append((sec, sign, line))    # an IFB of the tc throttler, or a link there all along
        elif sec == "links" and line.startswith("tbifb"):
            mine.append((sec, sign, line))
        else:
            foreign.append((sec, sign, line))
for sec, sign, line in foreign:
    print("  (not this run's: %s %s %s)" % (sec, sign, line))
for sec, sign, line in mine:
    print("  %s %s %s" % (sec, sign, line))
sys.exit(1 if mine or (strict and foreign) else 0)
PY
}

# e2e_workdir NAME: $work, a directory of the test's own under /var/tmp (a real disk), with a journal and
# run lock of its own there (a parallel make check may hold the shared ones); on exit the run still
# going is ended and $work removed (E2E_KEEP=1 keeps it).
e2e_workdir() {
	work=$(mktemp -d "/var/tmp/throttlebot-$1.XXXXXX") || exit 1
	chmod 755 "$work"
	export THROTTLEBOT_JOURNAL=$work/journal THROTTLEBOT_LOCK=$work/lock
	run_pid=
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

e2e_cleanup() {
	e2e_stop_run
	if [ "${E2E_KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}

# e2e_stop_run: end the run still going, if any (it restores by itself on SIGTERM), and replay the
# journal for anything else.  Uses run_pid, tb and THROTTLEBOT_JOURNAL.
e2e_stop_run() {
	if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
		kill -TERM "$run_pid"
		for _ in $(seq 1 100); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$run_pid" 2>/dev/null
	fi
	# The run only: the test's other children (agents, say) may still have to serve the restore.
	[ -n "$run_pid" ] && wait "$run_pid" 2>/dev/null
	[ -s "$THROTTLEBOT_JOURNAL" ] && "$tb" restore
}

# e2e_run NAME CONFIG [PATTERN]: throttlebot run in the top build directory, reports in $work/NAME, its
# log in $work/NAME.log (lines matching PATTERN shown, then the summary); sets elapsed (seconds).
# Exits the test unless the run exits 0 and the host looks the same before and after.
e2e_run() {
	local name=$1 conf=$2 t0 t1 st pid
	host_snapshot >"$work/$name.before"
	t0=$(date +%s.%N)
	(cd "$abs_top_builddir" && exec "$tb" run "$conf" --output "$work/$name") >"$work/$name.log" 2>&1 &
	run_pid=$!
	wait "$run_pid"
	st=$?
	pid=$run_pid run_pid=
	t1=$(date +%s.%N)
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	[ -n "${3:-}" ] && grep -h "$3" "$work/$name.log"
	sed -n '/^ThrottleBot:/,$p' "$work/$name.log"
	[ "$st" = 0 ] || { tail -30 "$work/$name.log"; echo "FAIL: $name: throttlebot run exited $st"; exit 1; }
	host_snapshot >"$work/$name.after"
	host_compare "$work/$name.before" "$work/$name.after" "$pid" ||
		{ echo "FAIL: $name: the run changed the host's cgroups, qdiscs, links or namespaces (above)"; exit 1; }
	printf '%s: %s s, host as before\n' "$name" "$elapsed"
}

# kill_when_held PID SECONDS COMMAND...: kill -9 PID once COMMAND succeeds twice, 50 ms apart (a change
# held by a trial, not one made and undone at once), or after SECONDS; 0 when it was seen.
kill_when_held() {
	local pid=$1 i seen=1
	for ((i = 0; i < $2 * 10; i++)); do
		"${@:3}" && sleep 0.05 && "${@:3}" && break
		sleep 0.05
	done
	[ "$i" -lt $(($2 * 10)) ] && seen=0
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	return $seen
}
