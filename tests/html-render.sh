#!/bin/sh
# html-render.sh - load report.html in headless Chromium and check what the browser built from it.
# Skips (77) when no Chromium is installed: apt-get install chromium.
set -u

srcdir=${abs_top_srcdir:-${srcdir:-.}}
fixtures=$srcdir/tests/fixtures/report
tool=${REPORT_RENDER_TOOL:-./tests/report_render_tool}

browser=
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		browser=$b
		break
	fi
done
if [ -z "$browser" ]; then
	echo "SKIP: no chromium (Debian: apt-get install chromium)"
	exit 77
fi
if [ ! -x "$tool" ]; then
	echo "FAIL: $tool not built"
	exit 1
fi

tmp=$(mktemp -d /tmp/throttlebot-html-XXXXXX) || exit 1
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	# a browser that outlived its timeout is found by its profile directory,
	# which only this run uses
	for pid in $(pgrep -f -- "--user-data-dir=$tmp/" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run_browser NAME ARGS...: one headless run with a fresh profile, bounded in time
run_browser() {
	name=$1
	shift
	timeout -k 5 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --hide-scrollbars --user-data-dir="$tmp/profile-$name/" "$@" \
		2>"$tmp/$name.stderr"
}

count() {   # count PATTERN FILE: occurrences of a fixed string
	grep -o -F -- "$1" "$2" | wc -l
}

expect_count() {   # expect_count WHAT EXPECTED PATTERN FILE
	n=$(count "$3" "$4")
	if [ "$n" -ne "$2" ]; then
		fail "$1: $n, expected $2"
	else
		echo "ok: $1: $n"
	fi
}

expect_text() {   # expect_text WHAT PATTERN FILE
	if grep -q -F -- "$2" "$3"; then
		echo "ok: $1"
	else
		fail "$1: '$2' not in $3"
	fi
}

# png_size FILE: "WIDTH HEIGHT" from the IHDR chunk
png_size() {
	od -A n -t u1 -j 16 -N 8 "$1" | awk '{ print $1*16777216 + $2*65536 + $3*256 + $4, $5*16777216 + $6*65536 + $7*256 + $8 }'
}

# full.json: 4 services x 3 throttlers, db/cpu excluded: 11 pairs, 2 metrics.
"$tool" "$fixtures/full.json" "$tmp/full.html" "$tmp/full.csv" || exit 1
run_browser full-dom --dump-dom "file://$tmp/full.html" >"$tmp/full.dom"
[ -s "$tmp/full.dom" ] || { cat "$tmp/full-dom.stderr"; fail "no DOM from $browser"; exit 1; }
expect_count "svg elements (11 pairs x 2 metrics)" 22 "<svg" "$tmp/full.dom"
expect_count "plot figures" 22 "<figure" "$tmp/full.dom"
expect_count "median lines" 22 "<polyline" "$tmp/full.dom"
expect_count "95% bands (pairs with 2+ points)" 22 "<polygon" "$tmp/full.dom"
expect_count "metric sections" 2 '<section class="metric" id="metric-' "$tmp/full.dom"
expect_count "MIMR headline per metric" 2 '<div class="name">worker · cpu' "$tmp/full.dom"
expect_count "MIMR cell per table" 2 '<td class="imr is-mimr"' "$tmp/full.dom"
expect_count "MIMR plot per metric" 2 '<figure class="imr is-mimr"' "$tmp/full.dom"
expect_count "excluded cell per table" 2 '<td class="excluded"' "$tmp/full.dom"
expect_count "script elements" 0 "<script" "$tmp/full.dom"
expect_text "escaped service name is text" 'cache &lt;&amp;&gt; "edge"' "$tmp/full.dom"
expect_text "paradox flagged" '<div class="paradoxes">' "$tmp/full.dom"
expect_text "runner-up margin" 'leads by <b>203 percentage points</b>' "$tmp/full.dom"
if grep -q -E '(src|href)="[a-z]+:' "$tmp/full.dom"; then
	fail "the page refers to something outside itself"
fi

# minimal.json: one pair, no MIMR, no by_metric.
"$tool" "$fixtures/minimal.json" "$tmp/minimal.html" || exit 1
run_browser minimal-dom --dump-dom "file://$tmp/minimal.html" >"$tmp/minimal.dom"
expect_count "svg elements (1 pair)" 1 "<svg" "$tmp/minimal.dom"
expect_text "no MIMR said plainly" '<div class="name">None found</div>' "$tmp/minimal.dom"

# quickstart-noisy.json: what the core wrote for a real, noisy quickstart run.
"$tool" "$fixtures/quickstart-noisy.json" "$tmp/noisy.html" || exit 1
run_browser noisy-dom --dump-dom "file://$tmp/noisy.html" >"$tmp/noisy.dom"
expect_count "svg elements (2 services x cpu)" 2 "<svg" "$tmp/noisy.dom"
expect_text "noisy baseline called out" "The baseline itself varied by 117%" "$tmp/noisy.dom"

# The screenshot: the page must paint at the asked size, and not blank.
run_browser full-shot --screenshot="$tmp/full.png" --window-size=1200,1600 "file://$tmp/full.html" >/dev/null
if [ ! -s "$tmp/full.png" ]; then
	cat "$tmp/full-shot.stderr"
	fail "no screenshot"
else
	size=$(png_size "$tmp/full.png")
	bytes=$(wc -c <"$tmp/full.png")
	[ "$size" = "1200 1600" ] || fail "screenshot is $size, expected 1200 1600"
	# a blank page compresses to a few kB; text, tables and plots do not
	[ "$bytes" -gt 60000 ] || fail "screenshot is only $bytes bytes: blank?"
	echo "ok: screenshot $size, $bytes bytes"
	if [ -n "${REPORT_SCREENSHOT:-}" ]; then
		cp "$tmp/full.png" "$REPORT_SCREENSHOT"
	fi
fi

[ "$failures" -eq 0 ] || exit 1
exit 0
