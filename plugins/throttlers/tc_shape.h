/* tc_shape.h - install and remove ThrottleBot's HTB shaper on a device, and the IFB that brings ingress to one. */
#ifndef TB_TC_SHAPE_H
#define TB_TC_SHAPE_H

#include <stddef.h>
#include <stdint.h>
#include "tc_tree.h"

struct nl_sock;

/* The handles of the root qdisc ThrottleBot installs and of its one class,
 * "b07:" and "b07:1"; anything else on a device is someone else's. */
#define TC_QDISC 0x0b070000u
#define TC_CLASS 0x0b070001u
/* IFB devices ThrottleBot creates are named TC_IFB_PREFIX<ifindex>. */
#define TC_IFB_PREFIX "tbifb"

/* 1 if t's root is our shaper. */
int tc_is_ours(const struct tb_tc_tree *t);

/*
 * Shape what ifindex sends to rate bytes/s: our HTB root with one default
 * class.  If the shaper is there already only the rate changes.  Otherwise
 * the current root must still be saved (-ESTALE, why says how it differs);
 * saved NULL skips that check (a device of ours).
 */
int tc_shape(struct nl_sock *sk, int ifindex, uint32_t mtu, double rate,
	     const struct tb_tc_tree *saved, char *why, size_t whylen);

/* Shape what ifindex receives: create ifb (named), redirect ifindex's
 * ingress to it (ingress qdisc, u32 match-all, mirred) and shape it. */
int tc_shape_ifb(struct nl_sock *sk, int ifindex, const char *ifb, uint32_t mtu, double rate);

/* 1 if ifindex has an ingress (or clsact) qdisc, 0 if not, or -errno. */
int tc_has_ingress_qdisc(struct nl_sock *sk, int ifindex);

/*
 * If our shaper is on ifindex, put saved back in its place and check the
 * result (-EIO, why says how it differs).  Nothing to do -- never applied,
 * already restored, device gone -- is success.
 */
int tc_unshape(struct nl_sock *sk, int ifindex, const struct tb_tc_tree *saved, char *why,
	       size_t whylen);

/* Remove what tc_shape_ifb added: ifindex's ingress qdisc (ifindex > 0: the
 * caller has checked it is the device saved) and the IFB. */
int tc_unshape_ifb(struct nl_sock *sk, int ifindex, const char *ifb);

#endif
