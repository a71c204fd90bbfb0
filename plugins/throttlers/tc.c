/* tc.c - throttle a target's network bandwidth with an HTB shaper, set up through libnl in its namespace. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <throttlebot/plugin.h>
#include "stress.h"
#include "tc_link.h"
#include "tc_saved.h"
#include "tc_shape.h"
#include "tc_tree.h"


/*
 * Stress k leaves (1 - k) of the capacity: an HTB class with rate = ceil =
 * (1 - k) * capacity, under a root qdisc ThrottleBot owns (tc_shape.h).
 *
 * Capacity is the "capacity" setting, or else the link speed ethtool
 * reports (veth: 10 Gb/s).  The paper measured the path's attainable
 * bandwidth; that needs a peer to measure against, which a throttler does
 * not have in general, so for paths slower than their link speed (most
 * containers' veths) set "capacity" to a measured value (iperf3).
 */

enum { DIR_EGRESS = 1, DIR_INGRESS = 2 };

#define NPROBED 8

struct tc_state {
	const struct tb_host *h;
	double capacity;               /* bytes/s from the settings, 0 = link speed */
	int dirs;
	struct tc_conns conns;
	struct {
		unsigned long long ns_ino;
		int ifindex;
		double capacity;
	} probed[NPROBED];             /* link speeds, per device */
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

static int read_settings(struct tc_state *st, const struct tb_host *h, const struct tb_config *cfg)
{
	const char *s;
	int r = h->get_string(h, cfg, "capacity", &s);

	if (r == 0) {
		st->capacity = parse_rate(s);
		if (st->capacity <= 0)
			return h->config_error(h, cfg, "capacity",
					       "'%s' is not a rate (try \"1gbit\", \"100mbit\" or bytes/s)", s);
	} else if (r != -ENOENT) {
		return r;
	}
	r = h->get_string(h, cfg, "direction", &s);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!strcmp(s, "egress"))
		st->dirs = DIR_EGRESS;
	else if (!strcmp(s, "ingress"))
		st->dirs = DIR_INGRESS;
	else if (!strcmp(s, "both"))
		st->dirs = DIR_EGRESS | DIR_INGRESS;
	else
		return h->config_error(h, cfg, "direction",
				       "must be \"egress\", \"ingress\" or \"both\", not '%s'", s);
	return 0;
}

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct tc_state *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->h = h;
	st->dirs = DIR_EGRESS;
	tc_conns_init(&st->conns);
	r = cfg ? read_settings(st, h, cfg) : 0;
	if (r < 0) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static void fini(void *state)
{
	struct tc_state *st = state;

	tc_conns_close(&st->conns);
	free(st);
}

/* ---- the devices of a target -------------------------------------------- */

static const char *leg_ns(const struct tc_leg *l)
{
	return l->netns[0] ? l->netns : NULL;
}

/* l for link, seen through connection c to namespace netns (NULL: ours). */
static void leg_from_link(struct tc_leg *l, enum tc_leg_kind kind, const char *netns,
			  const struct tc_conn *c, struct rtnl_link *link)
{
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	snprintf(l->netns, sizeof(l->netns), "%s", netns ? netns : "");
	l->has_id = 1;
	l->ns_dev = c->dev;
	l->ns_ino = c->ino;
	tc_link_mac(link, l->mac, sizeof(l->mac));
	snprintf(l->ifname, sizeof(l->ifname), "%s", rtnl_link_get_name(link));
	l->ifindex = rtnl_link_get_ifindex(link);
	l->mtu = rtnl_link_get_mtu(link);
}

/*
 * Is the device at l->ifindex, in the namespace c reached, still the one
 * saved?  Namespace inodes and ifindexes are reused, so the namespace's
 * identity, the device's name and its hardware address must all match.
 * 1 yes, 0 the device is gone, -ESTALE another one (why says how), -errno.
 */
static int leg_is_saved_one(const struct tc_conn *c, const struct tc_leg *l, char *why,
			    size_t whylen)
{
	struct rtnl_link *link;
	char mac[TC_MAC_LEN];
	int r;

	if (!l->has_id) {
		if (l->kind != LEG_IFB)
			return 1;   /* only our own b07: root is ever replaced there */
		snprintf(why, whylen, "saved without the device's identity (by an older version)");
		return -ESTALE;
	}
	if (c->dev != l->ns_dev || c->ino != l->ns_ino) {
		snprintf(why, whylen, "%.64s is another namespace now (%llu:%llu, saved %llu:%llu)",
			 l->netns[0] ? l->netns : "the host's namespace", c->dev, c->ino, l->ns_dev,
			 l->ns_ino);
		return -ESTALE;
	}
	r = tb_nl_errno(rtnl_link_get_kernel(c->sk, l->ifindex, NULL, &link));
	if (r == -ENODEV || r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	tc_link_mac(link, mac, sizeof(mac));
	r = 1;
	if (strcmp(rtnl_link_get_name(link), l->ifname) || strcmp(mac, l->mac)) {
		snprintf(why, whylen, "ifindex %d is now %s (%.24s), not %s (%.24s)", l->ifindex,
			 rtnl_link_get_name(link), mac[0] ? mac : "no address", l->ifname,
			 l->mac[0] ? l->mac : "no address");
		r = -ESTALE;
	}
	rtnl_link_put(link);
	return r;
}

/* Fill l->tree from its device, refusing what could not be put back. */
static int read_tree(struct tc_state *st, struct nl_sock *sk, struct tc_leg *l, const char *id)
{
	char why[160];
	int r = tb_tc_tree_read(sk, l->ifindex, &l->tree, why, sizeof(why));

	if (r == -EOPNOTSUPP || r == -ENOENT)
		TB_LOG(st->h, TB_LOG_ERROR,
		       "%s: will not replace the root qdisc of %s: %s; it could not be restored exactly",
		       id, l->ifname, why);
	else if (r == 0 && tc_is_ours(&l->tree)) {
		TB_LOG(st->h, TB_LOG_ERROR,
		       "%s: %s already has ThrottleBot's shaper (b07:), left by an interrupted run: "
		       "run 'throttlebot restore' first", id, l->ifname);
		r = -EEXIST;
	}
	return r;
}

/* For ingress without a host peer: nothing of ours or anyone's in the way. */
static int check_ifb_free(struct tc_state *st, struct nl_sock *sk, const struct tc_leg *l,
			  const char *id)
{
	struct rtnl_link *old;
	int r = tc_has_ingress_qdisc(sk, l->ifindex);

	if (r < 0)
		return r;
	if (r) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %s already has an ingress qdisc, which ingress "
		       "shaping would have to replace", id, l->ifname);
		return -EBUSY;
	}
	if (rtnl_link_get_kernel(sk, 0, l->ifb, &old) == 0) {
		rtnl_link_put(old);
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %s exists, left by an interrupted run: run "
		       "'throttlebot restore' first", id, l->ifb);
		return -EEXIST;
	}
	return 0;
}

/* The ingress leg: the host end of a veth pair if there is one, else an IFB. */
static int ingress_leg(struct tc_state *st, const struct tb_target *t, struct tc_conn *c,
		       struct rtnl_link *link, struct tc_leg *l, int read_trees)
{
	struct tc_conn *host;
	struct rtnl_link *peer_link;
	int peer = 0, r;

	if (t->netns && (r = tc_host_peer(c->sk, link, &peer)) < 0)
		return r;
	if (peer) {
		r = tc_conn_get(&st->conns, NULL, &host);
		if (r == 0)
			r = tb_nl_errno(rtnl_link_get_kernel(host->sk, peer, NULL, &peer_link));
		if (r < 0)
			return r;
		leg_from_link(l, LEG_PEER, NULL, host, peer_link);
		rtnl_link_put(peer_link);
		return read_trees ? read_tree(st, host->sk, l, t->id) : 0;
	}
	leg_from_link(l, LEG_IFB, t->netns, c, link);
	snprintf(l->ifb, sizeof(l->ifb), TC_IFB_PREFIX "%d", l->ifindex);
	return read_trees ? check_ifb_free(st, c->sk, l, t->id) : 0;
}

/* The target's own interface (own, whose link speed is the capacity), the
 * devices to shape for dirs, and (read_trees) what is on them now. */
static int resolve(struct tc_state *st, const struct tb_target *t, int dirs, struct tc_leg *own,
		   struct tc_leg *legs, int *nlegs, int read_trees)
{
	const char *where = t->netns ? t->netns : "the host's namespace";
	struct tc_conn *c;
	struct rtnl_link *link;
	int r, n = 0;

	*nlegs = 0;
	r = tc_conn_get(&st->conns, t->netns, &c);
	if (r < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: cannot enter network namespace %s: %s", t->id,
		       where, strerror(-r));
		return r;
	}
	r = tc_find_interface(c->sk, t->ifname, TC_IFB_PREFIX, &link);
	if (r < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: no interface %s in %s", t->id,
		       t->ifname ? t->ifname : "up", where);
		return r;
	}
	leg_from_link(own, LEG_EGRESS, t->netns, c, link);
	if (dirs & DIR_EGRESS) {
		legs[n] = *own;
		r = read_trees ? read_tree(st, c->sk, &legs[n], t->id) : 0;
		n++;
	}
	if (r == 0 && (dirs & DIR_INGRESS)) {
		r = ingress_leg(st, t, c, link, &legs[n], read_trees);
		n++;
	}
	rtnl_link_put(link);
	if (r == 0)
		*nlegs = n;
	return r;
}

/* ---- capacity ----------------------------------------------------------- */

static int capacity_of(struct tc_state *st, const struct tb_target *t, const struct tc_leg *l,
		       double *capacity)
{
	unsigned long long dev, ino;
	struct tc_conn *c;
	double speed;
	unsigned slot;
	int r;

	if (st->capacity > 0) {
		*capacity = st->capacity;
		return 0;
	}
	r = tc_netns_id(leg_ns(l), &dev, &ino);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < NPROBED; i++) {
		if (st->probed[i].capacity > 0 && st->probed[i].ns_ino == ino &&
		    st->probed[i].ifindex == l->ifindex) {
			*capacity = st->probed[i].capacity;
			return 0;
		}
	}
	r = tc_conn_get(&st->conns, leg_ns(l), &c);
	if (r < 0)
		return r;
	speed = tc_link_speed(c, l->ifname);
	if (speed < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %s reports no link speed: set 'capacity'", t->id,
		       l->ifname);
		return (int)speed;
	}
	slot = st->next_probed++ % NPROBED;
	st->probed[slot].ns_ino = ino;
	st->probed[slot].ifindex = l->ifindex;
	st->probed[slot].capacity = speed;
	*capacity = speed;
	return 0;
}

static int probe(void *state, const struct tb_target *t, double *capacity)
{
	struct tc_state *st = state;
	struct tc_leg own, legs[TC_MAX_LEGS];
	int n, r = resolve(st, t, 0, &own, legs, &n, 0);

	return r < 0 ? r : capacity_of(st, t, &own, capacity);
}

/* ---- saved state (tc_saved.h) ------------------------------------------ */

/* What holds a leg's traffic: its device's root, or the IFB's if there is one. */
static int leg_rate(struct tc_state *st, const struct tc_leg *l, double *rate)
{
	struct tc_conn *c;
	struct rtnl_link *ifb;
	int ifindex = l->ifindex, r = tc_conn_get(&st->conns, leg_ns(l), &c);

	if (r < 0)
		return r;
	if (l->kind == LEG_IFB) {
		if (rtnl_link_get_kernel(c->sk, 0, l->ifb, &ifb) < 0)
			return -ENODATA;     /* no IFB: its ingress is not shaped */
		ifindex = rtnl_link_get_ifindex(ifb);
		rtnl_link_put(ifb);
	}
	return tc_shaped_rate(c->sk, ifindex, rate);
}

/*
 * The rate the legs' shaping holds the target to, ours or an operator's (an
 * HTB default class, a TBF root): the lowest over the directions
 * configured; -ENODATA when none is shaped.
 */
static int legs_rate(struct tc_state *st, const struct tc_leg *legs, int n, double *amount)
{
	int found = 0, r = 0;

	for (int i = 0; i < n && r == 0; i++) {
		double rate;

		r = leg_rate(st, &legs[i], &rate);
		if (r == -ENODATA) {
			r = 0;
			continue;
		}
		if (r == 0 && (!found || rate < *amount))
			*amount = rate;
		found |= r == 0;
	}
	return r < 0 ? r : found ? 0 : -ENODATA;
}


static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	struct tc_state *st = state;
	struct tc_leg own, legs[TC_MAX_LEGS];
	double capacity, allowance;
	int n, r;

	r = resolve(st, t, st->dirs, &own, legs, &n, 1);
	if (r == 0)
		r = capacity_of(st, t, &own, &capacity);
	if (r < 0)
		return r;
	/* An operator's shaping below the path is what the target may send now:
	 * stress takes a share of that, as cpu_quota takes one of a quota. */
	if (legs_rate(st, legs, n, &allowance) < 0 || allowance > capacity)
		allowance = capacity;
	r = tc_saved_format(capacity, allowance, legs, n, saved, size);
	if (r < 0)
		TB_LOG(st->h, TB_LOG_ERROR, "%s: the qdiscs of %s are too many to save", t->id,
		       own.ifname);
	return r;
}

/* ---- apply and restore -------------------------------------------------- */

/* Shape every leg to rate bytes/s, each still the device saved. */
static int shape_legs(struct tc_state *st, const struct tb_target *t, const struct tc_leg *legs,
		      int n, double rate)
{
	char why[320] = "";
	int r = 0;

	for (int i = 0; i < n && r == 0; i++) {
		const struct tc_leg *l = &legs[i];
		struct tc_conn *c;

		r = tc_conn_get(&st->conns, leg_ns(l), &c);
		if (r == 0 && (r = leg_is_saved_one(c, l, why, sizeof(why))) == -ESTALE) {
			TB_LOG(st->h, TB_LOG_ERROR, "%s: %s is not the device saved (%s): not "
			       "shaping it", t->id, l->ifname, why);
			break;
		}
		if (r == 0)
			r = -ENODEV;   /* gone since the save */
		else if (r == 1)
			r = l->kind == LEG_IFB
				? tc_shape_ifb(c->sk, l->ifindex, l->ifb, l->mtu, rate)
				: tc_shape(c->sk, l->ifindex, l->mtu, rate, &l->tree, why, sizeof(why));
		if (r == -ESTALE)
			TB_LOG(st->h, TB_LOG_ERROR, "%s: the root qdisc of %s changed since it was "
			       "saved (%s): not replacing it", t->id, l->ifname, why);
		else if (r < 0)
			TB_LOG(st->h, TB_LOG_ERROR, "%s: cannot shape %s (%s): %s", t->id,
			       l->kind == LEG_IFB ? l->ifb : l->ifname, tc_leg_names[l->kind],
			       strerror(-r));
	}
	/* A leg shaped before one that failed is undone by the host's restore(),
	 * which follows every apply, failed or not (throttlebot-plugin(7)). */
	return r;
}

static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct tc_state *st = state;
	struct tc_leg legs[TC_MAX_LEGS];
	double capacity, allowance, rate;
	int n, r;

	if (!tb_stress_valid(stress))
		return -EINVAL;
	if (tc_saved_parse(saved, &capacity, &allowance, legs, &n) < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: saved state is not the tc throttler's", t->id);
		return -EINVAL;
	}
	rate = (1 - stress) * allowance;
	r = shape_legs(st, t, legs, n, rate);
	if (r == 0)
		TB_LOG(st->h, TB_LOG_DEBUG, "%s: %.0f bytes/s (stress %.2f of %.0f)", t->id, rate,
		       stress, allowance);
	return r;
}

/* The rate its shaping holds it to, ours or an operator's (tc_legs_rate). */
static int allocation(void *state, const struct tb_target *t, double *amount)
{
	struct tc_state *st = state;
	struct tc_leg own, legs[TC_MAX_LEGS];
	int n, r = resolve(st, t, st->dirs, &own, legs, &n, 0);

	return r < 0 ? r : legs_rate(st, legs, n, amount);
}

/* Shape as apply() does, to amount bytes/s; HTB takes no less than 1000. */
static int allocate(void *state, const struct tb_target *t, const char *saved, double amount)
{
	struct tc_state *st = state;
	struct tc_leg legs[TC_MAX_LEGS];
	double capacity, allowance;
	int n, r;

	if (!(amount > 0))
		return -EINVAL;
	if (tc_saved_parse(saved, &capacity, &allowance, legs, &n) < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: saved state is not the tc throttler's", t->id);
		return -EINVAL;
	}
	if (amount > capacity || amount < 1000) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %.6g bytes/s asked, the path gives 1000 to %.0f",
		       t->id, amount, capacity);
		return -ERANGE;
	}
	r = shape_legs(st, t, legs, n, amount);
	if (r == 0)
		TB_LOG(st->h, TB_LOG_DEBUG, "%s: %.0f bytes/s (of %.0f)", t->id, amount, capacity);
	return r;
}

static int restore(void *state, const char *saved)
{
	struct tc_state *st = state;
	struct tc_leg legs[TC_MAX_LEGS];
	double capacity, allowance;
	int n, first = 0;

	if (tc_saved_parse(saved, &capacity, &allowance, legs, &n) < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "saved state is not the tc throttler's");
		return -EINVAL;
	}
	/* every leg is tried; the first error is returned */
	for (int i = 0; i < n; i++) {
		const struct tc_leg *l = &legs[i];
		struct tc_conn *c;
		char why[320] = "";
		int r = tc_conn_get(&st->conns, leg_ns(l), &c);

		if (r == -ENOENT) {
			TB_LOG(st->h, TB_LOG_INFO, "%s: namespace %s is gone, and its shaper with it",
			       l->ifname, l->netns);
			continue;
		}
		if (r == 0 && (r = leg_is_saved_one(c, l, why, sizeof(why))) == -ESTALE) {
			TB_LOG(st->h, TB_LOG_WARNING, "%s (%s): left alone, it is not the device "
			       "saved: %s%s%s", l->ifname, tc_leg_names[l->kind], why,
			       l->kind == LEG_IFB ? "; so is " : "", l->kind == LEG_IFB ? l->ifb : "");
			continue;
		}
		/* 1: the device saved; 0: it is gone, and what was on it */
		if (r >= 0 && l->kind == LEG_IFB)
			r = tc_unshape_ifb(c->sk, r ? l->ifindex : 0, l->ifb);
		else if (r == 1)
			r = tc_unshape(c->sk, l->ifindex, &l->tree, why, sizeof(why));
		if (r < 0) {
			TB_LOG(st->h, TB_LOG_ERROR, "cannot restore %s (%s): %s%s%s", l->ifname,
			       tc_leg_names[l->kind], strerror(-r), why[0] ? ": " : "", why);
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
	.allocation = allocation,
	.allocate = allocate,
	/*
	 * No prioritize.  The shaper is one HTB class alone under a root that
	 * ThrottleBot owns on the target's own device (its veth end, or an IFB
	 * made for it): a class's priority only orders it against sibling
	 * classes, and it has none, so raising it would change nothing.  Where
	 * the target really contends with others -- a bridge, the host's
	 * uplink -- the root qdisc is shared by every service and by the host;
	 * giving the target a class of its own there means replacing that
	 * shared root and classifying everyone's packets, which the tc design
	 * refuses (it only replaces roots it can put back exactly, on devices
	 * that carry the target's traffic alone).
	 */
};
