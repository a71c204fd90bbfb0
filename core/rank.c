/* rank.c - turn trials into IMRs and a MIMR, per metric, with significance against the baseline. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rank.h"
#include "stats.h"

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

static int push(double **v, size_t *n, double x)
{
	double *grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (!grown)
		return -ENOMEM;
	grown[(*n)++] = x;
	*v = grown;
	return 0;
}

static struct tb_pair *pair_for(struct tb_ranking *r, size_t s, size_t t)
{
	for (size_t i = 0; i < r->npairs; i++)
		if (r->pairs[i].service == s && r->pairs[i].throttler == t)
			return &r->pairs[i];
	return NULL;
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

static int collect(const struct tb_results *res, size_t v, struct tb_ranking *r)
{
	for (size_t i = 0; i < res->ntrials; i++) {
		const struct tb_trial_result *t = &res->trials[i];
		struct tb_pair *p;
		struct tb_point *pt;

		if (t->n == 0) {
			if (!t->failed && isfinite(t->values[v]) &&
			    push(&r->baseline, &r->nbaseline, t->values[v]) < 0)
				return -ENOMEM;
			continue;
		}
		if (t->n != 1)          /* group experiments guide a strategy, they rank nothing */
			continue;
		p = pair_for(r, t->throttles[0].service, t->throttles[0].throttler);
		if (!p) {
			struct tb_pair *grown = realloc(r->pairs, (r->npairs + 1) * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			r->pairs = grown;
			p = &grown[r->npairs++];
			memset(p, 0, sizeof(*p));
			p->service = t->throttles[0].service;
			p->throttler = t->throttles[0].throttler;
		}
		pt = point_for(p, t->throttles[0].stress);
		if (!pt)
			return -ENOMEM;
		if (t->failed || !isfinite(t->values[v]))
			pt->failed++;
		else if (push(&pt->values, &pt->n, t->values[v]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void judge_point(struct tb_point *pt, const struct tb_ranking *r, int higher_better,
			double alpha, double min_effect)
{
	double sign = higher_better ? -1.0 : 1.0, scale = fabs(r->base_median);
	double worst = higher_better ? r->band_low : r->band_high;
	double best = higher_better ? r->band_high : r->band_low;
	double p_worse, p_better, lo, hi;

	pt->median = tb_median(pt->values, pt->n);
	if (pt->n == 0 || r->nbaseline == 0 || scale == 0) {
		pt->delta = pt->degradation = pt->ci_low = pt->ci_high = NAN;
		pt->p_value = 1;
		return;
	}
	pt->delta = (pt->median - r->base_median) / scale;
	pt->degradation = sign * pt->delta;
	tb_bootstrap_rel_change(pt->values, pt->n, r->baseline, r->nbaseline, 2000, &lo, &hi);
	pt->ci_low = lo;
	pt->ci_high = hi;
	if (higher_better) {
		p_worse = tb_mann_whitney_greater(r->baseline, r->nbaseline, pt->values, pt->n);
		p_better = tb_mann_whitney_greater(pt->values, pt->n, r->baseline, r->nbaseline);
	} else {
		p_worse = tb_mann_whitney_greater(pt->values, pt->n, r->baseline, r->nbaseline);
		p_better = tb_mann_whitney_greater(r->baseline, r->nbaseline, pt->values, pt->n);
	}
	pt->p_value = pt->degradation >= 0 ? p_worse : p_better;
	pt->significant = p_worse < alpha && sign * (pt->median - worst) > 0 &&
			  pt->degradation >= min_effect;
	pt->paradox = p_better < alpha && sign * (best - pt->median) > 0 &&
		      -pt->degradation >= min_effect;
}

/* The point a pair is summed up by: its worst significant degradation if it
 * is an IMR, its largest significant improvement if it is a paradox, else its
 * highest stress level (a noisy "worst" point would only mislead). */
static size_t headline(const struct tb_pair *p)
{
	size_t best = p->npoints - 1;

	for (size_t j = 0; j < p->npoints; j++) {
		const struct tb_point *pt = &p->points[j], *b = &p->points[best];

		if (p->imr && pt->significant &&
		    (!b->significant || pt->degradation > b->degradation))
			best = j;
		else if (p->paradox && pt->paradox &&
			 (!b->paradox || pt->degradation < b->degradation))
			best = j;
	}
	return best;
}

static void baseline_band(struct tb_ranking *r)
{
	double q1, q3, lo_fence = -INFINITY, hi_fence = INFINITY;

	r->band_low = INFINITY;
	r->band_high = -INFINITY;
	if (r->nbaseline >= 8) {
		q1 = tb_quantile(r->baseline, r->nbaseline, 0.25);
		q3 = tb_quantile(r->baseline, r->nbaseline, 0.75);
		lo_fence = q1 - 3 * (q3 - q1);
		hi_fence = q3 + 3 * (q3 - q1);
	}
	for (size_t i = 0; i < r->nbaseline; i++) {
		double b = r->baseline[i];

		if (b < lo_fence || b > hi_fence)
			continue;
		r->band_low = b < r->band_low ? b : r->band_low;
		r->band_high = b > r->band_high ? b : r->band_high;
	}
}

static int by_degradation(const void *a, const void *b)
{
	const struct tb_pair *x = a, *y = b;
	double dx = tb_pair_headline(x)->degradation, dy = tb_pair_headline(y)->degradation;

	/* IMRs first, then by degradation; NaN last. */
	if (x->imr != y->imr)
		return y->imr - x->imr;
	if (isnan(dx) || isnan(dy))
		return isnan(dx) - isnan(dy);
	return (dy > dx) - (dy < dx);
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
		if (fabs(q->points[j].stress - m->stress) < 1e-9)
			return m->degradation - q->points[j].degradation;
	return m->degradation - tb_pair_headline(q)->degradation;
}

int tb_rank(const struct tb_results *res, size_t v, double alpha, double min_effect,
	    struct tb_ranking *r)
{
	int higher_better = res->values[v].direction == TB_HIGHER_IS_BETTER;
	int err;

	memset(r, 0, sizeof(*r));
	r->value = v;
	r->mimr = r->runner_up = -1;
	err = collect(res, v, r);
	if (err < 0)
		return err;
	r->base_median = tb_median(r->baseline, r->nbaseline);
	r->base_min = tb_min(r->baseline, r->nbaseline);
	r->base_max = tb_max(r->baseline, r->nbaseline);
	baseline_band(r);
	for (size_t i = 0; i < r->npairs; i++) {
		struct tb_pair *p = &r->pairs[i];

		for (size_t j = 0; j < p->npoints; j++) {
			judge_point(&p->points[j], r, higher_better, alpha, min_effect);
			p->imr |= p->points[j].significant;
			p->paradox |= p->points[j].paradox;
		}
		p->paradox &= !p->imr;
		p->headline = headline(p);
	}
	qsort(r->pairs, r->npairs, sizeof(*r->pairs), by_degradation);
	if (r->npairs > 0 && r->pairs[0].imr) {
		r->mimr = 0;
		r->runner_up = r->npairs > 1 ? 1 : -1;
		r->margin = runner_up_margin(r);
	}
	return 0;
}

void tb_ranking_free(struct tb_ranking *r)
{
	for (size_t i = 0; i < r->npairs; i++) {
		for (size_t j = 0; j < r->pairs[i].npoints; j++)
			free(r->pairs[i].points[j].values);
		free(r->pairs[i].points);
	}
	free(r->pairs);
	free(r->baseline);
	memset(r, 0, sizeof(*r));
}
