/* report.c - build report.json from the ranked trials. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "conf.h"
#include "manifest.h"
#include "progress.h"
#include "report.h"
#include "report_render.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *values_array(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, num(v[i]));
	return a;
}

static const char *direction_name(enum tb_direction d)
{
	return d == TB_HIGHER_IS_BETTER ? "higher" : "lower";
}

static const char *resource_of(const struct tb_run *run, size_t t)
{
	return ((const struct tb_throttler *)run->throttlers[t].lib.header)->resource;
}

static json_t *pair_id(const struct tb_run *run, const struct tb_pair *p)
{
	return json_pack("{s:s, s:s, s:s}", "service", run->service_names[p->service],
			 "resource", resource_of(run, p->throttler),
			 "throttler", run->throttler_names[p->throttler]);
}

static json_t *point_json(const struct tb_point *pt)
{
	json_t *o = json_pack("{s:f, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:I, s:o}",
			      "stress", pt->stress, "n", (json_int_t)pt->n, "median", num(pt->median),
			      "delta", num(pt->delta), "degradation", num(pt->degradation),
			      "ci_low", num(pt->ci_low), "ci_high", num(pt->ci_high),
			      "p_value", num(pt->p_value), "significant", pt->significant,
			      "paradox", pt->paradox, "failed", (json_int_t)pt->failed,
			      "values", values_array(pt->values, pt->n));

	json_object_set_new(o, "local_baseline", num(pt->local_baseline));
	return o;
}

static json_t *pair_json(const struct tb_run *run, const struct tb_pair *p)
{
	const struct tb_point *h = tb_pair_headline(p);
	json_t *o = pair_id(run, p), *points = json_array();

	for (size_t i = 0; i < p->npoints; i++)
		json_array_append_new(points, point_json(&p->points[i]));
	json_object_set_new(o, "stress", json_real(h->stress));
	json_object_set_new(o, "delta", num(h->delta));
	json_object_set_new(o, "degradation", num(h->degradation));
	json_object_set_new(o, "ci_low", num(h->ci_low));
	json_object_set_new(o, "ci_high", num(h->ci_high));
	json_object_set_new(o, "p_value", num(h->p_value));
	json_object_set_new(o, "significant", json_boolean(h->significant));
	json_object_set_new(o, "imr", json_boolean(p->imr));
	json_object_set_new(o, "paradox", json_boolean(p->paradox));
	json_object_set_new(o, "verdict", json_string(tb_verdict_name(p->verdict)));
	json_object_set_new(o, "trend_p", num(p->trend_p));
	json_object_set_new(o, "adjusted_p", num(p->adjusted_p));
	json_object_set_new(o, "replicated", json_boolean(p->replicated));
	json_object_set_new(o, "points", points);
	return o;
}

static json_t *section(const struct tb_run *run, const struct tb_ranking *r)
{
	const struct tb_value_desc *v = &run->results.values[r->value];
	json_t *ranking = json_array(), *imrs = json_array(), *undecided = json_array();
	json_t *mimr = json_null();
	json_t *baseline = json_pack("{s:s, s:I, s:o, s:o, s:o, s:[o, o], s:o}", "metric", v->name,
				     "n", (json_int_t)r->nbaseline, "median", num(r->base_median),
				     "min", num(r->base_min), "max", num(r->base_max),
				     "band", num(r->band_low), num(r->band_high),
				     "values", values_array(r->baseline, r->nbaseline));

	for (size_t i = 0; i < r->npairs; i++) {
		const struct tb_pair *p = &r->pairs[i];

		json_array_append_new(ranking, pair_json(run, p));
		if (p->imr || p->verdict == TB_VERDICT_UNDECIDED) {
			json_t *brief = pair_id(run, p);

			json_object_set_new(brief, "degradation", num(tb_pair_headline(p)->degradation));
			json_array_append_new(p->imr ? imrs : undecided, brief);
		}
	}
	if (r->mimr >= 0) {
		const struct tb_pair *p = &r->pairs[r->mimr];
		const struct tb_point *h = tb_pair_headline(p);

		mimr = pair_id(run, p);
		json_object_set_new(mimr, "stress", json_real(h->stress));
		json_object_set_new(mimr, "delta", num(h->delta));
		json_object_set_new(mimr, "degradation", num(h->degradation));
		json_object_set_new(mimr, "ci_low", num(h->ci_low));
		json_object_set_new(mimr, "ci_high", num(h->ci_high));
		json_object_set_new(mimr, "separated", json_boolean(r->separated));
		if (r->runner_up >= 0) {
			const struct tb_pair *q = &r->pairs[r->runner_up];
			double d = tb_pair_headline(q)->degradation;
			json_t *ru = pair_id(run, q);

			json_object_set_new(ru, "degradation", num(d));
			json_object_set_new(ru, "imr", json_boolean(q->imr));
			json_object_set_new(mimr, "runner_up", ru);
			json_object_set_new(mimr, "margin", num(r->margin));
		} else {
			json_object_set_new(mimr, "runner_up", json_null());
			json_object_set_new(mimr, "margin", num(r->margin));
		}
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "metric", v->name,
			 "unit", v->unit, "direction", direction_name(v->direction),
			 "baseline", baseline, "mimr", mimr, "ranking", ranking, "imrs", imrs,
			 "undecided", undecided);
}

static json_t *services_json(const struct tb_run *run)
{
	json_t *a = json_array();

	for (size_t i = 0; i < run->inv.nservices; i++) {
		const struct tb_service *s = &run->inv.services[i];
		json_t *targets = json_array();

		for (size_t j = 0; j < s->ntargets; j++) {
			const struct tb_target *t = &s->targets[j];
			json_t *o = json_pack("{s:s, s:I}", "id", t->id ? t->id : "",
					      "pid", (json_int_t)t->pid);
			static const char *const cg[] = { "cpu", "cpuset", "io", "memory" };

			for (int k = 0; k < 4; k++)
				if (t->cgroup[k])
					json_object_set_new(o, cg[k], json_string(t->cgroup[k]));
			if (t->netns)
				json_object_set_new(o, "netns", json_string(t->netns));
			if (t->ifname)
				json_object_set_new(o, "ifname", json_string(t->ifname));
			if (t->node)
				json_object_set_new(o, "node", json_string(t->node));
			json_array_append_new(targets, o);
		}
		json_array_append_new(a, json_pack("{s:s, s:o}", "name", s->name, "targets", targets));
	}
	return a;
}

json_t *tb_report_trial(const struct tb_run *run, const struct tb_trial_result *t,
			const struct tb_ranking *rankings)
{
	json_t *throttles = json_array(), *values = json_object(), *local = json_object(), *o;
	size_t at = (size_t)(t - run->results.trials);

	for (size_t k = 0; k < t->n; k++) {
		const struct tb_throttle *th = &t->throttles[k];

		json_array_append_new(throttles, json_pack("{s:s, s:s, s:s, s:f}",
			"service", run->service_names[th->service],
			"throttler", run->throttler_names[th->throttler],
			"resource", resource_of(run, th->throttler), "stress", th->stress));
	}
	for (size_t v = 0; v < run->results.nvalues; v++) {
		json_object_set_new(values, run->results.values[v].name, num(t->values[v]));
		if (rankings)
			json_object_set_new(local, run->results.values[v].name,
					    num(rankings[v].local[at]));
	}
	o = json_pack("{s:I, s:s, s:o, s:o, s:b, s:o, s:f, s:f, s:b, s:b, s:I}",
		"index", (json_int_t)t->index, "kind", t->n ? "throttle" : "baseline",
		"throttles", throttles, "values", values, "failed", t->failed,
		"error", t->error ? json_string(t->error) : json_null(),
		"start", t->start, "duration_s", t->duration, "warmup", t->warmup,
		"extra", t->extra > 0, "round", (json_int_t)t->round);
	json_object_set_new(o, "paired_with", t->paired_with ? json_integer(t->paired_with)
							       : json_null());
	json_object_set_new(o, "resumed", json_boolean(t->resumed));
	json_object_set_new(o, "rejoin", json_boolean(t->rejoin));
	if (rankings)
		json_object_set_new(o, "local_baseline", local);
	else
		json_decref(local);
	return o;
}

static json_t *trials_json(const struct tb_run *run, const struct tb_ranking *rankings)
{
	json_t *a = json_array();

	for (size_t i = 0; i < run->results.ntrials; i++)
		json_array_append_new(a, tb_report_trial(run, &run->results.trials[i], rankings));
	return a;
}

static json_t *excluded_json(const struct tb_run *run)
{
	json_t *a = json_array();

	for (size_t s = 0; s < run->inv.nservices; s++)
		for (size_t t = 0; t < run->nthrottlers; t++)
			if (run->excluded[s * run->nthrottlers + t])
				json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}",
					"service", run->service_names[s], "resource", resource_of(run, t),
					"throttler", run->throttler_names[t],
					"why", "excluded by configuration"));
	return a;
}

static json_t *config_hash(const struct tb_conf *c)
{
	json_t *effective = tb_manifest_effective_config(c);
	char hash[32];
	int r = tb_manifest_hash(effective, hash, sizeof(hash));

	json_decref(effective);
	return r == 0 ? json_string(hash) : json_null();
}

json_t *tb_report_build(const struct tb_run *run, const struct tb_ranking *rankings)
{
	json_t *rep, *levels = json_array(), *throttlers = json_array(), *metrics = json_array();
	json_t *by_metric = json_array(), *primary;
	char started[64];
	struct tm tm;

	gmtime_r(&run->started, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (size_t i = 0; i < run->conf->nlevels; i++)
		json_array_append_new(levels, json_real(run->conf->levels[i]));
	for (size_t t = 0; t < run->nthrottlers; t++) {
		const struct tb_throttler *th = (const void *)run->throttlers[t].lib.header;

		json_array_append_new(throttlers, json_pack("{s:s, s:s, s:s, s:s}",
			"name", run->throttler_names[t], "plugin", th->header.name,
			"resource", th->resource, "unit", th->unit ? th->unit : ""));
	}
	for (size_t v = 0; v < run->results.nvalues; v++) {
		const struct tb_value_desc *d = &run->results.values[v];

		json_array_append_new(metrics, json_pack("{s:s, s:s, s:s, s:s}", "name", d->name,
			"plugin", run->metrics[d->metric].lib.header->name, "unit", d->unit,
			"direction", direction_name(d->direction)));
		json_array_append_new(by_metric, section(run, &rankings[v]));
	}
	primary = json_array_get(by_metric, 0);
	rep = json_pack("{s:{s:s}, s:s, s:s, s:s, s:f, s:o, s:I, s:I, s:f, s:o, s:o, s:o}",
		"throttlebot", "version", PACKAGE_VERSION, "application", run->conf->application,
		"config", run->conf->path, "started", started,
		"duration_s", tb_now() - run->t0, "stress_levels", levels,
		"trials_per_point", (json_int_t)run->conf->trials,
		"baseline_trials", (json_int_t)run->conf->baseline_trials,
		"significance", run->conf->alpha,
		"services", services_json(run), "throttlers", throttlers, "metrics", metrics);
	if (!rep)
		return NULL;
	json_object_set_new(rep, "min_effect", json_real(run->conf->min_effect));
	json_object_set_new(rep, "strategy", json_string(run->strategy.name));
	json_object_set(rep, "baseline", json_object_get(primary, "baseline"));
	json_object_set(rep, "mimr", json_object_get(primary, "mimr"));
	json_object_set(rep, "ranking", json_object_get(primary, "ranking"));
	json_object_set(rep, "imrs", json_object_get(primary, "imrs"));
	json_object_set_new(rep, "excluded", excluded_json(run));
	json_object_set_new(rep, "by_metric", by_metric);
	json_object_set(rep, "undecided", json_object_get(primary, "undecided"));
	json_object_set_new(rep, "seed", json_integer((json_int_t)run->conf->seed));
	json_object_set_new(rep, "warmup_trials", json_integer(run->conf->warmup_trials));
	json_object_set_new(rep, "max_extra_trials", json_integer((json_int_t)run->extra_budget));
	json_object_set_new(rep, "extra_trials", json_integer((json_int_t)run->extra_used));
	json_object_set_new(rep, "report_top", json_integer(run->conf->report_top));
	json_object_set_new(rep, "resumed_at_trial", run->resumed_at ? json_integer(run->resumed_at)
									  : json_null());
	json_object_set_new(rep, "config_hash", config_hash(run->conf));
	json_object_set_new(rep, "trials", trials_json(run, rankings));
	return rep;
}

/* Like the other reports: a fresh temporary file (never one found at a
 * fixed name), renamed into place. */
int tb_report_write_json(const json_t *report, const char *path)
{
	struct tb_report_file rf;
	int r = tb_report_file_open(&rf, path);

	if (r < 0)
		return r;
	if (json_dumpf(report, rf.f, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) < 0) {
		tb_report_file_abort(&rf);
		return -EIO;
	}
	return tb_report_file_commit(&rf);
}
