#!/bin/sh
# cluster-chaos.sh - nothing is left throttled, on any node, whatever dies: rounds of a controller run
# against three nodes' agents, each round killing (SIGKILL) the controller, an agent (started again
# after a moment), or both, or stopping the controller (SIGSTOP) past the lease, at a random moment
# once a throttle is applied; then every node must be back at the operator's values within the lease
# and a second, and `throttlebot restore` must find nothing left to do.
# ROUNDS (default 4) rounds; SEED repeats a sequence (the seed is printed).
# No cluster here: each node is a network namespace made by this test with its agent on the namespace's
# own address, reached over a veth pair; the services are sleeping processes of this host in cgroups of
# their own, which the agents find by pid.  SIGSTOP of the controller stands in for a partition: its
# renewals stop reaching the agents.
set -u
: "${abs_top_builddir:?run me from make check}" "${abs_top_srcdir:?}"
n=$$
rounds=${ROUNDS:-4}
seed=${SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
lease=3
agents=; pids=; run=; restart=
cg() { echo "/sys/fs/cgroup/$1/throttlebot-chaos-$2-$n"; }
cleanup() {
	[ -n "$run" ] && kill -CONT "$run" 2>/dev/null
	cluster_stop
	for i in 1 2 3; do
		ip netns del "throttlebot-chaos$i-$n" 2>/dev/null
		rmdir "$(cg cpu $i)" 2>/dev/null
	done
	rmdir "$(cg cpuset 3)" 2>/dev/null
	rm -rf "$tmp"
}
. "$abs_top_srcdir/tests/agent-lib.sh"
CLUSTER_HIERARCHIES=cpuset cluster_begin chaos
[ "$rounds" -ge 1 ] 2>/dev/null && [ "$rounds" -le 1000 ] || { echo "FAILED: ROUNDS=$rounds"; exit 1; }
case $seed in *[!0-9]*|'') echo "FAILED: SEED=$seed is not a number"; exit 1 ;; esac
echo "seed $seed (SEED=$seed ROUNDS=$rounds to repeat)"

# A seeded generator (an LCG): the same seed, the same kills at the same moments.
rng=$((seed % 2147483648))
rand() { rng=$(( (rng * 1103515245 + 12345) % 2147483648 )); r=$(( (rng / 65536) % $1 )); }
ms() { date +%s%3N; }
pause() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# Three nodes: namespace chaos<i> at 10.228.<i>.2, this host at 10.228.<i>.1; node 3's agent also has
# the cpuset throttler.
for i in 1 2 3; do agent_node "throttlebot-chaos$i-$n" "chaos$i.$n" "10.228.$i"; done
agent_certs 10.228.1.2 10.228.2.2 10.228.3.2
tok() { [ $1 = 3 ] && echo token || echo token$1; }
both='{ plugin = "cpu_quota"; }, { plugin = "cpuset"; }'
for i in 1 2 3; do
	th=; [ $i = 3 ] && th=$both
	agent_conf n$i.conf "10.228.$i.2:7443" "$(tok $i)" n$i "" "$th"
done
started() { [ "$(grep -c listening n$1.log 2>/dev/null)" -ge "$2" ]; }
start_agent() {
	nsenter --net="/run/netns/throttlebot-chaos$1-$n" "$tb" agent --config "$tmp/n$1.conf" >> n$1.log 2>&1 &
	eval "agent$1=$!"
	agents="$agents $!"
	k=$(( $(grep -c listening n$1.log) + 1 ))
	for _ in $(seq 1 100); do started "$1" "$k" && return 0; sleep 0.05; done
	bad "agent $1 did not start"; cat n$1.log; exit 1
}
for i in 1 2 3; do : > n$i.log; start_agent $i; done

# The operator's own limits: a quota each, and node 3 two CPUs of its cpuset too.
quota1=70000 quota2=60000 quota3=50000 cpus3=0-1
for i in 1 2 3; do
	mkdir "$(cg cpu $i)" && eval "echo \$quota$i" > "$(cg cpu $i)/cpu.cfs_quota_us" || exit 1
	sleep 3600 &
	pids="$pids $!"
	echo $! > "$(cg cpu $i)/cgroup.procs" || exit 1
done
mkdir "$(cg cpuset 3)" && echo 0 > "$(cg cpuset 3)/cpuset.mems" &&
	echo $cpus3 > "$(cg cpuset 3)/cpuset.cpus" && echo $! > "$(cg cpuset 3)/cgroup.procs" || exit 1
period=$(cat "$(cg cpu 1)/cpu.cfs_period_us")
# What node i holds now, and what the operator set.
values() {
	v="$(cat "$(cg cpu $1)/cpu.cfs_quota_us") $(cat "$(cg cpu $1)/cpu.cfs_period_us")"
	[ $1 = 3 ] && v="$v $(cat "$(cg cpuset 3)/cpuset.cpus")"
	echo "$v"
}
eval "want1='$quota1 $period' want2='$quota2 $period' want3='$quota3 $period $cpus3'"
exact() { [ "$(values $1)" = "$(eval "echo \$want$1")" ]; }
for i in 1 2 3; do exact $i || { bad "node $i does not hold the operator's values"; exit 1; }; done

# Short trials, short leases: a throttle of each kind on each node in a few seconds.
cat > app.conf <<CONF
application = "chaos";
output_dir = "$tmp/out";
orchestrator = { plugin = "local";
  services = ( { name = "a"; cgroup = "/throttlebot-chaos-1-$n"; node = "n1"; },
               { name = "b"; cgroup = "/throttlebot-chaos-2-$n"; node = "n2"; },
               { name = "c"; cgroup = "/throttlebot-chaos-3-$n"; node = "n3"; } ); };
throttlers = ( $both );
exclude = { pairs = ["a:cpuset", "b:cpuset"]; };
$(cluster_trials 1)
agents = (
CONF
for i in 1 2 3; do
	echo "  { node = \"n$i\"; url = \"https://10.228.$i.2:7443\"; token_file = \"$tmp/$(tok $i)\";" \
	     "ca = \"$tmp/ca.crt\"; lease_seconds = $lease; }," >> app.conf
done
sed -i '$ s/,$//' app.conf
echo ");" >> app.conf

wait_throttled() {
	for _ in $(seq 1 200); do throttled > /dev/null && return 0; kill -0 $run 2>/dev/null || break; sleep 0.05; done
	throttled > /dev/null
}
throttled() { for i in 1 2 3; do exact $i || { echo $i; return 0; }; done; return 1; }
# back_within LIMIT_MS SINCE NODES...: each node's time back at its operator's values, from SINCE (ms),
# into back<i>; fails a node that is not back by LIMIT_MS.
back_within() {
	limit=$1 since=$2; shift 2
	for i in "$@"; do eval "back$i="; done
	while :; do
		[ -n "$restart" ] && [ "$(ms)" -ge "$restart_at" ] && { start_agent $restart; restart=; }
		left=0 now=$(ms)
		for i in "$@"; do
			[ -n "$(eval "echo \$back$i")" ] && continue
			if exact $i; then eval "back$i=$((now - since))"; else left=1; fi
		done
		[ $left = 0 ] && [ -z "$restart" ] || [ $((now - since)) -gt "$limit" ] && break
		sleep 0.05
	done
	[ -n "$restart" ] && { start_agent $restart; restart=; }
	for i in "$@"; do
		b=$(eval "echo \$back$i")
		if [ -z "$b" ]; then
			bad "round $round ($kind): node $i still holds '$(values $i)' ${limit} ms on"
		else
			echo "round $round ($kind): node $i back in $b ms"
			[ "$b" -gt "$worst" ] && worst=$b
		fi
	done
}
# The run, ended: it must exit by itself (a status, not a signal), within 60 s.
run_ends() {
	for _ in $(seq 1 600); do kill -0 "$run" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$run" 2>/dev/null && { bad "round $round ($kind): the run hangs"; kill -9 "$run"; }
	wait "$run"; st=$?; run=
	[ $st -lt 128 ] || bad "round $round ($kind): the run died of signal $((st - 128))"
	echo "round $round ($kind): the run exited $st"
	grep "^throttlebot: " run$round.log | sed "s/^/round $round ($kind): run: /"
	# An agent that lifted a throttle of the run on its own: the run must say so, and not keep the
	# trial's measurement as the throttle's (or fail to restore it while the agent was down).
	[ "$(cat n1.log n2.log n3.log | grep -c "lease expired\|^throttlebot: restored ")" -gt "$lifted" ] &&
		! grep -q "failed: .*lifted by the agent\|could not restore" run$round.log &&
		bad "round $round ($kind): an agent lifted a throttle and the run kept the trial"
}
# kill_agent NODE: SIGKILL, and a restart due a random moment later (made by back_within's polling,
# which sees the nodes meanwhile).
kill_agent() {
	eval "old=\$agent$1"
	kill -9 $old; wait $old 2>/dev/null
	agents=$(echo " $agents " | sed "s/ $old / /")
	rand 1500; restart=$1 restart_at=$(( $(ms) + r ))
}
# After each round: restore finds nothing left to apply anywhere, and changes nothing.
restore_clean() {
	before="$(values 1)/$(values 2)/$(values 3)"
	"$tb" restore > restore$round.log 2>&1 || { bad "round $round ($kind): restore failed"; cat restore$round.log; }
	"$tb" restore --check > check$round.log 2>&1
	[ -e "$THROTTLEBOT_JOURNAL" ] && grep -q pending check$round.log &&
		{ bad "round $round ($kind): restore left the journal pending"; cat check$round.log; }
	[ "$(values 1)/$(values 2)/$(values 3)" = "$before" ] || bad "round $round ($kind): restore changed a value"
	for i in 1 2 3; do exact $i || bad "round $round ($kind): node $i holds '$(values $i)' after restore"; done
}

kinds="controller agent both stop"
began=$(ms)
worst=0 nctl=0 nagent=0 nboth=0 nstop=0 limit=$(( (lease + 1) * 1000 ))
round=0
while [ $round -lt "$rounds" ] && [ $fail = 0 ]; do
	round=$((round + 1))
	# A random kind, each of the four once in every four rounds.
	[ $(( (round - 1) % 4 )) = 0 ] && todo=$kinds
	set -- $todo; rand $#; shift $r; kind=$1
	todo=$(echo " $todo " | sed "s/ $kind / /")
	: > run$round.log
	"$tb" run app.conf > run$round.log 2>&1 &
	run=$!
	# Some throttle applied, a random moment more, and then whichever throttle is on (if the run
	# is not past its last).
	wait_throttled || { bad "round $round: the run applied no throttle"; tail -5 run$round.log; break; }
	rand 2000; pause $r
	wait_throttled
	lifted=$(cat n1.log n2.log n3.log | grep -c "lease expired\|^throttlebot: restored ")
	node=$(throttled) || { rand 3; node=$((r + 1)); }
	echo "round $round: $kind, node $node holds '$(values $node)'"
	case $kind in
	controller)
		nctl=$((nctl + 1))
		t0=$(ms); kill -9 $run; wait $run 2>/dev/null; run=
		back_within $limit "$t0" 1 2 3 ;;
	agent)
		nagent=$((nagent + 1))
		t0=$(ms); kill_agent $node
		back_within $limit "$t0" $node
		run_ends
		# Back within the lease: the run asks it again rather than give up on what it held.
		[ $st = 0 ] || bad "round $round (agent): the run gave up on an agent that restarted" ;;
	both)
		nboth=$((nboth + 1))
		t0=$(ms); kill -9 $run; wait $run 2>/dev/null; run=
		kill_agent $node
		back_within $limit "$t0" 1 2 3 ;;
	stop)
		nstop=$((nstop + 1))
		t0=$(ms); kill -STOP $run
		back_within $limit "$t0" 1 2 3
		while [ $(( $(ms) - t0 )) -le $limit ]; do sleep 0.1; done
		kill -CONT $run
		run_ends
		[ $st = 0 ] || bad "round $round (stop): the run did not go on after its throttles lapsed"
		for i in 1 2 3; do exact $i || bad "round $round (stop): node $i holds '$(values $i)' after the run"; done ;;
	esac
	restore_clean
done

for p in $agents; do kill -TERM "$p" 2>/dev/null; done
for p in $agents; do wait "$p" || bad "an agent exited $? on SIGTERM"; done
agents=
for i in 1 2 3; do exact $i || bad "node $i holds '$(values $i)' at the end"; done
all=exact; [ $fail = 0 ] || all="NOT exact"
echo "chaos: seed $seed, $round rounds (controller $nctl, agent $nagent, both $nboth, stop $nstop), worst time back $worst ms (limit $limit ms), $all, in $(( ($(ms) - began) / 1000 )) s"
[ $fail = 0 ] || for f in run$round.log n1.log n2.log n3.log; do echo "--- $f"; tail -25 $f; done
exit $fail
