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
#include "stress.h"

struct cpu_quota {
	const struct tb_host *h;
	long long min_quota_us;
	struct tb_cg_files *files;   /* the targets' cgroup files, kept open */
	int online;                  /* online CPUs, read once; 0 = not yet */
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
	st->files = tb_cg_files_new();
	if (!st->files) {
		free(st);
		return -ENOMEM;
	}
	*state = st;
	return 0;
}

static void fini(void *state)
{
	struct cpu_quota *st = state;

	if (st)
		tb_cg_files_free(st->files);
	free(st);
}

static const char *cpu_dir(const struct tb_target *t)
{
	return t->cgroup[TB_CG_CPU];
}

/* The file save() keeps: v1 cpu.cfs_quota_us ("QUOTA"), v2 cpu.max ("QUOTA PERIOD"). */
static const char *quota_file(int v2)
{
	return v2 ? "cpu.max" : "cpu.cfs_quota_us";
}

/* The CPU weight among siblings: v1 cpu.shares [2, 262144], v2 cpu.weight [1, 10000]. */
static const char *weight_file(int v2)
{
	return v2 ? "cpu.weight" : "cpu.shares";
}

/* An allowance from the quota file's text; v1 reads the period beside it. */
static int parse_allowance(struct cpu_quota *st, const char *dir, const char *text,
			   struct allowance *a)
{
	char buf[64], quota[32], *end;
	int r;

	if (a->v2) {
		if (sscanf(text, "%31s %lld", quota, &a->period) != 2)
			return -EINVAL;
		a->quota = strcmp(quota, "max") ? strtoll(quota, &end, 10) : -1;
		return 0;
	}
	a->quota = strtoll(text, &end, 10);
	r = tb_cg_files_read(st->files, dir, "cpu.cfs_period_us", buf, sizeof(buf));
	if (r == 0)
		a->period = strtoll(buf, &end, 10);
	return r;
}

static int read_allowance(struct cpu_quota *st, const char *dir, struct allowance *a)
{
	char buf[128];
	int r;

	a->v2 = tb_cg_files_is_v2(st->files, dir);
	r = tb_cg_files_read(st->files, dir, quota_file(a->v2), buf, sizeof(buf));
	return r < 0 ? r : parse_allowance(st, dir, buf, a);
}

/* The allowance save() recorded, else the current one: what apply() and
 * allocate() start from, so that successive calls do not compound. */
static int saved_allowance(struct cpu_quota *st, const char *dir, const char *saved,
			   struct allowance *a)
{
	char value[64];

	a->v2 = tb_cg_files_is_v2(st->files, dir);
	if (saved && tb_saved_get(saved, dir, quota_file(a->v2), value, sizeof(value)) == 0)
		return parse_allowance(st, dir, value, a);
	return read_allowance(st, dir, a);
}

static int write_quota(struct cpu_quota *st, const char *dir, const struct allowance *a,
		       long long quota)
{
	char value[64];

	if (a->v2)
		snprintf(value, sizeof(value), "%lld %lld", quota, a->period);
	else
		snprintf(value, sizeof(value), "%lld", quota);
	return tb_cg_files_write(st->files, dir, quota_file(a->v2), value);
}

/* CPUs the target may run on: its cpuset if known, else every online CPU. */
static double cores_of(struct cpu_quota *st, const struct tb_target *t)
{
	const char *dir = t->cgroup[TB_CG_CPUSET];
	char list[1024];

	/* v1 has no cpuset.cpus.effective: asking would cost a failed lookup each time. */
	if (dir && ((tb_cg_files_is_v2(st->files, dir) &&
		     tb_cg_files_read(st->files, dir, "cpuset.cpus.effective", list, sizeof(list)) == 0) ||
		    tb_cg_files_read(st->files, dir, "cpuset.cpus", list, sizeof(list)) == 0) && *list) {
		int n = tb_cpulist_count(list);

		if (n > 0)
			return n;
	}
	/* sysconf reads sysfs each time (7 us here); CPU hotplug mid-run is not ours to follow. */
	if (st->online <= 0)
		st->online = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return st->online > 0 ? st->online : 1;
}

static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	struct cpu_quota *st = state;
	const char *dir = cpu_dir(t);
	const char *file;
	char value[128];
	int r, v2;

	if (!dir)
		return -ENOENT;
	v2 = tb_cg_files_is_v2(st->files, dir);
	file = quota_file(v2);
	r = tb_cg_files_read(st->files, dir, file, value, sizeof(value));
	if (r < 0)
		return r;
	saved[0] = '\0';
	r = tb_saved_add(saved, size, dir, file, value);
	/* The weight prioritize() raises, where the cgroup has one (a value
	 * restore() would refuse is left out: then there is none to raise). */
	if (r == 0 && tb_cg_files_read(st->files, dir, weight_file(v2), value, sizeof(value)) == 0 &&
	    tb_saved_add(saved, size, dir, weight_file(v2), value) == -ENOSPC)
		r = -ENOSPC;
	return r;
}

static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct cpu_quota *st = state;
	const char *dir = cpu_dir(t);
	struct allowance a;
	double allowance;
	long long quota;
	int r;

	if (!dir || !tb_stress_valid(stress))
		return -EINVAL;
	r = saved_allowance(st, dir, saved, &a);
	if (r < 0)
		return r;
	allowance = a.quota > 0 ? (double)a.quota : cores_of(st, t) * (double)a.period;
	quota = tb_stress_left(allowance, stress, st->min_quota_us);
	r = write_quota(st, dir, &a, quota);
	if (r == 0)
		TB_LOG(st->h, TB_LOG_DEBUG, "%s: quota %lld us per %lld us (stress %.2f)", t->id,
		       quota, a.period, stress);
	return r;
}

/* The target's own quota in cores; none when it is -1 (v1) or "max" (v2). */
static int allocation(void *state, const struct tb_target *t, double *amount)
{
	struct allowance a;
	int r;

	if (!cpu_dir(t))
		return -ENOENT;
	r = read_allowance(state, cpu_dir(t), &a);
	if (r < 0)
		return r;
	if (a.quota <= 0)
		return -ENODATA;
	*amount = (double)a.quota / (double)a.period;
	return 0;
}

/* Its quota, else (none of its own) the CPUs it may run on. */
static int probe(void *state, const struct tb_target *t, double *capacity)
{
	int r = allocation(state, t, capacity);

	if (r == -ENODATA) {
		*capacity = cores_of(state, t);
		r = 0;
	}
	return r;
}

/* amount cores per period, at most the CPUs the target may run on. */
static int allocate(void *state, const struct tb_target *t, const char *saved, double amount)
{
	struct cpu_quota *st = state;
	const char *dir = cpu_dir(t);
	struct allowance a;
	double cores;
	long long quota;
	int r;

	if (!dir || !(amount > 0))
		return -EINVAL;
	cores = cores_of(st, t);
	if (amount > cores + 1e-9) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %.3f cores asked, the target may run on %.0f",
		       t->id, amount, cores);
		return -ERANGE;
	}
	r = saved_allowance(st, dir, saved, &a);
	if (r < 0)
		return r;
	quota = llround(amount * (double)a.period);
	if (quota < st->min_quota_us) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %.4f cores is a quota of %lld us, below min_quota_us",
		       t->id, amount, quota);
		return -ERANGE;
	}
	r = write_quota(st, dir, &a, quota);
	if (r == 0)
		TB_LOG(st->h, TB_LOG_DEBUG, "%s: quota %lld us per %lld us (%.3f cores)", t->id,
		       quota, a.period, amount);
	return r;
}

/*
 * The saved weight times factor.  From the saved value, so that repeated
 * calls do not compound; a cgroup whose weight save() could not read
 * (none, or a hand-made tree) cannot be prioritized.
 */
static int prioritize(void *state, const struct tb_target *t, const char *saved, double factor,
		      char *how, size_t how_size)
{
	struct cpu_quota *st = state;
	const char *dir = cpu_dir(t), *file;
	long long old, raised;
	char value[32], *end;
	int v2, r;

	if (!dir || !saved)
		return -EINVAL;
	v2 = tb_cg_files_is_v2(st->files, dir);
	file = weight_file(v2);
	if (tb_saved_get(saved, dir, file, value, sizeof(value)) < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %s has no %s", t->id, dir, file);
		return -EOPNOTSUPP;
	}
	old = strtoll(value, &end, 10);
	r = tb_weight_raise(old, factor, v2 ? 1 : 2, v2 ? 10000 : 262144, &raised);
	if (r == -ERANGE)
		TB_LOG(st->h, TB_LOG_ERROR, "%s: %s is %lld already, the highest", t->id, file, old);
	if (r < 0)
		return r;
	snprintf(value, sizeof(value), "%lld", raised);
	r = tb_cg_files_write(st->files, dir, file, value);
	if (r == 0)
		snprintf(how, how_size, "%s %lld -> %lld", file, old, raised);
	return r;
}

static int restore(void *state, const char *saved)
{
	struct cpu_quota *st = state;

	return tb_saved_restore_files(st->files, saved);
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
	.allocation = allocation,
	.allocate = allocate,
	.prioritize = prioritize,
};
