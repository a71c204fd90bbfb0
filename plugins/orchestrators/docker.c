/* docker.c - the "docker" orchestrator: services and targets from the containers of a running Docker engine. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "cgroup_paths.h"
#include "docker_api.h"
#include "docker_daemon.h"
#include "docker_parse.h"
#include "docker.h"

static const struct tb_setting_spec settings[] = {
	{ "host", TB_SETTING_STRING, 0,
	  "daemon address, unix:///path or tcp://host:port (default $DOCKER_HOST, else "
	  "unix:///var/run/docker.sock)" },
	{ "engines", TB_SETTING_ANY, 0, "several engines, one per node: a list of groups with "
	  "host, node and the tls_* keys (instead of host)" },
	{ "project", TB_SETTING_STRING, 0,
	  "compose project: its containers, by their com.docker.compose.service label" },
	{ "labels", TB_SETTING_STRINGS, 0,
	  "label selectors \"key=value\" or \"key\" that every container must match" },
	{ "containers", TB_SETTING_STRINGS, 0,
	  "container names or glob patterns; without project each container is a service" },
	{ "service_label", TB_SETTING_STRING, 0, "a label whose value names each container's service" },
	{ "timeout", TB_SETTING_NUMBER, 0, "seconds to wait for each API request (default 10)" },
	{ "health_timeout", TB_SETTING_NUMBER, 0,
	  "seconds to wait for containers with a HEALTHCHECK to be healthy (default 120)" },
	{ "tls_ca", TB_SETTING_STRING, 0, "tcp:// over TLS: PEM file of the CAs for the daemon's "
	  "certificate (default $DOCKER_CERT_PATH/ca.pem with $DOCKER_TLS_VERIFY)" },
	{ "tls_cert", TB_SETTING_STRING, 0, "tcp:// over TLS: PEM file of our client certificate" },
	{ "tls_key", TB_SETTING_STRING, 0, "tcp:// over TLS: PEM file of its private key" },
	{ "tls_verify", TB_SETTING_BOOL, 0, "check the daemon's certificate and name (default true)" },
	{ "insecure", TB_SETTING_BOOL, 0,
	  "allow plain HTTP to a tcp:// daemon, which is then trusted unauthenticated (default false)" },
	{ NULL, 0, 0, NULL }
};

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void docker_fini(void *state)
{
	struct docker *d = state;

	if (!d)
		return;
	dk_daemons_free(d->daemons, d->ndaemons);
	free(d->project);
	free(d->service_label);
	free_list(d->labels, d->nlabels);
	free_list(d->patterns, d->npatterns);
	if (d->have_mounts)
		tb_cg_mounts_free(&d->mounts);
	free(d);
}

static int get_opt_string(struct docker *d, const struct tb_config *cfg, const char *key,
			  char **out)
{
	const char *s;
	int r = d->h->get_string(d->h, cfg, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!*s)
		return d->h->config_error(d->h, cfg, key, "'%s' must not be empty", key);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* A list of non-empty strings; labels must not start with '='. */
static int get_list(struct docker *d, const struct tb_config *cfg, const char *key, char ***out,
		    size_t *n)
{
	const struct tb_host *h = d->h;
	int count = h->get_count(h, cfg, key);

	if (count == -ENOENT)
		return 0;
	if (count < 0)
		return count;
	if (count == 0)
		return h->config_error(h, cfg, key, "'%s' is empty", key);
	*out = calloc((size_t)count, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		const char *s;
		int r = h->get_string_at(h, cfg, key, i, &s);

		if (r < 0)
			return r;
		if (!*s || (strcmp(key, "labels") == 0 && s[0] == '='))
			return h->config_error(h, cfg, key, "bad %s entry \"%s\"%s", key, s,
					       strcmp(key, "labels") == 0 ?
					       " (expected \"key=value\" or \"key\")" : "");
		(*out)[i] = strdup(s);
		if (!(*out)[i])
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int read_settings(struct docker *d, const struct tb_config *cfg)
{
	const struct tb_host *h = d->h;
	int r;

	if ((r = dk_daemons_read(h, cfg, &d->daemons, &d->ndaemons)) < 0)
		return r;
	r = h->get_number(h, cfg, "timeout", &d->timeout);
	if (r == 0 && !(d->timeout > 0))
		return h->config_error(h, cfg, "timeout", "timeout must be more than 0 seconds");
	if (r < 0 && r != -ENOENT)
		return r;
	r = h->get_number(h, cfg, "health_timeout", &d->health_timeout);
	if (r == 0 && !(d->health_timeout > 0 && d->health_timeout <= 3600))
		return h->config_error(h, cfg, "health_timeout", "health_timeout must be in (0, 3600] seconds");
	if (r < 0 && r != -ENOENT)
		return r;
	if ((r = get_opt_string(d, cfg, "project", &d->project)) < 0 ||
	    (r = get_opt_string(d, cfg, "service_label", &d->service_label)) < 0 ||
	    (r = get_list(d, cfg, "labels", &d->labels, &d->nlabels)) < 0 ||
	    (r = get_list(d, cfg, "containers", &d->patterns, &d->npatterns)) < 0)
		return r;
	/* Every container on the machine is rarely the application, and
	 * throttling an unrelated one would be wrong. */
	if (!d->project && !d->nlabels && !d->npatterns && !d->service_label)
		return h->config_error(h, cfg, "project",
				       "say which containers form the application: set project, "
				       "labels, containers or service_label");
	return 0;
}

static int docker_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct docker *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->h = h;
	d->timeout = 10;
	d->health_timeout = 120;
	/* Restore-only mode: nothing to undo, docker remembers nothing. */
	r = cfg ? read_settings(d, cfg) : 0;
	if (r < 0) {
		docker_fini(d);
		return r;
	}
	*state = d;
	return 0;
}

static struct dk_selector selector(const struct docker *d)
{
	struct dk_selector s = {
		.project = d->project,
		.labels = (const char *const *)d->labels,
		.nlabels = d->nlabels,
		.patterns = (const char *const *)d->patterns,
		.npatterns = d->npatterns,
		.service_label = d->service_label,
	};

	return s;
}

/* Connect on first use: a config can be checked without a daemon. */
int dk_use(struct docker *d, struct dk_daemon *dm)
{
	char err[1024];
	int r;

	if (!dm->cli && (r = dk_client_new(&dm->ep, dm->tls ? &dm->tlsconf : NULL, d->timeout,
					    &dm->cli)) < 0)
		return r;
	r = dk_connect(dm->cli, err, sizeof(err));
	if (r < 0)
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
	return r;
}

static int get(struct docker *d, struct dk_daemon *dm, const char *path, json_t **out)
{
	char err[1024];
	int r = dk_get(dm->cli, path, out, err, sizeof(err));

	if (r < 0)
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
	return r;
}

static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) > 0)
		used += (size_t)n;
	close(fd);
	buf[used] = '\0';
	return 0;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The driver's naming rules give the directory in each hierarchy; when it is
 * not there (a nested engine, a sub-tree mount), the kernel's own record of
 * the container's process says where it is.
 */
static int cgroup_dirs(struct docker *d, const struct dk_engine *e, const struct dk_container *c,
		       char dirs[][1024], struct tb_target *t)
{
	char *found[TB_CG_SLOTS] = { NULL };
	int have_found = 0, r = 0;

	if (!d->have_mounts) {
		r = tb_cg_mounts_read(NULL, &d->mounts);
		if (r < 0) {
			TB_LOG(d->h, TB_LOG_ERROR, "cannot read the cgroup mounts: %s", strerror(-r));
			return r;
		}
		d->have_mounts = 1;
	}
	for (int ctl = TB_CG_CPU; ctl <= TB_CG_MEMORY; ctl++) {
		const char *hier = e->v2 ? d->mounts.v2 : d->mounts.v1[ctl];
		int named = hier && dk_cgroup_dir(e, hier, c, dirs[ctl], sizeof(dirs[ctl])) == 0;

		/* The engine's CgroupParent is in that name: it must not lead out. */
		if (named && tb_cg_confine(hier, dirs[ctl]) == -EXDEV) {
			TB_LOG(d->h, TB_LOG_ERROR, "%s: refused: its cgroup %s is outside %s",
			       c->name, dirs[ctl], hier);
			r = -EXDEV;
			break;
		}
		if (named && is_dir(dirs[ctl])) {
			t->cgroup[ctl] = dirs[ctl];
			continue;
		}
		if (!have_found) {
			TB_LOG(d->h, TB_LOG_DEBUG, "%s: no %s cgroup where the %s driver puts it; "
			       "asking /proc/%d/cgroup", c->name, tb_cg_v1_name(ctl),
			       e->no_driver ? "(none)" : e->systemd ? "systemd" : "cgroupfs", (int)c->pid);
			have_found = tb_cg_paths_of_pid(&d->mounts, c->pid, found) == 0;
		}
		if (have_found && found[ctl] && is_dir(found[ctl]) &&
		    snprintf(dirs[ctl], sizeof(dirs[ctl]), "%s", found[ctl]) < (int)sizeof(dirs[ctl]))
			t->cgroup[ctl] = dirs[ctl];
		else
			TB_LOG(d->h, TB_LOG_WARNING, "%s: no %s cgroup found", c->name,
			       tb_cg_v1_name(ctl));
	}
	if (have_found)
		tb_cg_paths_free(found);
	return r == -EXDEV ? r : 0;
}

static int inspect(struct docker *d, struct dk_daemon *dm, struct dk_container *c)
{
	char path[128], err[512];
	json_t *j;
	int r;

	snprintf(path, sizeof(path), "/containers/%s/json", c->id);
	if ((r = get(d, dm, path, &j)) < 0)
		return r;
	r = dk_parse_inspect(j, c, err, sizeof(err));
	json_decref(j);
	if (r < 0)
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
	return r;
}

/*
 * A container with a HEALTHCHECK is measured only once its engine calls it
 * healthy: until then it may refuse the workload, and the trials would
 * measure its startup.  Asked again quickly at first, then less often, until
 * the discover's deadline.  0, -EIO when unhealthy, -ETIMEDOUT, -EINTR.
 */
static int wait_healthy(struct docker *d, struct dk_daemon *dm, struct dk_container *c)
{
	const struct tb_host *h = d->h;
	double pause = 0.1, start = h->now(h);
	int r;

	while (c->running && !strcmp(c->health, "starting")) {
		struct timespec ts;

		if (h->cancelled(h))
			return -EINTR;
		if (h->now(h) >= d->health_deadline) {
			TB_LOG(h, TB_LOG_ERROR, "container %s (service %s) not healthy within %g s "
			       "(health_timeout): still starting%s%s", c->name, c->service,
			       d->health_timeout, *c->health_output ? "; last check said: " : "",
			       c->health_output);
			return -ETIMEDOUT;
		}
		ts.tv_sec = (time_t)pause;
		ts.tv_nsec = (long)((pause - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		pause = pause * 1.5 < 1 ? pause * 1.5 : 1;
		if ((r = inspect(d, dm, c)) < 0)
			return r;
	}
	if (!strcmp(c->health, "unhealthy")) {
		TB_LOG(h, TB_LOG_ERROR, "container %s (service %s) is unhealthy%s%s: fix it before "
		       "measuring it", c->name, c->service, *c->health_output ? ": " : "",
		       c->health_output);
		return -EIO;
	}
	if (c->health[0] && h->now(h) - start > 0.05)
		TB_LOG(h, TB_LOG_INFO, "container %s (service %s) healthy after %.1f s", c->name,
		       c->service, h->now(h) - start);
	return 0;
}

/* A container on another node: the agent there finds its cgroups and
 * namespace from its key, so none of this machine's are named. */
static int add_remote_target(struct docker *d, struct dk_daemon *dm, struct tb_inventory *inv,
			     const struct dk_container *c)
{
	char tid[600];
	struct tb_target t = { .id = tid, .key = c->id, .node = dm->node };

	snprintf(tid, sizeof(tid), "%.12s (%s on %s)", c->id, c->name, dm->node);
	return d->h->add_service(d->h, inv, c->service, &t);
}

static int add_target(struct docker *d, struct dk_daemon *dm, struct tb_inventory *inv,
		      const struct dk_engine *e, struct dk_container *c)
{
	char path[128], netns[64], tid[300], proc[16384];
	char dirs[TB_CG_SLOTS][1024];
	struct tb_target t = { 0 };
	int r;

	if ((r = inspect(d, dm, c)) < 0 || (r = wait_healthy(d, dm, c)) < 0)
		return r;
	if (!c->running || c->pid <= 0) {
		TB_LOG(d->h, TB_LOG_ERROR, "container %s (service %s) stopped during discovery",
		       c->name, c->service);
		return -ESRCH;
	}
	if (dm->node)
		return add_remote_target(d, dm, inv, c);
	snprintf(tid, sizeof(tid), "%.12s (%s)", c->id, c->name);
	t.id = tid;
	/* The full id: alive() finds the container by it, whatever id says. */
	t.key = c->id;
	t.pid = c->pid;
	if ((r = cgroup_dirs(d, e, c, dirs, &t)) < 0)
		return r;
	if (!c->host_network) {
		snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)c->pid);
		t.netns = netns;
		snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)c->pid);
		if (!c->no_network && read_text(path, proc, sizeof(proc)) == 0 &&
		    dk_net_has_iface(proc, "eth0"))
			t.ifname = "eth0";
	}
	TB_LOG(d->h, TB_LOG_DEBUG, "service %s: %s pid %d cgroup %s netns %s", c->service, tid,
	       (int)c->pid, t.cgroup[TB_CG_CPU] ? t.cgroup[TB_CG_CPU] : "(none)",
	       t.netns ? t.netns : "(host)");
	return d->h->add_service(d->h, inv, c->service, &t);
}

static int list_containers(struct docker *d, struct dk_daemon *dm, struct dk_container **out)
{
	struct dk_selector sel = selector(d);
	char *filters = dk_list_filters(&sel), *escaped = NULL, *path = NULL;
	json_t *list = NULL;
	int r = -ENOMEM;

	*out = NULL;
	if (!filters || !(escaped = dk_escape(dm->cli, filters)) ||
	    !(path = malloc(strlen(escaped) + 32)))
		goto out;
	sprintf(path, "/containers/json?filters=%s", escaped);
	if ((r = get(d, dm, path, &list)) < 0)
		goto out;
	r = dk_select(list, &sel, out);
	if (r == -EBADMSG)
		TB_LOG(d->h, TB_LOG_ERROR, "refused the answer to GET /containers/json from %s: "
		       "a container Id that is not 64 hex digits", dk_client_display(dm->cli));
	else if (r < 0)
		TB_LOG(d->h, TB_LOG_ERROR, "unexpected answer to GET /containers/json from %s",
		       dk_client_display(dm->cli));
out:
	json_decref(list);
	free(path);
	free(escaped);
	free(filters);
	return r;
}

/* The containers of one engine; how many, or -errno. */
static int discover_daemon(struct docker *d, struct dk_daemon *dm, struct tb_inventory *inv)
{
	struct dk_container *v = NULL;
	struct dk_engine e;
	char err[512];
	json_t *info;
	int r, n;

	if ((r = dk_use(d, dm)) < 0 || (r = get(d, dm, "/info", &info)) < 0)
		return r;
	r = dk_parse_info(info, &e, err, sizeof(err));
	json_decref(info);
	if (r < 0) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
		return r;
	}
	TB_LOG(d->h, TB_LOG_DEBUG, "engine at %s: cgroup driver %s, cgroup v%d",
	       dk_client_display(dm->cli),
	       e.no_driver ? "none" : e.systemd ? "systemd" : "cgroupfs", e.v2 ? 2 : 1);
	n = list_containers(d, dm, &v);
	for (int i = 0; i < n && r >= 0; i++)
		r = add_target(d, dm, inv, &e, &v[i]);
	if (n >= 0 && r >= 0)
		TB_LOG(d->h, n ? TB_LOG_INFO : TB_LOG_WARNING, "%d container%s at %s%s%s", n,
		       n == 1 ? "" : "s", dk_client_display(dm->cli), dm->node ? ", node " : "",
		       dm->node ? dm->node : "");
	free(v);
	return n < 0 ? n : (r < 0 ? r : n);
}

static int docker_discover(void *state, struct tb_inventory *inv)
{
	struct docker *d = state;
	struct dk_selector sel = selector(d);
	char what[1024];
	int found = 0;

	/* One deadline for all containers: they start together. */
	d->health_deadline = d->h->now(d->h) + d->health_timeout;
	for (size_t i = 0; i < d->ndaemons; i++) {
		int n = discover_daemon(d, &d->daemons[i], inv);

		if (n < 0)
			return n;
		found += n;
	}
	if (found == 0) {
		dk_describe_selector(&sel, what, sizeof(what));
		TB_LOG(d->h, TB_LOG_ERROR, "no running container matched %s at %s%s", what,
		       dk_client_display(d->daemons[0].cli), d->ndaemons > 1 ? " or the other engines" : "");
		return -ENOENT;
	}
	return 0;
}

/* Without the daemon: is pid still a process of container id?  1, 0, or
 * unknown (the engine's error) when there is no pid to look at. */
static int alive_locally(const char *id, pid_t pid, int unknown)
{
	char path[64], text[4096];
	int r;

	if (pid <= 0)
		return unknown;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	r = read_text(path, text, sizeof(text));
	if (r == -ENOENT || r == -ESRCH)
		return 0;            /* the process is gone */
	return r < 0 ? r : strstr(text, id) != NULL;
}

/* The container id of t: its key, which goes into a request path and is
 * looked for in cgroup paths, so only what discover() set, a full container
 * id, is taken.  NULL (and said) otherwise. */
const char *dk_container_of(const struct docker *d, const struct tb_target *t)
{
	if (!t->key || !dk_valid_id(t->key)) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s: refused: its key is not a 64-hex-digit container id",
		       t->id);
		return NULL;
	}
	return t->key;
}

/* 1: running, the container discovered; 0: stopped, removed or restarted;
 * -errno: could not tell (a key that is no container id, inspect data that
 * cannot be read, no engine and no pid to look at). */
static int docker_alive(void *state, const struct tb_target *t)
{
	struct docker *d = state;
	struct dk_daemon *dm = dk_daemon_of(d->daemons, d->ndaemons, t->node);
	struct dk_container c = { 0 };
	char path[128], err[1024];
	const char *id = dk_container_of(d, t);
	json_t *j;
	int r;

	if (!id || !dm)
		return -EINVAL;
	snprintf(path, sizeof(path), "/containers/%s/json", id);
	r = dm->cli ? dk_get(dm->cli, path, &j, err, sizeof(err)) : -ENOTCONN;
	if (r == -ENOENT) {
		TB_LOG(d->h, TB_LOG_WARNING, "%s: the container is gone", t->id);
		return 0;
	}
	if (r < 0 && dm->node) {
		TB_LOG(d->h, TB_LOG_WARNING, "%s", dm->cli ? err : "not connected");
		return r;
	}
	if (r < 0) {
		TB_LOG(d->h, TB_LOG_WARNING, "%s; checking pid %d locally",
		       dm->cli ? err : "not connected", (int)t->pid);
		return alive_locally(id, t->pid, r);
	}
	snprintf(c.id, sizeof(c.id), "%s", id);
	r = dk_parse_inspect(j, &c, err, sizeof(err));
	json_decref(j);
	if (r < 0) {
		TB_LOG(d->h, TB_LOG_WARNING, "%s", err);
		return r;
	}
	if (!c.running) {
		TB_LOG(d->h, TB_LOG_WARNING, "%s: the container is no longer running", t->id);
		return 0;
	}
	if (!dm->node && c.pid != t->pid) {
		TB_LOG(d->h, TB_LOG_WARNING, "%s: the container was restarted (pid %d, now %d)",
		       t->id, (int)t->pid, (int)c.pid);
		return 0;
	}
	return 1;
}

/* Restart the container (its process died or was harmed); the engine answers once it runs. */
static int docker_revive(void *state, const struct tb_target *t)
{
	struct docker *d = state;
	struct dk_daemon *dm = dk_daemon_of(d->daemons, d->ndaemons, t->node);
	const char *id = dk_container_of(d, t);
	char path[128], err[1024];
	int r;

	if (!id || !dm)
		return -EINVAL;
	if (!dm->cli && (r = dk_use(d, dm)) < 0)
		return r;
	/* t=10: the engine's own default wait before it kills a container that ignores SIGTERM. */
	snprintf(path, sizeof(path), "/containers/%s/restart?t=10", id);
	r = dk_post(dm->cli, path, 10, err, sizeof(err));
	if (r < 0)
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
	else
		TB_LOG(d->h, TB_LOG_INFO, "%s: restarted", t->id);
	return r;
}

TB_PLUGIN_DEFINE(tb_orchestrator) = {
	.header = { TB_ABI_CURRENT, TB_KIND_ORCHESTRATOR, "docker",
		    "services from the containers of a Docker engine (compose projects, labels, names)",
		    PACKAGE_VERSION, settings },
	.init = docker_init,
	.fini = docker_fini,
	.discover = docker_discover,
	.alive = docker_alive,
	.revive = docker_revive,
	.throttle_save = dk_throttle_save,
	.throttle_apply = dk_throttle_apply,
	.throttle_restore = dk_throttle_restore,
};
