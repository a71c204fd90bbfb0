/* tc_link.c - a target's network devices: netlink connections per namespace, its interface, its veth peer, link speed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/ethtool.h>
#include <linux/net_namespace.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>
#include "netns.h"
#include "tc_link.h"
#include "tc_tree.h"

int tc_netns_id(const char *path, unsigned long long *dev, unsigned long long *ino)
{
	struct stat sb;

	if (stat(path ? path : "/proc/self/ns/net", &sb) < 0)
		return -errno;
	*dev = sb.st_dev;
	*ino = sb.st_ino;
	return 0;
}

void tc_conns_init(struct tc_conns *cs)
{
	memset(cs, 0, sizeof(*cs));
	for (unsigned i = 0; i < TC_NCONN; i++)
		cs->conn[i].ioc = -1;
}

static void conn_close(struct tc_conn *c)
{
	if (c->sk)
		nl_socket_free(c->sk);
	if (c->ioc >= 0)
		close(c->ioc);
	c->sk = NULL;
	c->ioc = -1;
}

void tc_conns_close(struct tc_conns *cs)
{
	for (unsigned i = 0; i < TC_NCONN; i++)
		conn_close(&cs->conn[i]);
}

/* Runs in a thread inside the namespace: sockets stay bound to it. */
static int open_conn(void *arg)
{
	struct tc_conn *c = arg;
	int err;

	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -ENOMEM;
	err = nl_connect(c->sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(c->sk);
		c->sk = NULL;
		return tb_nl_errno(err);
	}
	c->ioc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return 0;
}

/* Close connections whose namespace can no longer be reached by its path. */
static void sweep(struct tc_conns *cs)
{
	unsigned long long dev, ino;

	for (unsigned i = 0; i < TC_NCONN; i++) {
		struct tc_conn *c = &cs->conn[i];

		if (c->sk && c->path[0] &&
		    (tc_netns_id(c->path, &dev, &ino) < 0 || dev != c->dev || ino != c->ino))
			conn_close(c);
	}
}

int tc_conn_get(struct tc_conns *cs, const char *netns, struct tc_conn **out)
{
	unsigned long long dev, ino;
	struct tc_conn *c = NULL;
	int r = tc_netns_id(netns, &dev, &ino);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < TC_NCONN; i++) {
		if (cs->conn[i].sk && cs->conn[i].dev == dev && cs->conn[i].ino == ino) {
			*out = &cs->conn[i];
			return 0;
		}
	}
	sweep(cs);
	for (unsigned i = 0; i < TC_NCONN && !c; i++)
		if (!cs->conn[i].sk)
			c = &cs->conn[i];
	if (!c)
		c = &cs->conn[cs->next++ % TC_NCONN];
	conn_close(c);
	r = tb_netns_run(netns, open_conn, c);
	if (r < 0)
		return r;
	c->dev = dev;
	c->ino = ino;
	snprintf(c->path, sizeof(c->path), "%s", netns ? netns : "");
	*out = c;
	return 0;
}

int tc_find_interface(struct nl_sock *sk, const char *ifname, const char *skip_prefix,
		      struct rtnl_link **out)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int err;

	*out = NULL;
	if (ifname)
		return tb_nl_errno(rtnl_link_get_kernel(sk, 0, ifname, out));
	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err < 0)
		return tb_nl_errno(err);
	for (o = nl_cache_get_first(cache); o && !*out; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		unsigned flags = rtnl_link_get_flags(l);
		const char *name = rtnl_link_get_name(l);

		if ((flags & IFF_UP) && !(flags & IFF_LOOPBACK) && name &&
		    strncmp(name, skip_prefix, strlen(skip_prefix))) {
			nl_object_get(o);
			*out = l;
		}
	}
	nl_cache_free(cache);
	return *out ? 0 : -ENODEV;
}

struct nsid_reply {
	int found;
	int32_t nsid;
};

static int nsid_one(struct nl_msg *msg, void *arg)
{
	struct nsid_reply *r = arg;
	struct nlattr *tb[NETNSA_MAX + 1];

	if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct rtgenmsg), tb, NETNSA_MAX, NULL) == 0 &&
	    tb[NETNSA_NSID]) {
		r->found = 1;
		r->nsid = (int32_t)nla_get_u32(tb[NETNSA_NSID]);
	}
	return NL_OK;
}

/* The id that the namespace of sk gives our own namespace, or -1 if none. */
static int our_nsid(struct nl_sock *sk, int32_t *nsid)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct nsid_reply r = { 0 };
	struct nl_msg *msg;
	int fd, err;

	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	msg = nlmsg_alloc_simple(RTM_GETNSID, 0);
	if (!msg || nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, NETNSA_FD, (uint32_t)fd) < 0) {
		nlmsg_free(msg);
		close(fd);
		return -ENOMEM;
	}
	err = tb_nl_request(sk, msg, nsid_one, &r);
	close(fd);
	*nsid = r.found ? r.nsid : -1;
	return err;
}

/*
 * iflink alone names an ifindex in the peer's namespace, which may be any
 * (two containers joined directly, say) and ifindexes repeat across
 * namespaces.  The link's IFLA_LINK_NETNSID, compared with the id its
 * namespace gives ours, says whether the peer is here.
 */
int tc_host_peer(struct nl_sock *sk, struct rtnl_link *link, int *peer)
{
	int32_t peer_nsid, ours = -1;
	int r;

	*peer = 0;
	if (rtnl_link_get_link_netnsid(link, &peer_nsid) < 0 || rtnl_link_get_link(link) <= 0)
		return 0;   /* not a link to another namespace */
	r = our_nsid(sk, &ours);
	if (r == 0 && ours >= 0 && ours == peer_nsid)
		*peer = rtnl_link_get_link(link);
	return r;
}

void tc_link_mac(struct rtnl_link *link, char *buf, size_t size)
{
	struct nl_addr *a = rtnl_link_get_addr(link);

	buf[0] = '\0';
	if (a && nl_addr_get_len(a) > 0)
		nl_addr2str(a, buf, size);
}

double tc_link_speed(const struct tc_conn *c, const char *ifname)
{
	struct ethtool_cmd cmd = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr;
	uint32_t mbps;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&cmd;
	if (c->ioc < 0)
		return -EBADF;
	if (ioctl(c->ioc, SIOCETHTOOL, &ifr) < 0)
		return -errno;
	mbps = ethtool_cmd_speed(&cmd);
	if (mbps == 0 || mbps == (uint32_t)SPEED_UNKNOWN)
		return -ENODATA;
	return mbps * 1e6 / 8;
}
