/* remote.c - a throttle on another node: the record that names it, and the requests (libcurl) that apply, renew and release it at that node's agent. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "http_body.h"
#include "instance.h"
#include "log.h"
#include "progress.h"
#include "remote.h"
#include "remote_conn.h"

#define HANDLE_LEN 32
#define TIMEOUT_MS 10000L
#define TOKEN_MAX 4096

/* A record, read back and checked. */
struct endpoint {
	const char *url, *handle, *token_file, *token_sha256, *ca, *cert, *key;
	double lease;
	json_t *json;
};

static int is_hex(const char *s, size_t len)
{
	return s && strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

static int plain_path(const char *p)
{
	return !p || (p[0] == '/' && strlen(p) < 4096 && !strpbrk(p, "\n\r"));
}

static int read_token(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, out, size - 1) : -1;
	close(fd);
	if (n <= 0)
		return -EINVAL;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return strpbrk(out, "\r\n") ? -EINVAL : 0;
}

/* SHA-256 of the token, in hex.  A record names the token's file; restore
 * reads the record from disk, and sends the token only if the file still
 * holds the one the record was made with: a record forged to point at
 * another file (and another url) gets nothing of that file out. */
static int fingerprint(const char *token, char out[65])
{
	unsigned char d[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), d) < 0)
		return -EIO;
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}

int tb_remote_record(const struct tb_agent_ref *ag, char *saved, size_t size)
{
	unsigned char raw[HANDLE_LEN / 2];
	char handle[HANDLE_LEN + 1], token[TOKEN_MAX], sum[65] = "";
	json_t *j;
	char *text;
	int r = 0;

	if (ag->token_file) {
		r = read_token(ag->token_file, token, sizeof(token));
		if (r == 0)
			r = fingerprint(token, sum);
		explicit_bzero(token, sizeof(token));
		if (r < 0)
			return r;
	}

	/* Random: a handle from a run before must never name this throttle. */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(handle + 2 * i, 3, "%02x", raw[i]);
	j = json_pack("{s:s, s:s, s:s, s:f, s:s*, s:s*, s:s*, s:s*, s:s*}", "node", ag->node, "url",
		      ag->url, "handle", handle, "lease", ag->lease, "token_file", ag->token_file,
		      "token_sha256", ag->token_file ? sum : NULL, "ca", ag->ca, "cert", ag->cert,
		      "key", ag->key);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		r = -ENOMEM;
	else if (strlen(text) >= size)
		r = -ENAMETOOLONG;
	else
		strcpy(saved, text);
	free(text);
	json_decref(j);
	return r;
}

/* The record may come from a journal on disk: every field is checked. */
static int parse_record(const char *saved, struct endpoint *ep)
{
	json_t *l;

	memset(ep, 0, sizeof(*ep));
	ep->json = json_loads(saved, JSON_REJECT_DUPLICATES, NULL);
	if (!ep->json)
		return -EINVAL;
	ep->url = json_string_value(json_object_get(ep->json, "url"));
	ep->handle = json_string_value(json_object_get(ep->json, "handle"));
	ep->token_file = json_string_value(json_object_get(ep->json, "token_file"));
	ep->token_sha256 = json_string_value(json_object_get(ep->json, "token_sha256"));
	ep->ca = json_string_value(json_object_get(ep->json, "ca"));
	ep->cert = json_string_value(json_object_get(ep->json, "cert"));
	ep->key = json_string_value(json_object_get(ep->json, "key"));
	l = json_object_get(ep->json, "lease");
	ep->lease = json_number_value(l);
	if (!ep->url || strncmp(ep->url, "https://", 8) || strlen(ep->url) > 200 ||
	    strpbrk(ep->url, " \t\r\n?#") || !is_hex(ep->handle, HANDLE_LEN) ||
	    (ep->token_file && !is_hex(ep->token_sha256, 64)) ||
	    !(ep->lease >= 3 && ep->lease <= 86400) || !plain_path(ep->token_file) ||
	    !plain_path(ep->ca) || !plain_path(ep->cert) || !plain_path(ep->key) ||
	    !ep->cert != !ep->key) {
		json_decref(ep->json);
		ep->json = NULL;
		return -EINVAL;
	}
	return 0;
}

/* The connection outlives the request: no process the run starts (a service,
 * a workload) may inherit it. */
static curl_socket_t cloexec_socket(void *unused, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)unused;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* One request; *answer is the JSON answer (NULL if none).  The status, or -errno. */
static long request(const struct endpoint *ep, const char *method, const char *path,
		    json_t *body, json_t **answer, char *err, size_t errlen)
{
	char url[512], auth[TOKEN_MAX + 32] = "", token[TOKEN_MAX], detail[CURL_ERROR_SIZE] = "";
	struct tb_http_body b = { 0 };
	struct curl_slist *hdr = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct tb_conn *slot;
	CURL *c = tb_conn_take(ep->url, &slot);
	long status = -EIO;
	CURLcode cr;

	*answer = NULL;
	if (!c || (body && !text)) {
		free(text);
		if (c)
			tb_conn_give(c, slot);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "%s%s", ep->url, path);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (ep->token_file) {
		char sum[65] = "";
		int r = read_token(ep->token_file, token, sizeof(token));

		if (r == 0 && (r = fingerprint(token, sum)) == 0 && strcmp(sum, ep->token_sha256))
			r = -EKEYREJECTED;
		if (r < 0) {
			explicit_bzero(token, sizeof(token));
			snprintf(err, errlen, "%s: %s", ep->token_file, r == -EKEYREJECTED
				 ? "refused: it no longer holds the token this throttle was applied with"
				 : strerror(-r));
			status = r;
			goto out;
		}
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdr = curl_slist_append(hdr, auth);
		explicit_bzero(token, sizeof(token));
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, text ? text : "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (ep->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ep->ca);
	if (ep->cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, ep->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, ep->key);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tb_http_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "throttlebot");
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, cloexec_socket);
	cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", ep->url, detail[0] ? detail : curl_easy_strerror(cr));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	*answer = b.data ? json_loads(b.data, 0, NULL) : NULL;
	if (status >= 300)
		snprintf(err, errlen, "%s answered %ld: %s", ep->url, status,
			 json_string_value(json_object_get(*answer, "error")) ?: "(no reason given)");
out:
	if (auth[0])
		explicit_bzero(auth, sizeof(auth));
	tb_conn_give(c, slot);
	curl_slist_free_all(hdr);
	free(b.data);
	free(text);
	return status;
}

/* The orchestrators that name containers (docker, quilt, kubernetes) end
 * their key with the container's id: the agent finds it by that. */
static const char *container_of(const char *key)
{
	const char *last = key ? strrchr(key, '/') : NULL;

	last = last ? last + 1 : key;
	return last && is_hex(last, 64) ? last : NULL;
}

long tb_remote_post_target(const char *saved, const struct tb_target *t, const char *path,
			   json_t *body, json_t **answer, char *err, size_t errlen)
{
	struct endpoint ep;
	long st;
	const char *container = container_of(t->key);

	*answer = NULL;
	if (parse_record(saved, &ep) < 0) {
		snprintf(err, errlen, "refused: not a record of a throttle at an agent");
		return -EINVAL;
	}
	if (!container && t->pid <= 0) {
		snprintf(err, errlen, "%s: no pid nor container id to name it to the agent", t->id);
		json_decref(ep.json);
		return -EINVAL;
	}
	json_object_set_new(body, "target", container
		? json_pack("{s:s, s:s}", "kind", "container", "id", container)
		: json_pack("{s:s, s:I}", "kind", "pid", "id", (json_int_t)t->pid));
	json_object_set_new(body, "lease_seconds", json_real(ep.lease));
	json_object_set_new(body, "handle", json_string(ep.handle));
	st = request(&ep, "POST", path, body, answer, err, errlen);
	json_decref(ep.json);
	return st;
}

int tb_remote_errno(long status)
{
	return status >= 200 && status < 300 ? 0 : status < 0 ? (int)status
	       : status == 400 ? -EINVAL : status == 404 ? -ESRCH
	       : status == 401 || status == 403 ? -EACCES : status == 501 ? -EOPNOTSUPP : -EIO;
}

int tb_remote_apply(const char *saved, const struct tb_target *t, const char *throttler,
		    double stress, char *err, size_t errlen)
{
	json_t *body = json_pack("{s:s, s:f}", "throttler", throttler, "stress", stress), *answer;
	long st = body ? tb_remote_post_target(saved, t, "/v1/throttles", body, &answer, err, errlen)
		       : -ENOMEM;

	json_decref(body);
	json_decref(answer);
	return tb_remote_errno(st);
}

/* The answer's status, or -errno (-EIO: no answer); *lease (if asked) the record's lease. */
static long handle_request(const char *saved, const char *method, const char *suffix,
			   json_t **answer, char *err, size_t errlen, double *lease)
{
	struct endpoint ep;
	char path[128];
	long st;

	*answer = NULL;
	if (parse_record(saved, &ep) < 0) {
		snprintf(err, errlen, "refused: not a record of a throttle at an agent");
		return -EINVAL;
	}
	if (lease)
		*lease = ep.lease;
	snprintf(path, sizeof(path), "/v1/throttles/%s%s", ep.handle, suffix);
	st = request(&ep, method, path, NULL, answer, err, errlen);
	json_decref(ep.json);
	return st;
}

long tb_remote_by_handle(const char *saved, const char *method, const char *suffix,
			 json_t **answer, char *err, size_t errlen)
{
	return handle_request(saved, method, suffix, answer, err, errlen, NULL);
}

static long by_handle(const char *saved, const char *method, const char *suffix, char *err,
		      size_t errlen, double *lease)
{
	json_t *answer;
	long st = handle_request(saved, method, suffix, &answer, err, errlen, lease);

	json_decref(answer);
	return st;
}

int tb_remote_renew(const char *saved)
{
	char err[1024] = "";
	long st = by_handle(saved, "POST", "/renew", err, sizeof(err), NULL);

	if (st == 200)
		return 0;
	if (st != 404)
		tb_warn("renewing a lease: %s", err);
	return st == 404 ? -ENOENT : -EIO;
}

int tb_remote_release(const char *saved, int patient)
{
	const struct timespec pause = { 0, 200 * 1000 * 1000L };
	char err[1024] = "";
	double lease = 0, until = 0;
	long st;

	/* An agent that does not answer may be restarting: it undoes what it
	 * held as it starts, and answers 404 then; past the lease, either it
	 * lifted the throttle or it is down and its journal keeps it. */
	for (int tries = 0;; tries++) {
		st = by_handle(saved, "DELETE", "", err, sizeof(err), &lease);
		if (st != -EIO || !patient || tb_cancelled)
			break;
		if (tries == 0) {
			until = tb_now() + lease;
			tb_warn("restoring at the agent: %s: trying again for up to %.0f s (the lease)",
				err, lease);
		}
		if (tb_now() >= until)
			break;
		nanosleep(&pause, NULL);
	}

	if (st == 200)
		return 0;
	if (st == 404)     /* never applied, or the agent restored it itself */
		return -ENOENT;
	tb_error("restoring at the agent: %s", err);
	return st == -EINVAL ? -EINVAL : -EIO;
}
