/* docker_api.c - a small Docker Engine API client: GET and POST requests with libcurl, JSON with jansson. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include "docker_api.h"
#include "http_body.h"

/* Answers bigger than this are not an API we know (a list of thousands of
 * containers is a few MiB). */

struct dk_client {
	struct dk_endpoint ep;
	int tls, verify;
	char *ca, *cert, *key;   /* PEM files, or NULL */
	long timeout_ms;
	char prefix[32];       /* "/v1.41", "" before dk_connect() */
	CURL *curl;
};

static int dup_opt(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

int dk_client_new(const struct dk_endpoint *ep, const struct dk_tls *tls, double timeout,
		  struct dk_client **out)
{
	struct dk_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->ep = *ep;
	c->timeout_ms = timeout > 0 ? (long)(timeout * 1000.0) : 10000;
	if (tls && !ep->socket[0] && strncmp(ep->base, "http://", 7) == 0) {
		c->tls = 1;
		c->verify = tls->verify;
		snprintf(c->ep.base, sizeof(c->ep.base), "https://%s", ep->base + 7);
		if (dup_opt(tls->ca, &c->ca) < 0 || dup_opt(tls->cert, &c->cert) < 0 ||
		    dup_opt(tls->key, &c->key) < 0) {
			dk_client_free(c);
			return -ENOMEM;
		}
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		dk_client_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void dk_client_free(struct dk_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c);
}

const char *dk_client_display(const struct dk_client *c)
{
	return c->ep.display;
}

char *dk_escape(struct dk_client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *copy = e ? strdup(e) : NULL;

	curl_free(e);
	return copy;
}

/* Failures of the TLS handshake: certificates, names, alerts.  A server
 * that wants a client certificate and gets none (or one it does not trust)
 * drops the connection once the handshake is over under TLS 1.3: the
 * request cannot be sent, or an alert arrives in place of the answer. */
static int tls_failure(CURLcode code, const char *detail, const char **hint)
{
	*hint = "";
	switch (code) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		*hint = " (the daemon dropped the connection after the handshake: did it refuse "
			"our client certificate, or was none set?)";
		return code == CURLE_SEND_ERROR || strstr(detail, "alert") != NULL;
	default:
		return 0;
	}
}

static int unreachable(struct dk_client *c, CURLcode code, const char *detail, char *err,
		       size_t errlen)
{
	const char *why = *detail ? detail : curl_easy_strerror(code), *hint;

	if (c->tls && tls_failure(code, detail, &hint)) {
		snprintf(err, errlen, "TLS with the Docker daemon at %s failed, nothing asked of it: "
			 "%s%s", c->ep.display, why, hint);
		return -EKEYREJECTED;
	}
	/* curl names "localhost port 80" for a unix socket; the socket's own
	 * state says more. */
	if (c->ep.socket[0] && access(c->ep.socket, R_OK | W_OK) < 0)
		why = strerror(errno);
	snprintf(err, errlen, "cannot reach the Docker daemon at %s: %s", c->ep.display, why);
	if (code == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	return -ECONNREFUSED;
}

static int http_error(struct dk_client *c, const char *method, const char *path, long status,
		      const struct tb_http_body *b, char *err, size_t errlen)
{
	json_t *j = b->data ? json_loads(b->data, 0, NULL) : NULL;
	const char *msg = dk_error_message(j);

	snprintf(err, errlen, "Docker API %s %s%s at %s: HTTP %ld: %s", method, c->prefix, path,
		 c->ep.display, status, msg ? msg : (b->data && *b->data ? b->data : "no message"));
	json_decref(j);
	if (status == 404)
		return -ENOENT;
	if (status == 401 || status == 403)
		return -EACCES;
	return -EIO;
}

static void tls_options(struct dk_client *c)
{
	curl_easy_setopt(c->curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
	if (c->ca)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca);
	if (c->cert)
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT, c->cert);
	if (c->key)
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY, c->key);
	/* A full handshake per request (a few per run): the daemon's certificate
	 * is checked each time, and servers that cannot resume are served too. */
	curl_easy_setopt(c->curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
}

/* method (GET, or POST with body, a JSON text, or none) path; out NULL: the answer is not read as JSON. */
static int request(struct dk_client *c, const char *method, const char *path, const char *body,
		   long timeout_ms, json_t **out, char *err, size_t errlen)
{
	char url[4096], detail[CURL_ERROR_SIZE] = "";
	struct tb_http_body b = { 0 };
	struct curl_slist *headers = NULL;
	json_error_t jerr;
	CURLcode code;
	long status = 0;
	int n, r = 0;

	if (out)
		*out = NULL;
	n = snprintf(url, sizeof(url), "%s%s%s", c->ep.base, c->prefix, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		snprintf(err, errlen, "Docker API path too long: %s", path);
		return -ENAMETOOLONG;
	}
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	if (c->ep.socket[0])
		curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->ep.socket);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
	}
	if (body) {
		headers = curl_slist_append(NULL, "Content-Type: application/json");
		if (!headers) {
			snprintf(err, errlen, "Docker API %s %s: out of memory", method, path);
			return -ENOMEM;
		}
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	}
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, tb_http_body_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "throttlebot");
	if (c->tls)
		tls_options(c);
	code = curl_easy_perform(c->curl);
	if (code != CURLE_OK) {
		if (code == CURLE_WRITE_ERROR) {
			snprintf(err, errlen, "Docker API %s %s%s: answer too large or out of memory",
				 method, c->prefix, path);
			r = -ENOMEM;
		} else {
			r = unreachable(c, code, detail, err, errlen);
		}
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300) {
		r = http_error(c, method, path, status, &b, err, errlen);
		goto out;
	}
	if (out && !(*out = json_loadb(b.data ? b.data : "", b.len, 0, &jerr))) {
		snprintf(err, errlen, "Docker API %s %s%s: bad JSON at line %d: %s", method, c->prefix,
			 path, jerr.line, jerr.text);
		r = -EPROTO;
	}
out:
	curl_slist_free_all(headers);
	free(b.data);
	return r;
}

int dk_get(struct dk_client *c, const char *path, json_t **out, char *err, size_t errlen)
{
	return request(c, "GET", path, NULL, c->timeout_ms, out, err, errlen);
}

int dk_post(struct dk_client *c, const char *path, double timeout, char *err, size_t errlen)
{
	return request(c, "POST", path, NULL, (long)(timeout * 1000.0) + c->timeout_ms, NULL, err,
		       errlen);
}

int dk_post_json(struct dk_client *c, const char *path, const json_t *body, json_t **out,
		 char *err, size_t errlen)
{
	char *text = json_dumps(body, JSON_COMPACT);
	int r;

	if (!text) {
		snprintf(err, errlen, "Docker API POST %s: out of memory", path);
		return -ENOMEM;
	}
	r = request(c, "POST", path, text, c->timeout_ms, out, err, errlen);
	free(text);
	return r;
}

int dk_client_url(const struct dk_client *c, char *out, size_t size)
{
	int n = c->ep.socket[0] ? snprintf(out, size, "unix://%s", c->ep.socket)
				: snprintf(out, size, "%s", c->ep.base);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int dk_connect(struct dk_client *c, char *err, size_t errlen)
{
	json_t *version;
	int major, minor, r;

	c->prefix[0] = '\0';
	r = dk_get(c, "/version", &version, err, errlen);
	if (r < 0)
		return r;
	r = dk_negotiate(version, &major, &minor, err, errlen);
	json_decref(version);
	if (r < 0)
		return r;
	snprintf(c->prefix, sizeof(c->prefix), "/v%d.%d", major, minor);
	return 0;
}
