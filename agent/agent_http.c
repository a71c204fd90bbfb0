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
	case -EOPNOTSUPP: return MHD_HTTP_NOT_IMPLEMENTED;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static enum MHD_Result do_apply(struct tb_agent *a, struct MHD_Connection *c,
				const struct tb_agent_request *rq)
{
	static const char *const op_names[] = { "stress", "allocate", "prioritize" };
	struct tb_agent_throttle t;
	char why[1024] = "";
	int r = tb_agent_apply(a, rq, &t, why, sizeof(why));

	if (r < 0)
		return fail(c, status_of(r), why);
	return send_json(c, MHD_HTTP_CREATED, json_pack("{s:s, s:s, s:f, s:f, s:s}", "handle",
		t.handle, "saved", t.saved, "lease_seconds", rq->lease, op_names[rq->op], rq->value,
		"how", t.how));
}

static enum MHD_Result do_allocation(struct tb_agent *a, struct MHD_Connection *c,
				     const struct tb_agent_request *rq)
{
	char why[1024] = "";
	double amount = 0;
	int limited = 0;
	int r = tb_agent_allocation(a, rq, &amount, &limited, why, sizeof(why));

	if (r < 0)
		return fail(c, status_of(r), why);
	return send_json(c, MHD_HTTP_OK, json_pack("{s:f, s:b}", "amount", amount, "limited",
						   limited));
}

static enum MHD_Result do_check(struct tb_agent *a, struct MHD_Connection *c, const char *handle)
{
	char why[256] = "";
	int r = tb_agent_check(a, handle, why, sizeof(why));

	if (r == -ENOENT)
		return fail(c, MHD_HTTP_NOT_FOUND, "no throttle with that handle");
	if (r < 0)
		return fail(c, r == -EOPNOTSUPP ? MHD_HTTP_NOT_IMPLEMENTED
			    : MHD_HTTP_SERVICE_UNAVAILABLE, r == -EOPNOTSUPP
			    ? "the throttler cannot tell" : strerror(-r));
	return send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:b, s:s}", "handle", handle, "harmed",
						   r > 0, "why", why));
}

/* What a handle's own resources answer: POST renew, POST keep, GET check, DELETE. */
static enum MHD_Result by_handle(struct tb_agent *a, struct MHD_Connection *c, const char *handle,
				 const char *rest, const char *method, const struct request *rq)
{
	struct tb_agent_request req;
	char why[1024] = "";
	double left;
	int r;

	if (!strcmp(rest, "/renew") && !strcmp(method, "POST")) {
		r = tb_agent_request_parse(rq->body, rq->len, TB_AGENT_BODY_RENEW,
					   a->conf->max_lease, &req, why, sizeof(why));
		if (r == 0 && (r = tb_agent_renew(a, handle, req.lease, &left)) < 0)
			snprintf(why, sizeof(why), "no throttle with that handle (restored already?)");
		return r < 0 ? fail(c, status_of(r), why)
			     : send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:f}", "handle", handle,
								   "expires_in", left));
	}
	if (!strcmp(rest, "/keep") && !strcmp(method, "POST")) {
		r = tb_agent_keep(a, handle);
		return r == -ENOENT ? fail(c, MHD_HTTP_NOT_FOUND, "no throttle with that handle")
		       : r < 0 ? fail(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-r))
		       : send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "handle", handle, "kept", 1));
	}
	if (!strcmp(rest, "/check") && !strcmp(method, "GET"))
		return do_check(a, c, handle);
	if (!*rest && !strcmp(method, "DELETE")) {
		r = tb_agent_release(a, handle);
		return r == -ENOENT ? fail(c, MHD_HTTP_NOT_FOUND, "no throttle with that handle")
		       : r == -EBUSY ? fail(c, MHD_HTTP_CONFLICT, "a newer throttle or change holds the "
					    "same cgroup: release that first")
		       : r < 0 ? fail(c, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(-r))
		       : send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:b}", "handle", handle,
							     "restored", 1));
	}
	return fail(c, *rest && strcmp(rest, "/renew") && strcmp(rest, "/keep") &&
		    strcmp(rest, "/check") ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED,
		    "no such resource or method");
}

/* POST /v1/throttles and POST /v1/allocation: a body naming a target. */
static enum MHD_Result with_target(struct tb_agent *a, struct MHD_Connection *c,
				   enum tb_agent_body what, const struct request *rq)
{
	struct tb_agent_request req;
	char why[1024] = "";

	if (tb_agent_request_parse(rq->body, rq->len, what, a->conf->max_lease, &req, why,
				   sizeof(why)) < 0)
		return fail(c, MHD_HTTP_BAD_REQUEST, why);
	return what == TB_AGENT_BODY_CHANGE ? do_apply(a, c, &req) : do_allocation(a, c, &req);
}

static enum MHD_Result route(struct tb_agent *a, struct MHD_Connection *c, const char *url,
			     const char *method, const struct request *rq)
{
	const char *rest = !strncmp(url, PREFIX, strlen(PREFIX)) ? url + strlen(PREFIX) : NULL;
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	char handle[TB_AGENT_HANDLE_LEN + 1];

	if (!strcmp(url, "/v1/health"))
		return get ? send_json(c, MHD_HTTP_OK, json_pack("{s:s, s:s}", "status", "ok",
								 "version", PACKAGE_VERSION))
			   : fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only");
	if (!strcmp(url, "/v1/allocation"))
		return post ? with_target(a, c, TB_AGENT_BODY_ALLOCATION, rq)
			    : fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only");
	if (rest && !*rest && get)
		return send_json(c, MHD_HTTP_OK, json_pack("{s:o}", "throttles", tb_agent_list(a)));
	if (rest && !*rest)
		return post ? with_target(a, c, TB_AGENT_BODY_CHANGE, rq)
			    : fail(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or POST");
	if (!rest || *rest != '/' || !tb_agent_is_handle(rest + 1, strcspn(rest + 1, "/")))
		return fail(c, MHD_HTTP_NOT_FOUND, "no such resource");
	snprintf(handle, sizeof(handle), "%.*s", TB_AGENT_HANDLE_LEN, rest + 1);
	return by_handle(a, c, handle, rest + 1 + TB_AGENT_HANDLE_LEN, method, rq);
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
