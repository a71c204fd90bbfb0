/* check_tc.c - the tc throttler on real namespaces, veth pairs and HTB: rates measured, restores exact. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "netpair.h"
#include "testhost.h"

extern const struct tb_throttler throttlebot_plugin;
static const struct tb_throttler *const P = &throttlebot_plugin;

#define WINDOW 2.0                  /* seconds per measured transfer */
#define LIMIT (20e6 / 8)            /* 20 Mbit/s in bytes/s: stress 0.8 of 100mbit */

static struct netpair np;
static char host_veth[16];          /* a veth end in our namespace, for the peer test */
static char host_addr[32], peer_addr[32];
static char third_ns[64];           /* a namespace one test deletes itself */

/* ---- fixtures ----------------------------------------------------------- */

/* Once per test case, in the parent: survives a failing test, so teardown
 * always removes the namespaces (and with them every qdisc and IFB). */
static void pair_setup(void)
{
	int x = (int)getpid() % 250 + 1;

	snprintf(host_veth, sizeof(host_veth), "tbth%d", (int)getpid() % 100000);
	snprintf(third_ns, sizeof(third_ns), "throttlebot-test-c-%d", (int)getpid());
	snprintf(host_addr, sizeof(host_addr), "10.201.%d.1", x);
	snprintf(peer_addr, sizeof(peer_addr), "10.201.%d.2", x);
	if (netpair_create(&np) < 0)
		ck_abort_msg("cannot create the test namespaces");
}

static void pair_teardown(void)
{
	/* deleting namespace b would take it too; this covers a failed setup */
	tb_test_sh("ip link del %s 2>/dev/null", host_veth);
	tb_test_sh("ip netns del %s 2>/dev/null", third_ns);
	netpair_destroy(&np);
}

/* Before each test, in its process: start from the namespaces' defaults
 * even if an earlier test failed half-way. */
static void clean_devices(void)
{
	for (int i = 0; i < 2; i++)
		tb_test_sh("ip netns exec %s sh -c 'tc qdisc del dev %s root; tc qdisc del dev %s "
			   "ingress; for d in $(ls /sys/class/net | grep ^tbifb); do ip link del $d; "
			   "done; ip link del tbq0; ip link del tbrep0' 2>/dev/null", np.ns[i], np.ifname[i],
			   np.ifname[i]);
}

/* ---- helpers ------------------------------------------------------------ */

struct inst {
	struct tb_test_plugin t;
	void *st;
};

static void open_inst(struct inst *in, const char *config)
{
	ck_assert_int_eq(tb_test_plugin_open(&in->t, P, config), 0);
	ck_assert_int_eq(P->init(&in->t.in.host, tb_test_plugin_config(&in->t), &in->st), 0);
}

static void close_inst(struct inst *in)
{
	P->fini(in->st);
	tb_test_plugin_close(&in->t);
}

static struct tb_target target_of(int i)
{
	struct tb_target t = { .id = i ? "ns b" : "ns a" };

	t.netns = np.path[i];
	t.ifname = np.ifname[i];
	return t;
}

/* What tc shows for a device in namespace ns (NULL: ours), details included. */
static void show(const char *ns, const char *ifname, char *out, size_t size)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "%s%s", ns ? "ip netns exec " : "", ns ? ns : "");
	ck_assert_int_eq(netpair_capture(out, size, "%s tc -d qdisc show dev %s && %s tc -d class "
					 "show dev %s && %s tc filter show dev %s ingress",
					 cmd, ifname, cmd, ifname, cmd, ifname), 0);
}

static double rate_ab(int from)
{
	double r = netpair_rate(np.path[from], np.path[!from], np.addr[!from], WINDOW);

	ck_assert_msg(r > 0, "no transfer from %s to %s", np.ns[from], np.ns[!from]);
	return r;
}

static void assert_near(double got, double want, double tol, const char *what)
{
	ck_assert_msg(got > want * (1 - tol) && got < want * (1 + tol),
		      "%s: %.0f bytes/s, want %.0f +-%.0f%%", what, got, want, tol * 100);
}

/* ---- tests -------------------------------------------------------------- */

/* Egress limits, each stress 0.8 of a capacity: 20 and 200 Mbit/s. */
static const struct { const char *config; double limit; } egress_cases[] = {
	{ "capacity = \"100mbit\";", 20e6 / 8 },
	{ "capacity = \"1gbit\";", 200e6 / 8 },
};

START_TEST(egress_limits_what_a_sends)
{
	struct tb_target a = target_of(0);
	char before[8192], after[8192], saved[TB_SAVED_MAX];
	double limit = egress_cases[_i].limit, free_ab, free_ba, ab, ba;
	struct inst in;

	free_ab = rate_ab(0);
	free_ba = rate_ab(1);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, egress_cases[_i].config);
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.8), 0);
	ab = rate_ab(0);
	ba = rate_ab(1);
	fprintf(stderr, "egress: a->b %.1f -> %.1f Mbit/s (limit %.0f), b->a %.1f -> %.1f Mbit/s\n",
		free_ab * 8e-6, ab * 8e-6, limit * 8e-6, free_ba * 8e-6, ba * 8e-6);
	assert_near(ab, limit, 0.15, "a->b under an egress limit");
	ck_assert_msg(ba > 5 * limit, "b->a fell to %.0f bytes/s", ba);

	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_msg(rate_ab(0) > 5 * limit, "a->b still limited after restore");
	close_inst(&in);
}
END_TEST

START_TEST(ingress_through_ifb_limits_what_a_receives)
{
	struct tb_target a = target_of(0);
	char before[8192], after[8192], saved[TB_SAVED_MAX], links[4096];
	double ab, ba;
	struct inst in;

	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, "capacity = \"100mbit\"; direction = \"ingress\";");
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_ptr_nonnull(strstr(saved, "leg ifb "));
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.8), 0);
	ba = rate_ab(1);
	ab = rate_ab(0);
	fprintf(stderr, "ingress (ifb): b->a %.1f Mbit/s (limit 20), a->b %.1f Mbit/s\n",
		ba * 8e-6, ab * 8e-6);
	assert_near(ba, LIMIT, 0.15, "b->a under a 20 Mbit/s ingress limit");
	ck_assert_msg(ab > 5 * LIMIT, "a->b fell to %.0f bytes/s", ab);

	ck_assert_int_eq(P->restore(in.st, saved), 0);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	netpair_capture(links, sizeof(links), "ip -n %s -o link show", np.ns[0]);
	ck_assert_msg(!strstr(links, "tbifb"), "IFB device left behind: %s", links);
	close_inst(&in);
}
END_TEST

START_TEST(ingress_through_host_peer_limits_what_b_receives)
{
	struct tb_target b = { .id = "ns b (host peer)", .netns = np.path[1], .ifname = "tbvethh" };
	char before[8192], after[8192], saved[TB_SAVED_MAX];
	double in_rate, out_rate;
	struct inst in;

	ck_assert_int_eq(tb_test_sh("ip link add %s type veth peer name tbvethh netns %s && "
				    "ip addr add %s/24 dev %s && ip link set %s up && "
				    "ip -n %s addr add %s/24 dev tbvethh && ip -n %s link set tbvethh up",
				    host_veth, np.ns[1], host_addr, host_veth, host_veth,
				    np.ns[1], peer_addr, np.ns[1]), 0);
	show(NULL, host_veth, before, sizeof(before));
	open_inst(&in, "capacity = \"100mbit\"; direction = \"ingress\";");
	ck_assert_int_eq(P->save(in.st, &b, saved, sizeof(saved)), 0);
	ck_assert_msg(strstr(saved, "leg peer ") && strstr(saved, host_veth), "%s", saved);
	ck_assert_int_eq(P->apply(in.st, &b, saved, 0.8), 0);
	in_rate = netpair_rate(NULL, np.path[1], peer_addr, WINDOW);
	out_rate = netpair_rate(np.path[1], NULL, host_addr, WINDOW);
	fprintf(stderr, "ingress (host peer): into b %.1f Mbit/s (limit 20), out of b %.1f Mbit/s\n",
		in_rate * 8e-6, out_rate * 8e-6);
	assert_near(in_rate, LIMIT, 0.15, "into b under a 20 Mbit/s ingress limit");
	ck_assert_msg(out_rate > 5 * LIMIT, "out of b fell to %.0f bytes/s", out_rate);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(NULL, host_veth, after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&in);
	tb_test_sh("ip link del %s", host_veth);
}
END_TEST

/*
 * allocate() shapes to an absolute rate that allocation() reads back, and
 * a higher one lets more through; the root comes back exactly.  Nothing
 * shaped is -ENODATA, beyond the capacity -ERANGE.  tc has no prioritize
 * (see tc.c).
 */
START_TEST(allocate_sets_an_absolute_rate)
{
	struct tb_target a = target_of(0);
	char before[8192], after[8192], saved[TB_SAVED_MAX];
	double n = 0, low, high;
	struct inst in;

	ck_assert_ptr_null(P->prioritize);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, "capacity = \"100mbit\";");
	ck_assert_int_eq(P->allocation(in.st, &a, &n), -ENODATA);
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->allocate(in.st, &a, saved, 10e6 / 8), 0);
	ck_assert_int_eq(P->allocation(in.st, &a, &n), 0);
	ck_assert_double_eq(n, 10e6 / 8);
	low = rate_ab(0);
	ck_assert_int_eq(P->allocate(in.st, &a, saved, 40e6 / 8), 0);
	ck_assert_int_eq(P->allocation(in.st, &a, &n), 0);
	ck_assert_double_eq(n, 40e6 / 8);
	high = rate_ab(0);
	fprintf(stderr, "allocate: a->b %.1f Mbit/s at 10, %.1f Mbit/s at 40\n", low * 8e-6,
		high * 8e-6);
	assert_near(low, 10e6 / 8, 0.15, "a->b allocated 10 Mbit/s");
	assert_near(high, 40e6 / 8, 0.15, "a->b allocated 40 Mbit/s");
	ck_assert_int_eq(P->allocate(in.st, &a, saved, 101e6 / 8), -ERANGE);
	ck_assert_int_eq(P->allocate(in.st, &a, saved, 999), -ERANGE);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(P->allocation(in.st, &a, &n), -ENODATA);
	close_inst(&in);

	/* Ingress through an IFB: the IFB's class is the allocation. */
	open_inst(&in, "capacity = \"100mbit\"; direction = \"ingress\";");
	ck_assert_int_eq(P->allocation(in.st, &a, &n), -ENODATA);
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->allocate(in.st, &a, saved, 5e6), 0);
	ck_assert_int_eq(P->allocation(in.st, &a, &n), 0);
	ck_assert_double_eq(n, 5e6);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	ck_assert_int_eq(P->allocation(in.st, &a, &n), -ENODATA);
	close_inst(&in);
}
END_TEST

/* An operator's shaping is an allocation too: a TBF's rate, an HTB default
 * class's ceil held lower by its parent's. */
START_TEST(an_operators_shaping_is_read)
{
	static const struct { const char *cmd; double rate; } cases[] = {
		{ "tc qdisc add dev %1$s root handle 1: tbf rate 50mbit burst 32kb latency 50ms", 50e6 / 8 },
		{ "tc qdisc add dev %1$s root handle 1: htb default 20 && "
		  "tc class add dev %1$s parent 1: classid 1:1 htb rate 100mbit && "
		  "tc class add dev %1$s parent 1:1 classid 1:20 htb rate 6mbit ceil 8gbit", 100e6 / 8 },
		{ "tc qdisc add dev %1$s root handle 1: htb && "
		  "tc class add dev %1$s parent 1: classid 1:1 htb rate 100mbit", -ENODATA },
		{ "tc qdisc add dev %1$s root handle 7: pfifo limit 77", -ENODATA },
	};
	struct tb_target a = target_of(0);
	char cmd[1024];
	struct inst in;
	double n;

	open_inst(&in, "capacity = \"1gbit\";");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		clean_devices();
		snprintf(cmd, sizeof(cmd), "ip netns exec %s sh -c '%s'", np.ns[0], cases[i].cmd);
		ck_assert_int_eq(tb_test_sh(cmd, np.ifname[0]), 0);
		n = 0;
		if (cases[i].rate < 0) {
			ck_assert_int_eq(P->allocation(in.st, &a, &n), (int)cases[i].rate);
		} else {
			ck_assert_int_eq(P->allocation(in.st, &a, &n), 0);
			ck_assert_double_eq(n, cases[i].rate);
		}
	}
	close_inst(&in);
}
END_TEST

/* Stress takes its share of what an operator's shaping allows, not of the
 * path: half of a 50 Mbit/s TBF is 25 Mbit/s; the TBF comes back. */
START_TEST(stress_takes_a_share_of_an_operators_shaping)
{
	struct tb_target a = target_of(0);
	char before[8192], after[8192], saved[TB_SAVED_MAX], cmd[1024];
	struct inst in;
	double n = 0;

	clean_devices();
	snprintf(cmd, sizeof(cmd), "ip netns exec %s tc qdisc add dev %s root handle 1: tbf rate "
		 "50mbit burst 32kb latency 50ms", np.ns[0], np.ifname[0]);
	ck_assert_int_eq(tb_test_sh("%s", cmd), 0);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, "capacity = \"1gbit\";");
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_msg(strstr(saved, "\nallowance 6250000\n"), "%s", saved);
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.5), 0);
	ck_assert_int_eq(P->allocation(in.st, &a, &n), 0);
	ck_assert_double_eq(n, 25e6 / 8);
	/* The path, not the operator's rate, bounds what allocate may give. */
	ck_assert_int_eq(P->allocate(in.st, &a, saved, 100e6 / 8), 0);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&in);
	clean_devices();
}
END_TEST

/* Operators' root qdiscs that must come back exactly. */
static const char *const existing[] = {
	"tc qdisc add dev %1$s root handle 1: tbf rate 50mbit burst 32kb latency 50ms",
	"tc qdisc add dev %1$s root handle 2: tbf rate 5gbit burst 1mb limit 300000 peakrate 6gbit mtu 9000",
	"tc qdisc add dev %1$s root handle 7: pfifo limit 77",
	"tc qdisc add dev %1$s root handle 8: bfifo limit 123456",
	"tc qdisc add dev %1$s root handle 9: pfifo_fast",
	"tc qdisc add dev %1$s root handle 1: htb default 20 r2q 7 && "
	"tc class add dev %1$s parent 1: classid 1:1 htb rate 100mbit burst 20k && "
	"tc class add dev %1$s parent 1:1 classid 1:10 htb rate 30mbit ceil 100mbit prio 1 && "
	"tc class add dev %1$s parent 1:1 classid 1:20 htb rate 6gbit ceil 8gbit quantum 3000 && "
	"tc qdisc add dev %1$s parent 1:10 handle 10: pfifo limit 50 && "
	"tc qdisc add dev %1$s parent 1:20 handle 20: tbf rate 1mbit burst 10k latency 20ms",
};

START_TEST(existing_root_is_restored_exactly)
{
	struct tb_target a = target_of(0);
	char before[8192], during[8192], after[8192], saved[TB_SAVED_MAX], cmd[2048];
	struct inst in;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s sh -c '%s'", np.ns[0], existing[_i]);
	ck_assert_int_eq(tb_test_sh(cmd, np.ifname[0]), 0);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, "capacity = \"1gbit\";");
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.5), 0);
	show(np.ns[0], np.ifname[0], during, sizeof(during));
	ck_assert_msg(strstr(during, "qdisc htb b07: root"), "%s", during);
	ck_assert_msg(strstr(during, "class htb b07:1 root"), "%s", during);
	/* a second apply at another level changes only the rate */
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.9), 0);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&in);
}
END_TEST

/* Roots the kernel attached by itself (handle 0): pfifo_fast on a device
 * with one queue, mq and its per-queue children on one with several. */
static const char *const defaults[] = {
	"ip link add tbq0 type ifb",
	"ip link add tbq0 numtxqueues 3 type ifb",
};

START_TEST(default_root_comes_back)
{
	struct tb_target q = { .id = "ns a tbq0", .netns = np.path[0], .ifname = "tbq0" };
	char before[8192], during[8192], after[8192], saved[TB_SAVED_MAX];
	struct inst in;

	ck_assert_int_eq(tb_test_sh("ip netns exec %s %s && ip -n %s link set tbq0 up", np.ns[0],
				    defaults[_i], np.ns[0]), 0);
	show(np.ns[0], "tbq0", before, sizeof(before));
	ck_assert_msg(strstr(before, " 0: root"), "%s", before);
	open_inst(&in, "capacity = \"1gbit\";");
	ck_assert_int_eq(P->save(in.st, &q, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &q, saved, 0.3), 0);
	show(np.ns[0], "tbq0", during, sizeof(during));
	ck_assert_msg(strstr(during, "qdisc htb b07: root"), "%s", during);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], "tbq0", after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&in);
	tb_test_sh("ip -n %s link del tbq0", np.ns[0]);
}
END_TEST

START_TEST(restore_after_a_crash_uses_only_the_saved_text)
{
	struct tb_target a = target_of(0);
	char before[8192], after[8192], saved[TB_SAVED_MAX];
	struct inst in, fresh;

	ck_assert_int_eq(tb_test_sh("ip netns exec %s tc qdisc add dev %s root handle 1: tbf rate "
				    "50mbit burst 32kb latency 50ms", np.ns[0], np.ifname[0]), 0);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, "capacity = \"1gbit\"; direction = \"both\";");
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.5), 0);
	close_inst(&in);   /* "dies" with the shaper applied */

	ck_assert_int_eq(tb_test_plugin_open(&fresh.t, P, NULL), 0);
	ck_assert_int_eq(P->init(&fresh.t.in.host, NULL, &fresh.st), 0);
	ck_assert_int_eq(P->restore(fresh.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&fresh);
}
END_TEST

START_TEST(refuses_what_it_could_not_put_back)
{
	struct tb_target a = target_of(0);
	char before[8192], after[8192], saved[TB_SAVED_MAX];
	struct inst in;

	/* filters on the existing root: refused, untouched */
	ck_assert_int_eq(tb_test_sh("ip netns exec %1$s sh -c 'tc qdisc add dev %2$s root handle 1: "
				    "htb default 1 && tc class add dev %2$s parent 1: classid 1:1 htb "
				    "rate 1gbit && tc filter add dev %2$s parent 1: protocol ip prio 1 "
				    "u32 match ip dport 80 0xffff flowid 1:1'", np.ns[0], np.ifname[0]), 0);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, "capacity = \"1gbit\";");
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), -EOPNOTSUPP);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);

	/* a root that changed between save and apply: refused, untouched */
	ck_assert_int_eq(tb_test_sh("ip netns exec %s tc qdisc del dev %s root", np.ns[0],
				    np.ifname[0]), 0);
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_int_eq(tb_test_sh("ip netns exec %s tc qdisc add dev %s root handle 5: pfifo "
				    "limit 10", np.ns[0], np.ifname[0]), 0);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.5), -ESTALE);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);

	/* our own shaper, left by a run that was killed: save says so */
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &a, saved, 0.5), 0);
	{
		char again[TB_SAVED_MAX];

		ck_assert_int_eq(P->save(in.st, &a, again, sizeof(again)), -EEXIST);
	}
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&in);
}
END_TEST

START_TEST(refuses_to_replace_an_ingress_qdisc)
{
	struct tb_target a = target_of(0);
	char before[8192], after[8192], saved[TB_SAVED_MAX];
	struct inst in;

	ck_assert_int_eq(tb_test_sh("ip netns exec %s tc qdisc add dev %s ingress", np.ns[0],
				    np.ifname[0]), 0);
	show(np.ns[0], np.ifname[0], before, sizeof(before));
	open_inst(&in, "capacity = \"1gbit\"; direction = \"ingress\";");
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), -EBUSY);
	show(np.ns[0], np.ifname[0], after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&in);
}
END_TEST

/* A container that stops while throttled takes its shaper with it. */
START_TEST(restore_after_the_namespace_is_gone)
{
	const char *name = third_ns;
	char path[128], saved[TB_SAVED_MAX];
	struct tb_target t = { .id = "ns c", .ifname = "tbvethc" };
	struct inst in;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	t.netns = path;
	ck_assert_int_eq(tb_test_sh("ip netns add %1$s && ip -n %1$s link add tbvethc type veth "
				    "peer name tbvethd && ip -n %1$s link set tbvethc up", name), 0);
	open_inst(&in, "capacity = \"1gbit\"; direction = \"both\";");
	ck_assert_int_eq(P->save(in.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &t, saved, 0.5), 0);
	ck_assert_int_eq(tb_test_sh("ip netns del %s", name), 0);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	close_inst(&in);
}
END_TEST

START_TEST(probe_and_discovery)
{
	struct tb_target a = { .id = "ns a", .netns = np.path[0] };   /* no ifname: discovered */
	char saved[TB_SAVED_MAX], line[128];
	struct inst in;
	double cap = 0;

	open_inst(&in, NULL);
	ck_assert_int_eq(P->probe(in.st, &a, &cap), 0);
	ck_assert_msg(cap == 10000e6 / 8, "veth capacity %.0f, want 10 Gbit/s", cap);
	ck_assert_int_eq(P->save(in.st, &a, saved, sizeof(saved)), 0);
	snprintf(line, sizeof(line), " %s ", np.ifname[0]);
	ck_assert_msg(strstr(saved, line), "discovered another interface: %s", saved);
	close_inst(&in);

	open_inst(&in, "capacity = \"250kbps\";");
	ck_assert_int_eq(P->probe(in.st, &a, &cap), 0);
	ck_assert_double_eq(cap, 250e3);
	close_inst(&in);

	ck_assert_int_eq(tb_test_plugin_open(&in.t, P, "capacity = \"fast\";"), 0);
	ck_assert_int_eq(P->init(&in.t.in.host, tb_test_plugin_config(&in.t), &in.st), -EINVAL);
	tb_test_plugin_close(&in.t);
	ck_assert_int_eq(tb_test_plugin_open(&in.t, P, "direction = \"sideways\";"), 0);
	ck_assert_int_eq(P->init(&in.t.in.host, tb_test_plugin_config(&in.t), &in.st), -EINVAL);
	tb_test_plugin_close(&in.t);
}
END_TEST

/* Shape an IFB device of its own's ingress through an IFB in namespace ns, then swap
 * the device for another one with the same ifindex that has an ingress qdisc
 * of someone else's (swap: shell commands, %1$s the namespace, %2$d the
 * ifindex).  restore() must leave that qdisc alone. */
static void replaced_device_left_alone(const char *ns, const char *swap)
{
	struct tb_target d = { .id = "tbrep0" , .ifname = "tbrep0" };
	char path[128], before[8192], after[8192], saved[TB_SAVED_MAX], cmd[1024];
	struct inst in;
	int ifindex = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	d.netns = path;
	ck_assert_int_eq(tb_test_sh("ip -n %1$s link add tbrep0 type ifb && "
				    "ip -n %1$s link set tbrep0 up", ns), 0);
	open_inst(&in, "capacity = \"1gbit\"; direction = \"ingress\";");
	ck_assert_int_eq(P->save(in.st, &d, saved, sizeof(saved)), 0);
	ck_assert_msg(sscanf(strstr(saved, "leg ifb "), "leg ifb %d", &ifindex) == 1, "%s", saved);
	ck_assert_int_eq(P->apply(in.st, &d, saved, 0.5), 0);
	show(ns, "tbrep0", after, sizeof(after));
	ck_assert_msg(strstr(after, "qdisc ingress ffff:"), "%s", after);

	snprintf(cmd, sizeof(cmd), swap, ns, ifindex);
	ck_assert_int_eq(tb_test_sh("%s", cmd), 0);
	show(ns, "tbrep0", before, sizeof(before));
	ck_assert_msg(strstr(before, "qdisc ingress ffff:"), "%s", before);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	show(ns, "tbrep0", after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_inst(&in);
}

/* ifindexes are per namespace and reused: same name, same ifindex, another
 * device (another hardware address). */
START_TEST(restore_leaves_a_replaced_interface_alone)
{
	replaced_device_left_alone(np.ns[0], "ip -n %1$s link del tbrep0 && "
				   "ip -n %1$s link add tbrep0 index %2$d type ifb && "
				   "ip -n %1$s link set tbrep0 up && "
				   "ip netns exec %1$s tc qdisc add dev tbrep0 ingress");
}
END_TEST

/* A namespace made again under the same path, the device copied to its
 * hardware address: only the namespace's identity tells them apart. */
START_TEST(restore_leaves_a_replaced_namespace_alone)
{
	ck_assert_int_eq(tb_test_sh("ip netns add %s", third_ns), 0);
	replaced_device_left_alone(third_ns, "mac=$(cat /sys/class/net/tbrep0/address 2>/dev/null || "
				   "ip netns exec %1$s cat /sys/class/net/tbrep0/address) && "
				   "ip netns del %1$s && ip netns add %1$s && "
				   "ip -n %1$s link add tbrep0 index %2$d address $mac type ifb && "
				   "ip -n %1$s link set tbrep0 up && "
				   "ip netns exec %1$s tc qdisc add dev tbrep0 ingress");
	tb_test_sh("ip netns del %s", third_ns);
}
END_TEST

static pid_t runner;                /* the process that owns the namespaces */

/* Interrupted (Ctrl-C, a harness's timeout): still remove the namespaces. */
static void on_signal(int sig)
{
	if (getpid() == runner)
		pair_teardown();
	signal(sig, SIG_DFL);
	raise(sig);
}

static Suite *suite(void)
{
	Suite *s = suite_create("tc");
	TCase *tc = tcase_create("namespaces");

	tcase_add_unchecked_fixture(tc, pair_setup, pair_teardown);
	tcase_add_checked_fixture(tc, clean_devices, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, probe_and_discovery);
	tcase_add_loop_test(tc, existing_root_is_restored_exactly, 0,
			    (int)(sizeof(existing) / sizeof(existing[0])));
	tcase_add_loop_test(tc, default_root_comes_back, 0,
			    (int)(sizeof(defaults) / sizeof(defaults[0])));
	tcase_add_test(tc, restore_after_a_crash_uses_only_the_saved_text);
	tcase_add_test(tc, refuses_what_it_could_not_put_back);
	tcase_add_test(tc, refuses_to_replace_an_ingress_qdisc);
	tcase_add_test(tc, restore_after_the_namespace_is_gone);
	tcase_add_test(tc, restore_leaves_a_replaced_interface_alone);
	tcase_add_test(tc, restore_leaves_a_replaced_namespace_alone);
	tcase_add_loop_test(tc, egress_limits_what_a_sends, 0,
			    (int)(sizeof(egress_cases) / sizeof(egress_cases[0])));
	tcase_add_test(tc, ingress_through_ifb_limits_what_a_receives);
	tcase_add_test(tc, ingress_through_host_peer_limits_what_b_receives);
	tcase_add_test(tc, allocate_sets_an_absolute_rate);
	tcase_add_test(tc, an_operators_shaping_is_read);
	tcase_add_test(tc, stress_takes_a_share_of_an_operators_shaping);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!tb_test_is_root() || tb_test_sh("command -v tc >/dev/null && command -v ip >/dev/null")) {
		printf("SKIP: needs root, network namespaces and iproute2's tc\n");
		return 77;
	}
	runner = getpid();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
