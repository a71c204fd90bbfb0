#!/bin/sh
# install-deps.sh - install, from Debian's packages, what ThrottleBot needs to build (with --test, also to run
# its tests; with --deb, also to build, check and test its Debian packages).
set -eu
export DEBIAN_FRONTEND=noninteractive
build="autoconf automake libtool pkg-config make gcc libc6-dev
       libconfig-dev libcgroup-dev libnl-3-dev libnl-route-3-dev libcurl4-openssl-dev libjansson-dev libxml2-dev libyaml-dev libgnutls28-dev check
       libmicrohttpd-dev
       iproute2"
test_pkgs="python3 python3-yaml openssl procps util-linux busybox-static stress-ng iperf3 docker.io docker-compose
           prometheus prometheus-node-exporter jmeter jmeter-http default-jre-headless chromium curl
           clang libclang-rt-14-dev socat openssl postgresql postgresql-client"
deb_pkgs="build-essential debhelper dpkg-dev fakeroot lintian autopkgtest python3"
pkgs=$build
for opt in "$@"; do
	case $opt in
	--test) pkgs="$pkgs $test_pkgs" ;;
	--deb) pkgs="$pkgs $deb_pkgs" ;;
	*) echo "usage: $0 [--test] [--deb]" >&2; exit 2 ;;
	esac
done
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	apt-get update -qq
	# Services some packages start are not wanted here: tests start their own.
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	rm -f /usr/sbin/policy-rc.d
fi
