#!/bin/sh
# test.sh - install what the tests need, build, and run the whole test suite (unit, integration, end to end).
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test --deb
scripts/build.sh
scripts/start-services.sh
status=0
make -s check VERBOSE=1 || status=$?
# One plain closing line for whoever reads this log.
passed=$(grep -l '^:test-result: PASS' tests/*.trs 2>/dev/null | wc -l)
failed=$(grep -l -E '^:test-result: (FAIL|ERROR)' tests/*.trs 2>/dev/null | wc -l)
skipped=$(grep -l '^:test-result: SKIP' tests/*.trs 2>/dev/null | wc -l)
# The release tarball builds, installs, uninstalls and passes the unit tests on its own.
make -s distcheck TESTS="tests/check_rank tests/check_loader tests/check_journal" >/dev/null || status=$?
# The Debian packages build, are lintian-clean, install, pass their own tests and purge without a trace;
# a test of its own in the closing count.
if scripts/deb-smoke.sh; then passed=$((passed + 1)); else failed=$((failed + 1)) status=1; fi
# The fast tests again under ASan+UBSan, and every parser fuzzed for 20 s (a few minutes in all);
# a test of its own in the closing count.
if FUZZ_SECONDS=20 scripts/sanitize.sh; then passed=$((passed + 1)); else failed=$((failed + 1)) status=1; fi
# Each test cleans up after itself; this only reports what a failing one may have left.
scripts/leftovers.sh || status=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
