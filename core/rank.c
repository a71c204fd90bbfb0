/* rank.c - turn trials into IMRs and a MIMR, per metric: time-local baselines, a trend test per pair, Holm. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "baseline.h"
#include "rank.h"
#include "stats.h"

#define BOOTSTRAP_ROUNDS 1000

int tb_results_add(struct tb_results *r, const struct tb_trial_result *t)
{
	if (r->ntrials == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct tb_trial_result *grown = realloc(r->trials, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		r->trials = grown;
		r->cap = cap;
	}
	r->trials[r->ntrials++] = *t;
	return 0;
}

void tb_results_free(struct tb_results *r)
{
	for (size_t i = 0; i < r->ntrials; i++) {
		free(r->trials[i].throttles);
		free(r->trials[i].values);
		free(r->trials[i].error);
	}
	for (size_t i = 0; i < r->nvalues; i++)
		free(r->values[i].name);
	free(r->values);
	free(r->trials);
	memset(r, 0, sizeof(*r));
}

const char *tb_verdict_name(enum tb_verdict v)
{
	static const char *const names[] = { "none", "imr", "paradox", "undecided" };

	return names[v];
}

static int push(double **v, size_t *n, double x)
{
	/* Grow at powers of two: a point or a baseline takes any number of trials. */
	if ((*n & (*n - 1)) == 0) {
		double *grown = realloc(*v, (*n ? 2 * *n : 1) * sizeof(**v));

		if (!grown)
			return -ENOMEM;
		*v = grown;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int ranked_baseline(const struct tb_trial_result *t, size_t v)
{
	/* The boost phase's trials judge boosts, not throttles. */
	return t->n == 0 && !t->warmup && !t->boost && !t->failed && isfinite(t->values[v]);
}

/* The baseline series of value v, in trial order. */
static int baseline_series(const struct tb_results *res, size_t v, struct tb_ranking *r,
			   double **at)
{
	size_t cap = 0;

	for (size_t i = 0; i < res->ntrials; i++) {
		const struct tb_trial_result *t = &res->trials[i];

		if (!ranked_baseline(t, v))
			continue;
		if (push(&r->baseline, &r->nbaseline, t->values[v]) < 0 ||
		    push(at, &cap, (double)t->index) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Each baseline trial against the others around it: the null distribution. */
static int baseline_changes(struct tb_ranking *r, const struct tb_baseline_series *s, double sign)
{
	r->base_changes = malloc((r->nbaseline ? r->nbaseline : 1) * sizeof(double));
	if (!r->base_changes)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		double local = tb_baseline_at(s, s->at[i], i);

		if (isfinite(local) && local != 0)
			r->base_changes[r->nchanges++] = sign * (s->value[i] / local - 1);
	}
	tb_sort(r->base_changes, r->nchanges);
	return 0;
}

static struct tb_point *point_for(struct tb_pair *p, double stress)
{
	struct tb_point *grown;
	size_t i;

	for (i = 0; i < p->npoints; i++)
		if (fabs(p->points[i].stress - stress) < 1e-9)
			return &p->points[i];
	grown = realloc(p->points, (p->npoints + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	p->points = grown;
	for (i = p->npoints; i > 0 && grown[i - 1].stress > stress; i--)
		grown[i] = grown[i - 1];
	memset(&grown[i], 0, sizeof(grown[i]));
	grown[i].stress = stress;
	p->npoints++;
	return &grown[i];
}

/* The baseline trial run beside replication trial i for it, or NULL. */
static const struct tb_trial_result *paired_baseline(const struct tb_results *res, size_t i)
{
	unsigned with = res->trials[i].paired_with;

	if (with == 0)
		return NULL;
	if (i > 0 && res->trials[i - 1].index == with)
		return &res->trials[i - 1];
	if (i + 1 < res->ntrials && res->trials[i + 1].index == with)
		return &res->trials[i + 1];
	return NULL;
}

/* Pairs are found through a dense (service, throttler) index: one lookup a trial. */
static struct tb_pair *pair_for(struct tb_ranking *r, long *slot, size_t nthrottlers,
				const struct tb_throttle *th)
{
	long *at = &slot[th->service * nthrottlers + th->throttler];
	struct tb_pair *grown;

	if (*at >= 0)
		return &r->pairs[*at];
	if ((r->npairs & (r->npairs - 1)) == 0) {
		grown = realloc(r->pairs, (r->npairs ? 2 * r->npairs : 1) * sizeof(*grown));
		if (!grown)
			return NULL;
		r->pairs = grown;
	}
	*at = (long)r->npairs;
	grown = &r->pairs[r->npairs++];
	memset(grown, 0, sizeof(*grown));
	grown->service = th->service;
	grown->throttler = th->throttler;
	return grown;
}

/* Every single-pair trial, with its change against its local baseline.
 * Group experiments guide a strategy; they rank nothing. */
static int collect(const struct tb_results *res, size_t v, const struct tb_baseline_series *s,
		   struct tb_ranking *r)
{
	size_t nservices = 0, nthrottlers = 0;
	long *slot;
	int err = 0;

	for (size_t i = 0; i < res->ntrials; i++)
		for (size_t k = 0; k < res->trials[i].n; k++) {
			const struct tb_throttle *th = &res->trials[i].throttles[k];

			nservices = th->service >= nservices ? th->service + 1 : nservices;
			nthrottlers = th->throttler >= nthrottlers ? th->throttler + 1 : nthrottlers;
		}
	slot = malloc((nservices * nthrottlers + 1) * sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < nservices * nthrottlers; i++)
		slot[i] = -1;
	for (size_t i = 0; i < res->ntrials && err == 0; i++) {
		const struct tb_trial_result *t = &res->trials[i], *b;
		struct tb_pair *p;
		struct tb_point *pt;

		r->local[i] = t->warmup ? NAN : tb_baseline_at(s, (double)t->index, TB_BASELINE_KEEP_ALL);
		if (t->n != 1 || t->warmup)
			continue;
		p = pair_for(r, slot, nthrottlers, &t->throttles[0]);
		pt = p ? point_for(p, t->throttles[0].stress) : NULL;
		if (!pt) {
			err = -ENOMEM;
		} else if (t->failed || !isfinite(t->values[v]) || !isfinite(r->local[i]) ||
			   r->local[i] == 0) {
			pt->failed++;
		} else {
			size_t n = pt->n, m = pt->n;

			if (push(&pt->values, &pt->n, t->values[v]) < 0 ||
			    push(&pt->changes, &n, t->values[v] / r->local[i] - 1) < 0 ||
			    push(&pt->confirming, &m, t->extra > 0) < 0)
				err = -ENOMEM;
			/* A replication trial has a baseline trial of its own beside it. */
			b = paired_baseline(res, i);
			if (err == 0 && b && ranked_baseline(b, v) && b->values[v] != 0 &&
			    push(&pt->paired, &pt->npaired, t->values[v] / b->values[v] - 1) < 0)
				err = -ENOMEM;
		}
	}
	free(slot);
	return err;
}

/* Judge one level of a pair, on all its trials, against the baselines' own changes. */
static void judge_point(struct tb_point *pt, struct tb_ranking *r, double sign, double alpha,
			double min_effect, double *scratch)
{
	double up, down;
	size_t i;

	pt->median = tb_median(pt->values, pt->n);
	if (pt->n == 0 || r->nchanges == 0) {
		pt->local_baseline = pt->delta = pt->degradation = pt->ci_low = pt->ci_high = NAN;
		pt->p_value = 1;
		return;
	}
	for (i = 0; i < pt->n; i++)
		scratch[i] = pt->values[i] / (1 + pt->changes[i]);
	pt->local_baseline = tb_median(scratch, pt->n);
	pt->delta = tb_median(pt->changes, pt->n);
	pt->degradation = sign * pt->delta;
	tb_bootstrap_median(pt->changes, pt->n, BOOTSTRAP_ROUNDS, &pt->ci_low, &pt->ci_high);
	for (i = 0; i < pt->n; i++)
		scratch[i] = sign * pt->changes[i];
	tb_mann_whitney_sorted(scratch, pt->n, r->base_changes, r->nchanges, &up, &down);
	pt->p_value = pt->degradation >= 0 ? up : down;
	pt->significant = up < alpha && pt->degradation >= min_effect &&
			  pt->degradation > r->worse_band;
	pt->paradox = down < alpha && -pt->degradation >= min_effect &&
		      pt->degradation < r->better_band;
}

static int order(enum tb_verdict v)
{
	return v == TB_VERDICT_IMR ? 0 : v == TB_VERDICT_UNDECIDED ? 1 : 2;
}

static int by_importance(const void *a, const void *b)
{
	const struct tb_pair *x = a, *y = b;
	double dx = tb_pair_headline(x)->degradation, dy = tb_pair_headline(y)->degradation;

	/* IMRs first, then the undecided, then by degradation; NaN last. */
	if (order(x->verdict) != order(y->verdict))
		return order(x->verdict) - order(y->verdict);
	if (isnan(dx) || isnan(dy))
		return isnan(dx) - isnan(dy);
	if (dx != dy)
		return (dy > dx) - (dy < dx);
	return x->service != y->service ? (x->service > y->service) - (x->service < y->service)
					: (x->throttler > y->throttler) - (x->throttler < y->throttler);
}

/* How clearly the MIMR beats the runner-up: at the MIMR's own stress level
 * when the runner-up was tried there, else against its headline. */
static double runner_up_margin(const struct tb_ranking *r)
{
	const struct tb_point *m = tb_pair_headline(&r->pairs[r->mimr]);
	const struct tb_pair *q;

	if (r->runner_up < 0)
		return m->degradation;
	q = &r->pairs[r->runner_up];
	for (size_t j = 0; j < q->npoints; j++)
		if (fabs(q->points[j].stress - m->stress) < 1e-9 && q->points[j].n > 0)
			return m->degradation - q->points[j].degradation;
	return m->degradation - tb_pair_headline(q)->degradation;
}

/* Every point on all its trials: what the report shows of it. */
static int judge_points(struct tb_ranking *r, double sign, double alpha, double min_effect)
{
	double *scratch;
	size_t most = 1;

	for (size_t i = 0; i < r->npairs; i++)
		for (size_t j = 0; j < r->pairs[i].npoints; j++)
			most = r->pairs[i].points[j].n > most ? r->pairs[i].points[j].n : most;
	scratch = malloc(most * sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	for (size_t i = 0; i < r->npairs; i++)
		for (size_t j = 0; j < r->pairs[i].npoints; j++)
			judge_point(&r->pairs[i].points[j], r, sign, alpha, min_effect, scratch);
	free(scratch);
	return 0;
}

int tb_rank(const struct tb_results *res, size_t v, double alpha, double min_effect,
	    struct tb_ranking *r)
{
	double sign = res->values[v].direction == TB_HIGHER_IS_BETTER ? -1.0 : 1.0;
	struct tb_baseline_series series = { 0 };
	double *at = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	r->value = v;
	r->mimr = r->runner_up = -1;
	r->local = malloc((res->ntrials ? res->ntrials : 1) * sizeof(double));
	if (!r->local)
		return -ENOMEM;
	err = baseline_series(res, v, r, &at);
	series.n = r->nbaseline;
	series.at = at;
	series.value = r->baseline;
	if (err == 0)
		err = baseline_changes(r, &series, sign);
	if (err == 0)
		err = collect(res, v, &series, r);
	free(at);
	if (err < 0)
		return err;
	r->base_median = tb_median(r->baseline, r->nbaseline);
	r->base_min = tb_min(r->baseline, r->nbaseline);
	r->base_max = tb_max(r->baseline, r->nbaseline);
	/* The middle half of the baselines' own changes (signed like
	 * degradations), and the same band in the metric's units. */
	r->better_band = tb_quantile(r->base_changes, r->nchanges, 0.25);
	r->worse_band = tb_quantile(r->base_changes, r->nchanges, 0.75);
	r->band_low = r->base_median * (1 + sign * (sign > 0 ? r->better_band : r->worse_band));
	r->band_high = r->base_median * (1 + sign * (sign > 0 ? r->worse_band : r->better_band));
	err = judge_points(r, sign, alpha, min_effect);
	if (err == 0)
		err = tb_verdicts(r, sign, alpha, min_effect);
	if (err < 0)
		return err;
	if (r->npairs > 1)   /* no pairs: r->pairs is NULL, which qsort may not be given */
		qsort(r->pairs, r->npairs, sizeof(*r->pairs), by_importance);
	if (r->npairs > 0 && r->pairs[0].imr) {
		r->mimr = 0;
		r->runner_up = r->npairs > 1 ? 1 : -1;
		r->margin = runner_up_margin(r);
		r->separated = r->runner_up < 0 ||
			       tb_deg_low(tb_pair_headline(&r->pairs[0]), sign) >
			       tb_deg_high(tb_pair_headline(&r->pairs[1]), sign);
	}
	return 0;
}

void tb_ranking_free(struct tb_ranking *r)
{
	for (size_t i = 0; i < r->npairs; i++) {
		for (size_t j = 0; j < r->pairs[i].npoints; j++) {
			free(r->pairs[i].points[j].values);
			free(r->pairs[i].points[j].changes);
			free(r->pairs[i].points[j].confirming);
			free(r->pairs[i].points[j].paired);
		}
		free(r->pairs[i].points);
	}
	free(r->pairs);
	free(r->baseline);
	free(r->base_changes);
	free(r->local);
	memset(r, 0, sizeof(*r));
}
