/* report_table.c - print the services x resources table of a report on the terminal. */
#include <stdio.h>
#include <string.h>
#include "report.h"

static json_t *find_pair(json_t *ranking, const char *service, const char *throttler)
{
	size_t i;
	json_t *p;

	json_array_foreach(ranking, i, p)
		if (!strcmp(json_string_value(json_object_get(p, "service")), service) &&
		    !strcmp(json_string_value(json_object_get(p, "throttler")), throttler))
			return p;
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

static int service_measured(json_t *ranking, const char *service)
{
	size_t i;
	json_t *p;

	json_array_foreach(ranking, i, p)
		if (!strcmp(str(p, "service"), service))
			return 1;
	return 0;
}

/* One cell of the table: the pair's change at its headline level, marked. */
static void print_cell(FILE *f, json_t *p, json_t *mimr)
{
	char cell[64] = "-";

	if (p && json_is_number(json_object_get(p, "delta"))) {
		int is_mimr = json_is_object(mimr) &&
			      !strcmp(str(mimr, "service"), str(p, "service")) &&
			      !strcmp(str(mimr, "throttler"), str(p, "throttler"));

		snprintf(cell, sizeof(cell), "%s%+.1f%% @%.1f%s",
			 is_mimr ? "MIMR " : json_is_true(json_object_get(p, "imr")) ? "* " : "",
			 100 * json_number_value(json_object_get(p, "delta")),
			 json_number_value(json_object_get(p, "stress")),
			 json_is_true(json_object_get(p, "paradox")) ? " !" : "");
	}
	fprintf(f, " | %18s", cell);
}

static void print_section(FILE *f, json_t *rep, json_t *sec)
{
	json_t *ranking = json_object_get(sec, "ranking"), *mimr = json_object_get(sec, "mimr");
	json_t *services = json_object_get(rep, "services"), *throttlers = json_object_get(rep, "throttlers");
	json_t *base = json_object_get(sec, "baseline"), *s, *t;
	size_t i, j, width = 7, unmeasured = 0;

	json_array_foreach(services, i, s)
		width = strlen(str(s, "name")) > width ? strlen(str(s, "name")) : width;
	fprintf(f, "\n%s (%s, %s is better): baseline median %.4g, min %.4g, max %.4g over %lld trials\n",
		str(sec, "metric"), str(sec, "unit"), str(sec, "direction"),
		json_number_value(json_object_get(base, "median")),
		json_number_value(json_object_get(base, "min")),
		json_number_value(json_object_get(base, "max")),
		(long long)json_integer_value(json_object_get(base, "n")));
	fprintf(f, "  %-*s", (int)width, "service");
	json_array_foreach(throttlers, j, t) {
		char head[64];

		snprintf(head, sizeof(head), "%s (%s)", str(t, "resource"), str(t, "name"));
		fprintf(f, " | %18s", head);
	}
	fputc('\n', f);
	json_array_foreach(services, i, s) {
		if (!service_measured(ranking, str(s, "name"))) {
			unmeasured++;
			continue;
		}
		fprintf(f, "  %-*s", (int)width, str(s, "name"));
		json_array_foreach(throttlers, j, t)
			print_cell(f, find_pair(ranking, str(s, "name"), str(t, "name")), mimr);
		fputc('\n', f);
	}
	if (unmeasured)
		fprintf(f, "  (%zu services not throttled on their own: a strategy ruled them out, or they are excluded)\n",
			unmeasured);
	if (json_is_object(mimr) && json_is_object(json_object_get(mimr, "runner_up")))
		fprintf(f, "  MIMR: %s %s (%s): %+.1f%% at stress %.1f, %.1f points ahead of the runner-up\n",
			str(mimr, "service"), str(mimr, "resource"), str(mimr, "throttler"),
			100 * json_number_value(json_object_get(mimr, "delta")),
			json_number_value(json_object_get(mimr, "stress")),
			100 * json_number_value(json_object_get(mimr, "margin")));
	else if (json_is_object(mimr))
		fprintf(f, "  MIMR: %s %s (%s): %+.1f%% at stress %.1f, the only pair measured\n",
			str(mimr, "service"), str(mimr, "resource"), str(mimr, "throttler"),
			100 * json_number_value(json_object_get(mimr, "delta")),
			json_number_value(json_object_get(mimr, "stress")));
	else
		fprintf(f, "  No IMR: no throttle changed %s beyond the baseline's own spread.\n",
			str(sec, "metric"));
}

void tb_report_print_table(FILE *f, const json_t *report)
{
	json_t *rep = (json_t *)report, *sec;
	size_t i, failed = 0;

	fprintf(f, "\nThrottleBot: %s, change of each metric when the resource is throttled\n"
		   "(* = IMR: significant, beyond the baseline's spread and at least %.0f%%; "
		   "! = paradox, improved)\n", str(rep, "application"),
		100 * json_number_value(json_object_get(rep, "min_effect")));
	json_array_foreach(json_object_get(rep, "by_metric"), i, sec)
		print_section(f, rep, sec);
	json_array_foreach(json_object_get(rep, "trials"), i, sec)
		failed += json_is_true(json_object_get(sec, "failed"));
	if (failed)
		fprintf(f, "\n  %zu of %zu trials failed and are left out of the ranking "
			   "(their errors are in the report)\n", failed,
			json_array_size(json_object_get(rep, "trials")));
	fputc('\n', f);
}
