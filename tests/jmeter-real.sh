#!/bin/sh
# jmeter-real.sh - the jmeter metric on real JMeter runs against a local HTTP server, checked by an independent reader.
#
# Three trials of tests/fixtures/simple.jmx (2 threads x 50 loops x 2 requests =
# 200 samples, half of them 404s): CSV with a header, XML, and JMeter's default
# headerless CSV with a label filter.  tests/jtl-reference.py recomputes every
# figure from the same file.  Skips (77) without JMeter or python3.
set -u
srcdir=${srcdir:-.}
fixtures=$srcdir/tests/fixtures
run=./tests/metric_run
so=./plugins/metrics/.libs/jmeter.so
jhome=/usr/share/jmeter

command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
if [ -f "$jhome/bin/ApacheJMeter.jar" ] && command -v java >/dev/null 2>&1; then
	[ -f "$jhome/lib/ext/ApacheJMeter_http.jar" ] ||
		{ echo "SKIP: JMeter's HTTP sampler is not installed (Debian: jmeter-http)"; exit 77; }
	# Debian's JMeter 2.13 cannot load plans with Debian's XStream 1.4.20:
	# run it through a launcher that opens XStream's allow-list.
	cp=$jhome/bin/ApacheJMeter.jar
	for j in "$jhome"/lib/*.jar "$jhome"/lib/ext/*.jar; do cp=$cp:$j; done
	jmeter="\"java\", \"-Djmeter.home=$jhome\", \"-cp\", \"$cp\", \"$(cd "$fixtures" && pwd)/JMeterLauncher.java\""
elif command -v jmeter >/dev/null 2>&1; then
	jmeter="\"jmeter\""
else
	echo "SKIP: JMeter is not installed"; exit 77
fi
[ -x "$run" ] && [ -f "$so" ] || { echo "ERROR: build $run and $so first"; exit 99; }

tmp=$(mktemp -d /tmp/throttlebot-jmeter-XXXXXX) || exit 99
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir "$tmp/www" && echo "hello from the test server" > "$tmp/www/index.html"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/server.log" 2>&1 &
server=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "ERROR: the HTTP server did not start"; cat "$tmp/server.log"; exit 99; }
	sleep 0.1
done

plan=$(cd "$fixtures" && pwd)/simple.jmx
fail=0

# trial N EXTRA_ARGS EXTRA_CONFIG [LABEL]
trial() {
	n=$1 extra=$2 config=$3 label=${4:-}
	text="command = [ $jmeter, \"-n\", \"-t\", \"$plan\", \"-l\", \"@JTL@\", \"-j\", \"@WORKDIR@/jmeter-$n.log\",
		\"-Jport=$port\", \"-Jthreads=2\", \"-Jloops=50\" $extra ]; timeout = 120; $config"
	echo "--- trial $n"
	if ! $run "$so" "$text" "$tmp" "$n" >"$tmp/values-$n" 2>"$tmp/err-$n"; then
		echo "FAIL: trial $n failed"; cat "$tmp/err-$n" "$tmp/trial-$n.out" 2>/dev/null; fail=1; return
	fi
	cat "$tmp/values-$n"
	[ -s "$tmp/trial-$n.jtl" ] || { echo "FAIL: no $tmp/trial-$n.jtl"; fail=1; return; }
	python3 "$srcdir/tests/jtl-reference.py" "$tmp/trial-$n.jtl" "$tmp/values-$n" ${label:+"$label"} || fail=1
}

# value N NAME: a value the plugin printed in trial N
value() { awk -v k="$2" '$1 == k { print $2 }' "$tmp/values-$1"; }

trial 1 ', "-Jjmeter.save.saveservice.print_field_names=true"' ''
[ "$(head -c 9 "$tmp/trial-1.jtl")" = timeStamp ] || { echo "FAIL: trial 1 wrote no header"; fail=1; }
[ "$(value 1 error_rate)" = 0.5 ] || { echo "FAIL: error rate $(value 1 error_rate), want 0.5"; fail=1; }

trial 2 ', "-Jjmeter.save.saveservice.output_format=xml"' ''
[ "$(head -c 5 "$tmp/trial-2.jtl")" = '<?xml' ] || { echo "FAIL: trial 2 wrote no XML"; fail=1; }

trial 3 '' 'label = "^missing$"; values = ["error_rate", "median", "throughput"];' '^missing$'
[ "$(value 3 error_rate)" = 1 ] || { echo "FAIL: /missing error rate $(value 3 error_rate), want 1"; fail=1; }
[ "$(wc -l < "$tmp/values-3")" -eq 4 ] || { echo "FAIL: trial 3 printed other than 3 values"; fail=1; }

# All 200 requests reached the server.
hits=$(grep -c '"GET /' "$tmp/server.log")
echo "server saw $hits requests"
[ "$hits" -eq 600 ] || { echo "FAIL: the server saw $hits requests, want 600"; fail=1; }

[ $fail -eq 0 ] && echo PASS
exit $fail
