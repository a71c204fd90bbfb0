/* promjson.c - turn a Prometheus HTTP API response (instant or range query) into one number. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "promjson.h"

int prom_agg_parse(const char *s, struct prom_agg *out)
{
	static const struct { const char *name; enum prom_agg_kind kind; } names[] = {
		{ "mean", PROM_MEAN }, { "avg", PROM_MEAN }, { "max", PROM_MAX }, { "min", PROM_MIN },
		{ "last", PROM_LAST }, { "first", PROM_FIRST }, { "sum", PROM_SUM },
	};
	char *end;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = (struct prom_agg){ names[i].kind, 0 };
			return 0;
		}
	if (strcmp(s, "median") == 0) {
		*out = (struct prom_agg){ PROM_PERCENTILE, 50 };
		return 0;
	}
	if (s[0] != 'p' || !isdigit((unsigned char)s[1]))
		return -EINVAL;
	out->kind = PROM_PERCENTILE;
	out->p = strtod(s + 1, &end);
	return *end || out->p <= 0 || out->p > 100 ? -EINVAL : 0;
}

/* A printable, one-line excerpt of an unexpected body. */
static void excerpt(const char *body, size_t len, char *buf, size_t size)
{
	size_t n = 0;
	int blank = 1;

	for (size_t i = 0; i < len && n + 4 < size && i < 400; i++) {
		int c = (unsigned char)body[i];

		if (isspace(c) || !isprint(c)) {
			if (!blank)
				buf[n++] = ' ';
			blank = 1;
		} else {
			buf[n++] = (char)c;
			blank = 0;
		}
	}
	if (len > 400 && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

/* {a="x", b="y"} of a series, for messages. */
static void labels(json_t *series, char *buf, size_t size)
{
	json_t *metric = json_object_get(series, "metric"), *v;
	const char *k;
	size_t n = 0;

	n += (size_t)snprintf(buf, size, "{");
	json_object_foreach(metric, k, v) {
		if (n >= size)
			break;
		n += (size_t)snprintf(buf + n, size - n, "%s%s=\"%s\"", n > 1 ? ", " : "", k,
				      json_is_string(v) ? json_string_value(v) : "?");
	}
	if (n < size)
		snprintf(buf + n, size - n, "}");
}

/* A [time, "value"] pair's value; the API writes numbers as strings, NaN and Inf too. */
static int point(json_t *pair, double *v, char *err, size_t errsize)
{
	json_t *s = json_array_get(pair, 1), *t = json_array_get(pair, 0);
	const char *text;
	char *end;

	if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_number(t) ||
	    !json_is_string(s)) {
		snprintf(err, errsize, "a sample is not [time, \"value\"]");
		return -EPROTO;
	}
	text = json_string_value(s);
	*v = strtod(text, &end);
	if (end == text || *end) {
		snprintf(err, errsize, "sample value \"%.40s\" is not a number", text);
		return -EPROTO;
	}
	if (!isfinite(*v)) {
		snprintf(err, errsize, "the value at %.3f is %s", json_number_value(t), text);
		return -ERANGE;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int reduce(json_t *values, const struct prom_agg *agg, double *out, char *err,
		  size_t errsize)
{
	size_t n = json_array_size(values), i;
	double *v, acc = 0;
	json_t *pair;
	int r = 0;

	if (!json_is_array(values)) {
		snprintf(err, errsize, "a series has no \"values\" array");
		return -EPROTO;
	}
	if (n == 0) {
		snprintf(err, errsize, "the series has no samples in the window");
		return -ENOENT;
	}
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(values, i, pair) {
		r = point(pair, &v[i], err, errsize);
		if (r < 0)
			goto out;
	}
	switch (agg->kind) {
	case PROM_MEAN:
	case PROM_SUM:
		for (i = 0; i < n; i++)
			acc += v[i];
		*out = agg->kind == PROM_MEAN ? acc / (double)n : acc;
		break;
	case PROM_MAX:
	case PROM_MIN:
		acc = v[0];
		for (i = 1; i < n; i++)
			if (agg->kind == PROM_MAX ? v[i] > acc : v[i] < acc)
				acc = v[i];
		*out = acc;
		break;
	case PROM_LAST:
		*out = v[n - 1];
		break;
	case PROM_FIRST:
		*out = v[0];
		break;
	case PROM_PERCENTILE: {
		/* Nearest rank, as for the JTL figures. */
		size_t rank = (size_t)ceil(agg->p / 100.0 * (double)n - 1e-9);

		qsort(v, n, sizeof(*v), cmp_double);
		*out = v[(rank < 1 ? 1 : rank > n ? n : rank) - 1];
		break;
	}
	}
out:
	free(v);
	return r;
}

int prom_parse(const char *body, size_t len, long http_status, int range,
	       const struct prom_agg *agg, double *out, char *err, size_t errsize)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *data, *result;
	const char *status, *type;
	char ex[256];
	int r = -EPROTO;

	if (!root || !json_is_object(root) ||
	    !(status = json_string_value(json_object_get(root, "status")))) {
		excerpt(body, len, ex, sizeof(ex));
		if (http_status < 200 || http_status >= 300)
			snprintf(err, errsize, "HTTP %ld: %s", http_status, len ? ex : "(empty body)");
		else
			snprintf(err, errsize, "not a Prometheus API answer (%s): %s",
				 root ? "no \"status\"" : jerr.text, len ? ex : "(empty body)");
		goto out;
	}
	if (strcmp(status, "success") != 0) {
		const char *et = json_string_value(json_object_get(root, "errorType"));
		const char *e = json_string_value(json_object_get(root, "error"));

		snprintf(err, errsize, "HTTP %ld: %s: %s", http_status, et ? et : status,
			 e ? e : "(no error message)");
		r = -EINVAL;
		goto out;
	}
	data = json_object_get(root, "data");
	result = json_object_get(data, "result");
	type = json_string_value(json_object_get(data, "resultType"));
	if (!type || !result) {
		snprintf(err, errsize, "the answer has no data.resultType or data.result");
		goto out;
	}
	if (!range && strcmp(type, "scalar") == 0) {
		r = point(result, out, err, errsize);
		goto out;
	}
	if (strcmp(type, range ? "matrix" : "vector") != 0) {
		snprintf(err, errsize, "a %s query answered a %s, not a %s", range ? "range" : "instant",
			 type, range ? "matrix" : "vector");
		goto out;
	}
	if (!json_is_array(result)) {
		snprintf(err, errsize, "data.result is not an array");
		goto out;
	}
	if (json_array_size(result) == 0) {
		snprintf(err, errsize, "the query returned no series (empty result)");
		r = -ENOENT;
		goto out;
	}
	if (json_array_size(result) > 1) {
		char a[200], b[200];

		labels(json_array_get(result, 0), a, sizeof(a));
		labels(json_array_get(result, 1), b, sizeof(b));
		snprintf(err, errsize, "the query returned %zu series where one was expected "
			 "(%s, %s%s): aggregate them in the query, e.g. sum(...) or max(...)",
			 json_array_size(result), a, b, json_array_size(result) > 2 ? ", ..." : "");
		r = -EINVAL;
		goto out;
	}
	if (range)
		r = reduce(json_object_get(json_array_get(result, 0), "values"), agg, out, err, errsize);
	else
		r = point(json_object_get(json_array_get(result, 0), "value"), out, err, errsize);
out:
	json_decref(root);
	return r;
}
