/* kube_api.c - a small Kubernetes API client: GETs and paged lists over TLS with libcurl, JSON with jansson. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "http_body.h"
#include "kube_api.h"

#define KUBE_RETRIES 3         /* tries of a GET that met a 429 or a 5xx */
#define KUBE_RELISTS 3         /* lists started again after a 410 */

struct kube_client {
	struct kube_creds *creds;
	long timeout_ms;
	CURL *curl;
};

int kube_client_new(struct kube_creds *creds, double timeout, struct kube_client **out)
{
	struct kube_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->creds = creds;
	c->timeout_ms = timeout > 0 ? (long)(timeout * 1000.0) : 10000;
	if (!(c->curl = curl_easy_init())) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

char *kube_escape(struct kube_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	return copy;
}

/* The token file again, its trailing newline dropped. */
static int reread_token(struct kube_creds *k)
{
	char buf[16384];
	size_t n;
	FILE *f;

	if (!k->token_file || !(f = fopen(k->token_file, "re")))
		return -ENOENT;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (k->token)
		explicit_bzero(k->token, strlen(k->token));
	free(k->token);
	k->token = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return k->token ? 0 : -ENOMEM;
}

static void set_blob(CURL *curl, CURLoption opt, const struct kube_blob *b)
{
	struct curl_blob blob = { b->data, b->len, CURL_BLOB_COPY };

	curl_easy_setopt(curl, opt, &blob);
}

static void setup(struct kube_client *c, const char *url, struct tb_http_body *b, char *detail,
		  struct curl_slist **headers)
{
	struct kube_creds *k = c->creds;

	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, tb_http_body_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "throttlebot");
	if (k->ca.data)
		set_blob(c->curl, CURLOPT_CAINFO_BLOB, &k->ca);
	if (k->insecure) {
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (k->cert.data) {
		set_blob(c->curl, CURLOPT_SSLCERT_BLOB, &k->cert);
		set_blob(c->curl, CURLOPT_SSLKEY_BLOB, &k->key);
	}
	if (k->token) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, k->token);
	}
	*headers = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, *headers);
}

/* The message of a metav1.Status body, or the body itself. */
static int http_error(const char *path, long status, const struct tb_http_body *b, char *err,
		      size_t errlen)
{
	json_t *j = b->data ? json_loads(b->data, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "message"));

	snprintf(err, errlen, "Kubernetes API GET %s: HTTP %ld: %s", path, status,
		 msg ? msg : b->data && *b->data ? b->data : "no message");
	json_decref(j);
	switch (status) {
	case 401: case 403: return -EACCES;
	case 404: return -ENOENT;
	case 410: return -ESTALE;
	default: return -EIO;
	}
}

static int get_once(struct kube_client *c, const char *path, long *status, json_t **out, char *err,
		    size_t errlen)
{
	char url[8192], detail[CURL_ERROR_SIZE] = "";
	struct tb_http_body b = { 0 };
	struct curl_slist *headers = NULL;
	json_error_t jerr;
	CURLcode code;
	int n, r = 0;

	n = snprintf(url, sizeof(url), "%s%s", c->creds->server, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		snprintf(err, errlen, "Kubernetes API path too long: %.200s", path);
		return -ENAMETOOLONG;
	}
	setup(c, url, &b, detail, &headers);
	code = curl_easy_perform(c->curl);
	curl_slist_free_all(headers);
	*status = 0;
	if (code != CURLE_OK) {
		snprintf(err, errlen, "cannot reach the Kubernetes API at %s: %s", c->creds->server,
			 *detail ? detail : curl_easy_strerror(code));
		r = code == CURLE_WRITE_ERROR ? -ENOMEM
		    : code == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	if (*status < 200 || *status >= 300) {
		r = http_error(path, *status, &b, err, errlen);
		goto out;
	}
	if (!(*out = json_loadb(b.data ? b.data : "", b.len, 0, &jerr))) {
		snprintf(err, errlen, "Kubernetes API GET %s: bad JSON at line %d: %s", path, jerr.line,
			 jerr.text);
		r = -EPROTO;
	}
out:
	free(b.data);
	return r;
}

int kube_get(struct kube_client *c, const char *path, json_t **out, char *err, size_t errlen)
{
	int reread = 0, r = -EIO;

	*out = NULL;
	for (int try = 0; try < KUBE_RETRIES; try++) {
		struct timespec pause = { 0, 200000000L << try };
		long status;

		r = get_once(c, path, &status, out, err, errlen);
		if (status == 401 && !reread++ && reread_token(c->creds) == 0) {
			try--;
			continue;
		}
		if (status != 429 && status < 500)
			return r;
		if (try + 1 < KUBE_RETRIES)
			nanosleep(&pause, NULL);
	}
	return r;
}

/* One list from the start; -ESTALE when a continue token expired midway. */
static int list_once(struct kube_client *c, const char *path, const char *query, unsigned page_size,
		     json_t *items, char *err, size_t errlen)
{
	char *cont = NULL, url[8192];
	int r = 0;

	do {
		char *esc = cont ? kube_escape(c, cont) : NULL;
		json_t *page, *more;
		int n;

		n = snprintf(url, sizeof(url), "%s?limit=%u%s%s%s%s", path, page_size,
			     *query ? "&" : "", query, esc ? "&continue=" : "", esc ? esc : "");
		free(esc);
		free(cont);
		cont = NULL;
		if (n < 0 || (size_t)n >= sizeof(url))
			return -ENAMETOOLONG;
		if ((r = kube_get(c, url, &page, err, errlen)) < 0)
			return r;
		more = json_object_get(page, "items");
		if (!json_is_array(more) && !json_is_null(more) && more) {
			snprintf(err, errlen, "Kubernetes API GET %s: items is not a list", path);
			json_decref(page);
			return -EPROTO;
		}
		json_array_extend(items, more);
		const char *next = json_string_value(json_object_get(json_object_get(page, "metadata"),
								     "continue"));
		if (next && *next && !(cont = strdup(next)))
			r = -ENOMEM;
		json_decref(page);
	} while (cont && r == 0);
	return r;
}

int kube_list(struct kube_client *c, const char *path, const char *query, unsigned page_size,
	      json_t **items, char *err, size_t errlen)
{
	int r = -ESTALE;

	*items = NULL;
	for (int i = 0; i < KUBE_RELISTS && r == -ESTALE; i++) {
		json_decref(*items);
		if (!(*items = json_array()))
			return -ENOMEM;
		r = list_once(c, path, query, page_size ? page_size : 500, *items, err, errlen);
	}
	if (r < 0) {
		json_decref(*items);
		*items = NULL;
	}
	return r;
}
