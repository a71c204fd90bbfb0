/* tc.c - throttle a target's network bandwidth with an HTB shaper, set up through libnl in its namespace. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/net_namespace.h>
#include <linux/pkt_cls.h>
#include <linux/sockios.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/action.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/act/mirred.h>
#include <throttlebot/plugin.h>
#include "netns.h"
#include "tc_tree.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1"
#endif

/* The handle of the root qdisc ThrottleBot installs, and its one class:
 * "b07:" and "b07:1".  Anything else on a device is someone else's. */
#define TB_QDISC  0x0b070000u
#define TB_CLASS  0x0b070001u
#define IFB_PREFIX "tbifb"

enum { DIR_EGRESS = 1, DIR_INGRESS = 2 };

/* A route-netlink socket (and an ioctl socket for ethtool) bound to one
 * network namespace.  Kept per instance: opening one costs a thread. */
struct ns_conn {
	unsigned long long dev, ino;
	struct nl_sock *sk;
	int ioc;
};

#define NCONN 4
#define NPROBED 8

struct tc_state {
	const struct tb_host *h;
	double capacity;               /* bytes/s from the settings, 0 = link speed */
	int dirs;
	struct ns_conn conn[NCONN];
	unsigned next_conn;
	struct {
		unsigned long long ns_ino;
		int ifindex;
		double capacity;
	} probed[NPROBED];
	unsigned next_probed;
};

static const struct tb_setting_spec settings[] = {
	{ "capacity", TB_SETTING_STRING, 0,
	  "the path's bandwidth: \"1gbit\", \"100mbit\", \"12500000\" (bytes/s); default: link speed" },
	{ "direction", TB_SETTING_STRING, 0,
	  "\"egress\" (what the service sends, default), \"ingress\" (what it receives) or \"both\"" },
	{ NULL, 0, 0, NULL },
};

/* ---- settings ----------------------------------------------------------- */

/* A rate as tc writes it: bits per second with bit/kbit/mbit/gbit/tbit (or
 * kibit...), bytes per second with bps/kbps/mbps/gbps, or a bare number of
 * bytes per second.  Returns bytes/s, or -1. */
static double parse_rate(const char *s)
{
	static const struct { const char *unit; double bytes; } units[] = {
		{ "", 1 }, { "bps", 1 }, { "kbps", 1e3 }, { "mbps", 1e6 }, { "gbps", 1e9 },
		{ "tbps", 1e12 }, { "bit", 1.0 / 8 }, { "kbit", 1e3 / 8 }, { "mbit", 1e6 / 8 },
		{ "gbit", 1e9 / 8 }, { "tbit", 1e12 / 8 }, { "kibit", 1024.0 / 8 },
		{ "mibit", 1048576.0 / 8 }, { "gibit", 1073741824.0 / 8 },
	};
	char *end;
	double v = strtod(s, &end);

	if (end == s || !(v > 0) || !isfinite(v))
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].unit))
			return v * units[i].bytes;
	return -1;
}

static void close_conns(struct tc_state *st)
{
	for (unsigned i = 0; i < NCONN; i++) {
		if (st->conn[i].sk)
			nl_socket_free(st->conn[i].sk);
		if (st->conn[i].ioc >= 0)
			close(st->conn[i].ioc);
		st->conn[i].sk = NULL;
		st->conn[i].ioc = -1;
	}
}

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct tc_state *st = calloc(1, sizeof(*st));
	const char *s;
	int r;

	if (!st)
		return -ENOMEM;
	st->h = h;
	st->dirs = DIR_EGRESS;
	for (unsigned i = 0; i < NCONN; i++)
		st->conn[i].ioc = -1;
	r = h->get_string(h, cfg, "capacity", &s);
	if (r == 0) {
		st->capacity = parse_rate(s);
		if (st->capacity <= 0)
			r = h->config_error(h, cfg, "capacity",
					    "'%s' is not a rate (try \"1gbit\", \"100mbit\" or bytes/s)", s);
	}
	if (r == 0 || r == -ENOENT) {
		r = h->get_string(h, cfg, "direction", &s);
		if (r == 0) {
			if (!strcmp(s, "egress"))
				st->dirs = DIR_EGRESS;
			else if (!strcmp(s, "ingress"))
				st->dirs = DIR_INGRESS;
			else if (!strcmp(s, "both"))
				st->dirs = DIR_EGRESS | DIR_INGRESS;
			else
				r = h->config_error(h, cfg, "direction",
						    "must be \"egress\", \"ingress\" or \"both\", not '%s'", s);
		}
	}
	if (r < 0 && r != -ENOENT) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static void fini(void *state)
{
	struct tc_state *st = state;

	close_conns(st);
	free(st);
}

/* ---- namespaces --------------------------------------------------------- */

static int open_conn(void *arg)
{
	struct ns_conn *c = arg;
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

/* The connection to netns (NULL: ours), opened on first use. */
static int get_conn(struct tc_state *st, const char *netns, struct ns_conn **out)
{
	unsigned long long dev, ino;
	struct ns_conn *c;
	int r = tb_netns_id(netns, &dev, &ino);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < NCONN; i++) {
		if (st->conn[i].sk && st->conn[i].dev == dev && st->conn[i].ino == ino) {
			*out = &st->conn[i];
			return 0;
		}
	}
	c = &st->conn[st->next_conn++ % NCONN];
	if (c->sk)
		nl_socket_free(c->sk);
	if (c->ioc >= 0)
		close(c->ioc);
	c->sk = NULL;
	c->ioc = -1;
	r = tb_netns_run(netns, open_conn, c);
	if (r < 0)
		return r;
	c->dev = dev;
	c->ino = ino;
	*out = c;
	return 0;
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
	struct nl_cb *cb;
	int fd, err;

	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	msg = nlmsg_alloc_simple(RTM_GETNSID, 0);
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	err = -ENOMEM;
	if (msg && cb && nlmsg_append(msg, &g, sizeof(g), NLMSG_ALIGNTO) == 0 &&
	    nla_put_u32(msg, NETNSA_FD, (uint32_t)fd) == 0) {
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nsid_one, &r);
		err = nl_send_auto(sk, msg);
		if (err >= 0)
			err = nl_recvmsgs(sk, cb);
		/* the reply and the ack come apart: leave none behind */
		if (err >= 0)
			err = nl_wait_for_ack(sk);
		err = tb_nl_errno(err < 0 ? err : 0);
	}
	nlmsg_free(msg);
	nl_cb_put(cb);
	close(fd);
	*nsid = r.found ? r.nsid : -1;
	return err;
}

/* ---- devices ------------------------------------------------------------ */

/* One device ThrottleBot shapes for a target. */
enum leg_kind {
	LEG_EGRESS,    /* the target's interface: what it sends */
	LEG_PEER,      /* the host side of its veth pair: what it receives */
	LEG_IFB,       /* an IFB fed from its interface's ingress: what it receives */
};

static const char *const leg_names[] = { "egress", "peer", "ifb" };

struct leg {
	enum leg_kind kind;
	char netns[1024];          /* "" = ours */
	char ifname[IF_NAMESIZE];
	int ifindex;
	char ifb[IF_NAMESIZE];     /* LEG_IFB: the device we create */
	struct tb_tc_tree tree;    /* LEG_EGRESS, LEG_PEER: what to put back */
};

static const char *leg_ns(const struct leg *l)
{
	return l->netns[0] ? l->netns : NULL;
}

static int is_ours(const struct tb_tc_tree *t)
{
	return t->n && t->node[0].handle == TB_QDISC && !strcmp(t->node[0].kind, "htb");
}

/* The target's interface: named, or the first one up that is not loopback
 * (nor an IFB of ours). */
static int find_interface(struct tc_state *st, struct nl_sock *sk, const struct tb_target *t,
			  struct rtnl_link **out)
{
	struct nl_cache *cache;
	struct nl_object *o;
	int err;

	*out = NULL;
	if (t->ifname) {
		err = rtnl_link_get_kernel(sk, 0, t->ifname, out);
		if (err < 0)
			TB_LOG(st->h, TB_LOG_ERROR, "%s: no interface %s in %s", t->id, t->ifname,
			       t->netns ? t->netns : "the host's namespace");
		return tb_nl_errno(err);
	}
	err = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (err < 0)
		return tb_nl_errno(err);
	for (o = nl_cache_get_first(cache); o && !*out; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		unsigned flags = rtnl_link_get_flags(l);
		const char *name = rtnl_link_get_name(l);

		if ((flags & IFF_UP) && !(flags & IFF_LOOPBACK) && name &&
		    strncmp(name, IFB_PREFIX, strlen(IFB_PREFIX))) {
			nl_object_get(o);
			*out = l;
		}
	}
	nl_cache_free(cache);
	if (!*out) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: no interface up in %s", t->id,
		       t->netns ? t->netns : "the host's namespace");
		return -ENODEV;
	}
	return 0;
}

/* Fill l->tree from the device, refusing what could not be put back. */
static int read_tree(struct tc_state *st, struct nl_sock *sk, struct leg *l, const char *id)
{
	char why[160];
	int r = tb_tc_tree_read(sk, l->ifindex, &l->tree, why, sizeof(why));

	if (r == -EOPNOTSUPP || r == -ENOENT)
		TB_LOG(st->h, TB_LOG_ERROR,
		       "%s: will not replace the root qdisc of %s: %s; it could not be restored exactly",
		       id, l->ifname, why);
	else if (r == 0 && is_ours(&l->tree)) {
		TB_LOG(st->h, TB_LOG_ERROR,
		       "%s: %s already has ThrottleBot's shaper (b07:), left by an interrupted run: "
		       "run 'throttlebot restore' first", id, l->ifname);
		r = -EEXIST;
	}
	return r;
}

static int ingress_qdisc_present(struct nl_sock *sk, int ifindex, int *present)
{
	struct nl_cache *cache;
	struct rtnl_qdisc *q;
	int err = rtnl_qdisc_alloc_cache(sk, &cache);

	if (err < 0)
		return tb_nl_errno(err);
	q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_INGRESS);
	*present = q != NULL;
	if (q)
		rtnl_qdisc_put(q);
	nl_cache_free(cache);
	return 0;
}

/* Work out the devices to shape for t; capacity probing uses legs[0]. */
static int resolve(struct tc_state *st, const struct tb_target *t, int dirs, struct leg *legs,
		   int *nlegs, int read_trees)
{
	struct ns_conn *c, *host;
	struct rtnl_link *link;
	int r, n = 0;

	*nlegs = 0;
	r = get_conn(st, t->netns, &c);
	if (r < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: cannot enter network namespace %s: %s", t->id,
		       t->netns, strerror(-r));
		return r;
	}
	r = find_interface(st, c->sk, t, &link);
	if (r < 0)
		return r;
	memset(&legs[0], 0, sizeof(legs[0]));
	snprintf(legs[0].netns, sizeof(legs[0].netns), "%s", t->netns ? t->netns : "");
	snprintf(legs[0].ifname, sizeof(legs[0].ifname), "%s", rtnl_link_get_name(link));
	legs[0].ifindex = rtnl_link_get_ifindex(link);
	legs[0].kind = LEG_EGRESS;
	if (dirs & DIR_EGRESS) {
		if (read_trees && (r = read_tree(st, c->sk, &legs[0], t->id)) < 0)
			goto out;
		n = 1;
	}
	if (dirs & DIR_INGRESS) {
		struct leg *l = &legs[n];
		int32_t peer_nsid = -1, host_nsid = -2;
		int present;

		if (n)
			memcpy(l, &legs[0], sizeof(*l));
		/* a veth whose other end is in our namespace: shape that end */
		if (t->netns && rtnl_link_get_link_netnsid(link, &peer_nsid) == 0 &&
		    (r = our_nsid(c->sk, &host_nsid)) == 0 && peer_nsid == host_nsid &&
		    rtnl_link_get_link(link) > 0 && (r = get_conn(st, NULL, &host)) == 0) {
			struct rtnl_link *peer;

			r = tb_nl_errno(rtnl_link_get_kernel(host->sk, rtnl_link_get_link(link), NULL, &peer));
			if (r < 0)
				goto out;
			l->kind = LEG_PEER;
			l->netns[0] = '\0';
			snprintf(l->ifname, sizeof(l->ifname), "%s", rtnl_link_get_name(peer));
			l->ifindex = rtnl_link_get_ifindex(peer);
			rtnl_link_put(peer);
			if (read_trees && (r = read_tree(st, host->sk, l, t->id)) < 0)
				goto out;
		} else {
			if (r < 0)
				goto out;
			/* no peer here: redirect its ingress to an IFB and shape that */
			l->kind = LEG_IFB;
			l->tree.n = 0;
			snprintf(l->ifb, sizeof(l->ifb), IFB_PREFIX "%d", l->ifindex);
			if (read_trees) {
				struct rtnl_link *old;

				r = ingress_qdisc_present(c->sk, l->ifindex, &present);
				if (r < 0)
					goto out;
				if (present) {
					TB_LOG(st->h, TB_LOG_ERROR,
					       "%s: %s already has an ingress qdisc; ingress shaping "
					       "would need to replace it", t->id, l->ifname);
					r = -EBUSY;
					goto out;
				}
				if (rtnl_link_get_kernel(c->sk, 0, l->ifb, &old) == 0) {
					rtnl_link_put(old);
					TB_LOG(st->h, TB_LOG_ERROR,
					       "%s: %s exists, left by an interrupted run: run "
					       "'throttlebot restore' first", t->id, l->ifb);
					r = -EEXIST;
					goto out;
				}
			}
		}
		n++;
	}
	*nlegs = n;
	r = 0;
out:
	rtnl_link_put(link);
	return r;
}

/* ---- capacity ----------------------------------------------------------- */

/* Link speed in bytes/s through ethtool, or -errno.  veth reports 10 Gb/s. */
static double link_speed(const struct ns_conn *c, const char *ifname)
{
	struct ethtool_cmd cmd = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr;
	uint32_t mbps;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&cmd;
	if (c->ioc < 0 || ioctl(c->ioc, SIOCETHTOOL, &ifr) < 0)
		return -errno;
	mbps = ethtool_cmd_speed(&cmd);
	if (mbps == 0 || mbps == (uint32_t)SPEED_UNKNOWN)
		return -ENODATA;
	return mbps * 1e6 / 8;
}

static int capacity_of(struct tc_state *st, const struct tb_target *t, const struct leg *l,
		       double *capacity)
{
	unsigned long long dev, ino;
	struct ns_conn *c;
	double speed;
	int r;

	if (st->capacity > 0) {
		*capacity = st->capacity;
		return 0;
	}
	r = tb_netns_id(leg_ns(l), &dev, &ino);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < NPROBED; i++) {
		if (st->probed[i].capacity > 0 && st->probed[i].ns_ino == ino &&
		    st->probed[i].ifindex == l->ifindex) {
			*capacity = st->probed[i].capacity;
			return 0;
		}
	}
	r = get_conn(st, leg_ns(l), &c);
	if (r < 0)
		return r;
	speed = link_speed(c, l->ifname);
	if (speed < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %s reports no link speed: set 'capacity'", t->id,
		       l->ifname);
		return (int)speed;
	}
	st->probed[st->next_probed % NPROBED].ns_ino = ino;
	st->probed[st->next_probed % NPROBED].ifindex = l->ifindex;
	st->probed[st->next_probed++ % NPROBED].capacity = speed;
	*capacity = speed;
	return 0;
}

static int probe(void *state, const struct tb_target *t, double *capacity)
{
	struct tc_state *st = state;
	struct leg legs[2];
	int n, r = resolve(st, t, DIR_EGRESS, legs, &n, 0);

	return r < 0 ? r : capacity_of(st, t, &legs[0], capacity);
}

/* ---- saved state -------------------------------------------------------- */

/*
 * Text, one device per "leg" line, followed for shaped devices by their
 * previous tree (tc_tree.h's lines, prefixed "node "):
 *   tc 1
 *   capacity <bytes/s>
 *   leg <egress|peer|ifb> <ifindex> <ifname> <ifb or -> <netns path or ->
 *   node q ffffffff 00010000 tbf 0102...
 */
static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	struct tc_state *st = state;
	struct leg legs[2];
	double capacity;
	int n, r;
	size_t len;

	r = resolve(st, t, st->dirs, legs, &n, 1);
	if (r < 0)
		return r;
	r = capacity_of(st, t, &legs[0], &capacity);
	if (r < 0)
		return r;
	if ((size_t)snprintf(saved, size, "tc 1\ncapacity %.0f\n", capacity) >= size)
		return -ENOSPC;
	for (int i = 0; i < n; i++) {
		const struct leg *l = &legs[i];

		len = strlen(saved);
		if ((size_t)snprintf(saved + len, size - len, "leg %s %d %s %s %s\n",
				     leg_names[l->kind], l->ifindex, l->ifname,
				     l->ifb[0] ? l->ifb : "-", l->netns[0] ? l->netns : "-") >= size - len)
			return -ENOSPC;
		r = tb_tc_tree_format(&l->tree, "node ", saved, size);
		if (r < 0) {
			TB_LOG(st->h, TB_LOG_ERROR, "%s: the qdiscs of %s are too many to save",
			       t->id, l->ifname);
			return r;
		}
	}
	return 0;
}

static int parse_saved(const char *saved, double *capacity, struct leg *legs, int *nlegs)
{
	const char *p = saved;
	int n = 0;

	if (sscanf(p, "tc 1\ncapacity %lf\n", capacity) != 1)
		return -EINVAL;
	p = strchr(p, '\n') + 1;
	p = strchr(p, '\n');
	if (!p)
		return -EINVAL;
	p++;
	while (!strncmp(p, "leg ", 4)) {
		struct leg *l = &legs[n];
		char kind[16], ifb[IF_NAMESIZE], netns[1024];
		int used = 0, k, m;

		if (n == 2)
			return -EINVAL;
		memset(l, 0, sizeof(*l));
		if (sscanf(p, "leg %15s %d %15s %15s %1023s%n", kind, &l->ifindex, l->ifname, ifb,
			   netns, &used) != 5 || p[used] != '\n')
			return -EINVAL;
		for (k = 0; k < 3 && strcmp(kind, leg_names[k]); k++)
			;
		if (k == 3)
			return -EINVAL;
		l->kind = (enum leg_kind)k;
		if (strcmp(ifb, "-"))
			snprintf(l->ifb, sizeof(l->ifb), "%s", ifb);
		if (strcmp(netns, "-"))
			snprintf(l->netns, sizeof(l->netns), "%s", netns);
		p += used + 1;
		m = tb_tc_tree_parse(p, "node ", &l->tree);
		if (m < 0)
			return m;
		p += m;
		n++;
	}
	*nlegs = n;
	return *p ? -EINVAL : 0;
}

/* ---- shaping ------------------------------------------------------------ */

/* Our HTB root with one default class at rate, replacing the saved root. */
static int install_htb(struct tc_state *st, struct nl_sock *sk, const struct leg *l, double rate,
		       int check_saved)
{
	struct tb_tc_tree now;
	struct rtnl_link *link = NULL;
	struct rtnl_class *cl;
	uint64_t bps = rate < 1000 ? 1000 : (uint64_t)llround(rate);
	uint32_t mtu, quantum, burst;
	char why[160];
	int r;

	r = tb_tc_tree_read(sk, l->ifindex, &now, why, sizeof(why));
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	if (!is_ours(&now)) {
		struct rtnl_qdisc *q;

		/* never replace what changed since it was saved */
		if (check_saved && (r < 0 || !tb_tc_tree_same(&l->tree, &now, why, sizeof(why)))) {
			TB_LOG(st->h, TB_LOG_ERROR, "%s: the root qdisc changed since it was saved (%s)",
			       l->ifname, r < 0 ? "unreadable" : why);
			return -ESTALE;
		}
		q = rtnl_qdisc_alloc();
		if (!q)
			return -ENOMEM;
		rtnl_tc_set_ifindex(TC_CAST(q), l->ifindex);
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
		rtnl_tc_set_handle(TC_CAST(q), TB_QDISC);
		r = rtnl_tc_set_kind(TC_CAST(q), "htb");
		if (r == 0)
			r = rtnl_htb_set_defcls(q, TC_H_MIN(TB_CLASS));
		if (r == 0)
			r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
		rtnl_qdisc_put(q);
		if (r < 0)
			return tb_nl_errno(r);
	}
	cl = rtnl_class_alloc();
	if (!cl)
		return -ENOMEM;
	mtu = 1500;
	if (rtnl_link_get_kernel(sk, l->ifindex, NULL, &link) == 0) {
		mtu = rtnl_link_get_mtu(link) ? rtnl_link_get_mtu(link) : mtu;
		rtnl_link_put(link);
	}
	/* One class, so the quantum only has to be sane; the burst is 5 ms of
	 * traffic but at least a GSO-sized packet, so TCP over veth keeps
	 * its rate. */
	quantum = (uint32_t)fmin(fmax((double)bps / 10, mtu + 14), 200000);
	burst = (uint32_t)fmin(fmax((double)bps / 200, 65536 + mtu), 1 << 24);
	rtnl_tc_set_ifindex(TC_CAST(cl), l->ifindex);
	rtnl_tc_set_parent(TC_CAST(cl), TB_QDISC);
	rtnl_tc_set_handle(TC_CAST(cl), TB_CLASS);
	rtnl_tc_set_mtu(TC_CAST(cl), mtu);
	r = rtnl_tc_set_kind(TC_CAST(cl), "htb");
	if (r == 0)
		r = rtnl_htb_set_rate64(cl, bps);
	if (r == 0)
		r = rtnl_htb_set_ceil64(cl, bps);
	if (r == 0)
		r = rtnl_htb_set_quantum(cl, quantum);
	if (r == 0)
		r = rtnl_htb_set_rbuffer(cl, burst);
	if (r == 0)
		r = rtnl_htb_set_cbuffer(cl, burst);
	if (r == 0)
		r = rtnl_class_add(sk, cl, NLM_F_CREATE);
	rtnl_class_put(cl);
	return tb_nl_errno(r);
}

/* An IFB device fed by everything arriving on l's interface. */
static int install_ifb(struct tc_state *st, struct nl_sock *sk, struct leg *l, double rate)
{
	struct rtnl_link *ifb = NULL, *up;
	struct rtnl_qdisc *q;
	struct rtnl_cls *f;
	struct rtnl_act *a;
	struct leg shaped;
	int r, ifb_index;

	if (rtnl_link_get_kernel(sk, 0, l->ifb, &ifb) < 0) {
		struct rtnl_link *nl = rtnl_link_alloc();

		if (!nl)
			return -ENOMEM;
		rtnl_link_set_name(nl, l->ifb);
		r = rtnl_link_set_type(nl, "ifb");
		if (r == 0)
			r = rtnl_link_add(sk, nl, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(nl);
		if (r < 0)
			return tb_nl_errno(r);
		r = rtnl_link_get_kernel(sk, 0, l->ifb, &ifb);
		if (r < 0)
			return tb_nl_errno(r);
	}
	ifb_index = rtnl_link_get_ifindex(ifb);
	up = rtnl_link_alloc();
	if (!up) {
		rtnl_link_put(ifb);
		return -ENOMEM;
	}
	rtnl_link_set_flags(up, IFF_UP);
	r = tb_nl_errno(rtnl_link_change(sk, ifb, up, 0));
	rtnl_link_put(up);
	rtnl_link_put(ifb);
	if (r < 0)
		return r;

	shaped = *l;
	shaped.ifindex = ifb_index;
	snprintf(shaped.ifname, sizeof(shaped.ifname), "%s", l->ifb);
	r = install_htb(st, sk, &shaped, rate, 0);
	if (r < 0)
		return r;

	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), l->ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_INGRESS, 0));
	r = rtnl_tc_set_kind(TC_CAST(q), "ingress");
	if (r == 0)
		r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	if (r == -NLE_EXIST)
		return 0;   /* ours, with its filter, from an earlier apply of this save */
	if (r < 0)
		return tb_nl_errno(r);

	/* u32 "match u32 0 0" with mirred egress redirect: every packet */
	f = rtnl_cls_alloc();
	a = rtnl_act_alloc();
	if (!f || !a) {
		rtnl_cls_put(f);
		rtnl_act_put(a);
		return -ENOMEM;
	}
	rtnl_tc_set_ifindex(TC_CAST(f), l->ifindex);
	rtnl_tc_set_parent(TC_CAST(f), TC_H_MAKE(TC_H_INGRESS, 0));
	rtnl_cls_set_prio(f, 1);
	rtnl_cls_set_protocol(f, ETH_P_ALL);
	r = rtnl_tc_set_kind(TC_CAST(f), "u32");
	if (r == 0)
		r = rtnl_u32_add_key_uint32(f, 0, 0, 0, 0);
	if (r == 0)
		r = rtnl_u32_set_cls_terminal(f);
	if (r == 0)
		r = rtnl_tc_set_kind(TC_CAST(a), "mirred");
	if (r == 0)
		r = rtnl_mirred_set_action(a, TCA_EGRESS_REDIR);
	if (r == 0)
		r = rtnl_mirred_set_policy(a, TC_ACT_STOLEN);
	if (r == 0)
		r = rtnl_mirred_set_ifindex(a, (uint32_t)ifb_index);
	if (r == 0)
		r = rtnl_u32_add_action(f, a);
	if (r == 0)
		r = rtnl_cls_add(sk, f, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_act_put(a);
	rtnl_cls_put(f);
	return tb_nl_errno(r);
}

static int restore(void *state, const char *saved);

static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct tc_state *st = state;
	struct leg legs[2];
	double capacity, rate;
	int n, r = 0;

	if (!(stress >= 0 && stress < 1))
		return -EINVAL;
	if (parse_saved(saved, &capacity, legs, &n) < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: saved state is not the tc throttler's", t->id);
		return -EINVAL;
	}
	rate = (1 - stress) * capacity;
	for (int i = 0; i < n && r == 0; i++) {
		struct ns_conn *c;

		r = get_conn(st, leg_ns(&legs[i]), &c);
		if (r == 0)
			r = legs[i].kind == LEG_IFB ? install_ifb(st, c->sk, &legs[i], rate)
						    : install_htb(st, c->sk, &legs[i], rate, 1);
		if (r < 0)
			TB_LOG(st->h, TB_LOG_ERROR, "%s: cannot shape %s (%s): %s", t->id,
			       legs[i].kind == LEG_IFB ? legs[i].ifb : legs[i].ifname,
			       leg_names[legs[i].kind], strerror(-r));
	}
	if (r < 0) {
		restore(st, saved);
		return r;
	}
	TB_LOG(st->h, TB_LOG_DEBUG, "%s: %.0f bytes/s (stress %.2f of %.0f)", t->id, rate, stress,
	       capacity);
	return 0;
}

/* ---- restoring ---------------------------------------------------------- */

static int restore_shaped(struct tc_state *st, struct nl_sock *sk, const struct leg *l)
{
	struct tb_tc_tree now;
	char why[160];
	int r = tb_tc_tree_read(sk, l->ifindex, &now, why, sizeof(why));

	if (r == -ENODEV || r == -ENOENT)
		return 0;   /* the device is gone, and our qdisc with it */
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	if (!is_ours(&now))
		return 0;   /* never applied, or already restored */
	if (l->tree.node[0].handle == 0) {
		/* the kernel's default: deleting ours brings it back */
		struct rtnl_qdisc *q = rtnl_qdisc_alloc();

		if (!q)
			return -ENOMEM;
		rtnl_tc_set_ifindex(TC_CAST(q), l->ifindex);
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
		rtnl_tc_set_handle(TC_CAST(q), TB_QDISC);
		r = tb_nl_errno(rtnl_qdisc_delete(sk, q));
		rtnl_qdisc_put(q);
		if (r == 0)
			r = tb_tc_tree_retune_default(sk, l->ifindex, &l->tree);
	} else {
		r = tb_tc_tree_replay(sk, l->ifindex, &l->tree);
	}
	if (r < 0)
		return r;
	r = tb_tc_tree_read(sk, l->ifindex, &now, why, sizeof(why));
	if (r == 0 && !tb_tc_tree_same(&l->tree, &now, why, sizeof(why))) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: restored qdiscs differ from the saved ones: %s",
		       l->ifname, why);
		return -EIO;
	}
	return r == -EOPNOTSUPP ? 0 : r;
}

static int restore_ifb(struct nl_sock *sk, const struct leg *l)
{
	struct rtnl_link *ifb;
	struct rtnl_qdisc *q;
	int r = 0, e;

	q = rtnl_qdisc_alloc();
	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), l->ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_INGRESS, 0));
	rtnl_tc_set_kind(TC_CAST(q), "ingress");
	/* save() saw no ingress qdisc, so one there now is ours */
	e = tb_nl_errno(rtnl_qdisc_delete(sk, q));
	rtnl_qdisc_put(q);
	if (e < 0 && e != -ENOENT && e != -EINVAL && e != -ENODEV)
		r = e;
	if (rtnl_link_get_kernel(sk, 0, l->ifb, &ifb) == 0) {
		const char *type = rtnl_link_get_type(ifb);

		if (type && !strcmp(type, "ifb")) {
			e = tb_nl_errno(rtnl_link_delete(sk, ifb));
			if (e < 0 && r == 0)
				r = e;
		}
		rtnl_link_put(ifb);
	}
	return r;
}

static int restore(void *state, const char *saved)
{
	struct tc_state *st = state;
	struct leg legs[2];
	double capacity;
	int n, r, first = 0;

	if (parse_saved(saved, &capacity, legs, &n) < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "saved state is not the tc throttler's");
		return -EINVAL;
	}
	/* every leg is tried, the first error is returned */
	for (int i = 0; i < n; i++) {
		struct ns_conn *c;

		r = get_conn(st, leg_ns(&legs[i]), &c);
		if (r == -ENOENT) {
			TB_LOG(st->h, TB_LOG_INFO, "%s: namespace %s is gone, nothing to restore",
			       legs[i].ifname, legs[i].netns);
			continue;
		}
		if (r == 0)
			r = legs[i].kind == LEG_IFB ? restore_ifb(c->sk, &legs[i])
						    : restore_shaped(st, c->sk, &legs[i]);
		if (r < 0) {
			TB_LOG(st->h, TB_LOG_ERROR, "cannot restore %s (%s): %s", legs[i].ifname,
			       leg_names[legs[i].kind], strerror(-r));
			if (!first)
				first = r;
		}
	}
	return first;
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "tc",
		    "network bandwidth through an HTB shaper (tc, via libnl) on the target's interface",
		    PACKAGE_VERSION, settings },
	.resource = "net",
	.unit = "bytes/s",
	.init = init,
	.fini = fini,
	.probe = probe,
	.save = save,
	.apply = apply,
	.restore = restore,
};
