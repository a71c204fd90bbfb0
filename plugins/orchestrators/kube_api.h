/* kube_api.h - a small Kubernetes API client: GETs and paged lists over TLS with libcurl, JSON with jansson. */
#ifndef TB_KUBE_API_H
#define TB_KUBE_API_H

#include <stddef.h>
#include <jansson.h>
#include "kube_config.h"

struct kube_client;

/* A client of the API creds name (creds outlive it); timeout in seconds per
 * request.  Does not connect. */
int kube_client_new(struct kube_creds *creds, double timeout, struct kube_client **out);
void kube_client_free(struct kube_client *c);

/*
 * GET path (it may hold a query string) into *out.  On an HTTP error err
 * holds the API's Status message and the result is -EACCES (401, 403),
 * -ENOENT (404), -ESTALE (410 Gone) or -EIO; a 429 or 5xx is retried a few
 * times first.  A 401 with a token file re-reads the token once (service
 * account tokens rotate).  -ECONNREFUSED or -ETIMEDOUT when unreachable.
 */
int kube_get(struct kube_client *c, const char *path, json_t **out, char *err, size_t errlen);

/*
 * Every item of the list at path (query: selectors, may be ""), a page of
 * page_size at a time, following metadata.continue.  A 410 (the continue
 * token expired) lists again from the start, a few times at most.
 * *items is a JSON array.
 */
int kube_list(struct kube_client *c, const char *path, const char *query, unsigned page_size,
	      json_t **items, char *err, size_t errlen);

/* A string escaped for a query, or NULL; free() it. */
char *kube_escape(struct kube_client *c, const char *s);

#endif
