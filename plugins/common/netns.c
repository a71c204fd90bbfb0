/* netns.c - run network work inside another network namespace, from a dedicated thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"

struct job {
	const char *nspath;
	int (*fn)(void *arg);
	void *arg;
	int result;
};

static void *thread_main(void *p)
{
	struct job *j = p;
	int fd;

	if (j->nspath) {
		fd = open(j->nspath, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			j->result = -errno;
			return NULL;
		}
		if (setns(fd, CLONE_NEWNET) < 0) {
			j->result = -errno;
			close(fd);
			return NULL;
		}
		close(fd);
	}
	j->result = j->fn(j->arg);
	return NULL;
}

int tb_netns_run(const char *nspath, int (*fn)(void *arg), void *arg)
{
	struct job j = { nspath, fn, arg, 0 };
	pthread_t t;
	int r;

	r = pthread_create(&t, NULL, thread_main, &j);
	if (r)
		return -r;
	pthread_join(t, NULL);
	return j.result;
}

struct first_iface {
	char *name;
	size_t size;
	int best;
};

static void pick(struct nl_object *o, void *arg)
{
	struct rtnl_link *l = (struct rtnl_link *)o;
	struct first_iface *fi = arg;
	int idx = rtnl_link_get_ifindex(l);
	const char *name = rtnl_link_get_name(l);

	if ((rtnl_link_get_flags(l) & IFF_LOOPBACK) || !name)
		return;
	if (fi->best == 0 || idx < fi->best) {
		fi->best = idx;
		snprintf(fi->name, fi->size, "%s", name);
	}
}

static int find_first(void *arg)
{
	struct first_iface *fi = arg;
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r == 0)
		r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	nl_cache_foreach(cache, pick, fi);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return fi->best ? 0 : -ENODEV;
}

int tb_netns_first_iface(const char *nspath, char *ifname, size_t size)
{
	struct first_iface fi = { ifname, size, 0 };

	if (size)
		ifname[0] = '\0';
	return tb_netns_run(nspath, find_first, &fi);
}

int tb_netns_is_own(const char *nspath)
{
	struct stat a, b;

	if (stat(nspath, &a) < 0 || stat("/proc/self/ns/net", &b) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
