#!/bin/bash
# apps-compose.sh - the reference apps' images and compose files: up, a job from the host against each, down.
#
# Needs root and Docker (Debian's docker.io + docker-compose: installed with
# apt-get when missing); exits 77 when they cannot be had.  Environment:
# APPS_BIN (directory with the built tb-* drivers; built here when absent).
set -u

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (Docker)"
if ! command -v docker-compose >/dev/null || ! command -v dockerd >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io docker-compose >/dev/null 2>&1 ||
		skip "cannot install docker.io and docker-compose"
fi
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
WORK=$(mktemp -d /tmp/throttlebot-apps-compose.XXXXXX) || exit 1
P1=throttlebot-apps-test-$$-single
P2=throttlebot-apps-test-$$-fs
export TB_SINGLE_PORT=$((20000 + $$ % 20000)) TB_FRONTEND_PORT=$((20001 + $$ % 20000))
compose() { local p=$1 f=$2; shift 2; docker-compose -p "$p" -f "$srcdir/apps/docker/$f.yml" "$@"; }

cleanup() {
	compose "$P1" single-service down -v -t 5 >/dev/null 2>&1
	compose "$P2" frontend-storage down -v -t 5 >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$srcdir/apps/docker/build-images.sh" || skip "cannot build the image (see above)"

if [ -z "${APPS_BIN:-}" ]; then
	if [ -x "${builddir:-.}/apps/tb-client" ]; then
		APPS_BIN=${builddir:-.}/apps
	else
		APPS_BIN=$WORK/bin
		mkdir -p "$APPS_BIN"
		for p in tb-single-run tb-client; do
			${CC:-cc} -std=gnu11 -O2 -pthread -o "$APPS_BIN/$p" "$srcdir/apps/$p.c" "$srcdir/apps/tbapp.c" ||
				fail "cannot build $p"
		done
	fi
fi

# retry N COMMAND...: the published port accepts before the service listens.
retry() {
	local n=$1 i
	shift
	for i in $(seq "$n"); do
		"$@" >"$WORK/out" 2>&1 && { cat "$WORK/out"; return 0; }
		sleep 1
	done
	cat "$WORK/out"
	return 1
}

# check_service PROJECT SERVICE: one running container with the compose labels, in its own cgroup.
check_service() {
	local id pid cg
	id=$(docker ps -q --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2")
	[ "$(echo "$id" | grep -c .)" = 1 ] || fail "$1/$2: expected one running container, got '$id'"
	pid=$(docker inspect -f '{{.State.Pid}}' "$id")
	cg=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "/proc/$pid/cgroup")
	[ -n "$cg" ] && [ "$cg" != / ] || fail "$1/$2: pid $pid has no cpu cgroup of its own"
	echo "  $1/$2: container ${id:0:12}, pid $pid, cpu cgroup $cg"
}

echo "single-service:"
compose "$P1" single-service up -d >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; fail "up single-service"; }
check_service "$P1" sink
check_service "$P1" single
retry 30 "$APPS_BIN/tb-single-run" "127.0.0.1:$TB_SINGLE_PORT" 2 | sed 's/^/  /' ||
	{ compose "$P1" single-service logs; fail "tb-single-run against the containers"; }

echo "frontend/storage:"
compose "$P2" frontend-storage up -d >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log"; fail "up frontend-storage"; }
check_service "$P2" storage
check_service "$P2" frontend
retry 30 "$APPS_BIN/tb-client" "127.0.0.1:$TB_FRONTEND_PORT" 200 | sed 's/^/  /' ||
	{ compose "$P2" frontend-storage logs; fail "tb-client against the containers"; }

# SIGTERM ends every service promptly (no 5 s kill) and down leaves nothing behind.
for p in "$P1:single-service" "$P2:frontend-storage"; do
	t0=$(date +%s)
	compose "${p%%:*}" "${p#*:}" down -v -t 5 >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log"; fail "down ${p#*:}"; }
	[ $(( $(date +%s) - t0 )) -lt 5 ] || fail "${p#*:}: the services did not stop on SIGTERM"
	left=$(docker ps -aq --filter "label=com.docker.compose.project=${p%%:*}"; \
		docker volume ls -q --filter "label=com.docker.compose.project=${p%%:*}"; \
		docker network ls -q --filter "label=com.docker.compose.project=${p%%:*}")
	[ -z "$left" ] || fail "${p#*:}: left behind after down: $left"
done
echo "PASS: both apps start under docker-compose, serve a job from the host, stop on SIGTERM, and down cleans up"
