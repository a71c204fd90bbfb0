/* tc_saved.c - the tc throttler's saved state as text: each device shaped, what identifies it, and the tree to put back. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tc_saved.h"
#include "tc_shape.h"

const char *const tc_leg_names[3] = { "egress", "peer", "ifb" };

int tc_saved_format(double capacity, double allowance, const struct tc_leg *legs, int n,
		    char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "tc 3\ncapacity %.0f\nallowance %.0f\n", capacity,
			     allowance) >= size)
		return -ENOSPC;
	for (int i = 0; i < n; i++) {
		const struct tc_leg *l = &legs[i];
		size_t len = strlen(buf);

		if ((size_t)snprintf(buf + len, size - len, "leg %s %d %u %s %s %llu:%llu %s %s\n",
				     tc_leg_names[l->kind], l->ifindex, l->mtu, l->ifname,
				     l->ifb[0] ? l->ifb : "-", l->ns_dev, l->ns_ino,
				     l->mac[0] ? l->mac : "-",
				     l->netns[0] ? l->netns : "-") >= size - len ||
		    tb_tc_tree_format(&l->tree, "node ", buf, size) < 0)
			return -ENOSPC;
	}
	return 0;
}

/* Fields that reach netlink requests and file opens: only what save writes. */
static int leg_valid(const struct tc_leg *l)
{
	char ifb[IF_NAMESIZE + 16];

	if (l->ifindex <= 0 || !l->ifname[0] || strchr(l->ifname, '/'))
		return 0;
	if (l->netns[0] && l->netns[0] != '/')
		return 0;
	if (l->mac[0] && strspn(l->mac, "0123456789abcdef:") != strlen(l->mac))
		return 0;
	if (l->kind != LEG_IFB)
		return !l->ifb[0] && l->tree.n > 0;
	/* we only ever create, and so only ever delete, TC_IFB_PREFIX<ifindex> */
	snprintf(ifb, sizeof(ifb), TC_IFB_PREFIX "%d", l->ifindex);
	return !strcmp(l->ifb, ifb);
}

static int parse_leg(const char *p, int version, struct tc_leg *l, int *used)
{
	char kind[16], ifb[IF_NAMESIZE], netns[1024], mac[TC_MAC_LEN];
	int k, ok;

	memset(l, 0, sizeof(*l));
	*used = 0;
	if (version == 1)
		ok = sscanf(p, "leg %15s %d %u %15s %15s %1023s%n", kind, &l->ifindex, &l->mtu,
			    l->ifname, ifb, netns, used) == 6;
	else
		ok = sscanf(p, "leg %15s %d %u %15s %15s %llu:%llu %63s %1023s%n", kind,
			    &l->ifindex, &l->mtu, l->ifname, ifb, &l->ns_dev, &l->ns_ino, mac,
			    netns, used) == 9;
	if (!ok || p[*used] != '\n')
		return -EINVAL;
	for (k = 0; k < 3 && strcmp(kind, tc_leg_names[k]); k++)
		;
	if (k == 3)
		return -EINVAL;
	l->kind = (enum tc_leg_kind)k;
	l->has_id = version == 2;
	if (strcmp(ifb, "-"))
		snprintf(l->ifb, sizeof(l->ifb), "%s", ifb);
	if (strcmp(netns, "-"))
		snprintf(l->netns, sizeof(l->netns), "%s", netns);
	if (l->has_id && strcmp(mac, "-"))
		snprintf(l->mac, sizeof(l->mac), "%s", mac);
	return 0;
}

/* save writes whole bytes/s, at least 1 */
static int rate_valid(double rate)
{
	return rate >= 1 && isfinite(rate);
}

int tc_saved_parse(const char *saved, double *capacity, double *allowance, struct tc_leg *legs,
		   int *nlegs)
{
	const char *p = saved;
	int n = 0, used = 0, version;

	if (sscanf(p, "tc %d capacity %lf%n", &version, capacity, &used) != 2 ||
	    p[used] != '\n' || version < 1 || version > 3 || !rate_valid(*capacity))
		return -EINVAL;
	p += used + 1;
	*allowance = *capacity;
	if (version == 3 && (sscanf(p, "allowance %lf%n", allowance, &used) != 1 ||
			     p[used] != '\n' || !rate_valid(*allowance) || *allowance > *capacity))
		return -EINVAL;
	if (version == 3)
		p += used + 1;
	version = version == 3 ? 2 : version;      /* the same legs */
	while (!strncmp(p, "leg ", 4)) {
		struct tc_leg *l = &legs[n];
		int m;

		if (n == TC_MAX_LEGS || parse_leg(p, version, l, &used) < 0)
			return -EINVAL;
		p += used + 1;
		m = tb_tc_tree_parse(p, "node ", &l->tree);
		if (m < 0 || !leg_valid(l))
			return -EINVAL;
		p += m;
		n++;
	}
	*nlegs = n;
	return *p ? -EINVAL : 0;
}
