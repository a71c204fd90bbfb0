/* fake_engine.c - a stand-in Docker daemon for tests: answers GETs with fixed JSON, and container updates, over a unix socket or TCP. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "fake_engine.h"

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* The route serving path, or -1. */
static int route_of(struct fake_engine *e, const char *path)
{
	for (size_t i = 0; i < e->nroutes && i < FAKE_MAX_ROUTES; i++)
		if (strcmp(e->routes[i].path, path) == 0)
			return (int)i;
	return -1;
}

static long long int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/*
 * The Engine's merge of an update into HostConfig (its UpdateContainer): a
 * 0 or "" leaves a setting as it is; NanoCpus and a quota or period refuse
 * each other; a quota under 1 ms is refused.  0, or an HTTP status with
 * the Engine's message.
 */
static int merge(json_t *hc, json_t *u, const char **why)
{
	static const char *const ints[] = { "CpuPeriod", "CpuQuota", "NanoCpus", "BlkioWeight" };
	const char *cpus = json_string_value(json_object_get(u, "CpusetCpus"));

	*why = "Conflicting options: NanoCPUs and CPU Period or Quota";
	if ((int_of(u, "NanoCpus") > 0 && (int_of(hc, "CpuPeriod") > 0 || int_of(hc, "CpuQuota") > 0)) ||
	    ((int_of(u, "CpuPeriod") > 0 || int_of(u, "CpuQuota") > 0) && int_of(hc, "NanoCpus") > 0))
		return 409;
	*why = "CPU cfs quota can not be less than 1ms (i.e. 1000)";
	if (int_of(u, "CpuQuota") > 0 && int_of(u, "CpuQuota") < 1000)
		return 400;
	for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++)
		if (int_of(u, ints[i]))
			json_object_set_new(hc, ints[i], json_integer(int_of(u, ints[i])));
	if (cpus && *cpus)
		json_object_set_new(hc, "CpusetCpus", json_string(cpus));
	return 0;
}

/* POST /vX/containers/ID/update: merged into the container's inspect answer. */
static int update(struct fake_engine *e, const char *target, const char *body, char **answer)
{
	char path[2048];
	size_t n = strlen(target);
	const char *why = "page not found";
	json_t *u = json_loads(body, 0, NULL);
	int i, status = 404;

	if (n > 7 && !strcmp(target + n - 7, "/update"))
		snprintf(path, sizeof(path), "%.*s/json", (int)(n - 7), target);
	else
		path[0] = '\0';
	if (e->nupdates < FAKE_MAX_REQUESTS)
		snprintf(e->updates[e->nupdates++], sizeof(e->updates[0]), "%s", body);
	i = route_of(e, path);
	if (i >= 0 && !e->updated[i] && e->routes[i].status == 200)
		e->updated[i] = json_loads(e->routes[i].body, 0, NULL);
	if (i >= 0 && e->routes[i].status != 200) {
		why = "No such container";
		status = e->routes[i].status;
	} else if (i >= 0 && (!u || !json_is_object(json_object_get(e->updated[i], "HostConfig")))) {
		why = "bad update";
		status = 400;
	} else if (i >= 0) {
		status = e->ignore_updates ? 0 : merge(json_object_get(e->updated[i], "HostConfig"), u, &why);
	}
	json_decref(u);
	u = status ? json_pack("{s:s}", "message", why) : json_pack("{s:n}", "Warnings");
	*answer = json_dumps(u, JSON_COMPACT);
	json_decref(u);
	return status ? status : 200;
}

/* Read a request: its line, headers and (by Content-Length) body. */
static int read_request(int fd, char *req, size_t size, char **body)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t used = 0, need = 0;
	char *end = NULL, *cl;

	while (used < size - 1 && poll(&p, 1, 2000) == 1) {
		ssize_t r = read(fd, req + used, size - 1 - used);

		if (r <= 0)
			break;
		used += (size_t)r;
		req[used] = '\0';
		if (!end && (end = strstr(req, "\r\n\r\n"))) {
			cl = strcasestr(req, "\r\nContent-Length:");
			need = (size_t)(end + 4 - req) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (end && used >= need)
			break;
	}
	req[used] = '\0';
	*body = end ? end + 4 : req + used;
	return end ? 0 : -1;
}

static void answer(struct fake_engine *e, int fd)
{
	char req[8192], target[2048], method[8], head[256], *sent, *dumped = NULL;
	const char *body = "{\"message\":\"page not found\"}";
	int status = 404, n, i;

	if (read_request(fd, req, sizeof(req), &sent) < 0 ||
	    sscanf(req, "%7s %2047s HTTP/1.1", method, target) != 2 ||
	    (strcmp(method, "GET") && strcmp(method, "POST")))
		return;
	pthread_mutex_lock(&e->lock);
	if (e->nrequests < FAKE_MAX_REQUESTS)
		snprintf(e->requests[e->nrequests++], sizeof(e->requests[0]), "%s%.2040s",
			 strcmp(method, "POST") ? "" : "POST ", target);
	target[strcspn(target, "?")] = '\0';
	if (!strcmp(method, "POST")) {
		status = update(e, target, sent, &dumped);
		body = dumped ? dumped : "{}";
	} else if ((i = route_of(e, target)) >= 0) {
		unsigned k = e->hits[i]++;

		status = e->routes[i].status;
		body = e->routes[i].body;
		if (k > 0 && e->nthen[i])
			body = e->then[i][k - 1 < e->nthen[i] ? k - 1 : e->nthen[i] - 1];
		if (e->updated[i])
			body = dumped = json_dumps(e->updated[i], JSON_COMPACT);
	}
	pthread_mutex_unlock(&e->lock);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d Fake\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
	write_all(fd, head, (size_t)n);
	write_all(fd, body, strlen(body));
	free(dumped);
}

static void *serve(void *arg)
{
	struct fake_engine *e = arg;
	struct pollfd p = { .fd = e->fd, .events = POLLIN };

	for (;;) {
		int stop, c;

		pthread_mutex_lock(&e->lock);
		stop = e->stop;
		pthread_mutex_unlock(&e->lock);
		if (stop)
			break;
		if (poll(&p, 1, 50) != 1)
			continue;
		c = accept(e->fd, NULL, NULL);
		if (c < 0)
			continue;
		answer(e, c);
		close(c);
	}
	return NULL;
}

static int listen_unix(struct fake_engine *e, const char *dir)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(e->sock, sizeof(e->sock), "%s/docker-%d-%p.sock", dir, (int)getpid(), (void *)e);
	unlink(e->sock);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", e->sock);
	e->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -errno;
	snprintf(e->host, sizeof(e->host), "unix://%s", e->sock);
	return 0;
}

static int listen_tcp(struct fake_engine *e)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);

	e->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(e->fd, (struct sockaddr *)&a, &len) < 0)
		return -errno;
	snprintf(e->host, sizeof(e->host), "tcp://127.0.0.1:%d", ntohs(a.sin_port));
	return 0;
}

int fake_engine_start(struct fake_engine *e, const char *dir, const struct fake_route *routes,
		      size_t n)
{
	int r;

	memset(e, 0, sizeof(*e));
	e->routes = routes;
	e->nroutes = n;
	e->fd = -1;
	pthread_mutex_init(&e->lock, NULL);
	r = dir ? listen_unix(e, dir) : listen_tcp(e);
	if (r == 0 && listen(e->fd, 16) < 0)
		r = -errno;
	if (r == 0 && (r = -pthread_create(&e->thread, NULL, serve, e)) == 0)
		return 0;
	if (e->fd >= 0)
		close(e->fd);
	if (e->sock[0])
		unlink(e->sock);
	return r;
}

void fake_engine_stop(struct fake_engine *e)
{
	pthread_mutex_lock(&e->lock);
	e->stop = 1;
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->thread, NULL);
	close(e->fd);
	if (e->sock[0])
		unlink(e->sock);
	for (int i = 0; i < FAKE_MAX_ROUTES; i++)
		json_decref(e->updated[i]);
	pthread_mutex_destroy(&e->lock);
}

/* Entry i of a list the server thread appends to, or NULL. */
static const char *entry(struct fake_engine *e, const int *n, const char *first, size_t stride,
			 int i)
{
	const char *r;

	pthread_mutex_lock(&e->lock);
	r = i >= 0 && i < *n ? first + (size_t)i * stride : NULL;
	pthread_mutex_unlock(&e->lock);
	return r;
}

const char *fake_engine_update(struct fake_engine *e, int i)
{
	return entry(e, &e->nupdates, e->updates[0], sizeof(e->updates[0]), i);
}

const char *fake_engine_request(struct fake_engine *e, int i)
{
	return entry(e, &e->nrequests, e->requests[0], sizeof(e->requests[0]), i);
}

void fake_engine_then(struct fake_engine *e, size_t route, const char *const *bodies, size_t n)
{
	pthread_mutex_lock(&e->lock);
	if (route < FAKE_MAX_ROUTES) {
		e->then[route] = bodies;
		e->nthen[route] = n;
	}
	pthread_mutex_unlock(&e->lock);
}

unsigned fake_engine_hits(struct fake_engine *e, size_t route)
{
	unsigned n;

	pthread_mutex_lock(&e->lock);
	n = route < FAKE_MAX_ROUTES ? e->hits[route] : 0;
	pthread_mutex_unlock(&e->lock);
	return n;
}
