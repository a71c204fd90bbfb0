/* local.c - the "local" orchestrator: services are processes on this host, launched or attached to. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "cgroup_file.h"
#include "cgroup_paths.h"
#include "local_netns.h"
#include "netns.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1"
#endif

#define MAX_PROCS 4096
#define STOP_GRACE 5.0          /* seconds between SIGTERM and SIGKILL */
#define POLL_US 20000

enum svc_kind { SVC_COMMAND, SVC_PIDS, SVC_CGROUP };

/* One cgroup hierarchy launched services get a directory in. */
struct hier {
	const char *mount;
	const char *v1name;     /* libcgroup's controller name; NULL for v2 */
};
/* v1 hierarchies, and the target slot each fills (-1: accounting only). */
static const struct { const char *name; int ctl; } v1_hiers[] = {
	{ "cpu", TB_CG_CPU }, { "cpuacct", -1 }, { "cpuset", TB_CG_CPUSET },
	{ "blkio", TB_CG_IO }, { "memory", TB_CG_MEMORY },
};
#define NV1 (sizeof(v1_hiers) / sizeof(v1_hiers[0]))
#define MAX_HIERS (NV1 + 1)

struct svc {
	const struct tb_config *cfg;
	const char *name;
	enum svc_kind kind;
	char **argv;            /* argv[0] resolved to a path */
	const char *cwd, *ready_path;
	double ready_timeout, startup_seconds;
	pid_t *pids;
	size_t npids;
	const char *cgroup;
	char *netns;            /* path of the namespace to join, or NULL */
	int new_netns;
	char *address, *host_address;
	char host_if[IF_NAMESIZE];

	/* What launch() made. */
	char *dirs[MAX_HIERS];
	pid_t pid;
	int reaped;
	long handle;
	int net_made;
};

struct known {
	pid_t pid;
	unsigned long long start;
};

struct local {
	const struct tb_host *h;
	struct svc *svcs;
	size_t nsvcs;
	const char *cgroup_parent;
	const char *log_dir;
	struct tb_cg_mounts mounts;
	int have_mounts;
	struct hier hiers[MAX_HIERS];
	size_t nhiers;
	char *parent_dirs[MAX_HIERS];
	long parent_handle;
	int launched;
	struct known *known;
	size_t nknown;
};

static const struct tb_setting_spec settings[] = {
	{ "services", TB_SETTING_ANY, 1,
	  "list of { name = \"...\"; command = [...] | pid = N | pids = [...] | cgroup = \"/path\"; ... }" },
	{ "cgroup_parent", TB_SETTING_STRING, 0,
	  "launched services get cgroup <cgroup_parent>.<pid>/<service> (default \"throttlebot\")" },
	{ "log_dir", TB_SETTING_STRING, 0,
	  "directory for services' output, throttlebot-<service>.log (default /tmp; \"/dev/null\" discards)" },
	{ NULL, 0, 0, NULL },
};

static double now(const struct local *l)
{
	return l->h->now(l->h);
}

static void pause_briefly(void)
{
	struct timespec ts = { 0, POLL_US * 1000L };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------- */
/* Processes.                                                              */

/* Start time (clock ticks since boot) of pid, field 22 of /proc/PID/stat;
 * -ESRCH for a process that has ended (a zombie, not yet reaped). */
static int start_time(pid_t pid, unsigned long long *out)
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
/* Configuration.                                                          */

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Find prog as execvp would, but now, so that a typo is a configuration
 * error; a relative path is taken from the current directory. */
static char *resolve_program(const char *prog)
{
	char *out = NULL;

	if (strchr(prog, '/')) {
		char cwd[PATH_MAX];

		if (prog[0] == '/')
			out = strdup(prog);
		else if (getcwd(cwd, sizeof(cwd)) && asprintf(&out, "%s/%s", cwd, prog) < 0)
			out = NULL;
		if (out && !executable(out)) {
			free(out);
			out = NULL;
		}
		return out;
	}
	const char *path = getenv("PATH");

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		if (asprintf(&out, "%.*s%s%s", (int)len, path, len ? "/" : "", prog) < 0)
			return NULL;
		if (len && executable(out))
			return out;
		free(out);
		out = NULL;
		path += len + (path[len] == ':');
	}
	return NULL;
}

/*
 * Whether key is there, asked with the getter of the type it should have: 1,
 * 0 when absent, -EINVAL when of another type (already reported).
 */
static int present(const struct tb_host *h, const struct tb_config *c, const char *key,
		   enum tb_setting_type type)
{
	const char *s;
	double d;
	int b, r;

	switch (type) {
	case TB_SETTING_STRING: r = h->get_string(h, c, key, &s); break;
	case TB_SETTING_NUMBER: r = h->get_number(h, c, key, &d); break;
	case TB_SETTING_BOOL: r = h->get_bool(h, c, key, &b); break;
	default: r = h->get_count(h, c, key); break;
	}
	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

static int parse_command(struct local *l, struct svc *s)
{
	const struct tb_host *h = l->h;
	int n = h->get_count(h, s->cfg, "command");
	const char *arg;

	if (n < 0)
		return n == -ENOENT ? 0 : -EINVAL;
	if (n == 0)
		return h->config_error(h, s->cfg, "command", "service '%s': 'command' is empty", s->name);
	s->argv = calloc((size_t)n + 1, sizeof(char *));
	if (!s->argv)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (h->get_string_at(h, s->cfg, "command", i, &arg) < 0)
			return -EINVAL;
		s->argv[i] = strdup(arg);
		if (!s->argv[i])
			return -ENOMEM;
	}
	arg = s->argv[0];
	s->argv[0] = resolve_program(arg);
	if (!s->argv[0]) {
		s->argv[0] = (char *)arg;
		return h->config_error(h, s->cfg, "command",
				       "service '%s': program '%s' not found%s", s->name, arg,
				       strchr(arg, '/') ? " (or not executable)" : " in PATH");
	}
	free((char *)arg);
	s->kind = SVC_COMMAND;
	return 1;
}

static int parse_pids(struct local *l, struct svc *s)
{
	const struct tb_host *h = l->h;
	long long one;
	int r = h->get_int(h, s->cfg, "pid", &one), n;

	if (r == 0) {
		if (one <= 0 || one > INT_MAX)
			return h->config_error(h, s->cfg, "pid", "service '%s': bad pid %lld", s->name, one);
		s->pids = malloc(sizeof(pid_t));
		if (!s->pids)
			return -ENOMEM;
		s->pids[0] = (pid_t)one;
		s->npids = 1;
		s->kind = SVC_PIDS;
		return 1;
	}
	if (r != -ENOENT)
		return -EINVAL;
	n = h->get_count(h, s->cfg, "pids");
	if (n == -ENOENT)
		return 0;
	if (n <= 0)
		return n < 0 ? -EINVAL
			     : h->config_error(h, s->cfg, "pids", "service '%s': 'pids' is empty", s->name);
	s->pids = calloc((size_t)n, sizeof(pid_t));
	if (!s->pids)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		double d;

		if (h->get_number_at(h, s->cfg, "pids", i, &d) < 0)
			return -EINVAL;
		if (d <= 0 || d > INT_MAX || d != (double)(pid_t)d)
			return h->config_error(h, s->cfg, "pids", "service '%s': bad pid %g", s->name, d);
		s->pids[i] = (pid_t)d;
	}
	s->npids = (size_t)n;
	s->kind = SVC_PIDS;
	return 1;
}

static int parse_netns(struct local *l, struct svc *s, size_t index)
{
	const struct tb_host *h = l->h;
	const char *v;
	int r;

	r = h->get_bool(h, s->cfg, "new_netns", &s->new_netns);
	if (r < 0 && r != -ENOENT)
		return r;
	r = h->get_string(h, s->cfg, "netns", &v);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0) {
		if (s->new_netns)
			return h->config_error(h, s->cfg, "netns",
					       "service '%s': 'netns' and 'new_netns' exclude each other", s->name);
		if (v[0] == '/' ? asprintf(&s->netns, "%s", v) < 0
				: asprintf(&s->netns, "%s/%s", TB_NETNS_DIR, v) < 0) {
			s->netns = NULL;
			return -ENOMEM;
		}
		if (access(s->netns, F_OK) < 0)
			return h->config_error(h, s->cfg, "netns", "service '%s': no network namespace %s",
					       s->name, s->netns);
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "host_address" : "address";
		char **slot = i ? &s->host_address : &s->address;

		r = h->get_string(h, s->cfg, key, &v);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && !s->new_netns)
			return h->config_error(h, s->cfg, key, "service '%s': '%s' needs new_netns = true",
					       s->name, key);
		if (r == 0 && (!strchr(v, '/') || strlen(v) > 18))
			return h->config_error(h, s->cfg, key,
					       "service '%s': '%s' must look like 10.231.1.2/24", s->name, v);
		if (r == 0 ? asprintf(slot, "%s", v) < 0
			   : asprintf(slot, "10.231.%zu.%d/24", index + 1, i ? 1 : 2) < 0) {
			*slot = NULL;
			return -ENOMEM;
		}
	}
	if (s->new_netns && index + 1 > 254)
		return h->config_error(h, s->cfg, "new_netns", "too many services for default addresses");
	return 0;
}

static int parse_service(struct local *l, struct svc *s, size_t index)
{
	const struct tb_host *h = l->h;
	int r;

	r = h->get_string(h, s->cfg, "name", &s->name);
	if (r == -ENOENT)
		return h->config_error(h, s->cfg, NULL, "service %zu has no 'name'", index + 1);
	if (r < 0)
		return r;
	if (!valid_name(s->name))
		return h->config_error(h, s->cfg, "name",
				       "service name '%s' must be 1-64 of [A-Za-z0-9_.-]", s->name);
	for (size_t i = 0; i < index; i++)
		if (!strcmp(l->svcs[i].name, s->name))
			return h->config_error(h, s->cfg, "name", "service '%s' is named twice", s->name);

	static const struct { const char *key; enum tb_setting_type type; } kind_keys[] = {
		{ "command", TB_SETTING_STRINGS }, { "pid", TB_SETTING_NUMBER },
		{ "pids", TB_SETTING_NUMBERS }, { "cgroup", TB_SETTING_STRING },
	};
	const char *first = NULL;

	for (size_t i = 0; i < sizeof(kind_keys) / sizeof(*kind_keys); i++) {
		r = present(h, s->cfg, kind_keys[i].key, kind_keys[i].type);
		if (r < 0)
			return r;
		if (r && first)
			return h->config_error(h, s->cfg, kind_keys[i].key,
					       "service '%s' has both '%s' and '%s': give exactly one of command, pid, pids, cgroup",
					       s->name, first, kind_keys[i].key);
		if (r)
			first = kind_keys[i].key;
	}
	if (!first)
		return h->config_error(h, s->cfg, NULL,
				       "service '%s' needs one of 'command', 'pid', 'pids', 'cgroup'", s->name);
	if ((r = parse_command(l, s)) < 0)
		return r;
	if (r == 0 && (r = parse_pids(l, s)) < 0)
		return r;
	if (r == 0) {
		if (h->get_string(h, s->cfg, "cgroup", &s->cgroup) < 0)
			return -EINVAL;
		if (s->cgroup[0] != '/' || strstr(s->cgroup, ".."))
			return h->config_error(h, s->cfg, "cgroup",
					       "service '%s': cgroup must be an absolute path such as /system.slice/x.service",
					       s->name);
		s->kind = SVC_CGROUP;
	}

	s->ready_timeout = 10;
	static const struct { const char *key; enum tb_setting_type type; } command_only[] = {
		{ "cwd", TB_SETTING_STRING }, { "ready_path", TB_SETTING_STRING },
		{ "ready_timeout", TB_SETTING_NUMBER }, { "startup_seconds", TB_SETTING_NUMBER },
		{ "netns", TB_SETTING_STRING }, { "new_netns", TB_SETTING_BOOL },
		{ "address", TB_SETTING_STRING }, { "host_address", TB_SETTING_STRING },
	};
	for (size_t i = 0; i < sizeof(command_only) / sizeof(*command_only); i++) {
		r = present(h, s->cfg, command_only[i].key, command_only[i].type);
		if (r < 0)
			return r;
		if (r && s->kind != SVC_COMMAND)
			return h->config_error(h, s->cfg, command_only[i].key,
					       "service '%s': '%s' applies to a launched service (command) only",
					       s->name, command_only[i].key);
	}
	if ((r = h->get_string(h, s->cfg, "cwd", &s->cwd)) < 0 && r != -ENOENT)
		return r;
	if (s->cwd && access(s->cwd, X_OK) < 0)
		return h->config_error(h, s->cfg, "cwd", "service '%s': cannot enter %s: %s", s->name,
				       s->cwd, strerror(errno));
	if ((r = h->get_string(h, s->cfg, "ready_path", &s->ready_path)) < 0 && r != -ENOENT)
		return r;
	if ((r = h->get_number(h, s->cfg, "ready_timeout", &s->ready_timeout)) < 0 && r != -ENOENT)
		return r;
	if (s->ready_timeout <= 0 || s->ready_timeout > 3600)
		return h->config_error(h, s->cfg, "ready_timeout", "must be in (0, 3600] seconds");
	if ((r = h->get_number(h, s->cfg, "startup_seconds", &s->startup_seconds)) < 0 && r != -ENOENT)
		return r;
	if (s->startup_seconds < 0 || s->startup_seconds > 3600)
		return h->config_error(h, s->cfg, "startup_seconds", "must be in [0, 3600] seconds");
	return parse_netns(l, s, index);
}

static int parse(struct local *l, const struct tb_config *cfg)
{
	const struct tb_host *h = l->h;
	int n, r;

	l->cgroup_parent = "throttlebot";
	l->log_dir = "/tmp";
	if ((r = h->get_string(h, cfg, "cgroup_parent", &l->cgroup_parent)) < 0 && r != -ENOENT)
		return r;
	if (!valid_name(l->cgroup_parent))
		return h->config_error(h, cfg, "cgroup_parent", "must be one name of [A-Za-z0-9_.-]");
	if ((r = h->get_string(h, cfg, "log_dir", &l->log_dir)) < 0 && r != -ENOENT)
		return r;
	n = h->get_count(h, cfg, "services");
	if (n < 0)
		return n == -ENOENT ? h->config_error(h, cfg, NULL, "missing 'services'") : -EINVAL;
	if (n == 0)
		return h->config_error(h, cfg, "services", "no services");
	l->svcs = calloc((size_t)n, sizeof(*l->svcs));
	if (!l->svcs)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct svc *s = &l->svcs[i];

		s->cfg = h->get_group(h, cfg, "services", i);
		if (!s->cfg)
			return h->config_error(h, cfg, "services",
					       "service %d must be a group { name = \"...\"; ... }", i + 1);
		l->nsvcs = (size_t)i + 1;
		r = parse_service(l, s, (size_t)i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Cgroups.                                                                */

/*
 * Kill every process in dir and below, then remove the directories.  Used
 * by stop() and, after a crash, by restore(): it needs nothing but the
 * absolute paths the journal holds, on v1 and v2 alike, so libcgroup (which
 * would want controller and relative name, and on deletion moves leftover
 * processes to the parent rather than ending them) is not used here.
 * Refuses anything that is not a cgroup below a hierarchy's top.  A
 * directory already gone is success.
 */
static int cg_kill_remove(const struct tb_host *h, const char *dir, int depth)
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
		n = cg_kill_remove(h, path, depth + 1);
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
		pause_briefly();
	}
	n = -errno;
	TB_LOG(h, TB_LOG_WARNING, "cannot remove cgroup %s: %s", dir, strerror(-n));
	return r < 0 ? r : n;
}

/* The hierarchies launched services get a directory in: the v1 ones that
 * are mounted, and the v2 one when it offers a controller we throttle. */
static void find_hiers(struct local *l)
{
	const struct tb_cg_mounts *m = &l->mounts;
	int any_v2 = 0;

	l->nhiers = 0;
	for (size_t i = 0; i < NV1; i++) {
		const char *mnt = v1_hiers[i].ctl >= 0 ? m->v1[v1_hiers[i].ctl] : m->cpuacct;

		if (mnt)
			l->hiers[l->nhiers++] = (struct hier){ mnt, v1_hiers[i].name };
	}
	for (int c = 0; c < TB_CG_SLOTS; c++)
		any_v2 |= m->in_v2[c];
	if (any_v2)
		l->hiers[l->nhiers++] = (struct hier){ m->v2, NULL };
}

/* v2: controllers flow down only where each parent enables them. */
static int enable_v2(const struct local *l, const char *dir)
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
static int make_cgroup(struct local *l, const char *rel, const char *parent_rel, char **dirs)
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
static int saved_dirs(char *saved, size_t size, char **dirs, size_t n)
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

/* h->remember, where a host without a journal (a test, "plan") is no error. */
static int remember(struct local *l, const char *id, const char *saved, long *handle)
{
	long r = l->h->remember(l->h, id, saved);

	*handle = 0;
	if (r == -ENOTCONN) {
		TB_LOG(l->h, TB_LOG_DEBUG, "no journal: %s not recorded", id);
		return 0;
	}
	if (r < 0) {
		TB_LOG(l->h, TB_LOG_ERROR, "cannot journal %s: %s", id, strerror((int)-r));
		return (int)r;
	}
	*handle = r;
	return 0;
}

static void forget(struct local *l, long *handle)
{
	if (*handle > 0)
		l->h->forget(l->h, *handle);
	*handle = 0;
}

static int make_parent(struct local *l)
{
	char rel[256], saved[TB_SAVED_MAX] = "";
	int r;

	snprintf(rel, sizeof(rel), "%s.%ld", l->cgroup_parent, (long)getpid());
	for (size_t i = 0; i < l->nhiers; i++) {
		free(l->parent_dirs[i]);
		l->parent_dirs[i] = NULL;
	}
	for (size_t i = 0; i < l->nhiers; i++)
		if (asprintf(&l->parent_dirs[i], "%s/%s", l->hiers[i].mount, rel) < 0) {
			l->parent_dirs[i] = NULL;
			return -ENOMEM;
		}
	r = saved_dirs(saved, sizeof(saved), l->parent_dirs, l->nhiers);
	if (r == 0)
		r = remember(l, rel, saved, &l->parent_handle);
	if (r == 0) {
		char *dirs[MAX_HIERS] = { NULL };

		r = make_cgroup(l, rel, NULL, dirs);
		for (size_t i = 0; i < l->nhiers; i++) {
			if (r == 0 && !l->hiers[i].v1name)
				r = enable_v2(l, l->hiers[i].mount);
			if (r == 0 && !l->hiers[i].v1name)
				r = enable_v2(l, dirs[i]);
			free(dirs[i]);
		}
	}
	return r;
}

/* ---------------------------------------------------------------------- */
/* Launching.                                                              */

/* What the child reports through its close-on-exec pipe when it fails. */
struct child_error {
	int stage;              /* 0 cgroup, 1 netns, 2 cwd, 3 exec */
	int err;
};
static const char *const stages[] = { "join its cgroup", "join its network namespace",
				      "enter its directory", "execute" };

/* In the child, between fork() and exec: only plain system calls. */
static void __attribute__((noreturn))
child(const struct svc *s, char *const *procs, size_t nprocs, int nsfd, int in, int out, int errfd,
      pid_t parent)
{
	struct child_error ce = { 0, 0 };
	sigset_t all;

	/* A SIGKILLed ThrottleBot must not leave the service running.  (The
	 * signal comes when the thread that forked ends: launch() is called
	 * from the main thread.) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	setpgid(0, 0);
	/* Join before exec, so every process the service starts inherits it.
	 * "0" names the writer itself, on v1 and v2. */
	for (size_t i = 0; i < nprocs; i++) {
		int fd = open(procs[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1) {
			ce.err = errno;
			goto fail;
		}
		close(fd);
	}
	ce.stage = 1;
	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
		ce.err = errno;
		goto fail;
	}
	ce.stage = 2;
	if (s->cwd && chdir(s->cwd) < 0) {
		ce.err = errno;
		goto fail;
	}
	ce.stage = 3;
	dup2(in, 0);
	dup2(out, 1);
	dup2(out, 2);
	/* The host may block or ignore signals; the service starts clean. */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	execv(s->argv[0], s->argv);
	ce.err = errno;
fail:
	if (write(errfd, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

static char *log_path(const struct local *l, const struct svc *s)
{
	char *p;

	if (!strcmp(l->log_dir, "/dev/null"))
		return strdup("/dev/null");
	if (asprintf(&p, "%s/throttlebot-%s.log", l->log_dir, s->name) < 0)
		return NULL;
	return p;
}

/* Log the last lines the service wrote. */
static void log_tail(const struct local *l, const struct svc *s)
{
	char *path = log_path(l, s), buf[1024];
	FILE *f;
	long size;
	size_t n;

	if (!path || !strcmp(path, "/dev/null") || !(f = fopen(path, "re"))) {
		free(path);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	TB_LOG(l->h, TB_LOG_ERROR, "%s: last output (%s):", s->name, path);
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		TB_LOG(l->h, TB_LOG_ERROR, "%s| %s", s->name, line);
	free(path);
}

static int exited(struct local *l, struct svc *s, const char *when)
{
	int status;

	if (s->reaped || waitpid(s->pid, &status, WNOHANG) != s->pid)
		return 0;
	s->reaped = 1;
	if (WIFEXITED(status))
		TB_LOG(l->h, TB_LOG_ERROR, "service '%s' (pid %ld) exited with status %d %s",
		       s->name, (long)s->pid, WEXITSTATUS(status), when);
	else
		TB_LOG(l->h, TB_LOG_ERROR, "service '%s' (pid %ld) was killed by signal %d %s",
		       s->name, (long)s->pid, WTERMSIG(status), when);
	log_tail(l, s);
	return 1;
}

/* A socket left by an earlier run would make the service look ready at once. */
static int clear_ready_path(struct local *l, const struct svc *s)
{
	struct stat st;

	if (!s->ready_path || lstat(s->ready_path, &st) < 0)
		return 0;
	if (S_ISSOCK(st.st_mode) && unlink(s->ready_path) == 0) {
		TB_LOG(l->h, TB_LOG_INFO, "removed stale socket %s", s->ready_path);
		return 0;
	}
	TB_LOG(l->h, TB_LOG_ERROR, "service '%s': ready_path %s exists before launch; remove it",
	       s->name, s->ready_path);
	return -EEXIST;
}

static int wait_ready(struct local *l, struct svc *s)
{
	const struct tb_host *h = l->h;
	double start = now(l), ready_at = -1;

	for (;;) {
		if (exited(l, s, "during startup"))
			return -ECHILD;
		if (h->cancelled(h))
			return -EINTR;
		if (ready_at < 0 && (!s->ready_path || access(s->ready_path, F_OK) == 0))
			ready_at = now(l);
		if (ready_at < 0 && now(l) - start > s->ready_timeout) {
			TB_LOG(h, TB_LOG_ERROR, "service '%s': %s did not appear within %g s", s->name,
			       s->ready_path, s->ready_timeout);
			log_tail(l, s);
			return -ETIMEDOUT;
		}
		if (ready_at >= 0 && now(l) - ready_at >= s->startup_seconds)
			return 0;
		pause_briefly();
	}
}

static int service_saved(struct local *l, struct svc *s, char *saved, size_t size)
{
	int r;

	saved[0] = '\0';
	r = saved_dirs(saved, size, s->dirs, l->nhiers);
	if (r == 0 && s->new_netns) {
		size_t len = strlen(saved);
		int w = snprintf(saved + len, size - len, "link\t%s\nnetns\t%s\n", s->host_if, s->netns);

		if (w < 0 || (size_t)w >= size - len)
			r = -ENOSPC;
	}
	return r;
}

static int start_service(struct local *l, struct svc *s, size_t index)
{
	const struct tb_host *h = l->h;
	char rel[512], parent_rel[256], saved[TB_SAVED_MAX], *procs[MAX_HIERS] = { NULL };
	char *logp = NULL;
	int r, nsfd = -1, in = -1, out = -1, pipefd[2] = { -1, -1 };
	struct child_error ce;
	pid_t parent = getpid();
	ssize_t got;

	snprintf(parent_rel, sizeof(parent_rel), "%s.%ld", l->cgroup_parent, (long)parent);
	snprintf(rel, sizeof(rel), "%s/%s", parent_rel, s->name);
	for (size_t i = 0; i < l->nhiers; i++) {
		free(s->dirs[i]);
		s->dirs[i] = NULL;
	}
	for (size_t i = 0; i < l->nhiers; i++)
		if (asprintf(&s->dirs[i], "%s/%s", l->hiers[i].mount, rel) < 0) {
			s->dirs[i] = NULL;
			return -ENOMEM;
		}
	if (s->new_netns) {
		snprintf(s->host_if, sizeof(s->host_if), TB_VETH_PREFIX "%ld" "s%zu",
			 (long)parent % 10000000, index);
		free(s->netns);
		if (asprintf(&s->netns, "%s/%s%ld-%s", TB_NETNS_DIR, TB_NETNS_PREFIX, (long)parent,
			     s->name) < 0) {
			s->netns = NULL;
			return -ENOMEM;
		}
	}
	/* Journal first: whatever exists afterwards can be undone. */
	r = service_saved(l, s, saved, sizeof(saved));
	if (r == 0)
		r = remember(l, s->name, saved, &s->handle);
	if (r == 0) {
		char *made[MAX_HIERS] = { NULL };

		r = make_cgroup(l, rel, parent_rel, made);
		for (size_t i = 0; i < l->nhiers; i++)
			free(made[i]);
	}
	if (r == 0 && s->new_netns) {
		r = tb_local_net_create(h, s->netns, s->host_if, s->host_address, s->address);
		s->net_made = r == 0;
	}
	if (r < 0)
		return r;

	for (size_t i = 0; i < l->nhiers && r == 0; i++)
		if (asprintf(&procs[i], "%s/cgroup.procs", s->dirs[i]) < 0) {
			procs[i] = NULL;
			r = -ENOMEM;
		}
	if (r == 0 && s->netns && (nsfd = open(s->netns, O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	logp = log_path(l, s);
	if (r == 0 && !logp)
		r = -ENOMEM;
	if (r == 0 && (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && (out = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		r = -errno;
		TB_LOG(h, TB_LOG_ERROR, "cannot open %s: %s", logp, strerror(-r));
	}
	if (r == 0 && pipe2(pipefd, O_CLOEXEC) < 0)
		r = -errno;
	if (r == 0)
		r = clear_ready_path(l, s);
	if (r == 0) {
		s->pid = fork();
		if (s->pid == 0)
			child(s, procs, l->nhiers, nsfd, in, out, pipefd[1], parent);
		if (s->pid < 0) {
			r = -errno;
			s->pid = 0;
		}
	}
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (r == 0) {
		setpgid(s->pid, s->pid);   /* no race with our kill(-pgid) */
		do
			got = read(pipefd[0], &ce, sizeof(ce));
		while (got < 0 && errno == EINTR);
		if (got == (ssize_t)sizeof(ce)) {
			r = -ce.err;
			TB_LOG(h, TB_LOG_ERROR, "service '%s': cannot %s%s%s: %s", s->name,
			       stages[ce.stage < 4 ? ce.stage : 3], ce.stage == 3 ? " " : "",
			       ce.stage == 3 ? s->argv[0] : "", strerror(ce.err));
			waitpid(s->pid, NULL, 0);
			s->reaped = 1;
		} else {
			TB_LOG(h, TB_LOG_INFO, "started '%s' (pid %ld), output in %s", s->name,
			       (long)s->pid, logp);
		}
	}
	for (size_t i = 0; i < l->nhiers; i++)
		free(procs[i]);
	free(logp);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (nsfd >= 0)
		close(nsfd);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return r;
}

/* ---------------------------------------------------------------------- */
/* Stopping.                                                               */

static int stop_services(struct local *l)
{
	const struct tb_host *h = l->h;
	double deadline;
	int r = 0, e, busy;

	for (size_t i = 0; i < l->nsvcs; i++) {
		struct svc *s = &l->svcs[i];

		if (s->pid > 0 && !s->reaped)
			kill(-s->pid, SIGTERM);
	}
	/* Grace: until each group is gone or STOP_GRACE seconds passed. */
	deadline = now(l) + STOP_GRACE;
	do {
		busy = 0;
		for (size_t i = 0; i < l->nsvcs; i++) {
			struct svc *s = &l->svcs[i];

			if (s->pid <= 0)
				continue;
			if (!s->reaped && waitpid(s->pid, NULL, WNOHANG) == s->pid)
				s->reaped = 1;
			busy |= !s->reaped || kill(-s->pid, 0) == 0;
		}
		if (busy)
			pause_briefly();
	} while (busy && now(l) < deadline);

	for (size_t i = 0; i < l->nsvcs; i++) {
		struct svc *s = &l->svcs[i];

		int sr = 0;

		if (s->pid > 0 && kill(-s->pid, SIGKILL) == 0)
			TB_LOG(h, TB_LOG_WARNING, "service '%s' still ran %g s after SIGTERM: killed",
			       s->name, STOP_GRACE);
		/* Whatever left the process group is still in the cgroup. */
		for (size_t k = 0; k < l->nhiers; k++)
			if (s->dirs[k] && (e = cg_kill_remove(h, s->dirs[k], 0)) < 0 && sr == 0)
				sr = e;
		for (int tries = 0; s->pid > 0 && !s->reaped && tries < 250; tries++) {
			pid_t w = waitpid(s->pid, NULL, WNOHANG);

			if (w == s->pid || (w < 0 && errno == ECHILD))
				s->reaped = 1;
			else
				pause_briefly();
		}
		if (s->net_made) {
			if ((e = tb_local_net_remove_link(h, s->host_if)) < 0 && sr == 0)
				sr = e;
			if ((e = tb_local_net_remove_ns(h, s->netns)) < 0 && sr == 0)
				sr = e;
			s->net_made = sr < 0;
		}
		if (sr == 0)
			forget(l, &s->handle);
		else if (r == 0)
			r = sr;
		s->pid = 0;
		s->reaped = 0;
	}
	for (size_t k = 0; k < l->nhiers; k++)
		if (l->parent_dirs[k] && (e = cg_kill_remove(h, l->parent_dirs[k], 0)) < 0 && r == 0)
			r = e;
	if (r == 0)
		forget(l, &l->parent_handle);
	return r;
}

static int local_stop(void *state)
{
	struct local *l = state;
	int r;

	if (!l->launched)
		return 0;
	r = stop_services(l);
	if (r == 0)
		l->launched = 0;
	return r;
}

/* ---------------------------------------------------------------------- */
/* Launch, discover, alive.                                                */

static int need_mounts(struct local *l)
{
	int r;

	if (l->have_mounts)
		return 0;
	r = tb_cg_mounts_read(NULL, &l->mounts);
	if (r < 0) {
		TB_LOG(l->h, TB_LOG_ERROR, "cannot read the cgroup mounts: %s", strerror(-r));
		return r;
	}
	l->have_mounts = 1;
	find_hiers(l);
	return 0;
}

static int local_launch(void *state)
{
	struct local *l = state;
	int r, any = 0;

	for (size_t i = 0; i < l->nsvcs; i++)
		any |= l->svcs[i].kind == SVC_COMMAND;
	if ((r = need_mounts(l)) < 0)
		return r;
	if (l->launched)
		return 0;
	l->launched = 1;
	if (!any)
		return 0;
	if (l->nhiers == 0) {
		TB_LOG(l->h, TB_LOG_ERROR, "no cgroup hierarchy with cpu, cpuset, blkio/io or memory is mounted");
		return -ENODEV;
	}
	for (size_t i = 0; i < l->nhiers; i++) {
		if (l->hiers[i].v1name && (r = cgroup_init()) != 0) {
			TB_LOG(l->h, TB_LOG_ERROR, "libcgroup: %s", cgroup_strerror(r));
			return -EIO;
		}
		if (l->hiers[i].v1name)
			break;
	}
	r = make_parent(l);
	/* In the order given, each ready before the next starts: a service
	 * may need the one before it (a database before its frontend). */
	for (size_t i = 0; i < l->nsvcs && r == 0; i++)
		if (l->svcs[i].kind == SVC_COMMAND) {
			r = start_service(l, &l->svcs[i], i);
			if (r == 0)
				r = wait_ready(l, &l->svcs[i]);
		}
	if (r < 0) {
		/* Leave nothing behind: the host may not call stop() after a
		 * failed launch. */
		stop_services(l);
		l->launched = 0;
	}
	return r;
}

static int note_known(struct local *l, pid_t pid)
{
	struct known *k;
	unsigned long long start;

	if (pid <= 0 || start_time(pid, &start) < 0)
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
	for (size_t i = 0; i < l->nhiers; i++) {
		if (!l->hiers[i].v1name) {
			for (int c = 0; c < TB_CG_SLOTS; c++)
				if (l->mounts.in_v2[c])
					t.cgroup[c] = s->dirs[i];
			continue;
		}
		for (size_t k = 0; k < NV1; k++)
			if (!strcmp(v1_hiers[k].name, l->hiers[i].v1name) && v1_hiers[k].ctl >= 0)
				t.cgroup[v1_hiers[k].ctl] = s->dirs[i];
	}
	find_net(l, &t, s->netns, ifname, sizeof(ifname));
	if (note_known(l, s->pid) < 0)
		return -ENOMEM;
	return l->h->add_service(l->h, inv, s->name, &t);
}

static int discover_pid(struct local *l, struct tb_inventory *inv, const char *service, pid_t pid,
			const char *id, char **given_dirs)
{
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
		TB_LOG(l->h, TB_LOG_ERROR, "service '%s': cgroup %s exists in no mounted hierarchy",
		       s->name, s->cgroup);
		return r;
	}
	/* One target for the cgroup: throttles act on its directories, and
	 * one process of it stands for its network namespace. */
	for (int c = 0; c < TB_CG_SLOTS && !pid; c++)
		if (dirs[c] && tb_cg_procs(dirs[c], &pid, 1) != 1)
			pid = 0;
	snprintf(id, sizeof(id), "%s cgroup %s", s->name, s->cgroup);
	r = discover_pid(l, inv, s->name, pid, id, dirs);
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
				r = discover_pid(l, inv, s->name, s->pids[k], id, NULL);
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
		if (l->svcs[i].pid == t->pid && exited(l, &l->svcs[i], "during the run"))
			return 0;
	if (start_time(t->pid, &start) < 0)
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
				e = cg_kill_remove(l->h, value, 0);
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
		stop_services(l);
	for (size_t i = 0; i < l->nsvcs; i++) {
		struct svc *s = &l->svcs[i];

		for (size_t k = 0; s->argv && s->argv[k]; k++)
			free(s->argv[k]);
		free(s->argv);
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
		r = parse(l, cfg);
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
};
