#!/bin/sh
# deb-smoke.sh - build the Debian packages, lintian them, install them, run their tests, purge them, and check
# that nothing of them is left.  Root, in a configured tree (after scripts/build.sh).  Prints one PASS or FAIL line.
set -u
cd "$(dirname "$0")/.."
DEB_DIR=${DEB_DIR:-deb}
PKGS="throttlebot throttlebot-dev"
t0=$(date +%s)
log=$(mktemp /tmp/throttlebot-deb-smoke-XXXXXX)
installed=0
export DEBIAN_FRONTEND=noninteractive
# Other builds on this host may hold the package database for a while.
apt_get() { apt-get -o DPkg::Lock::Timeout=300 -y -q "$@"; }
finish() {
	if [ "$installed" = 1 ]; then apt_get purge $PKGS >>"$log" 2>&1; fi
	rm -f "$log"
}
trap finish EXIT
fail() {
	tail -n 40 "$log"
	echo "FAIL: deb-smoke: $* ($(($(date +%s) - t0)) s)"
	exit 1
}
step() { echo "deb-smoke: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (it installs and purges the packages)"
for p in $PKGS; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
		fail "$p is installed already; purge it first"
	fi
done

step "build ($DEB_DIR/)"
make -s deb DEB_DIR="$DEB_DIR" >"$log" 2>&1 || fail "make deb failed"
changes=$(ls "$DEB_DIR"/throttlebot_*.changes 2>/dev/null)
[ -n "$changes" ] || fail "make deb made no .changes file"

step "lintian"
# Lintian reads the .changes and the packages named in it.
lintian -i --fail-on error,warning "$changes" >"$log" 2>&1 || fail "lintian found errors or warnings"
cat "$log"

step "install"
installed=1
apt_get install "./$DEB_DIR"/throttlebot_*.deb "./$DEB_DIR"/throttlebot-dev_*.deb >"$log" 2>&1 || fail "apt-get install failed"
# The installed examples name installed programs, and no template placeholder is left.
examples=/usr/share/doc/throttlebot/examples
for prog in $(grep -ho '"/usr/libexec/throttlebot/[^"]*"' "$examples"/*.conf | tr -d '"' | sort -u); do
	[ -x "$prog" ] || fail "an example names $prog, which is not installed"
done
grep -n '@pkglibexecdir@\|@examplesdir@\|/usr/local/libexec\|/usr/local/share' "$examples"/*.conf >"$log" && fail "an example names an uninstalled path"

step "package tests (debian/tests)"
for t in $(sed -n 's/^Tests: *//p' debian/tests/control); do
	debian/tests/"$t" >"$log" 2>&1 || fail "debian/tests/$t failed"
	tail -n 1 "$log"
done

# Everything dpkg installed, before the purge.
listed=$(dpkg -L $PKGS | sort -u)
step "purge"
apt_get purge $PKGS >"$log" 2>&1 || fail "apt-get purge failed"
installed=0
left=
for f in $listed /etc/throttlebot /run/throttlebot /usr/libexec/throttlebot; do
	[ "$f" != /. ] || continue
	[ -e "$f" ] || [ -L "$f" ] || continue
	# A directory another package owns (/usr/bin, /etc ...) stays, rightly, and so does the system's
	# link to one (/lib -> usr/lib on a merged /usr): the packages ship no links to directories.
	[ -d "$f" ] && [ ! -L "$f" ] && dpkg-query -S "$f" >/dev/null 2>&1 && continue
	[ -d "$f" ] && [ -L "$f" ] && continue
	left="$left $f"
done
[ -z "$left" ] || { echo "left after the purge:$left" >"$log"; fail "the purge left files behind"; }
echo "PASS: deb-smoke: built, lintian-clean, installed, tested, purged without a trace ($(($(date +%s) - t0)) s)"
