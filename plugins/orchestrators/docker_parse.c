/* docker_parse.c - turn Docker Engine API responses into containers and cgroup paths, without network I/O. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "docker_parse.h"

#define ERR(...) (err ? (void)snprintf(err, errlen, __VA_ARGS__) : (void)0)

static int copy(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size)
		return -ENAMETOOLONG;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int dk_parse_endpoint(const char *host, struct dk_endpoint *ep, char *err, size_t errlen)
{
	const char *path = NULL;

	memset(ep, 0, sizeof(*ep));
	if (!host || !*host) {
		ERR("empty Docker host");
		return -EINVAL;
	}
	if (strncmp(host, "unix://", 7) == 0)
		path = host + 7;
	else if (host[0] == '/')
		path = host;
	if (path) {
		if (path[0] != '/' || copy(ep->socket, sizeof(ep->socket), path) < 0) {
			ERR("bad Docker socket path in \"%s\"", host);
			return -EINVAL;
		}
		/* With a unix socket the URL host is only the Host: header. */
		strcpy(ep->base, "http://localhost");
		snprintf(ep->display, sizeof(ep->display), "unix://%s", path);
		return 0;
	}
	if (strncmp(host, "tcp://", 6) == 0) {
		const char *addr = host + 6;
		size_t n = strcspn(addr, "/");

		if (n == 0 || n + 7 >= sizeof(ep->base) || addr[n + strspn(addr + n, "/")]) {
			ERR("bad Docker address \"%s\" (expected tcp://host:port)", host);
			return -EINVAL;
		}
		snprintf(ep->base, sizeof(ep->base), "http://%.*s", (int)n, addr);
		snprintf(ep->display, sizeof(ep->display), "tcp://%.*s", (int)n, addr);
		return 0;
	}
	ERR("unsupported Docker host \"%s\" (expected unix:///path or tcp://host:port)", host);
	return -EINVAL;
}

static int parse_version(const char *s, int *major, int *minor)
{
	char end;

	return s && sscanf(s, "%d.%d%c", major, minor, &end) == 2 ? 0 : -EPROTO;
}

static int vcmp(int amaj, int amin, int bmaj, int bmin)
{
	return amaj != bmaj ? (amaj < bmaj ? -1 : 1) : (amin < bmin ? -1 : amin > bmin);
}

int dk_negotiate(const json_t *version, int *major, int *minor, char *err, size_t errlen)
{
	const char *api = json_string_value(json_object_get(version, "ApiVersion"));
	const char *min = json_string_value(json_object_get(version, "MinAPIVersion"));
	int smaj, smin, mmaj, mmin;

	if (parse_version(api, &smaj, &smin) < 0) {
		ERR("the Docker daemon's /version has no usable ApiVersion");
		return -EPROTO;
	}
	*major = DK_API_OURS_MAJOR;
	*minor = DK_API_OURS_MINOR;
	if (vcmp(smaj, smin, *major, *minor) < 0) {
		*major = smaj;
		*minor = smin;
	}
	if (parse_version(min, &mmaj, &mmin) == 0 && vcmp(mmaj, mmin, *major, *minor) > 0) {
		*major = mmaj;
		*minor = mmin;
	}
	if (vcmp(*major, *minor, DK_API_OURS_MAJOR, DK_API_OLDEST_MINOR) < 0) {
		ERR("the Docker daemon speaks API %d.%d, older than the oldest supported, %d.%d",
		    smaj, smin, DK_API_OURS_MAJOR, DK_API_OLDEST_MINOR);
		return -EPROTO;
	}
	return 0;
}

int dk_parse_info(const json_t *info, struct dk_engine *e, char *err, size_t errlen)
{
	const char *driver = json_string_value(json_object_get(info, "CgroupDriver"));
	const char *version = json_string_value(json_object_get(info, "CgroupVersion"));

	memset(e, 0, sizeof(*e));
	/* Engines before API 1.41 have no CgroupVersion and only ran on v1. */
	if (!version || strcmp(version, "1") == 0)
		e->v2 = 0;
	else if (strcmp(version, "2") == 0)
		e->v2 = 1;
	else {
		ERR("unknown CgroupVersion \"%s\" in the Docker daemon's /info", version);
		return -EPROTO;
	}
	if (!driver || strcmp(driver, "cgroupfs") == 0)
		e->systemd = 0;
	else if (strcmp(driver, "systemd") == 0)
		e->systemd = 1;
	else if (strcmp(driver, "none") == 0)
		e->no_driver = 1;
	else {
		ERR("unknown CgroupDriver \"%s\" in the Docker daemon's /info", driver);
		return -EPROTO;
	}
	return 0;
}

const char *dk_error_message(const json_t *body)
{
	return json_string_value(json_object_get(body, "message"));
}

char *dk_list_filters(const struct dk_selector *sel)
{
	json_t *filters = json_object(), *labels = json_array();
	char buf[1024];
	char *text;
	size_t i;

	if (sel->project) {
		snprintf(buf, sizeof(buf), "%s=%s", DK_COMPOSE_PROJECT, sel->project);
		json_array_append_new(labels, json_string(buf));
	}
	for (i = 0; i < sel->nlabels; i++)
		json_array_append_new(labels, json_string(sel->labels[i]));
	/* A bare key asks the engine for containers that carry the label. */
	if (sel->service_label)
		json_array_append_new(labels, json_string(sel->service_label));
	if (json_array_size(labels))
		json_object_set(filters, "label", labels);
	json_object_set_new(filters, "status", json_pack("[s]", "running"));
	json_decref(labels);
	text = json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(filters);
	return text;
}

static void append(char *out, size_t size, const char *fmt, const char *s)
{
	size_t len = strlen(out);

	if (len < size)
		snprintf(out + len, size - len, fmt, s);
}

static void append_list(char *out, size_t size, const char *what, const char *const *v, size_t n)
{
	size_t i;

	if (!n)
		return;
	append(out, size, "%s", *out ? ", " : "");
	append(out, size, "%s [", what);
	for (i = 0; i < n; i++)
		append(out, size, i ? ", %s" : "%s", v[i]);
	append(out, size, "%s", "]");
}

void dk_describe_selector(const struct dk_selector *sel, char *out, size_t size)
{
	*out = '\0';
	if (sel->project)
		append(out, size, "project \"%s\"", sel->project);
	append_list(out, size, "labels", sel->labels, sel->nlabels);
	append_list(out, size, "containers", sel->patterns, sel->npatterns);
	if (sel->service_label) {
		append(out, size, "%s", *out ? ", " : "");
		append(out, size, "service_label \"%s\"", sel->service_label);
	}
	if (!*out)
		append(out, size, "%s", "any container");
}

/* The container's own name: "/web", not a link alias such as "/app/web". */
static const char *primary_name(const json_t *names)
{
	const char *first = NULL;
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v) {
		const char *n = json_string_value(v);

		if (!n)
			continue;
		if (n[0] == '/')
			n++;
		if (!strchr(n, '/'))
			return n;
		if (!first)
			first = n;
	}
	return first;
}

static int name_matches(const struct dk_selector *sel, const char *name)
{
	size_t i;

	if (!sel->npatterns)
		return 1;
	for (i = 0; i < sel->npatterns; i++)
		if (fnmatch(sel->patterns[i], name, 0) == 0)
			return 1;
	return 0;
}

static const char *service_of(const struct dk_selector *sel, const json_t *labels, const char *name)
{
	if (sel->service_label)
		return json_string_value(json_object_get(labels, sel->service_label));
	if (sel->project) {
		const char *s = json_string_value(json_object_get(labels, DK_COMPOSE_SERVICE));

		if (s)
			return s;
	}
	return name;
}

static int by_service_then_name(const void *a, const void *b)
{
	const struct dk_container *x = a, *y = b;
	int r = strcmp(x->service, y->service);

	return r ? r : strcmp(x->name, y->name);
}

int dk_valid_id(const char *id)
{
	return id && strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64;
}

int dk_select(const json_t *list, const struct dk_selector *sel, struct dk_container **out)
{
	struct dk_container *v;
	size_t i, n = 0;
	json_t *e;

	*out = NULL;
	if (!json_is_array(list))
		return -EPROTO;
	v = calloc(json_array_size(list) + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(list, i, e) {
		const char *id = json_string_value(json_object_get(e, "Id"));
		const char *name = primary_name(json_object_get(e, "Names"));
		const char *service;

		if (!id || !name || !name_matches(sel, name))
			continue;
		/* The id goes into request paths and cgroup directory names. */
		if (!dk_valid_id(id)) {
			free(v);
			return -EBADMSG;
		}
		service = service_of(sel, json_object_get(e, "Labels"), name);
		if (!service || !*service)
			continue;
		if (copy(v[n].id, sizeof(v[n].id), id) < 0 ||
		    copy(v[n].name, sizeof(v[n].name), name) < 0 ||
		    copy(v[n].service, sizeof(v[n].service), service) < 0)
			continue;
		n++;
	}
	qsort(v, n, sizeof(*v), by_service_then_name);
	*out = v;
	return (int)n;
}

/* State.Health, present only for a container with a HEALTHCHECK. */
static int parse_health(const json_t *health, struct dk_container *c, char *err, size_t errlen)
{
	const char *status = json_string_value(json_object_get(health, "Status"));
	const json_t *log = json_object_get(health, "Log");
	const char *out = json_string_value(json_object_get(json_array_get(log, json_array_size(log) - 1),
							    "Output"));

	c->health[0] = c->health_output[0] = '\0';
	if (!health || json_is_null(health))
		return 0;
	/* "none" is what an engine says of a check that was turned off. */
	if (status && !strcmp(status, "none"))
		return 0;
	if (!status || (strcmp(status, "starting") && strcmp(status, "healthy") &&
			strcmp(status, "unhealthy"))) {
		ERR("container %.12s: unknown State.Health.Status \"%s\"", c->id, status ? status : "");
		return -EPROTO;
	}
	snprintf(c->health, sizeof(c->health), "%s", status);
	snprintf(c->health_output, sizeof(c->health_output), "%s", out ? out : "");
	/* One line for messages. */
	for (char *p = c->health_output; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	for (size_t n = strlen(c->health_output); n > 0 && c->health_output[n - 1] == ' '; n--)
		c->health_output[n - 1] = '\0';
	return 0;
}

int dk_parse_inspect(const json_t *inspect, struct dk_container *c, char *err, size_t errlen)
{
	const json_t *state = json_object_get(inspect, "State");
	const json_t *hc = json_object_get(inspect, "HostConfig");
	const char *mode = json_string_value(json_object_get(hc, "NetworkMode"));
	const char *parent = json_string_value(json_object_get(hc, "CgroupParent"));
	const json_t *pid = json_object_get(state, "Pid");

	if (!json_is_object(state) || !json_is_integer(pid)) {
		ERR("container %.12s: no State.Pid in its inspect data", c->id);
		return -EPROTO;
	}
	c->running = json_is_true(json_object_get(state, "Running"));
	c->pid = (pid_t)json_integer_value(pid);
	c->host_network = mode && strcmp(mode, "host") == 0;
	c->no_network = mode && strcmp(mode, "none") == 0;
	if (copy(c->cgroup_parent, sizeof(c->cgroup_parent), parent ? parent : "") < 0) {
		ERR("container %.12s: CgroupParent too long", c->id);
		return -ENAMETOOLONG;
	}
	return parse_health(json_object_get(state, "Health"), c, err, errlen);
}

/*
 * systemd nests slices by their dashes: "a-b.slice" lives in
 * "/a.slice/a-b.slice".  The same rules as runc's ExpandSlice.
 */
static int expand_slice(const char *slice, char *out, size_t size)
{
	size_t len = strlen(slice), used = 0, i, start = 0;
	const size_t suffix = strlen(".slice");

	if (len <= suffix || strcmp(slice + len - suffix, ".slice") != 0 || strchr(slice, '/'))
		return -EINVAL;
	if (strcmp(slice, "-.slice") == 0) {
		out[0] = '\0';
		return 0;
	}
	len -= suffix;
	out[0] = '\0';
	for (i = 0; i <= len; i++) {
		int n;

		if (i < len && slice[i] != '-')
			continue;
		if (i == start)
			return -EINVAL;  /* "--" or a leading or trailing dash */
		n = snprintf(out + used, size - used, "/%.*s.slice", (int)i, slice);
		if (n < 0 || (size_t)n >= size - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
		start = i + 1;
	}
	return 0;
}

int dk_cgroup_dir(const struct dk_engine *e, const char *hierarchy, const struct dk_container *c,
		  char *out, size_t size)
{
	char parent[1024];
	const char *p;
	int n, r;

	if (e->no_driver)
		return -ENOENT;
	if (e->systemd) {
		r = expand_slice(c->cgroup_parent[0] ? c->cgroup_parent : "system.slice", parent,
				 sizeof(parent));
		if (r < 0)
			return r;
		n = snprintf(out, size, "%s%s/docker-%s.scope", hierarchy, parent, c->id);
	} else {
		p = c->cgroup_parent[0] ? c->cgroup_parent : "docker";
		while (*p == '/')
			p++;
		snprintf(parent, sizeof(parent), "%s", p);
		while (*parent && parent[strlen(parent) - 1] == '/')
			parent[strlen(parent) - 1] = '\0';
		n = snprintf(out, size, "%s%s%s/%s", hierarchy, *parent ? "/" : "", parent, c->id);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int dk_net_has_iface(const char *net_dev, const char *ifname)
{
	const char *line = net_dev;
	size_t len = strlen(ifname);

	while (line && *line) {
		line += strspn(line, " \t");
		if (strncmp(line, ifname, len) == 0 && line[len] == ':')
			return 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}
