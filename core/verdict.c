/* verdict.c - each pair's verdict: a trend test over the schedule, then over the replication trials alone. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "rank.h"
#include "stats.h"

/*
 * A verdict is reached in at most two stages, each holding half the run's
 * family-wise error (alpha / 2, Holm over the stage's pairs):
 *
 *   1. The schedule (trials with extra == 0), over every pair of the run.
 *      A pair whose adjusted trend and worst level clear the bar is an IMR
 *      (or a paradox); one that may be but is not yet is undecided.
 *   2. The replication trials alone (fresh data, so their test is not biased
 *      by the selection), over the pairs that were undecided after stage 1
 *      and got such trials.  Each replication trial runs beside a baseline
 *      trial of its own, before or after it as a coin says, so each pair of
 *      them is one independent measurement of the change and a drifting host
 *      pushes as many one way as the other: a signed-rank test says whether
 *      the changes lean one way.  They settle as IMR,
 *      paradox, none (the worst level's interval now lies below
 *      min_effect), or stay undecided.
 */

struct evidence {
	double up, down;           /* trend p-values: worse / better with stress */
	double worst, best;        /* median degradation of the worst / best level */
	double worst_p, best_p;    /* that level against the baselines */
	double worst_lo, worst_hi; /* the worst level's 95% interval */
	int any;
};

static void evidence_start(struct evidence *ev)
{
	ev->worst = -INFINITY;
	ev->best = INFINITY;
	ev->worst_p = ev->best_p = 1;
	ev->worst_lo = ev->worst_hi = NAN;
}

/* One level's signed changes d[n], with its test (up, down) against the
 * null: is it the worst or the best level so far?  *worst_d keeps the worst. */
static void evidence_level(struct evidence *ev, const double *d, size_t n, double up, double down,
			   const double **worst_d, size_t *worst_n)
{
	double m = tb_median(d, n);

	if (m > ev->worst) {
		ev->worst = m;
		ev->worst_p = up;
		*worst_d = d;
		*worst_n = n;
	}
	if (m < ev->best) {
		ev->best = m;
		ev->best_p = down;
	}
}

/* The worst level's interval, once the levels are all seen. */
static void evidence_end(struct evidence *ev, const double *worst_d, size_t worst_n)
{
	if (worst_n > 0)
		tb_bootstrap_median(worst_d, worst_n, 1000, &ev->worst_lo, &ev->worst_hi);
}

/* The signed changes of a pair's trials, level after level, and where each
 * level starts: the scheduled ones against their local baselines, or the
 * replication ones against their own baselines (paired). */
struct levels {
	double *d;
	const double **at;
	size_t *n, count, total;
};

static int gather(const struct tb_pair *p, double sign, int paired, struct levels *l)
{
	size_t room = 0;

	for (size_t j = 0; j < p->npoints; j++)
		room += paired ? p->points[j].npaired : p->points[j].n;
	l->d = malloc((room ? room : 1) * sizeof(*l->d));
	l->at = malloc((p->npoints ? p->npoints : 1) * sizeof(*l->at));
	l->n = malloc((p->npoints ? p->npoints : 1) * sizeof(*l->n));
	l->count = l->total = 0;
	if (!l->d || !l->at || !l->n)
		return -ENOMEM;
	for (size_t j = 0; j < p->npoints; j++) {
		const struct tb_point *pt = &p->points[j];
		double *d = l->d + l->total;
		size_t n = 0;

		if (paired)
			for (size_t i = 0; i < pt->npaired; i++)
				d[n++] = sign * pt->paired[i];
		else
			for (size_t i = 0; i < pt->n; i++)
				if (pt->confirming[i] == 0)
					d[n++] = sign * pt->changes[i];
		if (n > 0) {
			l->at[l->count] = d;
			l->n[l->count++] = n;
			l->total += n;
		}
	}
	return 0;
}

static void levels_free(struct levels *l)
{
	free(l->d);
	free(l->at);
	free(l->n);
}

/* The pair's scheduled trials: a trend over its levels, each level against
 * the baselines' own changes. */
static int weigh(const struct tb_pair *p, const struct tb_ranking *r, double sign,
		 struct evidence *ev)
{
	struct levels l;
	const double *worst_d = NULL;
	size_t worst_n = 0;
	int err = gather(p, sign, 0, &l);

	evidence_start(ev);
	for (size_t k = 0; err == 0 && k < l.count; k++) {
		double up, down;

		tb_mann_whitney_sorted(l.at[k], l.n[k], r->base_changes, r->nchanges, &up, &down);
		evidence_level(ev, l.at[k], l.n[k], up, down, &worst_d, &worst_n);
	}
	evidence_end(ev, worst_d, worst_n);
	ev->any = err == 0 && l.count > 0 && r->nchanges > 0;
	ev->up = ev->down = 1;
	if (ev->any)
		tb_trend_test(r->base_changes, r->nchanges, l.at, l.n, l.count, &ev->up, &ev->down);
	levels_free(&l);
	return err;
}

/* The replication trials of a pair, each against its own baseline: do the
 * changes lean one way, over all of them and level by level? */
static int confirm(const struct tb_pair *p, double sign, struct evidence *ev)
{
	struct levels l;
	const double *worst_d = NULL;
	size_t worst_n = 0;
	int err = gather(p, sign, 1, &l);

	evidence_start(ev);
	for (size_t k = 0; err == 0 && k < l.count; k++) {
		double up, down;

		tb_signed_rank(l.at[k], l.n[k], &up, &down);
		evidence_level(ev, l.at[k], l.n[k], up, down, &worst_d, &worst_n);
	}
	evidence_end(ev, worst_d, worst_n);
	ev->any = err == 0 && l.count > 0;
	ev->up = ev->down = 1;
	if (ev->any)
		tb_signed_rank(l.d, l.total, &ev->up, &ev->down);
	levels_free(&l);
	return err;
}

/* On the schedule both directions are tested: a pair's p-value is
 * two-sided.  The replication tests the one direction the schedule chose
 * (worse: only possible IMRs are replicated) before its data existed. */
static double stage_p(const struct evidence *ev, int replication)
{
	double p = replication ? ev->up : 2 * (ev->up < ev->down ? ev->up : ev->down);

	return p < 1 ? p : 1;
}

struct bars {
	double alpha, min_effect, worse_band, better_band;
};

/* IMR or paradox when the adjusted test and the extreme level agree (the
 * bands: the baselines' own spread, for the schedule's trials only). */
static enum tb_verdict decide(const struct evidence *ev, double adjusted, const struct bars *b,
			      int banded)
{
	if (!ev->any || !(adjusted < b->alpha / 2))
		return TB_VERDICT_NONE;
	if (ev->up <= ev->down && ev->worst >= b->min_effect && ev->worst_p < b->alpha &&
	    (!banded || ev->worst > b->worse_band))
		return TB_VERDICT_IMR;
	if (ev->down < ev->up && -ev->best >= b->min_effect && ev->best_p < b->alpha &&
	    (!banded || ev->best < b->better_band))
		return TB_VERDICT_PARADOX;
	return TB_VERDICT_NONE;
}

/* After the schedule: may it be an IMR, with more trials? */
static int may_be(const struct evidence *ev, const struct bars *b)
{
	return ev->any && (ev->up < b->alpha || ev->worst_lo >= b->min_effect) &&
	       ev->worst_hi >= b->min_effect;
}

static size_t extreme_point(const struct tb_pair *p, double dir)
{
	size_t best = p->npoints - 1;

	for (size_t j = 0; j < p->npoints; j++) {
		double d = p->points[j].degradation, b = p->points[best].degradation;

		if (isfinite(d) && (!isfinite(b) || dir * d > dir * b))
			best = j;
	}
	return best;
}

static void settle(struct tb_pair *p, enum tb_verdict v, const struct evidence *ev, double adjusted)
{
	p->verdict = v;
	p->imr = v == TB_VERDICT_IMR;
	p->paradox = v == TB_VERDICT_PARADOX;
	p->trend_up = ev->up;
	p->trend_down = ev->down;
	p->trend_p = ev->up <= ev->down ? ev->up : ev->down;
	p->adjusted_p = adjusted;
	/* The point a pair is summed up by, on all its trials: its worst level
	 * when it hurts or may, its best when it helps, else its highest stress
	 * (a noisy "worst" level would only mislead). */
	if (v == TB_VERDICT_IMR || v == TB_VERDICT_UNDECIDED)
		p->headline = extreme_point(p, 1);
	else if (v == TB_VERDICT_PARADOX)
		p->headline = extreme_point(p, -1);
	else
		p->headline = p->npoints - 1;
}

/* Holm over the pairs flagged in `in`, at the p-values stage_p(ev). */
static int adjust(const struct evidence *ev, const unsigned char *in, size_t n, int replication,
		  double *adjusted)
{
	double *p = calloc(n ? n : 1, sizeof(*p));
	size_t *at = malloc((n ? n : 1) * sizeof(*at)), k = 0;

	if (!p || !at) {
		free(p);
		free(at);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (in[i]) {
			at[k] = i;
			p[k++] = stage_p(&ev[i], replication);
		}
	if (tb_holm(p, k, p) == 0)
		for (size_t i = 0; i < k; i++)
			adjusted[at[i]] = p[i];
	free(p);
	free(at);
	return 0;
}

static int has_paired(const struct tb_pair *p)
{
	for (size_t j = 0; j < p->npoints; j++)
		if (p->points[j].npaired > 0)
			return 1;
	return 0;
}

int tb_verdicts(struct tb_ranking *r, double sign, double alpha, double min_effect)
{
	size_t n = r->npairs;
	struct evidence *first = calloc(n ? n : 1, sizeof(*first));
	struct evidence *second = calloc(n ? n : 1, sizeof(*second));
	double *adj1 = malloc((n ? n : 1) * sizeof(double)), *adj2 = malloc((n ? n : 1) * sizeof(double));
	unsigned char *all = calloc(n ? n : 1, 1), *replicated = calloc(n ? n : 1, 1);
	struct bars b = { alpha, min_effect, r->worse_band, r->better_band };
	int err = first && second && adj1 && adj2 && all && replicated ? 0 : -ENOMEM;

	for (size_t i = 0; i < n && err == 0; i++) {
		all[i] = 1;
		err = weigh(&r->pairs[i], r, sign, &first[i]);
	}
	if (err == 0)
		err = adjust(first, all, n, 0, adj1);
	for (size_t i = 0; i < n && err == 0; i++) {
		struct tb_pair *p = &r->pairs[i];
		enum tb_verdict v = decide(&first[i], adj1[i], &b, 1);

		if (v == TB_VERDICT_NONE && may_be(&first[i], &b))
			v = TB_VERDICT_UNDECIDED;
		settle(p, v, &first[i], adj1[i]);
		if (v == TB_VERDICT_UNDECIDED && has_paired(p)) {
			replicated[i] = 1;
			err = confirm(p, sign, &second[i]);
		}
	}
	if (err == 0)
		err = adjust(second, replicated, n, 1, adj2);
	for (size_t i = 0; i < n && err == 0; i++) {
		enum tb_verdict v;

		if (!replicated[i])
			continue;
		v = decide(&second[i], adj2[i], &b, 0);
		if (v == TB_VERDICT_PARADOX)        /* not the direction it was replicated for */
			v = TB_VERDICT_NONE;
		if (v == TB_VERDICT_NONE && second[i].worst_hi >= min_effect)
			v = TB_VERDICT_UNDECIDED;
		settle(&r->pairs[i], v, &second[i], adj2[i]);
		r->pairs[i].replicated = 1;
	}
	for (size_t i = 0; i < n; i++)
		r->nundecided += r->pairs[i].verdict == TB_VERDICT_UNDECIDED;
	free(first);
	free(second);
	free(adj1);
	free(adj2);
	free(all);
	free(replicated);
	return err;
}
