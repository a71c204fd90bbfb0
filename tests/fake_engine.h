/* fake_engine.h - a stand-in Docker daemon for tests: answers GETs with fixed JSON, and container updates, over a unix socket or TCP. */
#ifndef TB_FAKE_ENGINE_H
#define TB_FAKE_ENGINE_H

#include <pthread.h>
#include <stddef.h>
#include <jansson.h>

/* An answer for a path (without the query string), matched exactly. */
struct fake_route {
	const char *path;
	int status;
	const char *body;
};

#define FAKE_MAX_REQUESTS 32
#define FAKE_MAX_ROUTES 16

struct fake_engine {
	const struct fake_route *routes;
	size_t nroutes;
	char host[160];                  /* for the plugin's "host" setting */
	char sock[108];                  /* unix socket path, or "" for TCP */
	int fd;
	pthread_t thread;
	pthread_mutex_t lock;
	int stop;
	int nrequests;
	unsigned hits[FAKE_MAX_ROUTES];           /* requests per route */
	const char *const *then[FAKE_MAX_ROUTES]; /* see fake_engine_then() */
	size_t nthen[FAKE_MAX_ROUTES];
	char requests[FAKE_MAX_REQUESTS][2048];   /* request targets, as received */
	/* POST /containers/ID/update: the bodies received, and each updated
	 * container's inspect answer (the route's, with HostConfig merged as
	 * the Engine merges an update), served from then on. */
	int nupdates;
	char updates[FAKE_MAX_REQUESTS][512];
	json_t *updated[FAKE_MAX_ROUTES];
	int ignore_updates;              /* answer 200 yet change nothing */
};

/*
 * Listen on a fresh unix socket in dir (one the caller removes, so that a
 * test that fails half-way leaves nothing behind), or on 127.0.0.1 when dir
 * is NULL, and serve routes from a thread until fake_engine_stop().
 * 0 or -errno.
 */
int fake_engine_start(struct fake_engine *e, const char *dir, const struct fake_route *routes,
		      size_t n);
void fake_engine_stop(struct fake_engine *e);
/* Request target i ("/v1.41/info", "POST /v1.41/containers/ID/update"), or NULL. */
const char *fake_engine_request(struct fake_engine *e, int i);

/* From now on the k-th request (from 0) to routes[route] is answered
 * bodies[k - 1] instead of its body, the last one over and over: a state
 * that changes, as a health check's does. */
void fake_engine_then(struct fake_engine *e, size_t route, const char *const *bodies, size_t n);
/* How many requests routes[route] answered. */
unsigned fake_engine_hits(struct fake_engine *e, size_t route);

/* The body of update i, or NULL. */
const char *fake_engine_update(struct fake_engine *e, int i);

#endif
