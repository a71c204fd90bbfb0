/* agent_target.c - turn a pid or a container id, as a client names it, into a target: cgroups and netns found by the agent. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "agent.h"
#include "netns.h"

#define CONTAINER_ID_LEN 64

/* How deep, and through how many directories, a container's cgroup is
 * looked for: kubelet's pod cgroups put it four levels down. */
#define SEARCH_DEPTH 5
#define SEARCH_DIRS 20000

static int is_pid(const char *s, pid_t *pid)
{
	long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n || s[0] == '0')
		return 0;
	v = strtol(s, NULL, 10);
	if (v <= 0 || v > INT_MAX)
		return 0;
	*pid = (pid_t)v;
	return 1;
}

static int is_container_id(const char *s)
{
	return strlen(s) == CONTAINER_ID_LEN && strspn(s, "0123456789abcdef") == CONTAINER_ID_LEN;
}

static int by_pid(const struct tb_cg_mounts *m, pid_t pid, struct tb_agent_target *out)
{
	char proc[32];
	struct stat st;

	snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
	if (stat(proc, &st) < 0)
		return -ESRCH;
	/* Its /proc/PID/cgroup lines are joined to the mounts and confined there. */
	return tb_cg_paths_of_pid(m, pid, out->dirs);
}

/* The engines' names for a container's cgroup: docker's cgroupfs driver
 * (the id), the systemd drivers of docker, containerd and CRI-O. */
static int names_container(const char *name, const char *id)
{
	static const char *const scopes[] = { "docker-", "cri-containerd-", "crio-" };
	size_t n;

	if (!strcmp(name, id))
		return 1;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(*scopes); i++) {
		n = strlen(scopes[i]);
		if (!strncmp(name, scopes[i], n) && !strncmp(name + n, id, CONTAINER_ID_LEN) &&
		    !strcmp(name + n + CONTAINER_ID_LEN, ".scope"))
			return 1;
	}
	return 0;
}

/* Depth-first below dir (rel: its path in the hierarchy), never through a
 * link (cgroupfs has none, and a link is not followed anyway). */
static int search(const char *dir, const char *rel, const char *id, int depth, int *budget,
		  char *found, size_t size)
{
	DIR *d = depth <= SEARCH_DEPTH ? opendir(dir) : NULL;
	struct dirent *e;
	int r = -ESRCH;

	if (!d)
		return -ESRCH;
	while (r == -ESRCH && (e = readdir(d)) && --*budget > 0) {
		char sub[PATH_MAX], subrel[PATH_MAX];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub) ||
		    snprintf(subrel, sizeof(subrel), "%s/%s", rel, e->d_name) >= (int)sizeof(subrel))
			continue;
		if (names_container(e->d_name, id)) {
			snprintf(found, size, "%s", subrel);
			r = 0;
		} else {
			r = search(sub, subrel, id, depth + 1, budget, found, size);
		}
	}
	closedir(d);
	return r;
}

static int by_container(const struct tb_cg_mounts *m, const char *id, struct tb_agent_target *out)
{
	const char *top = tb_cg_mount_of(m, TB_CG_CPU, NULL);
	char rel[PATH_MAX];
	int budget = SEARCH_DIRS;
	pid_t pid = 0;
	int r;

	if (!top)
		return -ESRCH;
	/* Found by its name in the cpu hierarchy, then taken in every
	 * hierarchy by the same path, each confined under its mount. */
	r = search(top, "", id, 1, &budget, rel, sizeof(rel));
	if (r == 0)
		r = tb_cg_paths_of_cgroup(m, rel, out->dirs);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	/* A process of it, for its network namespace. */
	for (int c = 0; c < TB_CG_SLOTS && pid == 0; c++)
		if (out->dirs[c] && tb_cg_procs(out->dirs[c], &pid, 1) < 1)
			pid = 0;
	out->t.pid = pid;
	return 0;
}

/* A top cgroup of a hierarchy (where kernel threads are, and services a
 * hierarchy does not split) is never handed to a throttler: a throttle
 * there would act on the whole node.  Returns how many directories remain. */
static int drop_tops(const struct tb_cg_mounts *m, struct tb_agent_target *t)
{
	int left = 0;

	for (int c = 0; c < TB_CG_SLOTS; c++) {
		const char *mnt = tb_cg_mount_of(m, c, NULL);

		if (t->dirs[c] && mnt && !strcmp(t->dirs[c], mnt)) {
			free(t->dirs[c]);
			t->dirs[c] = NULL;
		}
		left += t->dirs[c] != NULL;
	}
	return left;
}

/* Its network namespace, when not the agent's own, and the interface there. */
static void find_net(struct tb_agent_target *out)
{
	if (out->t.pid <= 0)
		return;
	snprintf(out->netns, sizeof(out->netns), "/proc/%d/ns/net", (int)out->t.pid);
	if (tb_netns_is_own(out->netns) != 0)
		return;
	out->t.netns = out->netns;
	if (tb_netns_first_iface(out->netns, out->ifname, sizeof(out->ifname)) == 0)
		out->t.ifname = out->ifname;
}

int tb_agent_target_resolve(const struct tb_cg_mounts *m, const char *kind, const char *id,
			    struct tb_agent_target *out, char *why, size_t whylen)
{
	pid_t pid = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!strcmp(kind, "pid") && is_pid(id, &pid)) {
		snprintf(out->id, sizeof(out->id), "pid %d", (int)pid);
		out->t.pid = pid;
		r = by_pid(m, pid, out);
	} else if (!strcmp(kind, "container") && is_container_id(id)) {
		snprintf(out->id, sizeof(out->id), "container %.12s", id);
		r = by_container(m, id, out);
	} else {
		snprintf(why, whylen, "target: a \"pid\" is a decimal process id and a \"container\" "
			 "is 64 lowercase hex digits; nothing else (no path) is taken");
		return -EINVAL;
	}
	if (r == 0 && drop_tops(m, out) == 0)
		r = -EPERM;
	if (r < 0) {
		snprintf(why, whylen, "%s: %s", out->id,
			 r == -ESRCH ? "no such process or container on this node"
			 : r == -EXDEV ? "its cgroup lies outside the cgroup mounts"
			 : r == -EPERM ? "refused: it is in the top cgroups, a throttle would act "
					 "on the whole node" : strerror(-r));
		tb_agent_target_free(out);
		return r == -EXDEV || r == -EPERM ? -EINVAL : r;
	}
	for (int c = 0; c < TB_CG_SLOTS; c++)
		out->t.cgroup[c] = out->dirs[c];
	out->t.id = out->id;
	find_net(out);
	return 0;
}

void tb_agent_target_free(struct tb_agent_target *t)
{
	tb_cg_paths_free(t->dirs);
}
