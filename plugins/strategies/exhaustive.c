/* exhaustive.c - the baseline strategy: every (service, throttler) pair at every stress level. */
#include <errno.h>
#include <stdlib.h>
#include "throttlebot/plugin.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1"
#endif

/*
 * The schedule is a pure function of a trial counter, so estimate() is exact
 * and a run can be reasoned about in advance: the baseline trials first, then
 * level by level (lowest first, so an interrupted run has every pair at the
 * low levels) every non-excluded pair, space->trials trials each, with one
 * baseline trial after every `baseline_every` points to expose drift.
 */
struct exhaustive {
	const struct tb_space *space;
	size_t *pairs;             /* non-excluded s * nthrottlers + t, ascending */
	size_t npairs;
	unsigned long every;       /* points between interleaved baselines; 0: none */
	unsigned long trials;      /* per point */
	unsigned long total, done;
	struct tb_throttle throttle;
};

static const struct tb_setting_spec settings[] = {
	{ "baseline_every", TB_SETTING_INT, 0,
	  "one baseline trial after every this many points (default 10, 0: none)" },
	{ NULL, 0, 0, NULL },
};

/* A block is one point's trials followed, every `every` points, by a baseline. */
static unsigned long block_len(const struct exhaustive *x, unsigned long point)
{
	return x->trials + (x->every && (point + 1) % x->every == 0);
}

static int ex_init(const struct tb_host *h, const struct tb_config *cfg,
		   const struct tb_space *space, void **state)
{
	struct exhaustive *x;
	long long every = 10;
	unsigned long npoints;
	size_t s, t;
	int r;

	if (cfg && (r = h->get_int(h, cfg, "baseline_every", &every)) < 0 && r != -ENOENT)
		return r;
	if (every < 0)
		return h->config_error(h, cfg, "baseline_every", "must be 0 or more, not %lld", every);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->space = space;
	x->every = (unsigned long)every;
	x->trials = space->trials ? space->trials : 1;
	if (space->nservices && space->nthrottlers) {
		x->pairs = malloc(space->nservices * space->nthrottlers * sizeof(*x->pairs));
		if (!x->pairs) {
			free(x);
			return -ENOMEM;
		}
	}
	for (s = 0; s < space->nservices; s++)
		for (t = 0; t < space->nthrottlers; t++) {
			size_t i = s * space->nthrottlers + t;

			if (!space->excluded || !space->excluded[i])
				x->pairs[x->npairs++] = i;
		}
	npoints = (unsigned long)x->npairs * space->nlevels;
	x->total = space->baseline_trials + npoints * x->trials + (x->every ? npoints / x->every : 0);
	TB_LOG(h, TB_LOG_DEBUG, "%zu pairs x %zu levels x %lu trials: %lu trials in all",
	       x->npairs, space->nlevels, x->trials, x->total);
	*state = x;
	return 0;
}

static void ex_fini(void *state)
{
	struct exhaustive *x = state;

	if (x)
		free(x->pairs);
	free(x);
}

static int ex_next(void *state, struct tb_experiment *e)
{
	struct exhaustive *x = state;
	const struct tb_space *sp = x->space;
	unsigned long k, point = 0, len;
	size_t pair;

	if (x->done >= x->total)
		return 0;
	k = x->done++;
	e->n = 0;
	e->throttles = NULL;
	if (k < sp->baseline_trials)
		return 1;
	k -= sp->baseline_trials;
	/* Whole groups of `every` points have a fixed length: skip them at once. */
	if (x->every) {
		unsigned long group = x->every * x->trials + 1;

		point = k / group * x->every;
		k %= group;
		while (k >= (len = block_len(x, point))) {
			k -= len;
			point++;
		}
	} else {
		point = k / x->trials;
		k %= x->trials;
	}
	if (k >= x->trials)            /* the baseline closing this block */
		return 1;
	pair = x->pairs[point % x->npairs];
	x->throttle.service = pair / sp->nthrottlers;
	x->throttle.throttler = pair % sp->nthrottlers;
	x->throttle.stress = sp->levels[point / x->npairs];
	e->n = 1;
	e->throttles = &x->throttle;
	return 1;
}

static void ex_observe(void *state, const struct tb_experiment *e, double value, int failed)
{
	/* The schedule is fixed: results only matter to the ranking. */
}

static unsigned long ex_estimate(void *state)
{
	return ((struct exhaustive *)state)->total;
}

TB_PLUGIN_DEFINE(tb_strategy) = {
	.header = { TB_ABI_CURRENT, TB_KIND_STRATEGY, "exhaustive",
		    "every non-excluded (service, throttler) pair at every level",
		    PACKAGE_VERSION, settings },
	.init = ex_init,
	.fini = ex_fini,
	.next = ex_next,
	.observe = ex_observe,
	.estimate = ex_estimate,
};
