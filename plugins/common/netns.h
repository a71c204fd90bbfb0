/* netns.h - run a function inside another network namespace without moving the calling thread. */
#ifndef TB_NETNS_H
#define TB_NETNS_H

/*
 * Run fn(arg) in a new thread that has joined the network namespace at path
 * (/proc/PID/ns/net, /run/netns/NAME, ...) and return its result.  Only that
 * thread changes namespace, so the caller's (and every other thread's) stays
 * put.  Sockets created by fn stay bound to that namespace after it returns,
 * which is how callers keep working there.  path NULL runs fn in place.
 * Returns fn's result, or -errno if the namespace cannot be joined.
 */
int tb_netns_run(const char *path, int (*fn)(void *arg), void *arg);

/* The identity (st_dev, st_ino) of the namespace at path (NULL: the
 * caller's), to tell namespaces apart.  0 or -errno. */
int tb_netns_id(const char *path, unsigned long long *dev, unsigned long long *ino);

#endif
