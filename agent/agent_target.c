/* agent_target.c - turn a pid or a container id, as a client names it, into a target: cgroups and netns found by the agent. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "agent.h"
#include "netns.h"

#define CONTAINER_ID_LEN 64

/* Where the container engines put a container's cgroup, relative to each
 * hierarchy's top: docker's cgroupfs driver, then its systemd driver. */
static const char *const container_cgroups[] = { "/docker/%s", "/system.slice/docker-%s.scope" };

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

static int by_container(const struct tb_cg_mounts *m, const char *id, struct tb_agent_target *out)
{
	char path[128];
	pid_t pid = 0;
	int r = -ESRCH;

	for (size_t i = 0; i < sizeof(container_cgroups) / sizeof(*container_cgroups); i++) {
		snprintf(path, sizeof(path), container_cgroups[i], id);
		r = tb_cg_paths_of_cgroup(m, path, out->dirs);
		if (r == 0)
			break;
	}
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
