/* adaptive.c - where more trials would settle a verdict: undecided pairs, and a MIMR too close to its runner-up. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "adaptive.h"

static int add(struct tb_throttle **out, size_t *n, const struct tb_pair *p, const struct tb_point *pt,
	       unsigned times)
{
	struct tb_throttle *grown = realloc(*out, (*n + times) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*out = grown;
	for (unsigned i = 0; i < times; i++) {
		grown[*n].service = p->service;
		grown[*n].throttler = p->throttler;
		grown[*n].stress = pt->stress;
		(*n)++;
	}
	return 0;
}

static int undecided(const struct tb_pair *p, unsigned trials, unsigned at_worst,
		     struct tb_throttle **out, size_t *n)
{
	double worst = tb_pair_headline(p)->degradation;
	int r = 0;

	for (size_t j = 0; j < p->npoints && r == 0; j++) {
		const struct tb_point *pt = &p->points[j];

		if (j == p->headline)
			r = add(out, n, p, pt, at_worst);
		else if (isfinite(pt->degradation) && pt->degradation >= worst / 2)
			r = add(out, n, p, pt, 2 * trials);
	}
	return r;
}

static int by_trend(const void *a, const void *b)
{
	const struct tb_pair *x = *(const struct tb_pair *const *)a, *y = *(const struct tb_pair *const *)b;

	return (x->trend_up > y->trend_up) - (x->trend_up < y->trend_up);
}

int tb_adaptive_pick(const struct tb_ranking *r, unsigned trials, struct tb_throttle **out,
		     size_t *n)
{
	const struct tb_pair **open = malloc((r->npairs ? r->npairs : 1) * sizeof(*open));
	size_t nopen = 0;
	unsigned at_worst;
	int err = open ? 0 : -ENOMEM;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < r->npairs && err == 0; i++)
		if (r->pairs[i].verdict == TB_VERDICT_UNDECIDED)
			open[nopen++] = &r->pairs[i];
	if (err == 0)
		qsort(open, nopen, sizeof(*open), by_trend);
	/* The confirmation is one-sided, Holm-adjusted over the nopen pairs at
	 * alpha / 2: n paired trials all one way give a signed-rank p of 2^-n,
	 * so a pair needs log2(2 x nopen / alpha) of them to be able to pass at
	 * all (alpha = 0.05), and a few more for the noise. */
	at_worst = (unsigned)ceil(log2(40.0 * (double)(nopen ? nopen : 1))) + 3;
	at_worst = at_worst > 3 * trials ? at_worst : 3 * trials;
	for (size_t i = 0; i < nopen && err == 0; i++)
		err = undecided(open[i], trials, at_worst, out, n);
	if (err == 0 && r->mimr >= 0 && r->runner_up >= 0 && !r->separated &&
	    r->pairs[r->runner_up].verdict != TB_VERDICT_NONE) {
		const long both[] = { r->mimr, r->runner_up };

		for (size_t k = 0; k < 2 && err == 0; k++)
			err = add(out, n, &r->pairs[both[k]], tb_pair_headline(&r->pairs[both[k]]),
				  trials);
	}
	free(open);
	if (err < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}
