/* adaptive.c - where more trials would settle a verdict: undecided pairs, and a MIMR too close to its runner-up. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "adaptive.h"

static int add(struct tb_throttle **out, size_t *n, const struct tb_pair *p, const struct tb_point *pt)
{
	struct tb_throttle *grown = realloc(*out, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*out = grown;
	grown[*n].service = p->service;
	grown[*n].throttler = p->throttler;
	grown[*n].stress = pt->stress;
	(*n)++;
	return 0;
}

static int undecided(const struct tb_pair *p, unsigned max_per_point, struct tb_throttle **out,
		     size_t *n)
{
	double worst = tb_pair_headline(p)->degradation;
	int r = 0;

	for (size_t j = 0; j < p->npoints && r == 0; j++) {
		const struct tb_point *pt = &p->points[j];

		if (pt->n + pt->failed < max_per_point &&
		    (j == p->headline || (isfinite(pt->degradation) && pt->degradation >= worst / 2)))
			r = add(out, n, p, pt);
	}
	return r;
}

int tb_adaptive_pick(const struct tb_ranking *r, unsigned max_per_point, struct tb_throttle **out,
		     size_t *n)
{
	int err = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < r->npairs && err == 0; i++)
		if (r->pairs[i].verdict == TB_VERDICT_UNDECIDED)
			err = undecided(&r->pairs[i], max_per_point, out, n);
	if (err == 0 && r->mimr >= 0 && r->runner_up >= 0 && !r->separated) {
		const long both[] = { r->mimr, r->runner_up };

		for (size_t k = 0; k < 2 && err == 0; k++) {
			const struct tb_pair *p = &r->pairs[both[k]];
			const struct tb_point *pt = tb_pair_headline(p);

			if (pt->n + pt->failed < max_per_point)
				err = add(out, n, p, pt);
		}
	}
	if (err < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}
