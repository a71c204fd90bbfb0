/* netns.h - do network work inside another network namespace, from a dedicated thread. */
#ifndef TB_NETNS_H
#define TB_NETNS_H

#include <stddef.h>

/*
 * setns() changes only the calling thread's namespace, so the work runs in a
 * thread of its own that joins nspath and ends: the caller's threads never
 * leave their namespace, and netlink sockets opened by fn talk to nspath.
 * Returns fn's result, or -errno if the thread or setns() failed.  A NULL
 * nspath runs fn in a thread of the current namespace.
 */
int tb_netns_run(const char *nspath, int (*fn)(void *arg), void *arg);

/* The first interface (lowest index) that is not a loopback, through libnl.
 * -ENODEV when there is none. */
int tb_netns_first_iface(const char *nspath, char *ifname, size_t size);

/* 1 if nspath is the caller's own network namespace, 0 if not, -errno. */
int tb_netns_is_own(const char *nspath);

#endif
