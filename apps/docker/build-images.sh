#!/bin/sh
# build-images.sh - build the throttlebot/apps image offline: static tb-* programs and busybox in a bare rootfs.
#
# No registry is needed: the rootfs is made here and handed to `docker import`.
# Usage: apps/docker/build-images.sh [IMAGE]   (default throttlebot/apps:latest)
# Environment: CC (cc), BUSYBOX (a statically linked busybox; default: Debian's
# busybox-static, installed with apt-get when missing and we are root),
# START_DOCKERD=0 to never start a daemon.
set -eu

IMAGE=${1:-${IMAGE:-throttlebot/apps:latest}}
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
PROGRAMS="tb-single tb-single-run tb-sink tb-frontend tb-storage tb-client"

die() { echo "build-images.sh: $*" >&2; exit 1; }
is_static() { file -L "$1" 2>/dev/null | grep -q 'statically linked'; }

# --- busybox: must run with nothing else in the image --------------------------
BUSYBOX=${BUSYBOX:-/bin/busybox}
if ! is_static "$BUSYBOX"; then
	[ "$(id -u)" = 0 ] || die "$BUSYBOX is not a static busybox: apt-get install busybox-static"
	echo "installing busybox-static"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q busybox-static >/dev/null ||
		die "apt-get install busybox-static failed"
	is_static "$BUSYBOX" || die "$BUSYBOX is still not statically linked"
fi

# --- the Docker daemon ----------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
	[ "${START_DOCKERD:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null ||
		die "no Docker daemon: apt-get install docker.io and start dockerd"
	echo "starting dockerd (log: /var/log/throttlebot-dockerd.log)"
	nohup dockerd >/var/log/throttlebot-dockerd.log 2>&1 &
	i=0
	until docker info >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -le 60 ] || die "dockerd did not come up in 30 s (see /var/log/throttlebot-dockerd.log)"
		sleep 0.5
	done
fi

# --- the rootfs ------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/throttlebot-apps-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
root=$tmp/rootfs
mkdir -p "$root/bin" "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/var/tmp" "$root/data" \
	"$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp" "$root/var/tmp"
for p in $PROGRAMS; do
	# Static, so that the image needs no C library; the programs resolve
	# service names through /etc/hosts and DNS only (no NSS modules).
	${CC:-cc} -std=gnu11 -O2 -Wall -static -pthread -o "$root/usr/local/bin/$p" \
		"$srcdir/apps/$p.c" "$srcdir/apps/tbapp.c" 2>"$tmp/cc.log" ||
		{ cat "$tmp/cc.log" >&2; die "cannot build $p statically (is libc6-dev installed?)"; }
	is_static "$root/usr/local/bin/$p" || die "$p is not statically linked"
done
cp "$BUSYBOX" "$root/bin/busybox"
# The same links `busybox --install -s` makes, without running it in a chroot.
for applet in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

tar -C "$root" -c . | docker import \
	--change 'ENV PATH=/usr/local/bin:/bin' \
	--change 'WORKDIR /data' \
	--change 'CMD ["tb-sink"]' \
	--change 'LABEL org.opencontainers.image.title="ThrottleBot reference applications"' \
	- "$IMAGE" >/dev/null
echo "built $IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes ($PROGRAMS, busybox)"
