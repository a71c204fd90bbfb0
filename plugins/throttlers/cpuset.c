/* cpuset.c - throttle a target's CPUs by shrinking its cpuset (cgroup v1 or v2). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "cgroup_file.h"
#include "stress.h"

#define LIST_MAX 4096

struct cpuset_state {
	const struct tb_host *h;
	int keep_last;      /* keep the highest-numbered CPUs instead of the lowest */
	struct tb_cg_files *files;   /* the targets' cpuset files, kept open */
};

static const struct tb_setting_spec settings[] = {
	{ "keep", TB_SETTING_STRING, 0,
	  "which CPUs stay under stress: \"first\" (lowest-numbered, default) or \"last\"" },
	{ NULL, 0, 0, NULL },
};

static int cpuset_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct cpuset_state *s = calloc(1, sizeof(*s));
	const char *keep;

	if (!s)
		return -ENOMEM;
	s->h = h;
	s->files = tb_cg_files_new();
	if (!s->files) {
		free(s);
		return -ENOMEM;
	}
	if (cfg && h->get_string(h, cfg, "keep", &keep) == 0) {
		if (!strcmp(keep, "last"))
			s->keep_last = 1;
		else if (strcmp(keep, "first")) {
			tb_cg_files_free(s->files);
			free(s);
			return h->config_error(h, cfg, "keep",
					       "keep must be \"first\" or \"last\", not \"%s\"", keep);
		}
	}
	*state = s;
	return 0;
}

static void cpuset_fini(void *state)
{
	struct cpuset_state *s = state;

	if (s)
		tb_cg_files_free(s->files);
	free(s);
}

static const char *cpuset_dir(struct cpuset_state *s, const struct tb_target *t)
{
	const char *dir = t->cgroup[TB_CG_CPUSET];

	if (!dir)
		TB_LOG(s->h, TB_LOG_ERROR, "%s: no cpuset cgroup", t->id);
	return dir;
}

/*
 * The CPUs a target may use now.  An empty v2 cpuset.cpus means "inherit the
 * parent's", which cpuset.cpus.effective shows.
 */
static int current_cpus(struct cpuset_state *s, const char *dir, char *cpus, size_t size,
			char *effective, size_t esize)
{
	int r = tb_cg_files_read(s->files, dir, "cpuset.cpus", cpus, size);

	effective[0] = '\0';
	if (r == -ENOENT && tb_cg_files_is_v2(s->files, dir))
		return -EOPNOTSUPP;   /* the cpuset controller is not enabled there */
	if (r < 0 || cpus[0])
		return r;
	r = tb_cg_files_read(s->files, dir, "cpuset.cpus.effective", effective, esize);
	if (r < 0)
		return r;
	return effective[0] ? 0 : -EINVAL;
}

static int cpuset_probe(void *state, const struct tb_target *t, double *capacity)
{
	struct cpuset_state *s = state;
	const char *dir = cpuset_dir(s, t);
	char cpus[LIST_MAX], effective[LIST_MAX];
	int n, r;

	if (!dir)
		return -EINVAL;
	r = current_cpus(s, dir, cpus, sizeof(cpus), effective, sizeof(effective));
	if (r < 0) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: cannot read the CPUs of %s: %s", t->id, dir,
		       strerror(-r));
		return r;
	}
	n = tb_cpulist_count(cpus[0] ? cpus : effective);
	if (n <= 0)
		return -EINVAL;
	*capacity = n;
	return 0;
}

/*
 * Saved state: the cpuset.cpus line is what restore() writes back; when it
 * was empty (v2 "inherit") a cpuset.cpus.effective line records the CPUs
 * apply() shrinks from.  restore() never writes that one.
 */
static int cpuset_save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	struct cpuset_state *s = state;
	const char *dir = cpuset_dir(s, t);
	char cpus[LIST_MAX], effective[LIST_MAX];
	int r;

	if (!dir || size == 0)
		return -EINVAL;
	saved[0] = '\0';
	r = current_cpus(s, dir, cpus, sizeof(cpus), effective, sizeof(effective));
	if (r < 0) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: cannot read the CPUs of %s: %s", t->id, dir,
		       r == -EOPNOTSUPP ? "no cpuset.cpus: is \"cpuset\" in its parent's "
		       "cgroup.subtree_control?" : strerror(-r));
		return r;
	}
	r = tb_saved_add(saved, size, dir, "cpuset.cpus", cpus);
	if (r == 0 && !cpus[0])
		r = tb_saved_add(saved, size, dir, "cpuset.cpus.effective", effective);
	return r;
}

/* The CPUs save() found: its list, or the effective one it inherited. */
static int saved_base(struct cpuset_state *s, const struct tb_target *t, const char *dir,
		      const char *saved, char *base, size_t size)
{
	int r = tb_saved_get(saved, dir, "cpuset.cpus", base, size);

	if (r == 0 && !base[0])
		r = tb_saved_get(saved, dir, "cpuset.cpus.effective", base, size);
	if (r < 0) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: saved state names no cpuset for %s", t->id, dir);
		return -EINVAL;
	}
	return 0;
}

static int cpuset_apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct cpuset_state *s = state;
	const char *dir = cpuset_dir(s, t);
	char base[LIST_MAX], list[LIST_MAX];
	int n, keep, r;

	if (!dir)
		return -EINVAL;
	if (!tb_stress_valid(stress))
		return -EINVAL;
	/* Shrink from the saved list, not the current one, so that successive
	 * applies without a restore in between do not compound. */
	r = saved_base(s, t, dir, saved, base, sizeof(base));
	if (r < 0)
		return r;
	keep = tb_cpulist_shrink(base, stress, s->keep_last, list, sizeof(list));
	if (keep < 0)
		return keep;
	n = tb_cpulist_count(base);   /* as printed by the kernel: no CPU twice */
	r = tb_cg_files_write(s->files, dir, "cpuset.cpus", list);
	if (r < 0) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: writing \"%s\" to %s/cpuset.cpus: %s%s", t->id, list,
		       dir, strerror(-r), r == -EBUSY ?
		       " (a child cgroup holds CPUs outside that list)" : "");
		return r;
	}
	TB_LOG(s->h, TB_LOG_INFO, "%s: %d of %d CPUs (%s of %s)", t->id, keep, n, list, base);
	return 0;
}

/*
 * The CPUs the target could have: its parent's effective CPUs (v1
 * cpuset.effective_cpus, v2 cpuset.cpus.effective), or the host's online
 * CPUs where the parent has none to show (the top of a hierarchy).
 */
static int available_cpus(struct cpuset_state *s, const char *dir, int **cpus)
{
	char parent[4096], list[LIST_MAX];
	const char *slash = strrchr(dir, '/');
	int r = -ENOENT;

	if (slash && slash > dir && (size_t)(slash - dir) < sizeof(parent)) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir);
		r = tb_cg_files_read(s->files, parent, tb_cg_files_is_v2(s->files, dir) ?
				     "cpuset.cpus.effective" : "cpuset.effective_cpus",
				     list, sizeof(list));
	}
	if (r < 0 || !list[0])
		r = tb_cg_read("/sys/devices/system/cpu", "online", list, sizeof(list));
	if (r < 0)
		return r;
	r = tb_cpulist_parse(list, cpus);
	if (r == 0) {
		free(*cpus);
		r = -EINVAL;
	}
	return r;
}

static int has_cpu(const int *cpus, int n, int cpu)
{
	for (int i = 0; i < n; i++)
		if (cpus[i] == cpu)
			return 1;
	return 0;
}

/* A limit of its own: a cpuset.cpus that leaves out some CPU it could have. */
static int cpuset_allocation(void *state, const struct tb_target *t, double *amount)
{
	struct cpuset_state *s = state;
	const char *dir = cpuset_dir(s, t);
	char cpus[LIST_MAX], effective[LIST_MAX];
	int *own, *all, n, m, r;

	if (!dir)
		return -EINVAL;
	r = current_cpus(s, dir, cpus, sizeof(cpus), effective, sizeof(effective));
	if (r < 0)
		return r;
	if (!cpus[0])
		return -ENODATA;     /* v2: inherits its parent's */
	n = tb_cpulist_parse(cpus, &own);
	if (n < 0)
		return n;
	m = available_cpus(s, dir, &all);
	r = m < 0 ? m : -ENODATA;
	for (int i = 0; i < m && r == -ENODATA; i++)
		if (!has_cpu(own, n, all[i]))
			r = 0;
	if (r == 0)
		*amount = n;
	free(own);
	if (m > 0)
		free(all);
	return r;
}

/*
 * n CPUs, chosen as apply() chooses: the first (or with keep = "last", the
 * last) of the saved list when n is not more than it holds; else all of it
 * plus the first (last) of the other CPUs the target could have.
 */
static int choose_cpus(const struct cpuset_state *s, const int *base, int nb, const int *all,
		       int na, int n, char *out, size_t size)
{
	int *pick = malloc(sizeof(*pick) * (size_t)na), k = 0, r;

	if (!pick)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (int j = 0; j < na && k < n; j++) {
			int i = s->keep_last ? na - 1 - j : j;

			if (has_cpu(base, nb, all[i]) == !pass && !has_cpu(pick, k, all[i]))
				pick[k++] = all[i];
		}
	}
	/* ascending, as the kernel prints it */
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && pick[j - 1] > pick[j]; j--) {
			int c = pick[j];

			pick[j] = pick[j - 1];
			pick[j - 1] = c;
		}
	r = k == n ? tb_cpulist_format(pick, k, out, size) : -ERANGE;
	free(pick);
	return r;
}

/* amount cores as whole CPUs, rounded up. */
static int cpuset_allocate(void *state, const struct tb_target *t, const char *saved,
			   double amount)
{
	struct cpuset_state *s = state;
	const char *dir = cpuset_dir(s, t);
	char base[LIST_MAX], list[LIST_MAX];
	int *own = NULL, *all = NULL, nb, na, n, r;

	if (!dir || !(amount > 0) || !(amount <= TB_CPU_LIMIT))
		return -EINVAL;
	n = (int)ceil(amount - 1e-9);
	r = saved_base(s, t, dir, saved, base, sizeof(base));
	if (r < 0)
		return r;
	na = available_cpus(s, dir, &all);
	if (na < 0)
		return na;
	nb = tb_cpulist_parse(base, &own);
	if (nb < 0) {
		free(all);
		return nb;
	}
	if (n > na) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: %d CPUs asked, %d available", t->id, n, na);
		r = -ERANGE;
	} else {
		r = choose_cpus(s, own, nb, all, na, n, list, sizeof(list));
	}
	free(own);
	free(all);
	if (r == 0)
		r = tb_cg_files_write(s->files, dir, "cpuset.cpus", list);
	if (r == 0)
		TB_LOG(s->h, TB_LOG_INFO, "%s: %d CPUs (%s of %s)", t->id, n, list, base);
	else
		TB_LOG(s->h, TB_LOG_ERROR, "%s: allocating %d CPUs in %s: %s", t->id, n, dir,
		       strerror(-r));
	return r;
}

static int cpuset_restore(void *state, const char *saved)
{
	struct cpuset_state *s = state;
	static const char suffix[] = "/cpuset.cpus";
	const char *line = saved;
	int first = 0;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *tab = strchr(line, '\t');
		char path[4096], value[LIST_MAX];
		size_t plen;
		int r;

		if (!end)
			end = line + strlen(line);
		if (!tab || tab > end || (size_t)(tab - line) >= sizeof(path) ||
		    (size_t)(end - tab) > sizeof(value)) {
			first = first ? first : -EINVAL;
			goto next;
		}
		plen = (size_t)(tab - line);
		memcpy(path, line, plen);
		path[plen] = '\0';
		if (plen < sizeof(suffix) || strcmp(path + plen - (sizeof(suffix) - 1), suffix))
			goto next;
		memcpy(value, tab + 1, (size_t)(end - tab - 1));
		value[end - tab - 1] = '\0';
		if (tb_saved_check(path, value) < 0) {
			TB_LOG(s->h, TB_LOG_ERROR, "refusing to restore a malformed saved line");
			first = first ? first : -EINVAL;
			goto next;
		}
		path[plen - (sizeof(suffix) - 1)] = '\0';
		/* A zero-length write may never reach the kernel's parser; "\n"
		 * is an empty list to cgroupfs. */
		r = tb_cg_files_write(s->files, path, "cpuset.cpus", value[0] ? value : "\n");
		if (r == -ENOENT && access(path, F_OK) < 0 && errno == ENOENT) {
			TB_LOG(s->h, TB_LOG_WARNING, "%s is gone: nothing to restore", path);
			r = 0;
		}
		if (r < 0) {
			TB_LOG(s->h, TB_LOG_ERROR, "restoring %s/cpuset.cpus: %s", path, strerror(-r));
			if (!first)
				first = r;
		}
next:
		line = *end ? end + 1 : NULL;
	}
	return first;
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "cpuset",
		    "limit the CPUs a target may run on (cpuset.cpus)", PACKAGE_VERSION, settings },
	.resource = "cpu",
	.unit = "cores",
	.init = cpuset_init,
	.fini = cpuset_fini,
	.probe = cpuset_probe,
	.save = cpuset_save,
	.apply = cpuset_apply,
	.restore = cpuset_restore,
	.allocation = cpuset_allocation,
	.allocate = cpuset_allocate,
	/*
	 * No prioritize: a cpuset says where a target may run, not how much
	 * of a CPU it gets when it contends there.  That share is the cpu
	 * controller's cpu.shares / cpu.weight, which cpu_quota raises; were
	 * this throttler to raise it too, two throttlers would save and
	 * restore the same file (on v1 in another hierarchy than the
	 * target's cpuset directory) and undo each other's changes.
	 */
};
