/* tc_saved.h - the tc throttler's saved state as text: each device shaped, what identifies it, and the tree to put back. */
#ifndef TB_TC_SAVED_H
#define TB_TC_SAVED_H

#include <stddef.h>
#include <net/if.h>
#include "tc_tree.h"

/* One device shaped for a target. */
enum tc_leg_kind {
	LEG_EGRESS,    /* the target's interface: what it sends */
	LEG_PEER,      /* the host end of its veth pair: what it receives */
	LEG_IFB,       /* an IFB fed from its interface's ingress: what it receives */
};

extern const char *const tc_leg_names[3];

#define TC_MAC_LEN 64

struct tc_leg {
	enum tc_leg_kind kind;
	char netns[1024];          /* "" = ours */
	/*
	 * Who the device was at save time, so that a restore after the
	 * namespace or the device was replaced (ifindexes and namespace inodes
	 * are reused) leaves the newcomer alone.  has_id 0: state saved before
	 * this was recorded ("tc 1").
	 */
	int has_id;
	unsigned long long ns_dev, ns_ino;
	char mac[TC_MAC_LEN];      /* its hardware address, "-" if it has none */
	char ifname[IF_NAMESIZE];
	int ifindex;
	unsigned mtu;
	char ifb[IF_NAMESIZE];     /* LEG_IFB: the device we create, TC_IFB_PREFIX<ifindex> */
	struct tb_tc_tree tree;    /* LEG_EGRESS, LEG_PEER: what to put back */
};

#define TC_MAX_LEGS 2

/*
 * Text, "tc 3": the capacity, the allowance (what the target's shaping let
 * it send at save time, an operator's below the capacity; stress takes a
 * share of it), then one "leg" line per device, each followed by the tree to
 * put back on it (tc_tree.h's lines, prefixed "node "):
 *   tc 3
 *   capacity 12500000
 *   allowance 6250000
 *   leg egress 2 1500 eth0 - 4:4026532291 9a:3e:5c:0b:1f:22 /proc/1234/ns/net
 *   node q ffffffff 00000000 noqueue -
 * A leg line: kind, ifindex, mtu, name, IFB or "-", namespace dev:inode,
 * hardware address or "-", namespace path or "-".  "tc 2" has no allowance
 * (the capacity then); "tc 1" lines also lack the two identity fields.
 * format returns 0 or -ENOSPC; parse 0 or -EINVAL for anything but what
 * format writes (or tc 1 and 2).
 */
int tc_saved_format(double capacity, double allowance, const struct tc_leg *legs, int n,
		    char *buf, size_t size);
int tc_saved_parse(const char *saved, double *capacity, double *allowance, struct tc_leg *legs,
		   int *nlegs);

#endif
