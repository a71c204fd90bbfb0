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

# A large application: 1,000 services x 3 resources x 4 levels.  The page
# stays small, loads quickly, and shows the MIMR and the other pairs that
# matter on the first screen.  A copy of the page gets a probe script that
# writes what the browser measured into the DOM it dumps; the page itself
# has no script.
"$tool" --synthetic 1000 "$tmp/large.json" || exit 1
"$tool" "$tmp/large.json" "$tmp/large.html" "$tmp/large.csv" || exit 1
bytes=$(wc -c <"$tmp/large.html")
if [ "$bytes" -ge 2000000 ]; then
	fail "1,000-service page is $bytes bytes, over 2 MB"
else
	echo "ok: 1,000-service page is $bytes bytes"
fi
expect_count "1,000-service page: script elements" 0 "<script" "$tmp/large.html"
cat >"$tmp/probe.js" <<'PROBE'
<script>
(function () {
	var m = document.querySelector('.headline .name'), l = document.querySelectorAll('.matters li'), t, r;
	document.body.offsetHeight; /* style and lay out the whole page first */
	t = performance.now();
	r = m ? m.getBoundingClientRect() : { top: -1, bottom: 1e9 };
	document.documentElement.setAttribute('data-probe', 'ms=' + Math.round(t) + ' mimr_top=' +
		Math.round(r.top) + ' mimr_bottom=' + Math.round(r.bottom) + ' matters=' + l.length +
		' matters_bottom=' + Math.round(l.length ? l[l.length - 1].getBoundingClientRect().bottom : 1e9) +
		' vh=' + innerHeight);
})();
</script>
PROBE
awk 'FNR == NR { probe = probe $0 "\n"; next } /^<\/body>$/ { printf "%s", probe } { print }' \
	"$tmp/probe.js" "$tmp/large.html" >"$tmp/large-probe.html"
start=$(date +%s%N)
run_browser large-dom --dump-dom --window-size=1280,900 "file://$tmp/large-probe.html" >"$tmp/large.dom"
wall=$((($(date +%s%N) - start) / 1000000))
probe=$(sed -n 's/.*data-probe="\([^"]*\)".*/\1/p' "$tmp/large.dom" | head -n 1)
echo "1,000-service page: $probe; the browser ran ${wall} ms in all"
probe_value() {   # probe_value NAME: the number the probe wrote for NAME
	echo "$probe" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
if ! echo "$probe" | grep -q -E '^ms=[0-9]+ mimr_top=-?[0-9]+ mimr_bottom=[0-9]+ matters=[0-9]+ matters_bottom=[0-9]+ vh=[0-9]+$'; then
	cat "$tmp/large-dom.stderr"
	fail "no measurement from the 1,000-service page"
else
	vh=$(probe_value vh)
	# parsed, styled and laid out, from navigation start
	[ "$(probe_value ms)" -lt 2000 ] || fail "1,000-service page took $(probe_value ms) ms to load, over 2 s"
	{ [ "$(probe_value mimr_top)" -ge 0 ] && [ "$(probe_value mimr_bottom)" -le "$vh" ]; } ||
		fail "MIMR not on the first screen ($(probe_value mimr_top)..$(probe_value mimr_bottom) of $vh)"
	# 4 other IMRs and 3 undecided pairs, listed under it
	[ "$(probe_value matters)" -eq 7 ] || fail "$(probe_value matters) pairs listed under the MIMR, expected 7"
	[ "$(probe_value matters_bottom)" -le "$vh" ] ||
		fail "the IMRs and undecided pairs end at $(probe_value matters_bottom), below the first screen ($vh)"
fi
expect_text "1,000-service MIMR headline" '<div class="name">svc-0737 · cpu' "$tmp/large.dom"
expect_count "1,000-service plots: 10 services x 3" 30 "<svg" "$tmp/large.dom"
expect_count "1,000-service grid rows" 10 '<tr><th scope="row" class="svc">' "$tmp/large.dom"
expect_count "1,000-service folded rows" 990 '<tr><th>svc-' "$tmp/large.dom"

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
