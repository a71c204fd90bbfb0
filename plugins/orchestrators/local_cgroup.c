/* local_cgroup.c - the cgroups of launched services: made in each hierarchy, emptied and removed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libcgroup.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "cgroup_paths.h"
#include "local.h"

const struct local_v1_hier local_v1_hiers[LOCAL_NV1] = {
	{ "cpu", TB_CG_CPU }, { "cpuacct", -1 }, { "cpuset", TB_CG_CPUSET },
	{ "blkio", TB_CG_IO }, { "memory", TB_CG_MEMORY },
};

/*
 * Kill every process in dir and below, then remove the directories.  Used
 * by stop() and, after a crash, by restore(): it needs nothing but the
 * absolute paths the journal holds, on v1 and v2 alike, so libcgroup (which
 * would want controller and relative name, and on deletion moves leftover
 * processes to the parent rather than ending them) is not used here.
 * Refuses anything that is not a cgroup below a hierarchy's top.  A
 * directory already gone is success.
 */
int local_cg_remove(const struct tb_host *h, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct stat st, up;
	pid_t pids[256];
	DIR *d;
	struct dirent *e;
	int r = 0, n;

	if (depth > 16 || dir[0] != '/' || strstr(dir, "/../") || strstr(dir, "/./"))
		return -EINVAL;
	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	snprintf(path, sizeof(path), "%s/..", dir);
	if (stat(path, &up) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (!S_ISDIR(st.st_mode) || st.st_dev != up.st_dev || access(path, F_OK) < 0) {
		TB_LOG(h, TB_LOG_WARNING, "%s is not a cgroup below a hierarchy's top: left alone", dir);
		return -EINVAL;
	}
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = local_cg_remove(h, path, depth + 1);
		if (n < 0 && r == 0)
			r = n;
	}
	closedir(d);
	/* cgroup.kill (v2, Linux 5.14) ends everything at once, forks included. */
	tb_cg_write(dir, "cgroup.kill", "1");
	for (int tries = 0; tries < 250; tries++) {
		n = tb_cg_procs(dir, pids, sizeof(pids) / sizeof(pids[0]));
		if (n == -ENOENT)
			return r;
		for (int i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		if (n <= 0 && rmdir(dir) == 0)
			return r;
		if (n <= 0 && errno == ENOENT)
			return r;
		if (n <= 0 && errno != EBUSY)
			break;
		local_pause();
	}
	n = -errno;
	TB_LOG(h, TB_LOG_WARNING, "cannot remove cgroup %s: %s", dir, strerror(-n));
	return r < 0 ? r : n;
}

/* The hierarchies launched services get a directory in: the v1 ones that
 * are mounted, and the v2 one when it offers a controller we throttle. */
void local_find_hiers(struct local *l)
{
	const struct tb_cg_mounts *m = &l->mounts;
	int any_v2 = 0;

	l->nhiers = 0;
	for (size_t i = 0; i < LOCAL_NV1; i++) {
		const char *mnt = local_v1_hiers[i].ctl >= 0 ? m->v1[local_v1_hiers[i].ctl] : m->cpuacct;

		if (mnt)
			l->hiers[l->nhiers++] = (struct hier){ mnt, local_v1_hiers[i].name };
	}
	for (int c = 0; c < TB_CG_SLOTS; c++)
		any_v2 |= m->in_v2[c];
	if (any_v2)
		l->hiers[l->nhiers++] = (struct hier){ m->v2, NULL };
}

/* v2: controllers flow down only where each parent enables them. */
int local_enable_v2(const struct local *l, const char *dir)
{
	int r = 0;

	for (int c = 0; c < TB_CG_SLOTS; c++) {
		char word[32];

		if (!l->mounts.in_v2[c])
			continue;
		snprintf(word, sizeof(word), "+%s", tb_cg_v2_name(c));
		int w = tb_cg_write(dir, "cgroup.subtree_control", word);

		if (w < 0) {
			TB_LOG(l->h, TB_LOG_WARNING, "cannot enable %s in %s: %s", word, dir, strerror(-w));
			if (r == 0)
				r = w;
		}
	}
	return r;
}

/*
 * Make rel ("throttlebot.123" or "throttlebot.123/worker") in every
 * hierarchy.  v1 through libcgroup, with cpuset.cpus and cpuset.mems copied
 * from the parent ourselves: cgroup_create_cgroup_from_parent would do it but
 * also copies every other file, read-only ones like cpu.stat included, and
 * fails with EINVAL on current kernels.  v2 with mkdir(): libcgroup 2.0 does
 * not enable controllers in cgroup.subtree_control.
 */
int local_make_cgroup(struct local *l, const char *rel, const char *parent_rel, char **dirs)
{
	const struct tb_host *h = l->h;
	struct cgroup *cg = NULL;
	int r = 0, any_v1 = 0;

	for (size_t i = 0; i < l->nhiers; i++)
		if (asprintf(&dirs[i], "%s/%s", l->hiers[i].mount, rel) < 0) {
			dirs[i] = NULL;
			return -ENOMEM;
		}
	cg = cgroup_new_cgroup(rel);
	if (!cg)
		return -ENOMEM;
	for (size_t i = 0; i < l->nhiers && r == 0; i++) {
		struct cgroup_controller *c;
		char up[PATH_MAX], cpus[4096], mems[4096];

		if (!l->hiers[i].v1name)
			continue;
		any_v1 = 1;
		c = cgroup_add_controller(cg, l->hiers[i].v1name);
		if (!c) {
			r = -ENOMEM;
			break;
		}
		if (strcmp(l->hiers[i].v1name, "cpuset"))
			continue;
		snprintf(up, sizeof(up), "%s%s%s", l->hiers[i].mount, parent_rel ? "/" : "",
			 parent_rel ? parent_rel : "");
		r = tb_cg_read(up, "cpuset.cpus", cpus, sizeof(cpus));
		if (r == 0)
			r = tb_cg_read(up, "cpuset.mems", mems, sizeof(mems));
		if (r == 0 && (cgroup_add_value_string(c, "cpuset.cpus", cpus) ||
			       cgroup_add_value_string(c, "cpuset.mems", mems)))
			r = -ENOMEM;
	}
	if (r == 0 && any_v1) {
		int e = cgroup_create_cgroup(cg, 0);

		if (e) {
			TB_LOG(h, TB_LOG_ERROR, "cannot create cgroup %s: %s", rel, cgroup_strerror(e));
			r = e == ECGOTHER ? -cgroup_get_last_errno() : -EIO;
			if (r == 0)
				r = -EIO;
		}
	}
	cgroup_free(&cg);
	for (size_t i = 0; i < l->nhiers && r == 0; i++) {
		if (l->hiers[i].v1name)
			continue;
		if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST) {
			r = -errno;
			TB_LOG(h, TB_LOG_ERROR, "cannot create cgroup %s: %s", dirs[i], strerror(-r));
		}
	}
	return r;
}

/* The saved text for a set of cgroup directories. */
int local_saved_dirs(char *saved, size_t size, char **dirs, size_t n)
{
	size_t len = strlen(saved);

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(saved + len, size - len, "cgroup\t%s\n", dirs[i]);

		if (w < 0 || (size_t)w >= size - len)
			return -ENOSPC;
		len += (size_t)w;
	}
	return 0;
}

