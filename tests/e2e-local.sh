#!/bin/bash
# e2e-local.sh - `throttlebot run` with the local orchestrator names the reference applications' known
# bottlenecks (apps/README.md) and leaves the host's cgroups, qdiscs, links and namespaces as it found them.
#
# Runs the example configs etc/examples/{single-service,frontend-storage}.conf.in with this tree's apps/,
# rewritten only so that their ports, files and logs are the test's own (a temp directory under /var/tmp, which the examples
# require on a real disk) and with more trials per point (5, and 8 untouched) over stress 0.5 and 0.8,
# so that a busy machine does not pass for an effect.  The frontend/storage example also runs once with
# its own default schedule, timed (E2E_DEFAULT_SCHEDULE=0 leaves that out).  Needs root; exit 77 without.
# E2E_KEEP=1 keeps the reports and logs.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (cgroups, tc, network namespaces)"
command -v python3 >/dev/null || skip "needs python3 to read report.json"
for p in tb-single tb-single-run tb-sink tb-frontend tb-storage tb-client; do
	[ -x "$abs_top_builddir/apps/$p" ] || skip "apps/$p is not built"
done
tb=$abs_top_builddir/throttlebot
. "$abs_top_srcdir/tests/e2e-lib.sh"
e2e_workdir e2e-local

# Ports and a subnet away from the examples' (and from each other run of this test).
base=$((21000 + ($$ % 400) * 10)) net=$((20 + $$ % 200))
# config EXAMPLE NAME ROBUST: the example with the test's ports and files; ROBUST=1: 5 trials, 8 baseline.
config() {
	local out=$work/$2.conf
	sed -e "s#/var/tmp/throttlebot-storage.dat#$work/storage.dat#g" \
	    -e "s#/tmp/throttlebot-\([a-z-]*\)\.ready#$work/\1.ready#g" \
	    -e "s#\"/var/tmp\"#\"$work\"#g" \
	    -e "s#log_dir = \"/tmp\"#log_dir = \"$work\"#" \
	    -e "s#10\.231\.1\.#10.231.$net.#g" \
	    -e "s#:7000\"#:$((base))\"#g; s#:7100\"#:$((base + 1))\"#g" \
	    -e "s#:7200\"#:$((base + 2))\"#g; s#:7300\"#:$((base + 3))\"#g" \
	    -e "s#@pkglibexecdir@/#$abs_top_builddir/apps/#g" \
	    "$abs_top_srcdir/etc/examples/$1.conf.in" >"$out"
	if [ "$3" = 1 ]; then
		sed -i -e 's/^stress_levels = .*/stress_levels = [0.5, 0.8];/' \
		       -e 's/^trials = .*/trials = 5;/' -e 's/^baseline_trials = .*/baseline_trials = 8;/' "$out"
	fi
	# Every rewrite must have taken: nothing of the example's ports or files may remain.
	if grep -v '^ *#' "$out" | grep -nE '"/var/tmp"|"/tmp"|throttlebot-storage\.dat|/tmp/throttlebot-[a-z-]*\.ready|:7[0-3]00"|10\.231\.1\.|@' >&2; then
		echo "FAIL: $1.conf: could not move the example to the test's ports and files" >&2
		return 1
	fi
	echo "$out"
}

# check NAME CHECKS...: assertions on report.json (the primary metric, the job completion time).
check() {
	python3 - "$work/$1/report.json" "$1" <<'PY'
import json, sys
path, name = sys.argv[1], sys.argv[2]
r = json.load(open(path))
ranked = {(p["service"], p["resource"]): p for p in r["ranking"]}
imrs = sorted((p["service"], p["resource"]) for p in r["ranking"] if p["imr"])
mimr = r["mimr"] and (r["mimr"]["service"], r["mimr"]["resource"])
failed = [(t["index"], t["error"]) for t in r["trials"] if t["failed"]]
errors = []
def expect(ok, what):
    if not ok:
        errors.append(what)
def point(s, res):
    p = ranked.get((s, res))
    return "missing" if p is None else "%+.1f%% @%.1f p=%.3g" % (100 * p["degradation"], p["stress"], p["p_value"])

expect(not failed, "no trial fails: %r" % failed)
services = sorted({s for s, _ in ranked})
if name.startswith("single-service"):
    expect(("single", "disk") in imrs, "single's disk is an IMR (%s)" % point("single", "disk"))
    expect(("single", "net") in imrs, "single's network is an IMR (%s)" % point("single", "net"))
    for s in services:
        expect((s, "cpu") not in imrs, "%s's CPU is not an IMR (%s)" % (s, point(s, "cpu")))
    expect(services == ["single", "sink"], "both services were measured: %r" % services)
else:
    expect(mimr == ("storage", "disk"), "storage's disk is the MIMR (MIMR: %r, storage disk %s)"
           % (mimr, point("storage", "disk")))
    for s in ("storage", "frontend"):
        expect((s, "cpu") not in imrs, "%s's CPU is not an IMR (%s)" % (s, point(s, "cpu")))
    expect(mimr != ("frontend", "disk"), "frontend's disk is not the MIMR (%s)" % point("frontend", "disk"))
print("%s: baseline median %.3f s over %d trials, IMRs %s, MIMR %s" % (name, r["baseline"]["median"],
      r["baseline"]["n"], ", ".join("%s:%s" % i for i in imrs) or "none",
      "%s:%s %+.0f%%" % (mimr + (100 * r["mimr"]["degradation"],)) if mimr else "none"))
for e in errors:
    print("FAIL: %s: expected %s" % (name, e))
sys.exit(1 if errors else 0)
PY
}

# study APP: the robust run of APP and its verdicts.  A verdict that comes out wrong counts only once
# a second run says the same: a burst of another process's disk I/O, or one slow untouched trial that
# widens the baseline's spread, can pass for (or hide) an effect on a busy host.
study() {
	local t
	echo "== $1 (local), 5 trials per point, 8 baseline, stress 0.5 and 0.8"
	conf=$(config "$1" "$1" 1) || exit 1
	e2e_run "$1" "$conf" 'capacity\|bytes/s'
	t=$elapsed
	if ! check "$1"; then
		echo "== $1: measured again before the verdict counts"
		e2e_run "$1-again" "$conf" 'capacity\|bytes/s'
		check "$1-again" || exit 1
		t="$t + $elapsed"
	fi
	elapsed=$t
}

study single-service
t_single=$elapsed
study frontend-storage
t_fs=$elapsed

if [ "${E2E_DEFAULT_SCHEDULE:-1}" != 0 ]; then
	echo "== frontend/storage (local), the example's own schedule"
	conf=$(config frontend-storage frontend-storage-default 0) || exit 1
	e2e_run frontend-storage-default "$conf" 'capacity\|bytes/s'
	# Shown, not asserted: 3 trials per point are too few for a busy machine.
	check frontend-storage-default || echo "(the default schedule's verdicts are not asserted)"
	printf 'frontend/storage with the example'"'"'s default schedule: %.1f s (target: under 180 s)\n' "$elapsed"
	awk -v t="$elapsed" 'BEGIN { exit !(t >= 180) }' &&
		echo "WARNING: the default schedule took longer than 3 minutes"
fi
echo "PASS: single-service $t_single s, frontend/storage $t_fs s: the known bottlenecks, and the host as before"
