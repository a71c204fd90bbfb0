/* tc_link.h - a target's network devices: netlink connections per namespace, its interface, its veth peer, link speed. */
#ifndef TB_TC_LINK_H
#define TB_TC_LINK_H

#include <stddef.h>

struct nl_sock;
struct rtnl_link;

/* A route-netlink socket (and an ioctl socket, for ethtool) bound to one
 * network namespace.  Opening one costs a thread, so they are kept. */
struct tc_conn {
	unsigned long long dev, ino;   /* the namespace's identity */
	char path[256];                /* how it was reached, "" = ours */
	struct nl_sock *sk;
	int ioc;
};

#define TC_NCONN 8

struct tc_conns {
	struct tc_conn conn[TC_NCONN];
	unsigned next;
};

/* The identity (st_dev, st_ino) of the namespace at path (NULL: ours), to
 * tell namespaces apart.  0 or -errno. */
int tc_netns_id(const char *path, unsigned long long *dev, unsigned long long *ino);

void tc_conns_init(struct tc_conns *cs);
void tc_conns_close(struct tc_conns *cs);
/* The connection to the namespace at netns (NULL: ours), opened on first
 * use.  A socket keeps its namespace alive, so before opening one, those
 * whose namespace is gone (a stopped container's) are closed; then the
 * oldest makes room.  0 or -errno. */
int tc_conn_get(struct tc_conns *cs, const char *netns, struct tc_conn **out);

/* The link named ifname, or if ifname is NULL the first one that is up, not
 * loopback and not named skip_prefix*.  -ENODEV if there is none. */
int tc_find_interface(struct nl_sock *sk, const char *ifname, const char *skip_prefix,
		      struct rtnl_link **out);

/* If link (seen through sk, in another namespace) is a veth whose other end
 * is in our own namespace, that end's ifindex in *peer, else 0.  0 or -errno. */
int tc_host_peer(struct nl_sock *sk, struct rtnl_link *link, int *peer);

/* link's hardware address as "aa:bb:...", or "" if it has none. */
void tc_link_mac(struct rtnl_link *link, char *buf, size_t size);

/* The link speed of ifname in bytes/s (ethtool), or -errno: -ENODATA when
 * the driver does not know it.  veth says 10 Gb/s. */
double tc_link_speed(const struct tc_conn *c, const char *ifname);

#endif
