#!/bin/bash
# apps-smoke.sh - the reference apps on loopback, small jobs: they serve, fail clearly, and stop on SIGTERM.
#
# Needs no root.  Environment: APPS_BIN (directory with the built tb-* programs;
# default: the build tree's apps/).
set -u

APPS_BIN=${APPS_BIN:-${builddir:-.}/apps}
for p in tb-single tb-single-run tb-sink tb-frontend tb-storage tb-client; do
	[ -x "$APPS_BIN/$p" ] || { echo "SKIP: $APPS_BIN/$p is not built"; exit 77; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/throttlebot-apps-smoke.XXXXXX") || exit 1
PORT=$((40000 + $$ % 20000))
PIDS=
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -5 "$f"; done; exit 1; }

# start NAME PROGRAM ARGS...: in the background, waiting (5 s at most) for its ready file.
start() {
	local name=$1 i
	shift
	"$@" --ready-file "$WORK/$name.ready" >"$WORK/$name.log" 2>&1 &
	eval "PID_$name=$!"
	PIDS="$PIDS $!"
	for i in $(seq 50); do
		[ -e "$WORK/$name.ready" ] && return 0
		sleep 0.1
	done
	fail "$name did not become ready"
}
# stop NAME: SIGTERM must end it with status 0 within 2 s, its ready file gone.
stop() {
	local pid i
	eval "pid=\$PID_$1"
	kill -TERM "$pid"
	for i in $(seq 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 still runs 2 s after SIGTERM"
	wait "$pid" || fail "$1 exited with status $? on SIGTERM"
	[ -e "$WORK/$1.ready" ] && fail "$1 left its ready file behind"
	echo "ok: $1 stops on SIGTERM"
}

start sink "$APPS_BIN/tb-sink" --listen "127.0.0.1:$((PORT + 1))"
start single "$APPS_BIN/tb-single" --listen "127.0.0.1:$PORT" --sink "127.0.0.1:$((PORT + 1))" \
	--data-dir "$WORK" --disk-mib 8 --net-mib 2 --interval-ms 10 --work 20
out=$("$APPS_BIN/tb-single-run" "127.0.0.1:$PORT" 3) || fail "tb-single-run: $out"
[ "$(echo "$out" | grep -c '^job [123]: [0-9.]* [0-9a-f]\{16\}$')" = 3 ] || fail "tb-single-run printed: $out"
echo "ok: tb-single ran 3 jobs"
ls "$WORK"/tb-single.*.dat >/dev/null 2>&1 && fail "tb-single's data file is visible (it must be unlinked)"

start storage "$APPS_BIN/tb-storage" --listen "127.0.0.1:$((PORT + 3))" --file "$WORK/storage.dat" \
	--file-mib 4 --read-kib 256
start frontend "$APPS_BIN/tb-frontend" --listen "127.0.0.1:$((PORT + 2))" --storage "127.0.0.1:$((PORT + 3))" \
	--log-dir "$WORK"
out=$("$APPS_BIN/tb-client" "127.0.0.1:$((PORT + 2))" 50 --connections 2) || fail "tb-client: $out"
echo "$out" | grep -q '^requests 50 wall [0-9.]* s mean [0-9.]* ms p99 [0-9.]* ms$' || fail "tb-client printed: $out"
[ "$(wc -l <"$WORK/tb-frontend.log")" = 50 ] || fail "the frontend logged $(wc -l <"$WORK/tb-frontend.log") requests, not 50"
[ "$(stat -c %s "$WORK/storage.dat")" = $((4 << 20)) ] || fail "storage.dat has the wrong size"
echo "ok: tb-client got 50 answers through tb-frontend and tb-storage"

# Clear failures: a bad option, nobody listening, a server that goes away.
"$APPS_BIN/tb-single" --no-such-option 1 >"$WORK/err.log" 2>&1 && fail "an unknown option was accepted"
grep -q "unknown option '--no-such-option'" "$WORK/err.log" || fail "unclear message: $(cat "$WORK/err.log")"
"$APPS_BIN/tb-client" 127.0.0.1:1 10 --connect-timeout 1 >"$WORK/err.log" 2>&1 && fail "tb-client succeeded without a server"
grep -q 'cannot connect to 127.0.0.1:1' "$WORK/err.log" || fail "unclear message: $(cat "$WORK/err.log")"
"$APPS_BIN/tb-client" 127.0.0.1:$((PORT + 2)) 0 >"$WORK/err.log" 2>&1 && fail "0 requests were accepted"
echo "ok: bad arguments and unreachable servers fail with a message"

stop frontend
stop storage
out=$("$APPS_BIN/tb-single-run" "127.0.0.1:$PORT" 1) || fail "tb-single-run: $out"
stop sink
"$APPS_BIN/tb-single-run" "127.0.0.1:$PORT" 1 >"$WORK/err.log" 2>&1 && fail "a job succeeded without the sink"
grep -q 'answered .ERR job failed' "$WORK/err.log" || fail "unclear message: $(cat "$WORK/err.log")"
echo "ok: a job fails clearly when the sink is gone"
stop single

# --max-seconds bounds a server's life.
"$APPS_BIN/tb-sink" --listen "127.0.0.1:$((PORT + 4))" --max-seconds 1 >"$WORK/bounded.log" 2>&1 &
PIDS="$PIDS $!"
t0=$(date +%s)
wait $! || fail "tb-sink --max-seconds 1 exited with status $?"
[ $(( $(date +%s) - t0 )) -le 3 ] || fail "tb-sink --max-seconds 1 ran too long"
echo "ok: --max-seconds ends a server"
echo "PASS"
