/* agent_http.c - the agent's HTTPS API (libmicrohttpd + GnuTLS): routes, JSON in and out, on one server thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "log.h"
#include "stress.h"

#define BODY_MAX (64 * 1024)
#define PREFIX "/v1/throttles"

struct request {
	char *body;
	size_t len;
	int too_big;
	unsigned refused;          /* the status authentication answered, or 0 */
};

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct MHD_Response *resp;
	enum MHD_Result r;

	json_decref(j);
	if (!text)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result fail(struct MHD_Connection *c, unsigned status, const char *why)
{
	return send_json(c, status, json_pack("{s:s}", "error", why));
}

/* -errno of the table to a status: the client's mistake, or ours. */
static unsigned status_of(int r)
{
	switch (r) {
	case -EINVAL: return MHD_HTTP_BAD_REQUEST;
	case -ENOENT: case -ESRCH: return MHD_HTTP_NOT_FOUND;
	case -EBUSY: return MHD_HTTP_CONFLICT;
	case -ENOSPC: return MHD_HTTP_SERVICE_UNAVAILABLE;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

/* The body as a JSON object, or NULL with why set; an empty body is {}. */
static json_t *body_object(const struct request *rq, char *why, size_t whylen)
{
	json_error_t err;
	json_t *j;

	if (rq->len == 0)
		return json_object();
	j = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		snprintf(why, whylen, "body: %s (at byte %d)", err.text, err.position);
	else if (!json_is_object(j)) {
		snprintf(why, whylen, "body: not a JSON object");
		json_decref(j);
		j = NULL;
	}
	return j;
}

static int lease_of(const struct tb_agent *a, json_t *body, int required, double *lease,
		    char *why, size_t whylen)
{
	json_t *l = json_object_get(body, "lease_seconds");

	*lease = 0;
	if (!l && !required)
		return 0;
	if (!json_is_number(l) || !(json_number_value(l) > 0) ||
	    json_number_value(l) > a->conf->max_lease) {
		snprintf(why, whylen, "lease_seconds: a number of seconds above 0, at most %g",
			 a->conf->max_lease);
		return -EINVAL;
	}
	*lease = json_number_value(l);
	return 0;
}

static int is_handle(const char *s, size_t len)
{
	return len == TB_AGENT_HANDLE_LEN && strspn(s, "0123456789abcdef") >= len;
}

static enum MHD_Result do_apply(struct tb_agent *a, struct MHD_Connection *c, json_t *body)
{
	json_t *target = json_object_get(body, "target"), *id;
	const char *kind = NULL, *throttler = NULL;
	char why[1024] = "", idtext[32];
	double stress, lease;
	struct tb_agent_throttle t = { .handle = "" };
	json_t *handle = json_object_get(body, "handle");
	int r;

	if (handle && (!json_is_string(handle) ||
		       !is_handle(json_string_value(handle), strlen(json_string_value(handle)))))
		return fail(c, MHD_HTTP_BAD_REQUEST, "handle: 32 lowercase hex digits");
	if (handle)
		snprintf(t.handle, sizeof(t.handle), "%s", json_string_value(handle));
	id = json_object_get(target, "id");
	kind = json_string_value(json_object_get(target, "kind"));
	throttler = json_string_value(json_object_get(body, "throttler"));
	stress = json_number_value(json_object_get(body, "stress"));
	if (json_is_integer(id)) {
		snprintf(idtext, sizeof(idtext), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
		json_object_set_new(target, "id", json_string(idtext));
	}
	if (!kind || !json_string_value(json_object_get(target, "id")) || !throttler)
		return fail(c, MHD_HTTP_BAD_REQUEST, "needs target {kind, id}, throttler, stress, "
			    "lease_seconds");
	if (!json_is_number(json_object_get(body, "stress")) || !tb_stress_valid(stress))
		return fail(c, MHD_HTTP_BAD_REQUEST, "stress: from 0 up to, not including, 1");
	if (lease_of(a, body, 1, &lease, why, sizeof(why)) < 0)
		return fail(c, MHD_HTTP_BAD_REQUEST, why);
	r = tb_agent_apply(a, kind, json_string_value(json_object_get(target, "id")), throttler,
			   stress, lease, &t, why, sizeof(why));
	if (r < 0)
		return fail(c, status_of(r), why);
	return send_json(c, MHD_HTTP_CREATED, json_pack("{s:s, s:s, s:f}", "handle", t.handle,
							"saved", t.saved, "lease_seconds", lease));
}

static enum MHD_Result route(struct tb_agent *a, struct MHD_Connection *c, const char *url,
			     const char *method, const struct request *rq)
{
	const char *rest = !strncmp(url, PREFIX, strlen(PREFIX)) ? url + strlen(PREFIX) : NULL;
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	char why[1024] = "", handle[TB_AGENT_HANDLE_LEN + 1];
	enum MHD_Result res;
	double lease, left;
	json_t *body;
	int r;

	if (!strcmp(url, "/v1/health"))
		return get ? send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:s}", "status", "ok",
								 "version", PACKAGE_VERSION))
			   : fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
	if (rest && !*rest && get)
		return send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "throttles", tb_agent_list(a)));
	if (rest && !*rest && !post)
		return fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST");
	if (!rest || (*rest && (*rest != '/' || !is_handle(rest + 1, strcspn(rest + 1, "/")))))
		return fail(c, MHD_HTTP_NOT_FOUND, "no such resource");
	if (*rest) {
		snprintf(handle, sizeof(handle), "%.*s", TB_AGENT_HANDLE_LEN, rest + 1);
		rest += 1 + TB_AGENT_HANDLE_LEN;
	}
	body = body_object(rq, why, sizeof(why));
	if (!body)
		return fail(c, MHD_HTTP_BAD_REQUEST, why);
	if (url + strlen(PREFIX) == rest && post) {
		res = do_apply(a, c, body);
	} else if (!strcmp(rest, "/renew") && post) {
		r = lease_of(a, body, 0, &lease, why, sizeof(why));
		if (r == 0 && (r = tb_agent_renew(a, handle, lease, &left)) < 0)
			snprintf(why, sizeof(why), "no throttle with that handle (restored already?)");
		res = r < 0 ? fail(c, status_of(r), why)
			    : send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:f}", "handle", handle,
								  "expires_in", left));
	} else if (!*rest && !strcmp(method, "DELETE")) {
		r = tb_agent_release(a, handle);
		res = r == -ENOENT ? fail(c, MHD_HTTP_NOT_FOUND, "no throttle with that handle")
		      : r < 0 ? fail(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-r))
		      : send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "handle", handle,
							    "restored", 1));
	} else {
		res = fail(c, *rest && strcmp(rest, "/renew") ? MHD_HTTP_NOT_FOUND
			   : MHD_HTTP_METHOD_NOT_ALLOWED, "no such resource or method");
	}
	json_decref(body);
	return res;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct tb_agent *a = cls;
	struct request *rq = *con_cls;

	if (!rq) {
		/* Authentication before anything of the request is read. */
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		rq->refused = tb_agent_auth_check(a, c);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->refused && !rq->too_big && rq->len + *upload_size <= BODY_MAX) {
			char *grown = realloc(rq->body, rq->len + *upload_size);

			if (!grown)
				return MHD_NO;
			rq->body = grown;
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
		} else {
			rq->too_big = !rq->refused;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->refused)
		return fail(c, rq->refused, rq->refused == MHD_HTTP_FORBIDDEN
			    ? "a client certificate signed by the agent's client_ca is required"
			    : "a valid bearer token is required");
	if (rq->too_big)
		return fail(c, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	return route(a, c, url, method, rq);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode why)
{
	struct request *rq = *con_cls;

	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* "address:port" or "[v6 address]:port", numeric only: no name lookup. */
static int parse_listen(const char *listen, struct addrinfo **ai)
{
	const struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
					.ai_socktype = SOCK_STREAM };
	char host[128];
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : 0;

	if (!colon || n == 0 || n >= sizeof(host) || !colon[1])
		return -EINVAL;
	if (listen[0] == '[' && listen[n - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)n - 2, listen + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)n, listen);
	return getaddrinfo(host, colon + 1, &hints, ai) == 0 ? 0 : -EINVAL;
}

int tb_agent_http_start(struct tb_agent *a, struct MHD_Daemon **out)
{
	struct MHD_OptionItem opts[9];
	struct addrinfo *ai;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG;
	size_t n = 0;

	if (parse_listen(a->conf->listen, &ai) < 0) {
		tb_error("%s: listen = \"%s\": want a numeric address and port, such as "
			 "\"127.0.0.1:7443\" or \"[::1]:7443\"", a->conf->path, a->conf->listen);
		return -EINVAL;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, ai->ai_addr };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, a->key_pem };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, a->cert_pem };
	/* With a trust store, the handshake asks every client for its certificate. */
	if (a->ca_pem)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, a->ca_pem };
	/* TLS 1.2 and 1.3 only. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
		(void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, 64, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	*out = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a, MHD_OPTION_ARRAY, opts,
				MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!*out) {
		tb_error("cannot serve HTTPS on %s (address in use, or a bad certificate or key?)",
			 a->conf->listen);
		return -EADDRNOTAVAIL;
	}
	tb_info("listening on https://%s%s%s", a->conf->listen, a->have_token ? ", token" : "",
		a->ca_pem ? ", client certificates" : "");
	return 0;
}
