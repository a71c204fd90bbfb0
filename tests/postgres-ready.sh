#!/bin/bash
# postgres-ready.sh - Debian's PostgreSQL, launched by the local orchestrator as an unprivileged user and
# waited for with ready_command = pg_isready, serves the very first trial: a pgbench workload on loopback.
#
# PostgreSQL makes its socket and accepts connections before it serves them ("the database system is
# starting up"): a launch that only waited for the socket file would fail its first trial.  Here the
# server is started cold by `throttlebot run` from a fresh initdb; every trial, the first above all,
# must succeed, and nothing of the run (server, cgroups, namespaces) may be left behind.  A stale
# postmaster socket at ready_path from an "earlier run" must neither block nor fool the launch.
# Needs root (cgroups) and the postgresql packages; exit 77 without them.  PG_KEEP=1 keeps the files.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (the local orchestrator makes cgroups)"
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for p in initdb postgres pg_isready pgbench; do
	[ -n "$bindir" ] && [ -x "$bindir/$p" ] || skip "no PostgreSQL server binaries (apt-get install postgresql)"
done
for p in setpriv python3; do command -v $p >/dev/null || { echo "FAIL: needs $p"; exit 1; }; done
tb=$abs_top_builddir/throttlebot
work=$(mktemp -d /var/tmp/throttlebot-pg.XXXXXX) || exit 1
chmod 755 "$work"
export THROTTLEBOT_JOURNAL=$work/journal THROTTLEBOT_LOCK=$work/lock
run_pid=
. "$abs_top_srcdir/tests/e2e-lib.sh"

cleanup() {
	e2e_stop_run
	# A server of ours that outlived everything: its pid file names it, its command line our directory.
	pm=$(head -1 "$work/data/postmaster.pid" 2>/dev/null)
	case $pm in
	'' | *[!0-9]*) ;;
	*) grep -qs "$work/data" "/proc/$pm/cmdline" && kill -KILL "$pm" ;;
	esac
	if [ "${PG_KEEP:-0}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server runs as nobody, who owns its data directory and nothing else.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env "$@"; }
mkdir "$work/data" && chown nobody:nogroup "$work/data" && chmod 700 "$work/data" || exit 1
t0=$(date +%s.%N)
as_nobody "$bindir/initdb" -D "$work/data" -U tb --auth=trust --no-sync -E UTF8 >"$work/initdb.log" 2>&1 ||
	{ tail -20 "$work/initdb.log"; echo "FAIL: initdb"; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sock=$work/data/.s.PGSQL.$port

# What an earlier, killed run would have left: its socket file, nobody listening.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
[ -S "$sock" ] || { echo "FAIL: could not leave a stale socket"; exit 1; }

pg="-h 127.0.0.1 -p $port -U tb"
cat >"$work/pg.conf" <<EOF
application = "postgres-pgbench";
output_dir = "$work/out";
orchestrator = {
  plugin = "local";
  log_dir = "$work";
  services = (
    { name = "db";
      command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                 "$bindir/postgres", "-D", "$work/data", "-k", "$work/data", "-p", "$port",
                 "-h", "127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=32MB"];
      ready_command = ["$bindir/pg_isready", "-h", "127.0.0.1", "-p", "$port", "-U", "tb", "-t", "2"];
      ready_path = "$sock";
      ready_timeout = 60.0; }
  );
};
throttlers = ( { plugin = "cpu_quota"; } );
# The first trial initialises pgbench's tables (scale 1) and every trial
# runs it for 3 s: the first connection comes right after the launch.
metrics = (
  { plugin = "command";
    command = ["/bin/sh", "-c",
               "[ -e $work/pgbench.init ] || { $bindir/pgbench -i -q -s 1 $pg postgres && touch $work/pgbench.init; } && exec $bindir/pgbench -n -c 2 -j 2 -T 3 $pg postgres"];
    pattern = "^tps = ([0-9.]+)";
    pattern_name = "tps";
    pattern_direction = "higher";
    timeout = 60.0; }
);
strategy = { plugin = "exhaustive"; };
stress_levels = [0.5];
trials = 1;
baseline_trials = 2;
warmup_trials = 0;
max_extra_trials = 0;
EOF

host_snapshot >"$work/before"
(cd "$abs_top_builddir" && exec "$tb" run "$work/pg.conf") >"$work/run.log" 2>&1 &
run_pid=$!
wait "$run_pid"
st=$?
pid=$run_pid run_pid=
t1=$(date +%s.%N)
grep -E "removed|ready after|trial [0-9]+ failed|error" "$work/run.log"
[ "$st" = 0 ] || { tail -40 "$work/run.log"; tail -20 "$work/throttlebot-db.log"; echo "FAIL: throttlebot run exited $st"; exit 1; }
grep -q "service 'db': removed $sock" "$work/run.log" ||
	{ echo "FAIL: the stale socket at ready_path was not removed"; exit 1; }
host_snapshot >"$work/after"
host_compare "$work/before" "$work/after" "$pid" ||
	{ echo "FAIL: the run changed the host's cgroups, qdiscs, links or namespaces"; exit 1; }
if pgrep -f "^$bindir/postgres -D $work/data" >/dev/null; then
	echo "FAIL: the server still runs after the run"; exit 1
fi

python3 - "$work/out/report.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
trials = sorted(r["trials"], key=lambda t: t["index"])
errors = []
if not trials:
    errors.append("no trials")
elif trials[0]["failed"]:
    errors.append("the first trial failed: %s" % trials[0]["error"])
failed = [(t["index"], t["error"]) for t in trials if t["failed"]]
if failed:
    errors.append("failed trials: %r" % failed)
# Every pgbench really talked to the server.
silent = [t["index"] for t in trials if not ((t["values"] or {}).get("tps") or 0) > 0]
if silent:
    errors.append("trials without a tps: %r" % silent)
print("%d trials, first: %s" % (len(trials), "failed" if trials and trials[0]["failed"] else "ok"))
for e in errors:
    print("FAIL: " + e)
sys.exit(1 if errors else 0)
PY
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "PASS: postgres-ready: first trial ok, %.1f s in all\n", b - a }'
