/* remote_alloc.c - allocations, priorities and harm checks of targets on other nodes, asked of their agents (boost, improve, clampdown, a trial's check). */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "remote.h"

int tb_remote_allocation(const char *saved, const struct tb_target *t, const char *throttler,
			 double *amount, char *err, size_t errlen)
{
	json_t *body = json_pack("{s:s}", "throttler", throttler), *answer = NULL;
	long st = body ? tb_remote_post_target(saved, t, "/v1/allocation", body, &answer, err,
					       errlen) : -ENOMEM;
	json_t *a = json_object_get(answer, "amount");
	int r = tb_remote_errno(st);

	/* The answer is checked like any other outside data. */
	if (r == 0 && (!json_is_number(a) || !isfinite(json_number_value(a)) ||
		       json_number_value(a) < 0 || !json_is_boolean(json_object_get(answer, "limited")))) {
		snprintf(err, errlen, "%s: the agent's answer has no amount", t->id);
		r = -EPROTO;
	}
	if (r == 0) {
		*amount = json_number_value(a);
		r = json_is_true(json_object_get(answer, "limited")) ? 0 : -ENODATA;
	}
	json_decref(body);
	json_decref(answer);
	return r;
}

int tb_remote_change(const char *saved, const struct tb_target *t, const char *throttler,
		     const char *op, double value, char *how, size_t howlen, char *err,
		     size_t errlen)
{
	json_t *body = json_pack("{s:s, s:f}", "throttler", throttler, op, value), *answer = NULL;
	long st = body ? tb_remote_post_target(saved, t, "/v1/throttles", body, &answer, err,
					       errlen) : -ENOMEM;
	const char *h = json_string_value(json_object_get(answer, "how"));

	if (st == 201 && h && how)
		snprintf(how, howlen, "%.*s", (int)strcspn(h, "\r\n"), h);
	json_decref(body);
	json_decref(answer);
	return tb_remote_errno(st);
}

int tb_remote_check(const char *saved, char *why, size_t whylen)
{
	char err[1024] = "";
	json_t *answer;
	long st = tb_remote_by_handle(saved, "GET", "/check", &answer, err, sizeof(err));
	json_t *harmed = json_object_get(answer, "harmed");
	const char *w = json_string_value(json_object_get(answer, "why"));
	int r = st == 404 ? -ENOENT : tb_remote_errno(st);

	if (r == 0 && !json_is_boolean(harmed))
		r = -EPROTO;
	if (r == 0 && json_is_true(harmed)) {
		snprintf(why, whylen, "%.*s", (int)strcspn(w ? w : "", "\r\n"), w ? w : "");
		r = 1;
	}
	if (r < 0 && r != -EOPNOTSUPP && r != -ENOENT)
		tb_warn("asking an agent for harm: %s", err[0] ? err : strerror(-r));
	json_decref(answer);
	return r;
}

int tb_remote_keep(const char *saved)
{
	char err[1024] = "";
	json_t *answer;
	long st = tb_remote_by_handle(saved, "POST", "/keep", &answer, err, sizeof(err));

	json_decref(answer);
	if (st == 200)
		return 0;
	tb_error("keeping a change at the agent: %s", err);
	return st == 404 ? -ENOENT : tb_remote_errno(st);
}
