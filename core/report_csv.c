/* report_csv.c - report.csv: one RFC 4180 row per trial of the run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void csv_trial(FILE *f, const json_t *trial, const json_t *names)
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
	fputs("\r\n", f);
}

int tb_report_write_csv(const json_t *report, const char *path)
{
	const json_t *trials = json_object_get(report, "trials");
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
	fputs(",failed,error\r\n", rf.f);
	for (i = 0; i < json_array_size(trials); i++) {
		const json_t *t = json_array_get(trials, i);
		if (json_is_object(t))
			csv_trial(rf.f, t, names);
	}
	json_decref(names);
	return tb_report_file_commit(&rf);
}
