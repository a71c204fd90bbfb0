#!/bin/sh
# quickstart.sh - the quickstart experiment names the CPU-bound service on the critical path as the MIMR,
# and leaves no cgroup behind.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: needs python3"; exit 77; }
out=$(mktemp -d /tmp/throttlebot-quickstart-XXXXXX)
trap 'rm -rf "$out" "$out.conf"' EXIT
# The example, with this tree's programs in place of the installed ones.
sed -e "s|@pkglibexecdir@/|$abs_top_builddir/apps/|g" "$abs_top_srcdir/etc/examples/quickstart.conf.in" >"$out.conf" ||
	exit 99
"$abs_top_builddir/throttlebot" run "$out.conf" --output "$out" &
run=$!
wait $run || exit 1
python3 - "$out/report.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
m = r["mimr"]
assert m and m["service"] == "worker" and m["resource"] == "cpu", "MIMR is %r" % (m,)
imrs = [(p["service"], p["resource"]) for p in r["ranking"] if p["imr"]]
assert ("cruncher", "cpu") not in imrs, "cruncher's CPU is off the critical path, yet an IMR: %r" % imrs
assert r["baseline"]["n"] >= 5
scheduled = [t for t in r["trials"] if not t["warmup"] and not t["extra"]]
assert len([t for t in scheduled if t["kind"] == "throttle"]) == 2 * 4 * r["trials_per_point"]
assert len([t for t in r["trials"] if t["warmup"]]) == r["warmup_trials"] == 1
assert len([t for t in r["trials"] if t["extra"]]) <= r["max_extra_trials"]
assert all(t["kind"] == "baseline" for t in r["trials"] if t["warmup"])
print("MIMR:", m["service"], m["resource"], "%+.0f%%" % (100 * m["delta"]))
PY
left=$(find /sys/fs/cgroup -maxdepth 2 -type d -name "throttlebot.$run")
[ -z "$left" ] || { echo "cgroups left behind: $left"; exit 1; }
