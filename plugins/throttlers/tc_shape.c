/* tc_shape.c - install and remove ThrottleBot's HTB shaper on a device, and the IFB that brings ingress to one. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/action.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/act/mirred.h>
#include "tc_shape.h"

int tc_is_ours(const struct tb_tc_tree *t)
{
	return t->n && t->node[0].handle == TC_QDISC && !strcmp(t->node[0].kind, "htb");
}

static int add_root(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int r;

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_QDISC);
	r = rtnl_tc_set_kind(TC_CAST(q), "htb");
	if (r == 0)
		r = rtnl_htb_set_defcls(q, TC_H_MIN(TC_CLASS));
	if (r == 0)
		r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	return tb_nl_errno(r);
}

static int set_class(struct nl_sock *sk, int ifindex, uint32_t mtu, double rate)
{
	struct rtnl_class *cl = rtnl_class_alloc();
	uint64_t bps = rate < 1000 ? 1000 : (uint64_t)llround(rate);
	uint32_t quantum, burst;
	int r;

	if (!cl)
		return -ENOMEM;
	if (!mtu)
		mtu = 1500;
	/* One class, so the quantum only has to be sane; the burst is 5 ms of
	 * traffic but at least a GSO-sized packet, so TCP over veth keeps
	 * its rate. */
	quantum = (uint32_t)fmin(fmax((double)bps / 10, mtu + 14), 200000);
	burst = (uint32_t)fmin(fmax((double)bps / 200, 65536 + mtu), 1 << 24);
	rtnl_tc_set_ifindex(TC_CAST(cl), ifindex);
	rtnl_tc_set_parent(TC_CAST(cl), TC_QDISC);
	rtnl_tc_set_handle(TC_CAST(cl), TC_CLASS);
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
		r = rtnl_class_add(sk, cl, NLM_F_CREATE);   /* or change it */
	rtnl_class_put(cl);
	return tb_nl_errno(r);
}

int tc_shape(struct nl_sock *sk, int ifindex, uint32_t mtu, double rate,
	     const struct tb_tc_tree *saved, char *why, size_t whylen)
{
	static const struct tb_tc_tree unknown;
	struct tb_tc_tree now;
	int r;

	why[0] = '\0';
	r = tb_tc_tree_current(sk, ifindex, saved ? saved : &unknown, &now);
	if (r < 0)
		return r;
	if (!tc_is_ours(&now)) {
		/* never replace what changed since it was saved */
		if (saved && !tb_tc_tree_same(saved, &now, why, whylen))
			return -ESTALE;
		r = add_root(sk, ifindex);
		if (r < 0)
			return r;
	}
	return set_class(sk, ifindex, mtu, rate);
}

static int ifb_up(struct nl_sock *sk, const char *name, int *ifindex)
{
	struct rtnl_link *ifb = NULL, *up;
	int r;

	if (rtnl_link_get_kernel(sk, 0, name, &ifb) < 0) {
		struct rtnl_link *nl = rtnl_link_alloc();

		if (!nl)
			return -ENOMEM;
		rtnl_link_set_name(nl, name);
		r = rtnl_link_set_type(nl, "ifb");
		if (r == 0)
			r = rtnl_link_add(sk, nl, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(nl);
		if (r == 0)
			r = rtnl_link_get_kernel(sk, 0, name, &ifb);
		if (r < 0)
			return tb_nl_errno(r);
	}
	*ifindex = rtnl_link_get_ifindex(ifb);
	up = rtnl_link_alloc();
	if (!up) {
		rtnl_link_put(ifb);
		return -ENOMEM;
	}
	rtnl_link_set_flags(up, IFF_UP);
	r = tb_nl_errno(rtnl_link_change(sk, ifb, up, 0));
	rtnl_link_put(up);
	rtnl_link_put(ifb);
	return r;
}

static struct rtnl_qdisc *ingress_qdisc(int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return NULL;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_INGRESS, 0));
	if (rtnl_tc_set_kind(TC_CAST(q), "ingress") < 0) {
		rtnl_qdisc_put(q);
		return NULL;
	}
	return q;
}

/* u32 "match u32 0 0" with "action mirred egress redirect": every packet. */
static int redirect_all(struct nl_sock *sk, int ifindex, int to)
{
	struct rtnl_cls *f = rtnl_cls_alloc();
	struct rtnl_act *a = rtnl_act_alloc();
	int r = -NLE_NOMEM;

	if (f && a) {
		rtnl_tc_set_ifindex(TC_CAST(f), ifindex);
		rtnl_tc_set_parent(TC_CAST(f), TC_H_MAKE(TC_H_INGRESS, 0));
		rtnl_cls_set_prio(f, 1);
		rtnl_cls_set_protocol(f, ETH_P_ALL);
		r = rtnl_tc_set_kind(TC_CAST(f), "u32");
	}
	if (r == 0)
		r = rtnl_u32_add_key_uint32(f, 0, 0, 0, 0);
	if (r == 0)   /* without it u32 matches but runs no action */
		r = rtnl_u32_set_cls_terminal(f);
	if (r == 0)
		r = rtnl_tc_set_kind(TC_CAST(a), "mirred");
	if (r == 0)
		r = rtnl_mirred_set_action(a, TCA_EGRESS_REDIR);
	if (r == 0)
		r = rtnl_mirred_set_policy(a, TC_ACT_STOLEN);
	if (r == 0)
		r = rtnl_mirred_set_ifindex(a, (uint32_t)to);
	if (r == 0)
		r = rtnl_u32_add_action(f, a);
	if (r == 0)
		r = rtnl_cls_add(sk, f, NLM_F_CREATE | NLM_F_EXCL);
	if (a)
		rtnl_act_put(a);
	if (f)
		rtnl_cls_put(f);
	return tb_nl_errno(r);
}

int tc_shape_ifb(struct nl_sock *sk, int ifindex, const char *ifb, uint32_t mtu, double rate)
{
	struct rtnl_qdisc *q;
	char why[8];
	int r, ifb_index = 0;

	r = ifb_up(sk, ifb, &ifb_index);
	if (r == 0)
		r = tc_shape(sk, ifb_index, mtu, rate, NULL, why, sizeof(why));
	if (r < 0)
		return r;
	q = ingress_qdisc(ifindex);
	if (!q)
		return -ENOMEM;
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	if (r == -NLE_EXIST)
		return 0;   /* ours, with its filter, from an earlier apply of this save */
	if (r < 0)
		return tb_nl_errno(r);
	return redirect_all(sk, ifindex, ifb_index);
}

int tc_has_ingress_qdisc(struct nl_sock *sk, int ifindex)
{
	struct nl_cache *cache;
	struct rtnl_qdisc *q;
	int err = rtnl_qdisc_alloc_cache(sk, &cache);

	if (err < 0)
		return tb_nl_errno(err);
	/* ingress and clsact both sit at parent ffff:fff1 */
	q = rtnl_qdisc_get_by_parent(cache, ifindex, TC_H_INGRESS);
	if (q)
		rtnl_qdisc_put(q);
	nl_cache_free(cache);
	return q != NULL;
}

/* Delete our root; the kernel refuses (-EINVAL) if the root is not htb b07:. */
static int delete_ours(struct nl_sock *sk, int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	int r;

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_QDISC);
	r = rtnl_tc_set_kind(TC_CAST(q), "htb");
	if (r == 0)
		r = rtnl_qdisc_delete(sk, q);
	rtnl_qdisc_put(q);
	return tb_nl_errno(r);
}

int tc_unshape(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *saved, char *why,
	       size_t whylen)
{
	struct tb_tc_tree now;
	int r;

	why[0] = '\0';
	if (saved->node[0].handle == 0) {
		/* the kernel's default: deleting ours brings it back */
		r = delete_ours(sk, ifindex);
		if (r == -EINVAL || r == -ENOENT || r == -ENODEV)
			return 0;   /* not ours: never applied, already restored, or gone */
		if (r == 0)
			r = tb_tc_tree_current(sk, ifindex, saved, &now);
		/* an operator had tuned the default: tune it back */
		if (r == 0 && !tb_tc_tree_same(saved, &now, why, whylen)) {
			r = tb_tc_tree_retune_default(sk, ifindex, saved, &now);
			if (r == 0)
				r = tb_tc_tree_current(sk, ifindex, saved, &now);
		}
	} else {
		r = tb_tc_tree_current(sk, ifindex, saved, &now);
		if (r == -ENODEV || r == -ENOENT)
			return 0;   /* the device is gone, and our qdisc with it */
		if (r < 0 || !tc_is_ours(&now))
			return r;   /* never applied, or already restored */
		r = tb_tc_tree_replay(sk, ifindex, saved);
		if (r == 0)
			r = tb_tc_tree_current(sk, ifindex, saved, &now);
	}
	if (r < 0)
		return r;
	return tb_tc_tree_same(saved, &now, why, whylen) ? 0 : -EIO;
}

int tc_unshape_ifb(struct nl_sock *sk, int ifindex, const char *ifb)
{
	struct rtnl_qdisc *q;
	struct rtnl_link *l;
	int r = 0, e;

	/* The caller checked the device is the one saved, where the save saw no
	 * ingress qdisc: one there now is ours.  The kind in the request makes
	 * the kernel refuse (-EINVAL) to delete a clsact instead. */
	if (ifindex > 0) {
		q = ingress_qdisc(ifindex);
		if (!q)
			return -ENOMEM;
		e = tb_nl_errno(rtnl_qdisc_delete(sk, q));
		rtnl_qdisc_put(q);
		if (e < 0 && e != -ENOENT && e != -EINVAL && e != -ENODEV)
			r = e;
	}
	if (rtnl_link_get_kernel(sk, 0, ifb, &l) == 0) {
		const char *type = rtnl_link_get_type(l);

		if (type && !strcmp(type, "ifb")) {
			e = tb_nl_errno(rtnl_link_delete(sk, l));
			if (e < 0 && r == 0)
				r = e;
		}
		rtnl_link_put(l);
	}
	return r;
}
