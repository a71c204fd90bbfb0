# agent-lib.sh - for the agent tests: make, in the current directory, a CA (ca.crt), the agent's certificate
# for the addresses given (server.crt, server.key), a client certificate from the CA (client.crt,
# client.key), one from no known CA (rogue.crt, rogue.key) and bearer tokens (token, token1, token2).
# Usage: agent_certs IP...  Sourced after the test defines cleanup(), which it then runs on exit.
tmp=${tmp:-}          # a test that skips before it has one still cleans up
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
bad() { echo "FAILED: $*"; fail=1; }

agent_certs() {
	san=$(printf 'IP:%s,' "$@"); san=${san%,}
	ossl() { openssl "$@" >/dev/null 2>&1 || { echo "FAILED: openssl $1"; exit 1; }; }
	ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca
	ossl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=agent
	printf 'subjectAltName=%s\n' "$san" > san.ext
	ossl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext
	ossl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=controller
	ossl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2
	ossl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -days 2 -subj /CN=rogue
	for t in token token1 token2; do head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > $t; done
	chmod 600 token token1 token2 server.key client.key rogue.key
}

# agent_node NAMESPACE HOSTIF NET: a "node", the network namespace NAMESPACE, at NET.2 on its eth0, reached
# from this host at NET.1 over the veth HOSTIF (at most 15 characters).
agent_node() {
	ip netns add "$1" && ip link add "$2" type veth peer name eth0 netns "$1" &&
	ip addr add "$3.1/24" dev "$2" && ip link set "$2" up &&
	ip -n "$1" addr add "$3.2/24" dev eth0 && ip -n "$1" link set eth0 up &&
	ip -n "$1" link set lo up || { echo "FAILED: cannot make node $1"; exit 1; }
}

# agent_conf FILE LISTEN TOKEN NAME [EXTRA] [THROTTLERS]: an agent's configuration listening on LISTEN,
# with the certificate agent_certs made, the token in the file TOKEN, its journal and lock NAME-journal
# and NAME-lock, the throttler groups THROTTLERS (default: the cpu_quota throttler), and EXTRA (more
# settings) if given; all in this directory.
agent_conf() {
	conf_throttlers=${6:-'{ plugin = "cpu_quota"; }'}
	cat > "$1" <<CONF
listen = "$2";
certificate = "$PWD/server.crt";
key = "$PWD/server.key";
token_file = "$PWD/$3";
journal = "$PWD/$4-journal";
lock = "$PWD/$4-lock";
throttlers = ( $conf_throttlers );
${5:-}
CONF
}

# cluster_trials SECONDS: a cluster test's search, short: two baselines, then one trial at stress 0.5 of
# each pair, each trial a sleep of SECONDS.
cluster_trials() {
	cat <<CONF
metrics = ( { plugin = "command"; command = ["/bin/sleep", "$1"]; } );
stress_levels = [0.5];
trials = 1;
baseline_trials = 2;
warmup_trials = 0;
max_extra_trials = 0;
CONF
}

# cluster_stop: end what a cluster test started, as its cleanup does: the controller run (killed, then
# `throttlebot restore` for what it left), the agents (SIGTERM: each restores what it holds), the pids.
cluster_stop() {
	[ -n "${run:-}" ] && kill -9 "$run" 2>/dev/null
	[ -n "${run:-}" ] && "$tb" restore >/dev/null 2>&1
	for p in ${agents:-}; do kill -TERM "$p" 2>/dev/null; done
	for p in ${pids:-}; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}

# agent_pending JOURNAL: how many records an agent's journal holds applied and not done (each record is
# an escaped string in a line of its own).
agent_pending() {
	echo $(( $(grep -cF 'op\":\"apply' "$1") - $(grep -cF 'op\":\"done' "$1") ))
}

# agent_start NAMESPACE CONF LOG: an agent with the configuration CONF (in this directory) in the network
# namespace NAMESPACE, its output in LOG; its pid is added to $agents, for the test's cleanup to stop.
agent_start() {
	nsenter --net="/run/netns/$1" "$tb" agent --config "$PWD/$2" > "$3" 2>&1 &
	agents="$agents $!"
}

# agent_wait LOG...: until every agent whose output is a LOG listens (at most 5 s); else 1, the logs shown.
agent_wait() {
	local l up
	for _ in $(seq 1 50); do
		up=0
		for l; do grep -q listening "$l" && up=$((up + 1)); done
		[ "$up" = $# ] && return 0
		sleep 0.1
	done
	bad "the agents did not start"
	cat "$@"
	return 1
}

# agent_opens NAMESPACE: how many TCP connections were accepted in the network namespace NAMESPACE so far.
agent_opens() {
	ip netns exec "$1" awk '$1 == "Tcp:" {
		if (!c) { for (i = 2; i <= NF; i++) if ($i == "PassiveOpens") c = i } else print $c }' /proc/net/snmp
}

# cluster_begin NAME [PROGRAM...]: skip (77) without root, the cgroup v1 cpu hierarchy (and those named in
# CLUSTER_HIERARCHIES), openssl, nsenter, ip or a PROGRAM; then set tb (the program under test), tmp (a
# private directory /tmp/throttlebot-NAME-*, where the test goes) and a journal and lock of the test's own.
cluster_begin() {
	name=$1; shift
	[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
	for h in cpu ${CLUSTER_HIERARCHIES:-}; do
		[ -d /sys/fs/cgroup/$h ] || { echo "skipped: needs the cgroup v1 $h hierarchy"; exit 77; }
	done
	for p in openssl nsenter ip "$@"; do command -v $p >/dev/null || { echo "skipped: needs $p"; exit 77; }; done
	tb=$abs_top_builddir/throttlebot
	tmp=$(mktemp -d "/tmp/throttlebot-$name-XXXXXX") && chmod 700 "$tmp" && cd "$tmp" || exit 1
	export THROTTLEBOT_JOURNAL=$tmp/journal THROTTLEBOT_LOCK=$tmp/lock
}
