/* report_table.c - print the services x resources table of a report on the terminal. */
#include <stdio.h>
#include <string.h>
#include "report.h"
#include "report_html.h"
#include "report_order.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

/* One cell of the table: the pair's change at its headline level, marked;
 * after it, where the pair was boosted, the gain ("^": confirmed). */
static void print_cell(FILE *f, const json_t *rep, const json_t *p, const json_t *mimr, int width)
{
	char cell[64] = "-";
	const json_t *b = p ? rp_boost_of(rep, p) : NULL;
	double gain;

	if (p && json_is_number(json_object_get(p, "delta"))) {
		enum rp_class c = rp_class_of(p, mimr);
		int n = snprintf(cell, sizeof(cell), "%s%+.1f%% @%.1f%s",
				 c == RP_MIMR ? "MIMR " : c == RP_IMR ? "* " : "",
				 100 * json_number_value(json_object_get(p, "delta")),
				 json_number_value(json_object_get(p, "stress")),
				 c == RP_UNDECIDED ? " ?" : c == RP_PARADOX ? " !" : "");

		if (b && rp_num(b, "gain", &gain) && n > 0 && (size_t)n < sizeof(cell))
			snprintf(cell + n, sizeof(cell) - (size_t)n, " (%+.1f%%%s)", 100 * gain,
				 rp_true(b, "confirmed") ? "^" : "");
	}
	fprintf(f, " | %*s", width, cell);
}

/* ", adjusted p = 0.004" when the report has it */
static void print_p(FILE *f, const json_t *p)
{
	const json_t *v = json_object_get(p, "adjusted_p");

	if (json_is_number(v))
		fprintf(f, ", adjusted p = %.2g", json_number_value(v));
	else if (json_is_number(v = json_object_get(p, "p_value")))
		fprintf(f, ", p = %.2g", json_number_value(v));
}

static void print_mimr(FILE *f, const json_t *sec, const json_t *entry)
{
	const json_t *mimr = json_object_get(sec, "mimr");

	if (!json_is_object(mimr)) {
		fprintf(f, "  No IMR: no throttle changed %s beyond the baseline's own spread.\n",
			str(sec, "metric"));
		return;
	}
	fprintf(f, "  MIMR: %s %s (%s): %+.1f%% at stress %.1f", str(mimr, "service"),
		str(mimr, "resource"), str(mimr, "throttler"),
		100 * json_number_value(json_object_get(mimr, "delta")),
		json_number_value(json_object_get(mimr, "stress")));
	print_p(f, entry);
	if (json_is_object(json_object_get(mimr, "runner_up")))
		fprintf(f, ", %.1f points ahead of the runner-up\n",
			100 * json_number_value(json_object_get(mimr, "margin")));
	else
		fputs(", the only pair measured\n", f);
}

static void print_section(FILE *f, const json_t *rep, const json_t *sec, const struct rp_order *o)
{
	const json_t *throttlers = json_object_get(rep, "throttlers"), *mimr = json_object_get(sec, "mimr");
	const json_t *base = json_object_get(sec, "baseline"), *t;
	size_t i, j, width = 7, hidden = 0, undecided = 0;
	int cell = json_array_size(json_object_get(rep, "boost")) ? 27 : 18;

	for (i = 0; i < o->nmeasured; i++)
		if (o->shown[i] && strlen(o->services[i]) > width)
			width = strlen(o->services[i]);
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
		fprintf(f, " | %*s", cell, head);
	}
	fputc('\n', f);
	for (i = 0; i < o->nmeasured; i++) {
		if (!o->shown[i]) {
			hidden++;
			continue;
		}
		fprintf(f, "  %-*s", (int)width, o->services[i]);
		json_array_foreach(throttlers, j, t)
			print_cell(f, rep, rp_order_find(o, o->services[i],
							 json_string_value(json_object_get(t, "name")),
							 json_string_value(json_object_get(t, "resource"))),
				   mimr, cell);
		fputc('\n', f);
	}
	if (hidden)
		fprintf(f, "  ... and %zu more service%s with no effect (all in report.json / report.csv)\n",
			hidden, hidden == 1 ? "" : "s");
	if (o->nservices > o->nmeasured)
		fprintf(f, "  (%zu services not throttled on their own: a strategy ruled them out, or they are excluded)\n",
			o->nservices - o->nmeasured);
	print_mimr(f, sec, rp_order_find(o, json_string_value(json_object_get(mimr, "service")),
					 json_string_value(json_object_get(mimr, "throttler")),
					 json_string_value(json_object_get(mimr, "resource"))));
	for (i = 0; i < o->npairs; i++)
		undecided += rp_class_of(o->pairs[i], mimr) == RP_UNDECIDED;
	if (undecided)
		fprintf(f, "  %zu pair%s undecided (?): the trials neither confirm nor rule out an effect; "
			   "more trials would tell.\n", undecided, undecided == 1 ? "" : "s");
}

/* The boost phase: each boosted pair, how, its gain and what it says of the ranking. */
static void print_boosts(FILE *f, const json_t *rep)
{
	const json_t *boosts = json_object_get(rep, "boost"), *b, *ci;
	size_t i;
	double gain;

	if (!json_is_array(boosts))
		return;
	fprintf(f, "\nBoost: each pair given more, against a baseline trial beside each boosted one "
		   "(+ = better; ^ = confirmed)\n");
	if (json_array_size(boosts) == 0)
		fputs("  no pair could be boosted: no throttler can raise a limit or a share\n", f);
	json_array_foreach(boosts, i, b) {
		fprintf(f, "  %-4s %s %s (%s): ", rp_true(b, "mimr") ? "MIMR" : rp_true(b, "imr") ? "IMR" : "",
			str(b, "service"), str(b, "resource"), str(b, "throttler"));
		if (!json_is_string(json_object_get(b, "how"))) {
			fprintf(f, "not boosted: %s\n", str(b, "error"));
			continue;
		}
		fprintf(f, "%s: ", str(b, "how"));
		ci = json_object_get(b, "ci");
		if (rp_num(b, "gain", &gain))
			fprintf(f, "%+.1f%% [%+.1f%%, %+.1f%%]", 100 * gain,
				100 * json_number_value(json_array_get(ci, 0)),
				100 * json_number_value(json_array_get(ci, 1)));
		else
			fputs("no pair of trials measured", f);
		print_p(f, b);
		fprintf(f, ", %s\n", rp_boost_verdict(b));
	}
}

/* The run's seed and trial counts, so a run can be told apart and repeated. */
static void print_run(FILE *f, const json_t *rep)
{
	const json_t *trials = json_object_get(rep, "trials"), *t, *v;
	size_t i, failed = 0, warmup = 0, extra = 0;

	json_array_foreach(trials, i, t) {
		failed += json_is_true(json_object_get(t, "failed"));
		warmup += json_is_true(json_object_get(t, "warmup"));
		extra += json_is_true(json_object_get(t, "extra"));
	}
	if (failed)
		fprintf(f, "\n  %zu of %zu trials failed and are left out of the ranking "
			   "(their errors are in the report)\n", failed, json_array_size(trials));
	/* the core's own counts where it wrote them, as the page shows them */
	if (json_is_integer(v = json_object_get(rep, "warmup_trials")) && json_integer_value(v) >= 0)
		warmup = (size_t)json_integer_value(v);
	if (json_is_integer(v = json_object_get(rep, "extra_trials")) && json_integer_value(v) >= 0)
		extra = (size_t)json_integer_value(v);
	if (!json_is_integer(v = json_object_get(rep, "seed")))
		return;
	fprintf(f, "\n  seed %" JSON_INTEGER_FORMAT "; %zu warm-up trial%s, %zu adaptive extra trial%s",
		json_integer_value(v), warmup, warmup == 1 ? "" : "s", extra, extra == 1 ? "" : "s");
	if (json_is_integer(v = json_object_get(rep, "max_extra_trials")))
		fprintf(f, " (at most %" JSON_INTEGER_FORMAT ")", json_integer_value(v));
	fputc('\n', f);
}

void tb_report_print_table(FILE *f, const json_t *report)
{
	const json_t *sec;
	struct rp_order o;
	size_t i;

	fprintf(f, "\nThrottleBot: %s, change of each metric when the resource is throttled\n"
		   "(* = IMR: significant, beyond the baseline's spread and at least %.0f%%; "
		   "! = paradox, improved; ? = undecided; most important services first)\n",
		str(report, "application"), 100 * json_number_value(json_object_get(report, "min_effect")));
	json_array_foreach(json_object_get(report, "by_metric"), i, sec) {
		if (rp_order_init(&o, report, sec) == 0)
			print_section(f, report, sec, &o);
		else
			fprintf(f, "\n  (out of memory: the table of %s is in report.json)\n", str(sec, "metric"));
		rp_order_fini(&o);
	}
	print_boosts(f, report);
	print_run(f, report);
	fputc('\n', f);
}
