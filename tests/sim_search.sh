#!/bin/sh
# sim_search.sh - throttlebot run on simulated applications: each strategy reports the planted MIMR.
set -u
# throttlebot run insists on root, though the sim plugins touch nothing of the kernel.
[ "$(id -u)" = 0 ] || { echo "SKIP: throttlebot run needs root"; exit 77; }
top=${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
bin=$top/throttlebot
[ -x "$bin" ] || { echo "no $bin: build first"; exit 99; }
work=$(mktemp -d /tmp/throttlebot-sim-search-XXXXXX) || exit 99
trap 'rm -rf "$work"' EXIT INT TERM
THROTTLEBOT_PLUGIN_PATH=$top/plugins/sim/.libs:$top/plugins/strategies/.libs
THROTTLEBOT_JOURNAL=$work/journal
THROTTLEBOT_LOCK=$work/lock
export THROTTLEBOT_PLUGIN_PATH THROTTLEBOT_JOURNAL THROTTLEBOT_LOCK

# run STRATEGY SERVICES SEED: the truth the orchestrator logs must be the reported MIMR.
run() {
	cat > "$work/$1.conf" <<CONF
application = "sim";
output_dir = "$work/out-$1";
orchestrator = { plugin = "sim"; state = "$work/state"; services = $2; seed = $3; };
throttlers = ( { plugin = "sim_cpu"; state = "$work/state"; },
               { plugin = "sim_disk"; state = "$work/state"; },
               { plugin = "sim_net"; state = "$work/state"; } );
metrics = ( { plugin = "sim_jct"; state = "$work/state"; noise = 0.05; } );
strategy = { plugin = "$1"; };
trial_seconds = 0.01;
CONF
	timeout 100 "$bin" run "$work/$1.conf" > "$work/$1.out" 2>&1
	rc=$?
	truth=$(sed -n 's/.*the MIMR is \(svc[0-9]* [a-z]*\) .*/\1/p' "$work/$1.out" | head -n 1)
	found=$(sed -n 's/^ *MIMR: \(svc[0-9]* [a-z]*\) .*/\1/p' "$work/$1.out" | head -n 1)
	trials=$(grep -o '"index"' "$work/out-$1/report.json" 2>/dev/null | wc -l)
	echo "$1, $2 services: exit $rc, planted '$truth', reported '$found', $trials trials"
	if [ "$rc" != 0 ] || [ -z "$truth" ] || [ "$truth" != "$found" ]; then
		cat "$work/$1.out"
		exit 1
	fi
	# Nothing is left throttled: the state file holds the application line only.
	if grep -q '^allow' "$work/state"; then
		echo "allowances left behind:"; cat "$work/state"
		exit 1
	fi
}

run exhaustive 8 11
ex_trials=$trials
# A warm-up, 5 baselines, 8 x 3 x 4 points x 3 trials (288), one baseline after
# every 10 of those (28) and one closing the last round; then at most half of
# the schedule again where a verdict was undecided.
scheduled=$(grep -c '"extra": false' "$work/out-exhaustive/report.json")
extra=$(grep -c '"extra": true' "$work/out-exhaustive/report.json")
warmup=$(grep -c '"warmup": true' "$work/out-exhaustive/report.json")
echo "exhaustive: $scheduled scheduled ($warmup warm-up), $extra extra"
[ "$scheduled" = 323 ] && [ "$warmup" = 1 ] && [ "$extra" -le 160 ] ||
	{ echo "exhaustive ran $scheduled scheduled trials, not 323, or $extra > 160 extra"; exit 1; }
run pruned 8 11
[ "$trials" -lt "$ex_trials" ] || { echo "pruned used $trials trials, exhaustive $ex_trials"; exit 1; }
run pruned 60 12
exit 0
