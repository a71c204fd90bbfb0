#!/bin/sh
# leftovers.sh - fail if a run or a test left ThrottleBot's state on this host: cgroups, qdiscs, namespaces, journal, test servers.
set -u
left=0
found=$(find /sys/fs/cgroup -maxdepth 3 -type d -name '*throttlebot*' 2>/dev/null)
[ -n "$found" ] && { echo "leftover cgroups:"; echo "$found"; left=1; }
ns=$(ip netns list 2>/dev/null | grep throttlebot)
[ -n "$ns" ] && { echo "leftover network namespaces:"; echo "$ns"; left=1; }
qd=$(tc qdisc show 2>/dev/null | grep -E 'htb|tbf|ingress' )
[ -n "$qd" ] && { echo "leftover qdiscs:"; echo "$qd"; left=1; }
pg=$(pgrep -af 'throttlebot-pg\.' 2>/dev/null; ls -d /var/tmp/throttlebot-pg.* 2>/dev/null)
[ -n "$pg" ] && { echo "leftover PostgreSQL servers or directories of tests/postgres-ready.sh:"; echo "$pg"; left=1; }
[ -e /run/throttlebot/journal ] && { echo "leftover journal: /run/throttlebot/journal"; left=1; }
exit $left
