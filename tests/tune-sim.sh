#!/bin/sh
# tune-sim.sh - throttlebot clampdown and improve on described sim applications: what they find, that a cut
# which hurts is undone exactly, that the host (the sim state file) is left byte-identical without --keep
# and after kill -9 + restore.  The sim plugins stand in for a real host: fast and deterministic.
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: throttlebot clampdown needs root"; exit 77; }
top=${abs_top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
tb=$top/throttlebot
[ -x "$tb" ] || { echo "no $tb: build first"; exit 99; }
work=$(mktemp -d /tmp/throttlebot-tune-XXXXXX) || exit 99
cleanup() {
	[ -n "${runpid:-}" ] && kill -9 "$runpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
THROTTLEBOT_PLUGIN_PATH=$top/plugins/sim/.libs:$top/plugins/strategies/.libs
THROTTLEBOT_JOURNAL=$work/journal
THROTTLEBOT_LOCK=$work/lock
export THROTTLEBOT_PLUGIN_PATH THROTTLEBOT_JOURNAL THROTTLEBOT_LOCK
fail() { echo "FAIL: $*"; exit 1; }

# conf NAME MODEL EXTRA: a sim application described by MODEL ("PARENT STAGE CPU DISK NET; ...").
conf() {
	cat > "$work/$1.conf" <<CONF
application = "$1";
output_dir = "$work/out-$1";
orchestrator = { plugin = "sim"; state = "$work/state"; model = "$2"; };
throttlers = ( { plugin = "sim_cpu"; state = "$work/state"; },
               { plugin = "sim_disk"; state = "$work/state"; },
               { plugin = "sim_net"; state = "$work/state"; } );
metrics = ( { plugin = "sim_jct"; state = "$work/state"; noise = 0.005; } );
seed = 3;
trial_seconds = 0.01;
$3
CONF
}
# The state file as the application left it: what plan's discovery writes.
pristine() {
	rm -f "$work/state"
	"$tb" plan "$work/$1.conf" > /dev/null 2>&1 || fail "plan $1"
	cp "$work/state" "$work/state.pristine"
}
same_state() {
	cmp -s "$work/state" "$work/state.pristine" || { cat "$work/state"; fail "$1: the state file changed"; }
}
# json FILE PYTHON-EXPRESSION-OVER-j: print its value.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# The frontend (svc0) calls svc1 (cpu-bound, the bottleneck) and svc2 (disk, 0.7 of svc1's time) in
# parallel.  svc2 may lose a fifth of its disk (0.875 < 1) but not two (1.09 > 1): the second cut hurts.
conf bad "- 0 0.02 0 0; 0 0 1 0 0" "clampdown_step = 1.5;"
pristine bad
"$tb" clampdown "$work/bad.conf" > "$work/bad.out" 2>&1
[ $? = 2 ] && grep -q "bad.conf:.*clampdown_step" "$work/bad.out" || { cat "$work/bad.out"; fail "clampdown_step 1.5 is accepted"; }
same_state "clampdown refusing its step"
conf clamp "- 0 0.02 0 0; 0 0 1 0 0; 0 0 0 0.7 0" "stress_levels = [ 0.1 ];"
pristine clamp
timeout 120 "$tb" clampdown "$work/clamp.conf" --tolerance 5% > "$work/clamp.out" 2>&1 ||
	{ cat "$work/clamp.out"; fail "clampdown exited $?"; }
cat "$work/clamp.out" | sed -n '/^Clampdown/,$p'
same_state "clampdown without --keep"
cd_json=$work/out-clamp/clampdown.json
[ "$(json "$cd_json" "[p['verdict'] for p in j['ranking'] if p['service']=='svc1' and p['resource']=='cpu'][0]")" = imr ] ||
	fail "svc1 cpu is not the IMR"
# The bottleneck keeps all it had; others give back; svc2's disk one cut, its second rolled back.
[ "$(json "$cd_json" "[g for g in j['give_back'] if g['service']=='svc1' and g['resource']=='cpu']")" = "[]" ] ||
	fail "clampdown cut the bottleneck"
[ "$(json "$cd_json" "len(j['give_back']) >= 5")" = True ] || fail "too little given back"
[ "$(json "$cd_json" "[round(g['to'],6) for g in j['give_back'] if g['service']=='svc2' and g['resource']=='disk']")" = "[0.8]" ] ||
	fail "svc2 disk is not cut exactly once"
[ "$(json "$cd_json" "[s['kept'] for s in j['steps'] if s['service']=='svc2' and s['resource']=='disk']")" = "[True, False]" ] ||
	fail "svc2 disk's second cut was not rolled back"
[ "$(json "$cd_json" "j['final']['within_tolerance'] and j['final']['effect']['change_high'] <= 0.05")" = True ] ||
	fail "the kept cuts together are not shown within the tolerance"

# --keep: the cuts stay, the journal is closed, the state file holds exactly the amounts reported (the
# rolled back cut left svc2's disk at exactly 0.8), and the model's time with them, computed here from
# the state file, is within 5% of the untouched 1.02 s.
"$tb" clampdown "$work/clamp.conf" --tolerance 5% --keep > "$work/keep.out" 2>&1 || { cat "$work/keep.out"; fail "--keep"; }
grep -q '^allow sim:2 1 0.80000000000000004$' "$work/state" || { cat "$work/state"; fail "svc2 disk not at 0.8"; }
grep -q '^allow sim:1 0 ' "$work/state" && fail "--keep cut the bottleneck"
"$tb" restore --check > /dev/null 2>&1 || fail "--keep left journal records open"
awk '$1 == "allow" { a[$2 " " $3] = $4 }
     END { f = ("sim:0 0" in a) ? a["sim:0 0"] : 1; s1 = ("sim:1 0" in a) ? a["sim:1 0"] : 1
           s2 = ("sim:2 1" in a) ? a["sim:2 1"] : 1
           t = 0.02 / f + ((1 / s1 > 0.7 / s2) ? 1 / s1 : 0.7 / s2)
           printf "kept cuts: the model takes %.4f s against 1.02 s untouched (%+.1f%%)\n", t, 100 * (t / 1.02 - 1)
           exit !(t <= 1.02 * 1.05) }' "$work/state" || fail "the kept cuts cost more than 5%"

# kill -9 in the middle of the cuts, then restore: the state file is as the application left it.
pristine clamp
"$tb" clampdown "$work/clamp.conf" > "$work/kill.out" 2>&1 &
runpid=$!
i=0
while [ $i -lt 300 ] && ! { grep -q 'clampdown: .* kept' "$work/kill.out" && grep -q '^allow' "$work/state"; }; do
	sleep 0.05; i=$((i + 1))
done
kill -9 "$runpid"; wait "$runpid" 2>/dev/null; runpid=
grep -q 'clampdown: .* kept' "$work/kill.out" || fail "clampdown never kept a cut"
grep -q '^allow' "$work/state" || fail "nothing was applied when killed"
"$tb" restore --check > /dev/null 2>&1 && fail "the journal holds nothing after kill -9"
"$tb" restore > "$work/restore.out" 2>&1 || { cat "$work/restore.out"; fail "restore"; }
same_state "kill -9 + restore after clampdown"
echo "clampdown: ok"

# Improve: svc1 (cpu) and svc2 (disk, 0.9 of svc1's time) in parallel.  Given more, svc1 stops being
# the bottleneck and svc2 becomes it: both are reached in at most 3 rounds.  The cpu budget pays for
# svc1; there is no disk budget, so svc2's disk comes from the pair that hurt least when throttled.
# svc0's net is set from the configuration first: it is part of the allocation, and undone too.
conf improve "- 0 0.02 0 0; 0 0 1 0 0; 0 0 0 0.9 0" 'strategy = { plugin = "pruned"; };
allocations = ( { service = "svc0"; resource = "net"; amount = 1.5; } );'
pristine improve
"$tb" improve "$work/improve.conf" --budget gpu=1 > "$work/bad.out" 2>&1
[ $? = 2 ] && grep -q "budget" "$work/bad.out" || { cat "$work/bad.out"; fail "a budget for no resource is accepted"; }
same_state "improve refusing its budget"
timeout 120 "$tb" improve "$work/improve.conf" --budget cpu=0.5 --rounds 3 > "$work/improve.out" 2>&1 ||
	{ cat "$work/improve.out"; fail "improve exited $?"; }
sed -n '/^Improve/,$p' "$work/improve.out"
same_state "improve without --keep"
im_json=$work/out-improve/improve.json
reached=$(json "$im_json" "' '.join(sorted(set(r['mimr']['service'] + '/' + r['mimr']['resource'] for r in j['rounds'][:3] if r['kept'])))")
[ "$reached" = "svc1/cpu svc2/disk" ] || fail "improve reached '$reached', not both bottlenecks"
[ "$(json "$im_json" "[r['source'] for r in j['rounds'] if r['mimr']['service'] == 'svc2'][0]")" = service ] ||
	fail "svc2's disk did not come from another service"
[ "$(json "$im_json" "[a['amount'] for a in j['allocation'] if a['service']=='svc0' and a['resource']=='net']")" = "[1.5]" ] ||
	fail "the configured allocation is not in the result"
grep -q '^docker update --cpus 1.440 svc1$' "$work/out-improve/improve-docker.sh" || fail "no docker update line"
python3 -c "import sys, yaml; d = yaml.safe_load(open(sys.argv[1]))
assert d['services']['svc1']['deploy']['resources']['limits']['cpus'] == 1.44, d" \
	"$work/out-improve/improve-compose.yaml" || fail "the compose snippet"

# --keep leaves the allocation found; kill -9 mid-improve then restore leaves the state file as found.
"$tb" improve "$work/improve.conf" --budget cpu=0.5 --rounds 1 --keep > "$work/keep.out" 2>&1 || fail "improve --keep"
grep -q '^allow sim:1 0 1.2$' "$work/state" || { cat "$work/state"; fail "--keep did not keep svc1's cpu"; }
"$tb" restore --check > /dev/null 2>&1 || fail "improve --keep left journal records open"
pristine improve
"$tb" improve "$work/improve.conf" --budget cpu=0.5 --rounds 3 > "$work/kill.out" 2>&1 &
runpid=$!
i=0
while [ $i -lt 300 ] && ! { grep -q 'improve: round 1: .* kept' "$work/kill.out" &&
			      grep -q '^allow sim:1 0 ' "$work/state"; }; do
	sleep 0.05; i=$((i + 1))
done
kill -9 "$runpid"; wait "$runpid" 2>/dev/null; runpid=
grep -q '^allow sim:1 0 ' "$work/state" || { cat "$work/state"; fail "svc1's cpu was not changed when killed"; }
"$tb" restore --check > /dev/null 2>&1 && fail "the journal holds nothing after kill -9"
"$tb" restore > "$work/restore.out" 2>&1 || { cat "$work/restore.out"; fail "restore"; }
same_state "kill -9 + restore after improve"
echo "improve: ok"
exit 0
