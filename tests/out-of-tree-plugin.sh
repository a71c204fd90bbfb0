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
# Built against the installed header, so of its version.
h=$(find "$root" -path '*/throttlebot/plugin.h')
abi=$(sed -n 's/^#define TB_ABI_MAJOR \([0-9]*\)$/\1/p' "$h").$(sed -n 's/^#define TB_ABI_MINOR \([0-9]*\)$/\1/p' "$h")
echo "$out" | grep -E "^  cpu_weight +throttler +ABI $abi " >/dev/null || { echo "cpu_weight was not loaded (ABI $abi)"; exit 1; }
echo "$out" | grep -E "^  top_level +strategy +ABI $abi " >/dev/null || { echo "top_level was not loaded (ABI $abi)"; exit 1; }
# The out-of-tree strategy drives a real run (of the simulator: no root, no processes).
cat > "$tmp/sim.conf" <<CONF
application = "out-of-tree strategy";
output_dir = "$tmp/out";
orchestrator = { plugin = "sim"; state = "$tmp/sim.state"; services = 6; seed = 3; margin = 0.25; };
throttlers = ( { plugin = "sim_cpu"; state = "$tmp/sim.state"; },
               { plugin = "sim_disk"; state = "$tmp/sim.state"; } );
metrics = ( { plugin = "sim_jct"; state = "$tmp/sim.state"; noise = 0.02; } );
strategy = { plugin = "top_level"; };
CONF
if [ "$(id -u)" = 0 ]; then
	THROTTLEBOT_PLUGIN_PATH=$tmp/plugin:$abs_top_builddir/plugins/sim/.libs \
		"$bin" -q run "$tmp/sim.conf" >"$tmp/run.out" 2>&1 || { cat "$tmp/run.out"; echo "the run failed"; exit 1; }
	# 5 baseline trials, then 3 rounds of 12 pairs and a baseline (besides the
	# core's warm-up and any replication trials).
	n=$(( $(grep -c '"extra": false' "$tmp/out/report.json") - $(grep -c '"warmup": true' "$tmp/out/report.json") ))
	[ "$n" = $((5 + 3 * 13)) ] || { echo "top_level ran $n trials, not $((5 + 3 * 13))"; exit 1; }
	grep -q '"mimr": {' "$tmp/out/report.json" || { echo "no MIMR from the top_level run"; exit 1; }
fi
# The installed binary also finds the installed plugins in its built-in directory... under DESTDIR
# it cannot, so check the files are there instead.
for p in cpu_quota command exhaustive; do
	find "$root" -name "$p.so" | grep -q . || { echo "$p.so was not installed"; exit 1; }
done
echo "out-of-tree plugin: built against the installed files and loaded"
