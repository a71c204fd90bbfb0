/* bench_tc.c - apply+restore latency of the tc throttler against the tc command line, on a test veth. */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "netpair.h"
#include "testhost.h"

extern const struct tb_throttler throttlebot_plugin;
extern char **environ;

#define PLUGIN_CYCLES 1000
#define COMMAND_CYCLES 100
#define TIME_LIMIT 90.0            /* seconds, for each route */

static struct netpair np;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double quantile(double *v, int n, double q)
{
	int i = (int)(q * (n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static void cleanup(void)
{
	netpair_destroy(&np);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* tc with argv, no shell, as a user would type it; 0 if it exited 0. */
static int run_tc(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "tc", NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(void)
{
	static double plugin_ms[PLUGIN_CYCLES], save_ms[PLUGIN_CYCLES], apply_ms[PLUGIN_CYCLES];
	static double command_ms[COMMAND_CYCLES];
	const struct tb_throttler *p = &throttlebot_plugin;
	struct tb_test_plugin t;
	struct tb_target target = { .id = "bench" };
	char saved[TB_SAVED_MAX];
	int np_cycles = 0, nc_cycles = 0;
	double end, pm, cm;
	void *st;

	if (!tb_test_is_root()) {
		printf("SKIP: the bench needs root (network namespaces)\n");
		return 77;
	}
	if (netpair_create(&np) < 0) {
		fprintf(stderr, "cannot create the test namespaces\n");
		return 1;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	target.netns = np.path[0];
	target.ifname = np.ifname[0];

	if (tb_test_plugin_open(&t, p, "capacity = \"1gbit\";") < 0 ||
	    p->init(&t.in.host, tb_test_plugin_config(&t), &st) < 0)
		return 1;
	/* one untimed cycle opens the namespace's netlink socket */
	if (p->save(st, &target, saved, sizeof(saved)) < 0 || p->apply(st, &target, saved, 0.5) < 0 ||
	    p->restore(st, saved) < 0)
		return 1;
	end = now() + TIME_LIMIT;
	for (; np_cycles < PLUGIN_CYCLES && now() < end; np_cycles++) {
		double t0 = now(), t1, t2, t3;

		if (p->save(st, &target, saved, sizeof(saved)) < 0)
			return 1;
		t1 = now();
		if (p->apply(st, &target, saved, 0.5) < 0)
			return 1;
		t2 = now();
		if (p->restore(st, saved) < 0)
			return 1;
		t3 = now();
		save_ms[np_cycles] = (t1 - t0) * 1e3;
		apply_ms[np_cycles] = (t2 - t1) * 1e3;
		plugin_ms[np_cycles] = (t3 - t1) * 1e3;
	}
	p->fini(st);
	tb_test_plugin_close(&t);

	{
		char *add[] = { "tc", "-n", np.ns[0], "qdisc", "add", "dev", np.ifname[0], "root",
				"handle", "1:", "htb", "default", "1", NULL };
		char *cls[] = { "tc", "-n", np.ns[0], "class", "add", "dev", np.ifname[0], "parent",
				"1:", "classid", "1:1", "htb", "rate", "500mbit", "ceil", "500mbit",
				"quantum", "60000", NULL };
		char *del[] = { "tc", "-n", np.ns[0], "qdisc", "del", "dev", np.ifname[0], "root", NULL };

		end = now() + TIME_LIMIT;
		for (; nc_cycles < COMMAND_CYCLES && now() < end; nc_cycles++) {
			double t0 = now();

			if (run_tc(add) < 0 || run_tc(cls) < 0 || run_tc(del) < 0) {
				fprintf(stderr, "the tc command failed\n");
				return 1;
			}
			command_ms[nc_cycles] = (now() - t0) * 1e3;
		}
	}

	qsort(plugin_ms, (size_t)np_cycles, sizeof(double), cmp_double);
	qsort(save_ms, (size_t)np_cycles, sizeof(double), cmp_double);
	qsort(apply_ms, (size_t)np_cycles, sizeof(double), cmp_double);
	qsort(command_ms, (size_t)nc_cycles, sizeof(double), cmp_double);
	pm = quantile(plugin_ms, np_cycles, 0.5);
	cm = quantile(command_ms, nc_cycles, 0.5);
	printf("apply+restore of an HTB shaper on a veth in a network namespace (ms)\n");
	printf("%-34s %6s %9s %9s\n", "route", "cycles", "median", "p99");
	printf("%-34s %6d %9.3f %9.3f\n", "tc plugin (libnl)", np_cycles, pm,
	       quantile(plugin_ms, np_cycles, 0.99));
	printf("%-34s %6d %9.3f %9.3f\n", "  of which apply", np_cycles,
	       quantile(apply_ms, np_cycles, 0.5), quantile(apply_ms, np_cycles, 0.99));
	printf("%-34s %6d %9.3f %9.3f\n", "  its save() beforehand", np_cycles,
	       quantile(save_ms, np_cycles, 0.5), quantile(save_ms, np_cycles, 0.99));
	printf("%-34s %6d %9.3f %9.3f\n", "tc command (add, class add, del)", nc_cycles, cm,
	       quantile(command_ms, nc_cycles, 0.99));
	printf("speed-up of the median: %.0fx (target >= 50x); median < 1 ms: %s\n", cm / pm,
	       pm < 1.0 ? "yes" : "no");
	return 0;
}
