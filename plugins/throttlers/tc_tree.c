/* tc_tree.c - save a device's root qdisc tree exactly and put it back, through libnl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include "tc_tree.h"

/*
 * Why raw options rather than libnl's typed qdisc objects: those recompute
 * some parameters on the way back (tbf's and htb's burst go through a rate
 * table, fq_codel fields libnl does not know are dropped), so a round trip
 * through them is not exact.  The kernel's own TCA_OPTIONS bytes, replayed
 * through libnl's message API, are -- for the kinds listed here, whose dump
 * format is also their configuration format (htb after one fix-up below).
 * Other kinds are refused rather than destroyed.
 */
static const char *const replayable[] = {
	"pfifo", "bfifo", "pfifo_head_drop", "pfifo_fast", "tbf", "htb", "fq_codel", NULL,
};

int tb_nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0: return 0;
	case NLE_INTR: return -EINTR;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_EXIST: return -EEXIST;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_BUSY: return -EBUSY;
	case NLE_NOACCESS: return -EACCES;
	case NLE_PERM: return -EPERM;
	case NLE_NODEV: return -ENODEV;
	default: return -EIO;
	}
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	*(int *)arg = 1;
	return NL_STOP;
}

int tb_nl_request(struct nl_sock *sk, struct nl_msg *msg,
		  int (*valid)(struct nl_msg *msg, void *arg), void *arg)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err, acked = 0;

	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, arg);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &acked);
	err = nl_send_auto(sk, msg);   /* asks for an ack */
	nlmsg_free(msg);
	/* the reply and the ack may come in one read or two: read to the ack */
	for (int reads = 0; err >= 0 && !acked && reads < 16; reads++)
		err = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (err >= 0 && !acked)
		err = -NLE_MSG_TRUNC;
	return tb_nl_errno(err < 0 ? err : 0);
}

static int is_replayable(const char *kind)
{
	for (size_t i = 0; replayable[i]; i++)
		if (!strcmp(kind, replayable[i]))
			return 1;
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

struct dump_ctx {
	int ifindex;
	int type;                  /* RTM_NEWQDISC, RTM_NEWTCLASS, RTM_NEWTFILTER */
	struct tb_tc_tree *t;
	int overflow, has_stab, bad_opts, count;
};

static int dump_one(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[TCA_MAX + 1];
	struct tcmsg *tcm = nlmsg_data(nlh);
	struct tb_tc_node *n;

	if (nlh->nlmsg_type != c->type || tcm->tcm_ifindex != c->ifindex)
		return NL_OK;
	c->count++;
	if (c->type == RTM_NEWTFILTER)
		return NL_OK;
	/* ingress and clsact hang off their own parent, outside the egress tree */
	if (tcm->tcm_parent == TC_H_INGRESS || TC_H_MAJ(tcm->tcm_handle) == TC_H_MAJ(TC_H_INGRESS))
		return NL_OK;
	if (nlmsg_parse(nlh, sizeof(*tcm), tb, TCA_MAX, NULL) < 0 || !tb[TCA_KIND])
		return NL_OK;
	if (c->t->n == TB_TC_TREE_NODES) {
		c->overflow = 1;
		return NL_OK;
	}
	n = &c->t->node[c->t->n];
	memset(n, 0, sizeof(*n));
	n->is_class = c->type == RTM_NEWTCLASS;
	n->parent = tcm->tcm_parent;
	n->handle = tcm->tcm_handle;
	snprintf(n->kind, sizeof(n->kind), "%s", (const char *)nla_data(tb[TCA_KIND]));
	if (tb[TCA_STAB])
		c->has_stab = 1;
	if (tb[TCA_OPTIONS]) {
		if ((size_t)nla_len(tb[TCA_OPTIONS]) > sizeof(n->opts)) {
			c->bad_opts = 1;
			return NL_OK;
		}
		n->optlen = nla_len(tb[TCA_OPTIONS]);
		memcpy(n->opts, nla_data(tb[TCA_OPTIONS]), n->optlen);
	}
	c->t->n++;
	return NL_OK;
}

/* Dump what type (RTM_NEWQDISC, RTM_NEWTCLASS, RTM_NEWTFILTER) describes. */
static int tc_dump(struct nl_sock *sk, int type, int ifindex, uint32_t parent,
		   struct dump_ctx *c)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	if (!cb)
		return -ENOMEM;
	c->ifindex = ifindex;
	c->type = type;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_one, c);
	err = nl_send_simple(sk, type == RTM_NEWQDISC ? RTM_GETQDISC :
			     type == RTM_NEWTCLASS ? RTM_GETTCLASS : RTM_GETTFILTER,
			     NLM_F_DUMP, &tcm, sizeof(tcm));
	if (err >= 0)
		err = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	return err < 0 ? tb_nl_errno(err) : 0;
}

static int has_filters(struct nl_sock *sk, int ifindex, uint32_t parent, int *found)
{
	struct dump_ctx c = { 0 };
	struct tb_tc_tree scratch;
	int err;

	c.t = &scratch;
	scratch.n = 0;
	err = tc_dump(sk, RTM_NEWTFILTER, ifindex, parent, &c);
	*found = c.count > 0;
	return err;
}

static int find_qdisc(const struct tb_tc_tree *t, uint32_t handle)
{
	for (size_t i = 0; i < t->n; i++)
		if (!t->node[i].is_class && t->node[i].handle == handle)
			return (int)i;
	return -1;
}

static int read_tree(struct nl_sock *sk, int ifindex, struct tb_tc_tree *t,
		     char *why, size_t whylen, int check_filters)
{
	struct tb_tc_tree all = { 0 };
	struct dump_ctx c = { 0 };
	int err, found, root = -1;

	why[0] = '\0';
	t->n = 0;
	c.t = &all;
	err = tc_dump(sk, RTM_NEWQDISC, ifindex, 0, &c);
	if (err < 0)
		return err;
	if (c.overflow || c.bad_opts || c.has_stab) {
		snprintf(why, whylen, "%s", c.overflow ? "too many qdiscs" :
			 c.bad_opts ? "qdisc options too large" : "a size table (stab)");
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < all.n; i++)
		if (all.node[i].parent == TC_H_ROOT)
			root = (int)i;
	if (root < 0) {
		snprintf(why, whylen, "no root qdisc");
		return -ENOENT;
	}
	/* root first, then the other qdiscs in dump order */
	t->node[t->n++] = all.node[root];
	for (size_t i = 0; i < all.n; i++) {
		if ((int)i == root)
			continue;
		/* handle 0: attached by the kernel with its parent (mq's
		 * per-queue children), so recreated with it */
		if (all.node[i].handle == 0)
			continue;
		if (t->node[0].handle == 0) {
			snprintf(why, whylen, "qdisc %s %x: under the default root %s",
				 all.node[i].kind, TC_H_MAJ(all.node[i].handle) >> 16,
				 t->node[0].kind);
			return -EOPNOTSUPP;
		}
		t->node[t->n++] = all.node[i];
	}
	if (t->node[0].handle == 0) {
		/* The default root only needs its options, for a retune. */
		if (!check_filters)
			return 0;
		err = has_filters(sk, ifindex, 0, &found);
		if (err == 0 && found) {
			snprintf(why, whylen, "filters on the root qdisc %s", t->node[0].kind);
			return -EOPNOTSUPP;
		}
		return err == -EINVAL || err == -EOPNOTSUPP ? 0 : err;
	}
	/* explicit classes of the tree's qdiscs */
	c.overflow = c.bad_opts = c.has_stab = 0;
	all.n = 0;
	err = tc_dump(sk, RTM_NEWTCLASS, ifindex, 0, &c);
	if (err < 0)
		return err;
	if (c.overflow || c.bad_opts) {
		snprintf(why, whylen, "%s", c.overflow ? "too many classes" : "class options too large");
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < all.n; i++) {
		int q = find_qdisc(t, TC_H_MAJ(all.node[i].handle));

		/* only htb's classes are created one by one; the others
		 * (tbf, prio, mq) come with their qdisc */
		if (q < 0 || strcmp(t->node[q].kind, "htb"))
			continue;
		if (t->n == TB_TC_TREE_NODES) {
			snprintf(why, whylen, "too many classes");
			return -EOPNOTSUPP;
		}
		t->node[t->n++] = all.node[i];
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct tb_tc_node *n = &t->node[i];

		if (!n->is_class && !is_replayable(n->kind)) {
			snprintf(why, whylen, "qdisc %s %x: cannot be saved and put back exactly",
				 n->kind, TC_H_MAJ(n->handle) >> 16);
			return -EOPNOTSUPP;
		}
		if (!check_filters)
			continue;
		err = has_filters(sk, ifindex, n->handle, &found);
		if (err < 0 && err != -EINVAL && err != -EOPNOTSUPP)
			return err;
		if (err == 0 && found) {
			snprintf(why, whylen, "filters attached to %s %x:%x", n->kind,
				 TC_H_MAJ(n->handle) >> 16, TC_H_MIN(n->handle));
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int tb_tc_tree_read(struct nl_sock *sk, int ifindex, struct tb_tc_tree *t,
		    char *why, size_t whylen)
{
	return read_tree(sk, ifindex, t, why, whylen, 1);
}

/* A classless root has nothing under it: asking for it alone is enough. */
static int lone_classless_root(const struct tb_tc_tree *t)
{
	static const char *const classless[] = {
		"noqueue", "pfifo_fast", "pfifo", "bfifo", "pfifo_head_drop", "fq_codel", NULL,
	};

	if (t->n != 1)
		return 0;
	for (size_t i = 0; classless[i]; i++)
		if (!strcmp(t->node[0].kind, classless[i]))
			return 1;
	return 0;
}

int tb_tc_tree_current(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *like,
		       struct tb_tc_tree *t)
{
	struct tcmsg tcm = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = TC_H_ROOT };
	struct dump_ctx c = { 0 };
	struct nl_msg *msg;
	char why[160];
	int err;

	if (!lone_classless_root(like)) {
		err = read_tree(sk, ifindex, t, why, sizeof(why), 0);
		return err == -EOPNOTSUPP ? 0 : err;
	}
	/* one RTM_GETQDISC for the root rather than a dump of every qdisc;
	 * the kernel answers it as a notification, sent back only on echo */
	msg = nlmsg_alloc_simple(RTM_GETQDISC, NLM_F_ECHO);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	t->n = 0;
	c.t = t;
	c.ifindex = ifindex;
	c.type = RTM_NEWQDISC;
	err = tb_nl_request(sk, msg, dump_one, &c);
	if (err < 0)
		return err;
	return t->n == 1 ? 0 : -ENOENT;
}

/* ---- replaying ---------------------------------------------------------- */

/* The one place htb's dump differs from its configuration: the dump says
 * version 0x30011 where htb_init wants 3 (HTB_VER >> 16). */
static void fix_for_replay(const struct tb_tc_node *n, unsigned char *opts)
{
	struct nlattr *a;
	int rem;

	if (n->is_class || strcmp(n->kind, "htb"))
		return;
	nla_for_each_attr(a, (struct nlattr *)opts, (int)n->optlen, rem) {
		if (nla_type(a) == TCA_HTB_INIT && nla_len(a) >= (int)sizeof(struct tc_htb_glob)) {
			struct tc_htb_glob g;

			memcpy(&g, nla_data(a), sizeof(g));
			g.version = TC_HTB_PROTOVER;
			g.direct_pkts = 0;
			memcpy(nla_data(a), &g, sizeof(g));
		}
	}
}

static int send_node(struct nl_sock *sk, int ifindex, const struct tb_tc_node *n,
		     uint32_t parent, int type, int flags)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
		.tcm_parent = parent, .tcm_handle = n->handle,
	};
	unsigned char opts[TB_TC_OPTS_MAX];
	struct nl_msg *msg;
	int err;

	msg = nlmsg_alloc_simple(type, flags);
	if (!msg)
		return -ENOMEM;
	memcpy(opts, n->opts, n->optlen);
	fix_for_replay(n, opts);
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_string(msg, TCA_KIND, n->kind) < 0 ||
	    (n->optlen && nla_put(msg, TCA_OPTIONS, (int)n->optlen, opts) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = nl_send_sync(sk, msg);
	return tb_nl_errno(err);
}

static int node_ready(const struct tb_tc_tree *t, const unsigned char *done,
		      const struct tb_tc_node *n)
{
	uint32_t major = n->is_class ? TC_H_MAJ(n->handle) : TC_H_MAJ(n->parent);
	int q = find_qdisc(t, major);
	int needs_class;

	if (q < 0 || !done[q])
		return 0;
	/* a class under another class, or a qdisc under an htb class, waits
	 * for that class; other qdiscs' classes exist with their qdisc */
	needs_class = n->is_class ? n->parent != TC_H_ROOT && TC_H_MIN(n->parent)
				  : !strcmp(t->node[q].kind, "htb");
	if (!needs_class)
		return 1;
	for (size_t i = 0; i < t->n; i++)
		if (t->node[i].is_class && t->node[i].handle == n->parent)
			return done[i];
	return 0;
}

int tb_tc_tree_replay(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *t)
{
	unsigned char done[TB_TC_TREE_NODES] = { 0 };
	size_t left;
	int err;

	if (!t->n || t->node[0].handle == 0)
		return -EINVAL;
	err = send_node(sk, ifindex, &t->node[0], TC_H_ROOT, RTM_NEWQDISC,
			NLM_F_CREATE | NLM_F_REPLACE);
	if (err < 0)
		return err;
	done[0] = 1;
	left = t->n - 1;
	/* each pass adds at least one node, or the tree is inconsistent */
	for (size_t pass = 0; left && pass < t->n; pass++) {
		for (size_t i = 1; i < t->n; i++) {
			const struct tb_tc_node *n = &t->node[i];
			uint32_t parent = n->parent;

			if (done[i] || !node_ready(t, done, n))
				continue;
			/* a top-level htb class is dumped with parent "root";
			 * name its qdisc, which may not be the root one */
			if (n->is_class && (parent == TC_H_ROOT || !TC_H_MIN(parent)))
				parent = TC_H_MAJ(n->handle);
			err = send_node(sk, ifindex, n, parent,
					n->is_class ? RTM_NEWTCLASS : RTM_NEWQDISC,
					NLM_F_CREATE | (n->is_class ? 0 : NLM_F_REPLACE));
			if (err < 0)
				return err;
			done[i] = 1;
			left--;
		}
	}
	return left ? -EINVAL : 0;
}

int tb_tc_tree_retune_default(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *saved,
			      const struct tb_tc_tree *now)
{
	if (!saved->n || saved->node[0].handle != 0 || !now->n)
		return -EINVAL;
	if (now->node[0].handle != 0 || strcmp(now->node[0].kind, saved->node[0].kind))
		return -ESTALE;
	/* no NLM_F_CREATE: change the root in place, keeping its handle 0 */
	return send_node(sk, ifindex, &saved->node[0], TC_H_ROOT, RTM_NEWQDISC, 0);
}

/* ---- comparing ---------------------------------------------------------- */

static void normalized(const struct tb_tc_node *n, unsigned char *opts)
{
	memcpy(opts, n->opts, n->optlen);
	fix_for_replay(n, opts);   /* also clears htb's direct_pkts counter */
}

int tb_tc_tree_same(const struct tb_tc_tree *a, const struct tb_tc_tree *b,
		    char *why, size_t whylen)
{
	unsigned char oa[TB_TC_OPTS_MAX], ob[TB_TC_OPTS_MAX];

	if (a->n != b->n) {
		snprintf(why, whylen, "%zu nodes instead of %zu", b->n, a->n);
		return 0;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct tb_tc_node *x = &a->node[i];
		const struct tb_tc_node *y = NULL;

		for (size_t j = 0; j < b->n && !y; j++)
			if (b->node[j].is_class == x->is_class && b->node[j].handle == x->handle &&
			    (x->handle || b->node[j].parent == x->parent))
				y = &b->node[j];
		if (!y) {
			snprintf(why, whylen, "%s %s %x:%x missing", x->is_class ? "class" : "qdisc",
				 x->kind, TC_H_MAJ(x->handle) >> 16, TC_H_MIN(x->handle));
			return 0;
		}
		normalized(x, oa);
		normalized(y, ob);
		if (strcmp(x->kind, y->kind) || x->parent != y->parent ||
		    x->optlen != y->optlen || memcmp(oa, ob, x->optlen)) {
			snprintf(why, whylen, "%s %s %x:%x differs", x->is_class ? "class" : "qdisc",
				 x->kind, TC_H_MAJ(x->handle) >> 16, TC_H_MIN(x->handle));
			return 0;
		}
	}
	return 1;
}

/* ---- text form ---------------------------------------------------------- */

int tb_tc_tree_format(const struct tb_tc_tree *t, const char *prefix, char *buf, size_t size)
{
	size_t len = strlen(buf);

	for (size_t i = 0; i < t->n; i++) {
		const struct tb_tc_node *n = &t->node[i];
		int w = snprintf(buf + len, size - len, "%s%c %08x %08x %s ", prefix,
				 n->is_class ? 'c' : 'q', n->parent, n->handle, n->kind);

		if (w < 0 || (size_t)w >= size - len)
			goto full;
		len += (size_t)w;
		if (len + 2 * n->optlen + 3 > size)
			goto full;
		for (size_t k = 0; k < n->optlen; k++)
			len += (size_t)sprintf(buf + len, "%02x", n->opts[k]);
		if (!n->optlen)
			buf[len++] = '-';
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	return 0;
full:
	buf[len] = '\0';
	return -ENOSPC;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int tb_tc_tree_parse(const char *text, const char *prefix, struct tb_tc_tree *t)
{
	size_t plen = strlen(prefix);
	const char *p = text;

	t->n = 0;
	while (!strncmp(p, prefix, plen)) {
		struct tb_tc_node *n;
		char type, kind[16], hex[2 * TB_TC_OPTS_MAX + 2];
		unsigned parent, handle;
		const char *eol = strchr(p, '\n');
		char line[2 * TB_TC_OPTS_MAX + 96];
		size_t hl;

		if (t->n == TB_TC_TREE_NODES || !eol || (size_t)(eol - p) >= sizeof(line))
			return -EINVAL;
		memcpy(line, p + plen, (size_t)(eol - p) - plen);
		line[eol - p - plen] = '\0';
		if (sscanf(line, "%c %8x %8x %15s %513s", &type, &parent, &handle, kind, hex) != 5 ||
		    (type != 'q' && type != 'c'))
			return -EINVAL;
		n = &t->node[t->n];
		memset(n, 0, sizeof(*n));
		n->is_class = type == 'c';
		n->parent = parent;
		n->handle = handle;
		snprintf(n->kind, sizeof(n->kind), "%s", kind);
		hl = strcmp(hex, "-") ? strlen(hex) : 0;
		if (hl % 2 || hl / 2 > TB_TC_OPTS_MAX)
			return -EINVAL;
		for (size_t k = 0; k < hl / 2; k++) {
			int hi = hexval(hex[2 * k]), lo = hexval(hex[2 * k + 1]);

			if (hi < 0 || lo < 0)
				return -EINVAL;
			n->opts[k] = (unsigned char)(hi << 4 | lo);
		}
		n->optlen = hl / 2;
		t->n++;
		p = eol + 1;
	}
	return (int)(p - text);
}
