/* report_order.c - rank a report's pairs and services by importance, and index the pairs. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_html.h"
#include "report_order.h"

const char *rp_verdict(const json_t *pair)
{
	const char *v = rp_str(pair, "verdict");

	if (v && (!strcmp(v, "imr") || !strcmp(v, "paradox") || !strcmp(v, "undecided") ||
		  !strcmp(v, "none")))
		return v;
	return rp_true(pair, "imr") ? "imr" : rp_true(pair, "paradox") ? "paradox" : "none";
}

static int same_pair(const json_t *a, const json_t *b)
{
	return json_is_object(b) &&
	       rp_matches(a, rp_str(b, "service"), rp_str(b, "throttler"), rp_str(b, "resource"));
}

enum rp_class rp_class_of(const json_t *pair, const json_t *mimr)
{
	const char *v = rp_verdict(pair);

	if (!strcmp(v, "imr") || rp_true(pair, "imr"))
		return same_pair(pair, mimr) ? RP_MIMR : RP_IMR;
	if (!strcmp(v, "undecided"))
		return RP_UNDECIDED;
	if (!strcmp(v, "paradox") || rp_true(pair, "paradox"))
		return RP_PARADOX;
	return RP_OTHER;
}

size_t rp_report_top(const json_t *report)
{
	const json_t *v = json_object_get(report, "report_top");

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return (size_t)json_integer_value(v);
	return 10;
}

struct ranked {
	const json_t *pair;
	enum rp_class class;
	double degradation;            /* -inf when absent, so it sorts last */
	size_t at;                     /* position in report.json: ties keep it */
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->class != y->class)
		return x->class < y->class ? -1 : 1;
	if (x->degradation != y->degradation)
		return x->degradation > y->degradation ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Names are any length: the key is built whole, never cut short. */
static char *key(char kind, const char *service, const char *name)
{
	char *k;

	return asprintf(&k, "%c\x1f%s\x1f%s", kind, service, name) < 0 ? NULL : k;
}

static const json_t *lookup(const json_t *index, char kind, const char *service, const char *name)
{
	char *k = key(kind, service, name);
	const json_t *v = k ? json_object_get(index, k) : NULL;

	free(k);
	return v;
}

/* The first entry of a key keeps it, as a search from the top would. */
static int index_add(json_t *index, char kind, const char *service, const char *name, size_t pos)
{
	char *k = key(kind, service, name);
	int err = 0;

	if (!k)
		return -ENOMEM;
	if (!json_object_get(index, k) && json_object_set_new(index, k, json_integer((json_int_t)pos)) < 0)
		err = -ENOMEM;
	free(k);
	return err;
}

static int add_service(struct rp_order *o, json_t *seen, const char *name)
{
	if (!name || json_object_get(seen, name))
		return 0;
	if (json_object_set_new(seen, name, json_true()) < 0)
		return -ENOMEM;
	o->services[o->nservices++] = name;
	return 0;
}

static int order_pairs(struct rp_order *o, const json_t *ranking, const json_t *mimr)
{
	struct ranked *r = calloc(json_array_size(ranking) + 1, sizeof(*r));
	size_t i, n = 0;
	int err = 0;

	if (!r)
		return -ENOMEM;
	for (i = 0; i < json_array_size(ranking); i++) {
		const json_t *p = json_array_get(ranking, i);
		if (!json_is_object(p))
			continue;
		r[n].pair = p;
		r[n].class = rp_class_of(p, mimr);
		if (!rp_num(p, "degradation", &r[n].degradation))
			r[n].degradation = -INFINITY;
		r[n].at = i;
		n++;
	}
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (i = 0; i < n && !err; i++) {
		const char *s = rp_str(r[i].pair, "service"), *t = rp_str(r[i].pair, "throttler");
		const char *res = rp_str(r[i].pair, "resource");

		o->pairs[o->npairs++] = r[i].pair;
		if (!s)
			continue;
		if (t)
			err = index_add(o->index, 't', s, t, i);
		if (res && !err)
			err = index_add(o->index, 'r', s, res, i);
		if (res && !t && !err)
			err = index_add(o->index, 'n', s, res, i);
	}
	free(r);
	return err;
}

int rp_order_init(struct rp_order *o, const json_t *report, const json_t *section)
{
	const json_t *ranking = json_object_get(section, "ranking");
	const json_t *mimr = json_object_get(section, "mimr");
	const json_t *list = json_object_get(report, "services");
	const json_t *ru = json_object_get(mimr, "runner_up");
	size_t i, top = rp_report_top(report), nr = json_array_size(ranking);
	json_t *seen = json_object(), *pos = json_object();
	int err = 0;

	memset(o, 0, sizeof(*o));
	o->index = json_object();
	o->pairs = calloc(nr + 1, sizeof(*o->pairs));
	o->pair_shown = calloc(nr + 1, 1);
	o->services = calloc(nr + json_array_size(list) + 1, sizeof(*o->services));
	o->shown = calloc(nr + json_array_size(list) + 1, 1);
	if (!o->index || !o->pairs || !o->pair_shown || !o->services || !o->shown || !seen || !pos)
		err = -ENOMEM;
	if (!err)
		err = order_pairs(o, ranking, mimr);
	for (i = 0; i < o->npairs && !err; i++)
		err = add_service(o, seen, rp_str(o->pairs[i], "service"));
	o->nmeasured = o->nservices;
	for (i = 0; i < json_array_size(list) && !err; i++)
		err = add_service(o, seen, rp_str(json_array_get(list, i), "name"));
	/* what to show: every service with something to say, the runner-up's,
	 * and the top N; they are the first ones but for the runner-up */
	for (i = 0; i < o->nservices && !err; i++)
		if (json_object_set_new(pos, o->services[i], json_integer((json_int_t)i)) < 0)
			err = -ENOMEM;
	for (i = 0; i < o->npairs && !err; i++)
		if (rp_class_of(o->pairs[i], mimr) != RP_OTHER || same_pair(o->pairs[i], ru))
			o->shown[json_integer_value(json_object_get(pos, rp_str(o->pairs[i], "service")))] = 1;
	for (i = 0; i < o->nservices && i < top; i++)
		o->shown[i] = 1;
	for (i = 0; i < o->nservices; i++)
		o->nshown += o->shown[i];
	for (i = 0; i < o->npairs && !err; i++)
		o->pair_shown[i] = rp_str(o->pairs[i], "service") &&
			o->shown[json_integer_value(json_object_get(pos, rp_str(o->pairs[i], "service")))];
	json_decref(seen);
	json_decref(pos);
	return err;
}

void rp_order_fini(struct rp_order *o)
{
	free(o->pairs);
	free(o->pair_shown);
	free(o->services);
	free(o->shown);
	json_decref(o->index);
	memset(o, 0, sizeof(*o));
}

static const json_t *at(const struct rp_order *o, const json_t *pos)
{
	return json_is_integer(pos) ? o->pairs[json_integer_value(pos)] : NULL;
}

const json_t *rp_order_find(const struct rp_order *o, const char *service, const char *throttler,
			    const char *resource)
{
	const json_t *r = NULL;

	if (!service)
		return NULL;
	if (throttler)
		r = at(o, lookup(o->index, 't', service, throttler));
	if (!r && resource)
		r = at(o, lookup(o->index, throttler ? 'n' : 'r', service, resource));
	return r;
}

size_t rp_order_rank(const struct rp_order *o, const char *service, const char *throttler)
{
	const json_t *pos;

	if (!service || !throttler)
		return o->npairs;
	pos = lookup(o->index, 't', service, throttler);
	return json_is_integer(pos) ? (size_t)json_integer_value(pos) : o->npairs;
}
