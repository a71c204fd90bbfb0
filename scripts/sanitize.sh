#!/bin/sh
# sanitize.sh - build a copy of the tree with ASan+UBSan, run the fast tests in it, and fuzz every parser (bounded).
# FUZZ_SECONDS (default 20) is each fuzz target's time; SANITIZE_TIMEOUT (default 420) bounds each step.
set -u
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
limit=${SANITIZE_TIMEOUT:-420}
# Fast unit tests, and one whole run loop (sim_search.sh, needs root) on simulated services.
tests="tests/check_rank tests/check_journal tests/check_config tests/check_jtl tests/check_promjson
       tests/check_loader tests/check_report_render tests/check_strategies tests/check_sim
       tests/check_command tests/check_outdir tests/check_abi tests/check_cgroup_files
       tests/sim_search.sh"
work=$(mktemp -d /tmp/throttlebot-sanitize-XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
# The tree is configured in place, and automake refuses an out-of-tree build
# of a configured tree: build from a copy of what would be distributed.
make -s distdir distdir="$work/src" >/dev/null || exit 1
mkdir "$work/build" && cd "$work/build" || exit 1
LSAN_OPTIONS="suppressions=$work/src/tests/lsan.supp:print_suppressions=0"
UBSAN_OPTIONS=print_stacktrace=1
export LSAN_OPTIONS UBSAN_OPTIONS
status=0
start=$(date +%s)
if timeout "$limit" sh -c '"$1"/configure --enable-sanitizers -q && make -s -j2' sh "$work/src" \
	>build.out 2>&1; then
	echo "sanitizers: build $(($(date +%s) - start)) s"
else
	tail -n 30 build.out
	echo "sanitizers: the ASan+UBSan build failed"
	exit 1
fi
start=$(date +%s)
# shellcheck disable=SC2086
if timeout "$limit" make -s -j2 check TESTS="$(echo $tests)" >check.out 2>&1; then
	echo "sanitizers: $(grep -c '^PASS' check.out) tests passed in $(($(date +%s) - start)) s"
else
	status=1
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP)' check.out
	for log in tests/*.log; do
		grep -E 'runtime error|^==[0-9]+==ERROR|^SUMMARY' "$log" /dev/null | head -n 5
	done
	echo "sanitizers: unit tests FAILED ($(($(date +%s) - start)) s)"
fi
start=$(date +%s)
if timeout "$limit" make -s fuzz-build >build.out 2>&1 &&
	timeout "$limit" make -s fuzz FUZZ_SECONDS="$seconds"; then
	echo "sanitizers: fuzzing $(($(date +%s) - start)) s, no crash"
else
	status=1
	tail -n 30 build.out
	echo "sanitizers: fuzzing FAILED; crashing inputs:"
	ls tests/fuzz/crashes 2>/dev/null
fi
exit $status
