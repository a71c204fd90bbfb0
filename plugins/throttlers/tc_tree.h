/* tc_tree.h - save a device's root qdisc tree exactly and put it back, through libnl. */
#ifndef TB_TC_TREE_H
#define TB_TC_TREE_H

#include <stddef.h>
#include <stdint.h>

struct nl_sock;
struct nl_msg;

#define TB_TC_TREE_NODES 16
#define TB_TC_OPTS_MAX 256

/* One qdisc or class, with the kernel's own TCA_OPTIONS bytes. */
struct tb_tc_node {
	int is_class;
	uint32_t parent, handle;   /* handle: the classid for a class */
	char kind[16];
	size_t optlen;
	unsigned char opts[TB_TC_OPTS_MAX];
};

/*
 * The egress tree of one device: node[0] is the root qdisc, then its
 * explicitly created classes and qdiscs.  A root with handle 0 is the one the
 * kernel attached by itself ("default"); restoring it means deleting ours.
 */
struct tb_tc_tree {
	size_t n;
	struct tb_tc_node node[TB_TC_TREE_NODES];
};

/*
 * Read the tree of ifindex.  -EOPNOTSUPP when it cannot be put back exactly
 * (a qdisc kind we cannot replay, filters, size tables, too many nodes); why
 * then says what, for the user.
 */
int tb_tc_tree_read(struct nl_sock *sk, int ifindex, struct tb_tc_tree *t,
		    char *why, size_t whylen);

/*
 * What is on ifindex now, as far as comparing it with like (a saved tree)
 * needs: the root alone when like is a lone classless root (one request),
 * else the whole tree, without looking for filters.
 */
int tb_tc_tree_current(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *like,
		       struct tb_tc_tree *t);

/* Replace whatever is the root of ifindex with t (a non-default tree). */
int tb_tc_tree_replay(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *t);

/* For a default root: the kernel's new default (now) differs in its
 * options from the saved one (an operator had tuned it): change it back. */
int tb_tc_tree_retune_default(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *saved,
			      const struct tb_tc_tree *now);

/* 1 if a and b hold the same nodes with the same parameters (counters the
 * kernel reports inside options are ignored), else 0; why names the first
 * difference. */
int tb_tc_tree_same(const struct tb_tc_tree *a, const struct tb_tc_tree *b,
		    char *why, size_t whylen);

/* Text form for saved state: one line per node, "<prefix>q|c parent handle
 * kind hexoptions".  format appends to buf (NUL-terminated, size bytes in
 * all) and returns 0 or -ENOSPC; parse reads the lines at text that start
 * with prefix and returns how many bytes it consumed, or -EINVAL. */
int tb_tc_tree_format(const struct tb_tc_tree *t, const char *prefix, char *buf,
		      size_t size);
int tb_tc_tree_parse(const char *text, const char *prefix, struct tb_tc_tree *t);

/* Send msg (freed), hand each reply to valid, and read up to the kernel's
 * ack, so that nothing is left on the socket for the next request. */
int tb_nl_request(struct nl_sock *sk, struct nl_msg *msg,
		  int (*valid)(struct nl_msg *msg, void *arg), void *arg);

/* libnl error code (negative NLE_*) as a negative errno. */
int tb_nl_errno(int nlerr);

#endif
