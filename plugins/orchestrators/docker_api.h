/* docker_api.h - a small Docker Engine API client: GET and POST requests with libcurl, JSON with jansson. */
#ifndef TB_DOCKER_API_H
#define TB_DOCKER_API_H

#include <stddef.h>
#include <jansson.h>
#include "docker_parse.h"

struct dk_client;

/* TLS to a tcp:// endpoint: PEM files (copied), NULL for none. */
struct dk_tls {
	const char *ca;        /* CAs for the daemon's certificate; NULL: the system's */
	const char *cert, *key;/* our client certificate and its key */
	int verify;            /* check the daemon's certificate and its name */
};

/* A client for endpoint ep, over TLS when tls is not NULL (https://);
 * timeout in seconds per request.  Does not connect. */
int dk_client_new(const struct dk_endpoint *ep, const struct dk_tls *tls, double timeout,
		  struct dk_client **out);
void dk_client_free(struct dk_client *c);

/* "unix:///var/run/docker.sock", for messages. */
const char *dk_client_display(const struct dk_client *c);

/*
 * GET /version and pick the API version every later request is prefixed
 * with.  0, or -errno with err set: -ECONNREFUSED (or the like) when the
 * daemon cannot be reached, -EPROTO when it speaks no usable version.
 */
int dk_connect(struct dk_client *c, char *err, size_t errlen);

/*
 * GET path (after the version prefix; path may hold a query string) and
 * parse the JSON answer into *out.  On an HTTP error the API's "message" is
 * put in err and -ENOENT (404), -EACCES (401, 403) or -EIO is returned;
 * when the daemon cannot be reached, -ECONNREFUSED; when TLS fails (the
 * daemon's certificate or name not verified, ours refused), -EKEYREJECTED.
 */
int dk_get(struct dk_client *c, const char *path, json_t **out, char *err, size_t errlen);

/*
 * POST path with no body (an action such as /containers/ID/restart), its
 * answer not read; errors as dk_get.  It may take timeout seconds more than
 * the client's own (a restart waits for the container to stop).
 */
int dk_post(struct dk_client *c, const char *path, double timeout, char *err, size_t errlen);

/* POST path with body (a JSON object, sent as application/json) and parse
 * the JSON answer into *out (NULL: not read); errors as dk_get. */
int dk_post_json(struct dk_client *c, const char *path, const json_t *body, json_t **out,
		 char *err, size_t errlen);

/* Where the client sends its requests, as a URL: "unix:///var/run/docker.sock",
 * "https://10.0.0.2:2376" over TLS, else "http://10.0.0.2:2375".  0 or -ENAMETOOLONG. */
int dk_client_url(const struct dk_client *c, char *out, size_t size);

/* curl_easy_escape() of s, for query strings; free() it. */
char *dk_escape(struct dk_client *c, const char *s);

#endif
