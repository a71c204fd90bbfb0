/* agent_request.c - a request body as the agent takes it (jansson): every field checked into a plain struct, no I/O. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "agent_request.h"
#include "stress.h"

int tb_agent_is_handle(const char *s, size_t len)
{
	return len == TB_AGENT_HANDLE_LEN && strspn(s, "0123456789abcdef") >= len;
}

static int refuse(char *why, size_t whylen, const char *text)
{
	snprintf(why, whylen, "%s", text);
	return -EINVAL;
}

/* A name or id is copied only when it fits and is printable ASCII: it ends
 * up in logs and the journal, where a newline would forge a line. */
static int take_text(json_t *v, char *out, size_t size)
{
	const char *s = json_string_value(v);
	size_t n = s ? json_string_length(v) : 0;

	if (!s || n == 0 || n >= size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return -EINVAL;
	memcpy(out, s, n + 1);
	return 0;
}

static int parse_target(json_t *body, struct tb_agent_request *out, char *why, size_t whylen)
{
	json_t *target = json_object_get(body, "target"), *id = json_object_get(target, "id");

	if (!json_is_object(target) || take_text(json_object_get(target, "kind"), out->kind,
						  sizeof(out->kind)) < 0)
		return refuse(why, whylen, "target: {\"kind\": \"pid\" or \"container\", \"id\": ...}");
	/* A pid may come as a number; it is then taken as its decimal text. */
	if (json_is_integer(id))
		snprintf(out->id, sizeof(out->id), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	else if (take_text(id, out->id, sizeof(out->id)) < 0)
		return refuse(why, whylen, "target.id: a pid or a container id, printable, at most "
			      "80 characters");
	if (take_text(json_object_get(body, "throttler"), out->throttler, sizeof(out->throttler)) < 0)
		return refuse(why, whylen, "throttler: the name of one of the agent's throttlers");
	return 0;
}

static int parse_lease(json_t *body, int required, double max_lease, struct tb_agent_request *out,
		       char *why, size_t whylen)
{
	json_t *l = json_object_get(body, "lease_seconds");

	if (!l && !required)
		return 0;
	if (!json_is_number(l) || !(json_number_value(l) > 0) || json_number_value(l) > max_lease) {
		snprintf(why, whylen, "lease_seconds: a number of seconds above 0, at most %g",
			 max_lease);
		return -EINVAL;
	}
	out->lease = json_number_value(l);
	return 0;
}

/* Exactly one of stress, allocate and prioritize, each in its range. */
static int parse_op(json_t *body, struct tb_agent_request *out, char *why, size_t whylen)
{
	static const char *const names[] = { "stress", "allocate", "prioritize" };
	int found = -1;
	double v;

	for (int i = 0; i < 3; i++) {
		if (!json_object_get(body, names[i]))
			continue;
		if (found >= 0)
			return refuse(why, whylen, "one of stress, allocate and prioritize, not two");
		found = i;
	}
	if (found < 0)
		return refuse(why, whylen, "needs target {kind, id}, throttler, stress (or allocate, "
			      "or prioritize), lease_seconds");
	if (!json_is_number(json_object_get(body, names[found])))
		return refuse(why, whylen, "stress, allocate, prioritize: a number");
	v = json_number_value(json_object_get(body, names[found]));
	out->op = (enum tb_agent_op)found;
	out->value = v;
	if (out->op == TB_AGENT_STRESS && !tb_stress_valid(v))
		return refuse(why, whylen, "stress: from 0 up to, not including, 1");
	if (out->op == TB_AGENT_ALLOCATE && !(v > 0 && isfinite(v)))
		return refuse(why, whylen, "allocate: an amount above 0, in the throttler's unit");
	if (out->op == TB_AGENT_PRIORITIZE && !(v > 1 && isfinite(v)))
		return refuse(why, whylen, "prioritize: a factor above 1");
	return 0;
}

static int parse_handle(json_t *body, struct tb_agent_request *out, char *why, size_t whylen)
{
	json_t *h = json_object_get(body, "handle");

	if (!h)
		return 0;
	if (!json_is_string(h) || !tb_agent_is_handle(json_string_value(h), json_string_length(h)))
		return refuse(why, whylen, "handle: 32 lowercase hex digits");
	memcpy(out->handle, json_string_value(h), TB_AGENT_HANDLE_LEN + 1);
	return 0;
}

static json_t *load(const char *body, size_t len, char *why, size_t whylen)
{
	json_error_t err;
	json_t *j;

	if (len == 0)
		return json_object();
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		snprintf(why, whylen, "body: %s (at byte %d)", err.text, err.position);
	else if (!json_is_object(j)) {
		snprintf(why, whylen, "body: not a JSON object");
		json_decref(j);
		j = NULL;
	}
	return j;
}

int tb_agent_request_parse(const char *body, size_t len, enum tb_agent_body what,
			   double max_lease, struct tb_agent_request *out, char *why, size_t whylen)
{
	json_t *j = load(body, len, why, whylen);
	int r;

	memset(out, 0, sizeof(*out));
	if (!j)
		return -EINVAL;
	if (what == TB_AGENT_BODY_RENEW) {
		r = parse_lease(j, 0, max_lease, out, why, whylen);
	} else {
		r = parse_target(j, out, why, whylen);
		if (r == 0 && what == TB_AGENT_BODY_CHANGE)
			r = parse_op(j, out, why, whylen);
		if (r == 0 && what == TB_AGENT_BODY_CHANGE)
			r = parse_lease(j, 1, max_lease, out, why, whylen);
		if (r == 0 && what == TB_AGENT_BODY_CHANGE)
			r = parse_handle(j, out, why, whylen);
	}
	json_decref(j);
	return r;
}
