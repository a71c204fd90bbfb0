/* local.c - the "local" orchestrator: services are processes on this host, launched or attached to. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include "local_netns.h"
#include "netns.h"


static const struct tb_setting_spec settings[] = {
	{ "services", TB_SETTING_ANY, 1,
	  "list of { name = \"...\"; command = [...] | pid = N | pids = [...] | cgroup = \"/path\"; ... }" },
	{ "cgroup_parent", TB_SETTING_STRING, 0,
	  "launched services get cgroup <cgroup_parent>.<pid>/<service> (default \"throttlebot\")" },
	{ "log_dir", TB_SETTING_STRING, 0,
	  "directory for services' output, throttlebot-<service>.log (default /tmp; \"/dev/null\" discards)" },
	{ NULL, 0, 0, NULL },
};

/* Start time (clock ticks since boot) of pid, field 22 of /proc/PID/stat;
 * -ESRCH for a process that has ended (a zombie, not yet reaped). */
int local_start_time(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');          /* the command name may hold spaces */
	if (!p)
		return -EINVAL;
	p++;
	if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
		return -ESRCH;
	for (int field = 2; field < 21 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", out) != 1)
		return -EINVAL;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Discover, alive.                                                        */

static int note_known(struct local *l, pid_t pid)
{
	struct known *k;
	unsigned long long start;

	if (pid <= 0 || local_start_time(pid, &start) < 0)
		return 0;
	k = realloc(l->known, sizeof(*k) * (l->nknown + 1));
	if (!k)
		return -ENOMEM;
	l->known = k;
	l->known[l->nknown++] = (struct known){ pid, start };
	return 0;
}

/* Fill t's netns and ifname for a process in nspath (NULL: the host's). */
static void find_net(struct local *l, struct tb_target *t, const char *nspath, char *ifname,
		     size_t size)
{
	int r;

	t->netns = NULL;
	t->ifname = NULL;
	if (nspath && tb_netns_is_own(nspath) != 1)
		t->netns = nspath;
	if (!t->netns)
		return;
	r = tb_netns_first_iface(t->netns, ifname, size);
	if (r == 0)
		t->ifname = ifname;
	else
		TB_LOG(l->h, TB_LOG_WARNING, "no network interface found in %s: %s", t->netns,
		       strerror(-r));
}

static void warn_roots(struct local *l, const char *service, char **dirs)
{
	for (int c = 0; c < TB_CG_SLOTS; c++) {
		const char *mnt = tb_cg_mount_of(&l->mounts, c, NULL);

		if (dirs[c] && mnt && !strcmp(dirs[c], mnt)) {
			TB_LOG(l->h, TB_LOG_WARNING,
			       "service '%s' is in the top %s cgroup: a %s throttle would not apply to it alone",
			       service, tb_cg_v2_name(c), tb_cg_v2_name(c));
			return;
		}
	}
}

static int discover_launched(struct local *l, struct tb_inventory *inv, struct svc *s)
{
	struct tb_target t = { 0 };
	char id[128], ifname[IF_NAMESIZE + 1];

	snprintf(id, sizeof(id), "%s pid %ld", s->name, (long)s->pid);
	t.id = id;
	t.pid = s->pid;
	t.node = s->node;
	for (size_t i = 0; i < l->nhiers; i++) {
		if (!l->hiers[i].v1name) {
			for (int c = 0; c < TB_CG_SLOTS; c++)
				if (l->mounts.in_v2[c])
					t.cgroup[c] = s->dirs[i];
			continue;
		}
		for (size_t k = 0; k < LOCAL_NV1; k++)
			if (!strcmp(local_v1_hiers[k].name, l->hiers[i].v1name) && local_v1_hiers[k].ctl >= 0)
				t.cgroup[local_v1_hiers[k].ctl] = s->dirs[i];
	}
	find_net(l, &t, s->netns, ifname, sizeof(ifname));
	if (note_known(l, s->pid) < 0)
		return -ENOMEM;
	return l->h->add_service(l->h, inv, s->name, &t);
}

static int discover_pid(struct local *l, struct tb_inventory *inv, const struct svc *s, pid_t pid,
			const char *id, char **given_dirs)
{
	const char *service = s->name;
	struct tb_target t = { 0 };
	char *dirs[TB_CG_SLOTS] = { NULL }, ns[64], ifname[IF_NAMESIZE + 1];
	int r = 0;

	if (!given_dirs) {
		r = tb_cg_paths_of_pid(&l->mounts, pid, dirs);
		if (r < 0) {
			TB_LOG(l->h, TB_LOG_ERROR, "service '%s': no process %ld (%s)", service, (long)pid,
			       strerror(-r));
			return r == -ENOENT ? -ESRCH : r;
		}
		given_dirs = dirs;
	}
	t.id = id;
	t.pid = pid;
	t.node = s->node;
	for (int c = 0; c < TB_CG_SLOTS; c++)
		t.cgroup[c] = given_dirs[c];
	warn_roots(l, service, given_dirs);
	snprintf(ns, sizeof(ns), "/proc/%ld/ns/net", (long)pid);
	find_net(l, &t, pid > 0 ? ns : NULL, ifname, sizeof(ifname));
	r = note_known(l, pid);
	if (r == 0)
		r = l->h->add_service(l->h, inv, service, &t);
	tb_cg_paths_free(dirs);
	return r;
}

static int discover_cgroup(struct local *l, struct tb_inventory *inv, struct svc *s)
{
	char *dirs[TB_CG_SLOTS], id[512];
	pid_t pid = 0;
	int r;

	r = tb_cg_paths_of_cgroup(&l->mounts, s->cgroup, dirs);
	if (r < 0) {
		TB_LOG(l->h, TB_LOG_ERROR, "service '%s': cgroup %s %s", s->name, s->cgroup,
		       r == -EXDEV ? "leads outside the cgroup hierarchies: refused"
				   : "exists in no mounted hierarchy");
		return r;
	}
	/* One target for the cgroup: throttles act on its directories, and
	 * one process of it stands for its network namespace. */
	for (int c = 0; c < TB_CG_SLOTS && !pid; c++)
		if (dirs[c] && tb_cg_procs(dirs[c], &pid, 1) != 1)
			pid = 0;
	snprintf(id, sizeof(id), "%s cgroup %s", s->name, s->cgroup);
	r = discover_pid(l, inv, s, pid, id, dirs);
	tb_cg_paths_free(dirs);
	return r;
}

static int local_discover(void *state, struct tb_inventory *inv)
{
	struct local *l = state;
	int r = 0;

	l->nknown = 0;
	if (!l->launched) {
		/* "plan", without root: the names are all there is to know. */
		for (size_t i = 0; i < l->nsvcs && r == 0; i++)
			r = l->h->add_service(l->h, inv, l->svcs[i].name, NULL);
		return r;
	}
	for (size_t i = 0; i < l->nsvcs && r == 0; i++) {
		struct svc *s = &l->svcs[i];
		char id[128];

		switch (s->kind) {
		case SVC_COMMAND:
			r = discover_launched(l, inv, s);
			break;
		case SVC_PIDS:
			for (size_t k = 0; k < s->npids && r == 0; k++) {
				snprintf(id, sizeof(id), "%s pid %ld", s->name, (long)s->pids[k]);
				r = discover_pid(l, inv, s, s->pids[k], id, NULL);
			}
			break;
		case SVC_CGROUP:
			r = discover_cgroup(l, inv, s);
			break;
		}
	}
	return r;
}

static int local_alive(void *state, const struct tb_target *t)
{
	struct local *l = state;
	unsigned long long start;

	if (t->pid <= 0) {
		for (int c = 0; c < TB_CG_SLOTS; c++)
			if (t->cgroup[c])
				return access(t->cgroup[c], F_OK) == 0;
		return 0;
	}
	/* One of ours that ended is reaped here, and its end logged. */
	for (size_t i = 0; i < l->nsvcs; i++)
		if (l->svcs[i].pid == t->pid && local_exited(l, &l->svcs[i], "during the run"))
			return 0;
	if (local_start_time(t->pid, &start) < 0)
		return 0;
	for (size_t i = 0; i < l->nknown; i++)
		if (l->known[i].pid == t->pid)
			return l->known[i].start == start;
	return 1;
}

/* ---------------------------------------------------------------------- */
/* Restore after a crash.                                                  */

static int local_restore(void *state, const char *saved)
{
	struct local *l = state;
	char *copy = strdup(saved), *save = NULL;
	int r = 0, e;

	if (!copy)
		return -ENOMEM;
	/* Lines come in the order to undo: cgroups (and their processes)
	 * first, then the veth, then the namespace. */
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *value = strchr(line, '\t');

		if (value)
			*value++ = '\0';
		if (!value) {
			e = -EINVAL;
		} else {
			if (!strcmp(line, "cgroup"))
				e = local_cg_remove(l->h, value, 0);
			else if (!strcmp(line, "link"))
				e = tb_local_net_remove_link(l->h, value);
			else if (!strcmp(line, "netns"))
				e = tb_local_net_remove_ns(l->h, value);
			else
				e = -EINVAL;
		}
		if (e == -EINVAL)
			TB_LOG(l->h, TB_LOG_ERROR, "cannot undo saved line '%s%s%s'", line,
			       value ? "<TAB>" : "", value ? value : "");
		if (e < 0 && r == 0)
			r = e;
	}
	free(copy);
	return r;
}

/* ---------------------------------------------------------------------- */

static void local_fini(void *state)
{
	struct local *l = state;

	if (!l)
		return;
	if (l->launched)
		local_stop_services(l);
	for (size_t i = 0; i < l->nsvcs; i++) {
		struct svc *s = &l->svcs[i];

		for (size_t k = 0; s->argv && s->argv[k]; k++)
			free(s->argv[k]);
		free(s->argv);
		for (size_t k = 0; s->ready_argv && s->ready_argv[k]; k++)
			free(s->ready_argv[k]);
		free(s->ready_argv);
		free(s->pids);
		free(s->netns);
		free(s->address);
		free(s->host_address);
		for (size_t k = 0; k < MAX_HIERS; k++)
			free(s->dirs[k]);
	}
	for (size_t k = 0; k < MAX_HIERS; k++)
		free(l->parent_dirs[k]);
	free(l->svcs);
	free(l->known);
	if (l->have_mounts)
		tb_cg_mounts_free(&l->mounts);
	free(l);
}

static int local_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct local *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->h = h;
	if (cfg) {
		r = local_parse(l, cfg);
		if (r < 0) {
			local_fini(l);
			return r == -ENOMEM ? r : -EINVAL;
		}
	}
	*state = l;
	return 0;
}

TB_PLUGIN_DEFINE(tb_orchestrator) = {
	.header = { TB_ABI_CURRENT, TB_KIND_ORCHESTRATOR, "local",
		    "services are processes on this host, launched into their own cgroups or attached to",
		    PACKAGE_VERSION, settings },
	.init = local_init,
	.fini = local_fini,
	.launch = local_launch,
	.discover = local_discover,
	.alive = local_alive,
	.stop = local_stop,
	.restore = local_restore,
	.revive = local_revive,
};
