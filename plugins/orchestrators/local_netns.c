/* local_netns.c - create and remove a service's own network namespace and its veth pair, through libnl. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "local_netns.h"
#include "netns.h"

static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0: return 0;
	case NLE_EXIST: return -EEXIST;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND: return -ENODEV;
	case NLE_PERM: return -EPERM;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_INVAL: return -EINVAL;
	default: return -EIO;
	}
}

static struct nl_sock *route_socket(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		sk = NULL;
	}
	return sk;
}

/* Give ifname the address (if any) and bring it up. */
static int configure(struct nl_sock *sk, const char *ifname, const char *address)
{
	struct rtnl_link *link = NULL, *change = NULL;
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	int r;

	r = rtnl_link_get_kernel(sk, 0, ifname, &link);
	if (r == 0 && address) {
		r = nl_addr_parse(address, AF_INET, &local);
		if (r == 0 && !(addr = rtnl_addr_alloc()))
			r = -NLE_NOMEM;
		if (r == 0) {
			rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(link));
			r = rtnl_addr_set_local(addr, local);
		}
		if (r == 0)
			r = rtnl_addr_add(sk, addr, 0);
	}
	if (r == 0 && !(change = rtnl_link_alloc()))
		r = -NLE_NOMEM;
	if (r == 0) {
		rtnl_link_set_flags(change, IFF_UP);
		r = rtnl_link_change(sk, link, change, 0);
	}
	if (change)
		rtnl_link_put(change);
	if (addr)
		rtnl_addr_put(addr);
	if (local)
		nl_addr_put(local);
	if (link)
		rtnl_link_put(link);
	return r;
}

struct inner {
	const char *nspath;     /* create: bind the new namespace here */
	const char *address;    /* configure: the inner end's address */
	int nlerr;
};

/* In its own thread: a fresh namespace, kept alive by a bind mount. */
static int make_ns(void *arg)
{
	struct inner *in = arg;

	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	if (mount("/proc/thread-self/ns/net", in->nspath, "none", MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

/* In a thread inside the namespace: loopback and the inner end up. */
static int configure_inside(void *arg)
{
	struct inner *in = arg;
	struct nl_sock *sk = route_socket();
	int r;

	if (!sk)
		return -ENOMEM;
	r = configure(sk, "lo", NULL);
	if (r == 0)
		r = configure(sk, TB_INNER_IF, in->address);
	nl_socket_free(sk);
	in->nlerr = r;
	return nl_to_errno(r);
}

static int add_veth(struct nl_sock *sk, const char *host_if, int nsfd)
{
	struct rtnl_link *veth = rtnl_link_veth_alloc(), *peer;
	int r;

	if (!veth)
		return -NLE_NOMEM;
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host_if);
	rtnl_link_set_name(peer, TB_INNER_IF);
	rtnl_link_set_ns_fd(peer, nsfd);
	r = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(veth);
	return r;
}

static int ours(const char *nspath)
{
	static const char prefix[] = TB_NETNS_DIR "/" TB_NETNS_PREFIX;

	return !strncmp(nspath, prefix, sizeof(prefix) - 1) && !strchr(nspath + sizeof(prefix) - 1, '/');
}

int tb_local_net_create(const struct tb_host *h, const char *nspath, const char *host_if,
			const char *host_address, const char *address)
{
	struct inner in = { nspath, address, 0 };
	struct nl_sock *sk = NULL;
	int fd, nsfd = -1, r, nlr = 0;

	if (!ours(nspath))
		return -EINVAL;
	if (mkdir(TB_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* The mount point: a plain file, as "ip netns add" makes. */
	fd = open(nspath, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		TB_LOG(h, TB_LOG_ERROR, "cannot create %s: %s", nspath, strerror(-r));
		return r;
	}
	close(fd);
	r = tb_netns_run(NULL, make_ns, &in);
	if (r < 0) {
		TB_LOG(h, TB_LOG_ERROR, "cannot create network namespace %s: %s", nspath, strerror(-r));
		unlink(nspath);
		return r;
	}
	nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	sk = route_socket();
	if (nsfd < 0 || !sk)
		r = nsfd < 0 ? -errno : -ENOMEM;
	if (r == 0 && (nlr = add_veth(sk, host_if, nsfd)) < 0)
		r = nl_to_errno(nlr);
	if (r == 0 && (nlr = configure(sk, host_if, host_address)) < 0)
		r = nl_to_errno(nlr);
	if (r == 0 && (r = tb_netns_run(nspath, configure_inside, &in)) < 0)
		nlr = in.nlerr;
	if (r < 0)
		TB_LOG(h, TB_LOG_ERROR, "cannot set up veth %s <-> %s in %s: %s", host_if, TB_INNER_IF,
		       nspath, nlr ? nl_geterror(nlr) : strerror(-r));
	if (nsfd >= 0)
		close(nsfd);
	if (sk)
		nl_socket_free(sk);
	if (r < 0) {
		tb_local_net_remove_link(h, host_if);
		tb_local_net_remove_ns(h, nspath);
	}
	return r;
}

int tb_local_net_remove_link(const struct tb_host *h, const char *host_if)
{
	struct nl_sock *sk;
	struct rtnl_link *link = NULL;
	const char *kind;
	int r;

	if (strncmp(host_if, TB_VETH_PREFIX, strlen(TB_VETH_PREFIX)))
		return -EINVAL;
	sk = route_socket();
	if (!sk)
		return -ENOMEM;
	r = rtnl_link_get_kernel(sk, 0, host_if, &link);
	if (r < 0) {
		nl_socket_free(sk);
		return nl_to_errno(r) == -ENODEV ? 0 : nl_to_errno(r);
	}
	kind = rtnl_link_get_type(link);
	if (kind && !strcmp(kind, "veth")) {
		r = rtnl_link_delete(sk, link);
		if (r < 0 && nl_to_errno(r) != -ENODEV)
			TB_LOG(h, TB_LOG_WARNING, "cannot delete %s: %s", host_if, nl_geterror(r));
		r = nl_to_errno(r) == -ENODEV ? 0 : nl_to_errno(r);
	} else {
		TB_LOG(h, TB_LOG_WARNING, "%s is not a veth: left alone", host_if);
		r = 0;
	}
	rtnl_link_put(link);
	nl_socket_free(sk);
	return r;
}

int tb_local_net_remove_ns(const struct tb_host *h, const char *nspath)
{
	if (!ours(nspath))
		return -EINVAL;
	/* Detach: a process still inside keeps the namespace until it exits,
	 * but the name goes now. */
	if (umount2(nspath, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		TB_LOG(h, TB_LOG_WARNING, "cannot unmount %s: %s", nspath, strerror(errno));
	if (unlink(nspath) < 0 && errno != ENOENT) {
		int r = -errno;

		TB_LOG(h, TB_LOG_WARNING, "cannot remove %s: %s", nspath, strerror(-r));
		return r;
	}
	return 0;
}
