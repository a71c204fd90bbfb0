/* fake_engine.c - a stand-in Docker daemon for tests: answers GETs with fixed JSON over a unix socket or TCP. */
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

static void answer(struct fake_engine *e, int fd)
{
	char req[8192], target[2048], head[256];
	const struct fake_route *route = NULL;
	const char *body = "{\"message\":\"page not found\"}";
	int status = 404, n;
	size_t used = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* Only the request line matters; read until the end of the headers. */
	while (used < sizeof(req) - 1 && poll(&p, 1, 2000) == 1) {
		ssize_t r = read(fd, req + used, sizeof(req) - 1 - used);

		if (r <= 0)
			break;
		used += (size_t)r;
		req[used] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[used] = '\0';
	if (sscanf(req, "GET %2047s HTTP/1.1", target) != 1)
		return;
	pthread_mutex_lock(&e->lock);
	if (e->nrequests < FAKE_MAX_REQUESTS)
		snprintf(e->requests[e->nrequests++], sizeof(e->requests[0]), "%s", target);
	target[strcspn(target, "?")] = '\0';
	for (size_t i = 0; i < e->nroutes && !route; i++)
		if (strcmp(e->routes[i].path, target) == 0) {
			unsigned k = i < FAKE_MAX_ROUTES ? e->hits[i]++ : 0;

			route = &e->routes[i];
			status = route->status;
			body = route->body;
			if (k > 0 && i < FAKE_MAX_ROUTES && e->nthen[i])
				body = e->then[i][k - 1 < e->nthen[i] ? k - 1 : e->nthen[i] - 1];
		}
	pthread_mutex_unlock(&e->lock);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d Fake\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
	write_all(fd, head, (size_t)n);
	write_all(fd, body, strlen(body));
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
	pthread_mutex_destroy(&e->lock);
}

const char *fake_engine_request(struct fake_engine *e, int i)
{
	const char *r;

	pthread_mutex_lock(&e->lock);
	r = i >= 0 && i < e->nrequests ? e->requests[i] : NULL;
	pthread_mutex_unlock(&e->lock);
	return r;
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
