#!/bin/sh
# prometheus-real.sh - the prometheus metric against a real Prometheus scraping a local target, checked by direct queries.
#
# Starts a scrape target (tests/prom-target.py) and Prometheus (1 s scrape
# interval, storage in a temporary directory) on free loopback ports, observes
# a 4-second window with the plugin (tests/metric_run), and compares each value
# with the same query sent directly (curl, python's json).  Then the failures:
# several series, a bad query, an empty result, NaN, connection refused, an
# HTTP error, a bearer token.  Skips (77) without prometheus, curl or python3.
set -u
srcdir=${srcdir:-.}
run=./tests/metric_run
so=./plugins/metrics/.libs/prometheus.so

for c in prometheus curl python3; do
	command -v $c >/dev/null 2>&1 || { echo "SKIP: $c is not installed"; exit 77; }
done
[ -x "$run" ] && [ -f "$so" ] || { echo "ERROR: build $run and $so first"; exit 99; }

tmp=$(mktemp -d /tmp/throttlebot-prometheus-XXXXXX) || exit 99
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for URL: bounded to 30 s
wait_for() {
	i=0
	until curl -sf -o /dev/null "$1"; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "ERROR: $1 did not come up"; cat "$tmp"/*.log; exit 99; }
		sleep 0.1
	done
}
now() { python3 -c 'import time; print(f"{time.monotonic():.6f} {time.time():.6f}")'; }

tport=$(freeport)
pport=$(freeport)
python3 "$srcdir/tests/prom-target.py" "$tport" >"$tmp/target.log" 2>&1 &
pids="$pids $!"
cat >"$tmp/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: target
    static_configs:
      - targets: ['127.0.0.1:$tport']
EOC
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids="$pids $!"
wait_for "http://127.0.0.1:$tport/metrics"
wait_for "http://127.0.0.1:$pport/-/ready"
prom="http://127.0.0.1:$pport"

# Wait (bounded) until a few scrapes are in.
i=0
until [ "$(curl -s "$prom/api/v1/query?query=count_over_time(test_const%5B1m%5D)" |
	python3 -c 'import json,sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')" -ge 3 ] 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "ERROR: Prometheus scraped nothing"; cat "$tmp/prometheus.log"; exit 99; }
	sleep 0.2
done

set -- $(now)
start_m=$1 start_w=$2
sleep 4
set -- $(now)
end_m=$1
fail=0
# Let the window's last scrapes land, so that the plugin and the direct
# queries below, asked at different moments, see the same samples.
sleep 2

# observe NAME CONFIG: run the plugin on the window; its value, or nothing on failure
observe() {
	if $run "$so" "$2" "$tmp" 1 "$start_m" "$end_m" "$start_w" >"$tmp/out-$1" 2>"$tmp/err-$1"; then
		awk 'NR == 1 { print $2 }' "$tmp/out-$1"
	fi
}
# direct PATH PARAMS...: the same question asked with curl, answered by python
direct() {
	path=$1; shift
	curl -s -G "$prom/api/v1/$path" "$@" | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
r = d["result"]
if d["resultType"] == "matrix":
    v = [float(x[1]) for x in r[0]["values"]]
    print(repr(sum(v) / len(v)) + " " + repr(max(v)))
else:
    print(repr(float(r[0]["value"][1])))'
}
same() {  # same NAME GOT WANT
	if python3 -c "import sys, math; sys.exit(0 if math.isclose(float('$2'), float('$3'), rel_tol=1e-9) else 1)" 2>/dev/null; then
		echo "ok   $1: plugin $2, direct $3"
	else
		echo "FAIL $1: plugin '$2', direct '$3'"; cat "$tmp/err-$1" 2>/dev/null; fail=1
	fi
}
fails() {  # fails NAME CONFIG MESSAGE
	if $run "$so" "$2" "$tmp" 1 "$start_m" "$end_m" "$start_w" >/dev/null 2>"$tmp/err-$1"; then
		echo "FAIL $1: the trial succeeded"; fail=1
	elif grep -q -- "$3" "$tmp/err-$1"; then
		echo "ok   $1: $(grep -m1 error "$tmp/err-$1")"
	else
		echo "FAIL $1: no '$3' in:"; cat "$tmp/err-$1"; fail=1
	fi
}

t_start=$start_w
t_end=$(python3 -c "print(f'{$start_w + ($end_m - $start_m):.3f}')")

got=$(observe const "url = \"$prom\"; query = \"test_const\"; name = \"c\";")
same const "$got" 42
got=$(observe instant "url = \"$prom/\"; query = \"test_ramp\";")
same instant "$got" "$(direct query --data-urlencode query=test_ramp --data-urlencode time="$t_end")"
set -- $(direct query_range --data-urlencode query=test_ramp --data-urlencode start="$(printf %.3f "$t_start")" \
	--data-urlencode end="$t_end" --data-urlencode step=1)
got=$(observe range-mean "url = \"$prom\"; query = \"test_ramp\"; mode = \"range\"; step = 1;")
same range-mean "$got" "$1"
got=$(observe range-max "url = \"$prom\"; query = \"test_ramp\"; mode = \"range\"; step = 1; aggregation = \"max\";")
same range-max "$got" "$2"

fails several "url = \"$prom\"; query = \"test_multi\";" '2 series where one was expected'
fails bad-query "url = \"$prom\"; query = \"sum(x))\";" 'HTTP 400: bad_data'
fails empty "url = \"$prom\"; query = \"no_such_metric\";" 'no series'
fails nan "url = \"$prom\"; query = \"0/0\";" 'is NaN'
fails refused "url = \"http://127.0.0.1:$(freeport)\"; query = \"up\";" 'cannot query'
fails http-404 "url = \"http://127.0.0.1:$tport/prefix\"; query = \"up\";" 'HTTP 404'

printf 's3cret\n' >"$tmp/token"
got=$(observe token "url = \"http://127.0.0.1:$tport\"; query = \"up\"; bearer_token_file = \"$tmp/token\";")
same token "$got" 7
fails no-token "url = \"http://127.0.0.1:$tport\"; query = \"up\";" 'HTTP 401: Unauthorized'

# delay: the query waits until the window's end plus the delay.
set -- $(now)
before=$1
end_m=$before
$run "$so" "url = \"$prom\"; query = \"test_const\"; delay = 1.5;" "$tmp" 1 "$start_m" "$end_m" "$start_w" >/dev/null 2>&1 || fail=1
set -- $(now)
if python3 -c "import sys; sys.exit(0 if $1 - $before >= 1.5 else 1)"; then
	echo "ok   delay: waited $(python3 -c "print(round($1 - $before, 2))") s"
else
	echo "FAIL delay: answered after $(python3 -c "print($1 - $before)") s"; fail=1
fi

[ $fail -eq 0 ] && echo PASS
exit $fail
