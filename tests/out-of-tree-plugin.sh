#!/bin/sh
# out-of-tree-plugin.sh - install ThrottleBot into a scratch root, build examples/plugin against the
# installed header and pkg-config file only, and check throttlebot loads it.
set -eu
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
tmp=$(mktemp -d /tmp/throttlebot-oot-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
make -s -C "$abs_top_builddir" install DESTDIR="$root" >/dev/null
pcdir=$(find "$root" -name throttlebot-plugin.pc -printf '%h\n')
test -n "$pcdir" || { echo "throttlebot-plugin.pc was not installed"; exit 1; }
test -z "$(find "$root" -name '*.la')" || { echo ".la files were installed"; exit 1; }
cp -r "$abs_top_srcdir/examples/plugin" "$tmp/plugin"
chmod -R go-w "$tmp/plugin"
# Only the installed files: the sysroot makes pkg-config point into the scratch root.
PKG_CONFIG_PATH=$pcdir PKG_CONFIG_LIBDIR=$pcdir PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 \
	make -s -C "$tmp/plugin" CPPFLAGS= >/dev/null
bin=$(find "$root" -path '*/bin/throttlebot' -type f)
out=$(THROTTLEBOT_PLUGIN_PATH=$tmp/plugin "$bin" plugins)
echo "$out"
echo "$out" | grep -E '^  cpu_weight +throttler +ABI 1\.0' >/dev/null || { echo "cpu_weight was not loaded"; exit 1; }
# The installed binary also finds the installed plugins in its built-in directory... under DESTDIR
# it cannot, so check the files are there instead.
for p in cpu_quota command exhaustive; do
	find "$root" -name "$p.so" | grep -q . || { echo "$p.so was not installed"; exit 1; }
done
echo "out-of-tree plugin: built against the installed files and loaded"
