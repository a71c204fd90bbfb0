/* report_csv.c - report.csv: one RFC 4180 row per trial of the run, the most important pairs' first. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_order.h"
#include "report_render.h"

/* A field is quoted only when it must be (RFC 4180 section 2.6), and also
 * when it has edge spaces, which some readers would trim. */
static void csv_field(FILE *f, const char *s)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	if (!strpbrk(s, ",\"\r\n") && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* The shortest decimal form that reads back as the same double. */
static void fmt_number(char *buf, size_t len, double v)
{
	if (!isfinite(v)) {
		buf[0] = '\0';
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void csv_json_number(FILE *f, const json_t *v)
{
	char buf[40];

	if (json_is_integer(v)) {
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		fmt_number(buf, sizeof(buf), json_real_value(v));
		fputs(buf, f);
	}
}

/* Joins one member of every throttle of a trial with ';'.  Stress is
 * written once when all throttles share it, as they do in a normal run. */
static void csv_throttles(FILE *f, const json_t *throttles, const char *key)
{
	size_t i, n = json_array_size(throttles);
	size_t len = 0;
	char *joined = NULL;
	FILE *m;

	m = open_memstream(&joined, &len);
	if (!m)
		return;
	for (i = 0; i < n; i++) {
		const json_t *v = json_object_get(json_array_get(throttles, i), key);
		char buf[40];

		if (i)
			fputc(';', m);
		if (json_is_string(v)) {
			fputs(json_string_value(v), m);
		} else if (json_is_number(v)) {
			fmt_number(buf, sizeof(buf), json_number_value(v));
			fputs(buf, m);
		}
	}
	fclose(m);
	csv_field(f, joined);
	free(joined);
}

static void csv_stress(FILE *f, const json_t *throttles)
{
	size_t i, n = json_array_size(throttles);
	const json_t *first = json_object_get(json_array_get(throttles, 0), "stress");

	for (i = 1; i < n; i++) {
		const json_t *v = json_object_get(json_array_get(throttles, i), "stress");
		if (!json_is_number(v) || !json_is_number(first) ||
		    json_number_value(v) != json_number_value(first)) {
			csv_throttles(f, throttles, "stress");
			return;
		}
	}
	if (json_is_number(first))
		csv_json_number(f, first);
}

/* Metric columns: the run's metrics in order, then any other name a trial
 * reports (so no value is silently dropped). */
static json_t *metric_names(const json_t *report)
{
	json_t *names = json_array();
	const json_t *metrics = json_object_get(report, "metrics");
	const json_t *trials = json_object_get(report, "trials");
	size_t i, j;

	if (!names)
		return NULL;
	for (i = 0; i < json_array_size(metrics); i++) {
		const json_t *name = json_object_get(json_array_get(metrics, i), "name");
		if (json_is_string(name))
			json_array_append(names, (json_t *)name);
	}
	for (i = 0; i < json_array_size(trials); i++) {
		const json_t *values = json_object_get(json_array_get(trials, i), "values");
		const char *key;
		json_t *v;

		if (!json_is_object(values))
			continue;
		json_object_foreach((json_t *)values, key, v) {
			int seen = 0;
			(void)v;
			for (j = 0; j < json_array_size(names) && !seen; j++)
				seen = strcmp(json_string_value(json_array_get(names, j)), key) == 0;
			if (!seen)
				json_array_append_new(names, json_string(key));
		}
	}
	return names;
}

static void csv_bool(FILE *f, const json_t *v)
{
	if (json_is_boolean(v))
		fputs(json_is_true(v) ? "true" : "false", f);
}

/* pair: the trial's pair in the primary ranking, or NULL */
static void csv_trial(FILE *f, const json_t *trial, const json_t *names, const json_t *pair)
{
	const json_t *throttles = json_object_get(trial, "throttles");
	const json_t *values = json_object_get(trial, "values");
	const json_t *kind = json_object_get(trial, "kind");
	const json_t *failed = json_object_get(trial, "failed");
	const json_t *error = json_object_get(trial, "error");
	size_t j;

	csv_json_number(f, json_object_get(trial, "index"));
	fputc(',', f);
	if (json_is_string(kind))
		csv_field(f, json_string_value(kind));
	else
		fputs(json_array_size(throttles) ? "throttle" : "baseline", f);
	fputc(',', f);
	csv_throttles(f, throttles, "service");
	fputc(',', f);
	csv_throttles(f, throttles, "throttler");
	fputc(',', f);
	csv_stress(f, throttles);
	for (j = 0; j < json_array_size(names); j++) {
		const char *name = json_string_value(json_array_get(names, j));
		fputc(',', f);
		csv_json_number(f, json_object_get(values, name));
	}
	fputc(',', f);
	fputs(json_is_true(failed) ? "true" : "false", f);
	fputc(',', f);
	if (json_is_string(error))
		csv_field(f, json_string_value(error));
	/* the columns added since, at the end so that old readers still work */
	fputc(',', f);
	if (pair)
		fputs(rp_verdict(pair), f);
	fputc(',', f);
	csv_json_number(f, json_object_get(trial, "round"));
	fputc(',', f);
	csv_bool(f, json_object_get(trial, "warmup"));
	fputc(',', f);
	csv_bool(f, json_object_get(trial, "extra"));
	for (j = 0; j < json_array_size(names); j++) {
		const char *name = json_string_value(json_array_get(names, j));
		fputc(',', f);
		csv_json_number(f, json_object_get(json_object_get(trial, "local_baseline"), name));
	}
	fputs("\r\n", f);
}

struct row {
	size_t rank;                   /* of the trial's pair; npairs for the others */
	size_t at;                     /* position in report.json */
};

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* A throttled trial belongs to the pair it throttled alone; baselines,
 * trials of several throttles and unranked pairs go last. */
static size_t trial_rank(const struct rp_order *o, const json_t *trial)
{
	const json_t *th = json_object_get(trial, "throttles");

	if (json_array_size(th) != 1)
		return o->npairs;
	th = json_array_get(th, 0);
	return rp_order_rank(o, json_string_value(json_object_get(th, "service")),
			     json_string_value(json_object_get(th, "throttler")));
}

static void csv_rows(FILE *f, const json_t *report, const json_t *names)
{
	const json_t *trials = json_object_get(report, "trials");
	const json_t *by = json_object_get(report, "by_metric");
	struct rp_order o;
	struct row *rows = calloc(json_array_size(trials) + 1, sizeof(*rows));
	size_t i, n = 0;
	int ordered;

	ordered = rp_order_init(&o, report, json_array_size(by) ? json_array_get(by, 0) : report) == 0;
	for (i = 0; i < json_array_size(trials); i++) {
		const json_t *t = json_array_get(trials, i);
		if (!json_is_object(t))
			continue;
		if (rows) {
			rows[n].rank = ordered ? trial_rank(&o, t) : 0;
			rows[n++].at = i;
		} else {
			/* no memory to sort: the rows in the run's order */
			csv_trial(f, t, names, NULL);
		}
	}
	if (rows)
		qsort(rows, n, sizeof(*rows), cmp_row);
	for (i = 0; i < n; i++)
		csv_trial(f, json_array_get(trials, rows[i].at), names,
			  ordered && rows[i].rank < o.npairs ? o.pairs[rows[i].rank] : NULL);
	free(rows);
	rp_order_fini(&o);
}

int tb_report_write_csv(const json_t *report, const char *path)
{
	struct tb_report_file rf;
	json_t *names;
	size_t i;
	int err;

	if (!json_is_object(report))
		return -EINVAL;
	names = metric_names(report);
	if (!names)
		return -ENOMEM;
	err = tb_report_file_open(&rf, path);
	if (err < 0) {
		json_decref(names);
		return err;
	}
	fputs("index,kind,services,throttlers,stress", rf.f);
	for (i = 0; i < json_array_size(names); i++) {
		fputc(',', rf.f);
		csv_field(rf.f, json_string_value(json_array_get(names, i)));
	}
	fputs(",failed,error,verdict,round,warmup,extra", rf.f);
	for (i = 0; i < json_array_size(names); i++) {
		char *col;

		fputc(',', rf.f);
		if (asprintf(&col, "local_baseline:%s", json_string_value(json_array_get(names, i))) < 0) {
			fputs("local_baseline", rf.f);
			continue;
		}
		csv_field(rf.f, col);
		free(col);
	}
	fputs("\r\n", rf.f);
	csv_rows(rf.f, report, names);
	json_decref(names);
	return tb_report_file_commit(&rf);
}
