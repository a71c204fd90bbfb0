/* cpu_quota.c - throttle CPU time with the CFS bandwidth controller (v1 cpu.cfs_quota_us, v2 cpu.max). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "cgroup_file.h"

struct cpu_quota {
	const struct tb_host *h;
	long long min_quota_us;
};

/* The target's allowance: its quota and period, quota < 0 when unlimited. */
struct allowance {
	long long quota, period;
	int v2;
};

static const struct tb_setting_spec settings[] = {
	{ "min_quota_us", TB_SETTING_INT, 0, "never set a quota below this (default 1000 us)" },
	{ NULL, 0, 0, NULL },
};

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct cpu_quota *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->h = h;
	st->min_quota_us = 1000;
	r = h->get_int(h, cfg, "min_quota_us", &st->min_quota_us);
	if (r == 0 && st->min_quota_us < 1000) {
		free(st);
		return h->config_error(h, cfg, "min_quota_us", "must be at least 1000 (the kernel's minimum)");
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
	free(state);
}

static const char *cpu_dir(const struct tb_target *t)
{
	return t->cgroup[TB_CG_CPU];
}

static int read_allowance(const char *dir, struct allowance *a)
{
	char buf[128], *end;
	int r;

	a->v2 = tb_cg_is_v2(dir);
	if (a->v2) {
		char quota[32];

		r = tb_cg_read(dir, "cpu.max", buf, sizeof(buf));
		if (r < 0)
			return r;
		if (sscanf(buf, "%31s %lld", quota, &a->period) != 2)
			return -EINVAL;
		a->quota = strcmp(quota, "max") ? strtoll(quota, &end, 10) : -1;
		return 0;
	}
	r = tb_cg_read(dir, "cpu.cfs_quota_us", buf, sizeof(buf));
	if (r == 0) {
		a->quota = strtoll(buf, &end, 10);
		r = tb_cg_read(dir, "cpu.cfs_period_us", buf, sizeof(buf));
	}
	if (r == 0)
		a->period = strtoll(buf, &end, 10);
	return r;
}

/* CPUs the target may run on: its cpuset if known, else every online CPU. */
static double cores_of(const struct tb_target *t)
{
	const char *dir = t->cgroup[TB_CG_CPUSET];
	char list[1024];

	if (dir && (tb_cg_read(dir, "cpuset.cpus.effective", list, sizeof(list)) == 0 ||
		    tb_cg_read(dir, "cpuset.cpus", list, sizeof(list)) == 0) && *list) {
		int n = tb_cpulist_count(list);

		if (n > 0)
			return n;
	}
	return (double)sysconf(_SC_NPROCESSORS_ONLN);
}

static int probe(void *state, const struct tb_target *t, double *capacity)
{
	struct allowance a;
	int r;

	if (!cpu_dir(t))
		return -ENOENT;
	r = read_allowance(cpu_dir(t), &a);
	if (r < 0)
		return r;
	*capacity = a.quota > 0 ? (double)a.quota / (double)a.period : cores_of(t);
	return 0;
}

static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	const char *dir = cpu_dir(t);
	const char *file;
	char value[128];
	int r;

	if (!dir)
		return -ENOENT;
	file = tb_cg_is_v2(dir) ? "cpu.max" : "cpu.cfs_quota_us";
	r = tb_cg_read(dir, file, value, sizeof(value));
	if (r == 0) {
		saved[0] = '\0';
		r = tb_saved_add(saved, size, dir, file, value);
	}
	return r;
}

static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct cpu_quota *st = state;
	struct allowance a;
	double allowance;
	long long quota;
	char value[64];
	int r;

	if (!(stress >= 0 && stress < 1))
		return -EINVAL;
	r = read_allowance(cpu_dir(t), &a);
	if (r < 0)
		return r;
	allowance = a.quota > 0 ? (double)a.quota : cores_of(t) * (double)a.period;
	quota = llround((1 - stress) * allowance);
	if (quota < st->min_quota_us)
		quota = st->min_quota_us;
	if (a.v2) {
		snprintf(value, sizeof(value), "%lld %lld", quota, a.period);
		r = tb_cg_write(cpu_dir(t), "cpu.max", value);
	} else {
		snprintf(value, sizeof(value), "%lld", quota);
		r = tb_cg_write(cpu_dir(t), "cpu.cfs_quota_us", value);
	}
	if (r == 0)
		TB_LOG(st->h, TB_LOG_DEBUG, "%s: quota %lld us per %lld us (stress %.2f)", t->id,
		       quota, a.period, stress);
	return r;
}

static int restore(void *state, const char *saved)
{
	return tb_saved_restore(saved);
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "cpu_quota",
		    "CPU time through the CFS quota (cgroup v1 cpu.cfs_quota_us, v2 cpu.max)",
		    PACKAGE_VERSION, settings },
	.resource = "cpu",
	.unit = "cores",
	.init = init,
	.fini = fini,
	.probe = probe,
	.save = save,
	.apply = apply,
	.restore = restore,
};
