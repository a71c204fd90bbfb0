/* exhaustive.c - the baseline strategy: every (service, throttler) pair at every stress level. */
#include <errno.h>
#include <stdlib.h>
#include "throttlebot/plugin.h"


/*
 * The schedule is a pure function of a trial counter, so estimate() is exact
 * and a run can be reasoned about in advance: the baseline trials first, then
 * level by level (lowest first, so an interrupted run has every pair at the
 * low levels) every non-excluded pair, space->trials trials each.  Within a
 * level the pairs take turns, one trial each per round, so that a change in
 * the host's load touches every pair alike instead of making one of them look
 * like a bottleneck; one baseline trial after every `baseline_every` throttled
 * trials exposes such drift.
 */
struct exhaustive {
	const struct tb_space *space;
	size_t *pairs;             /* non-excluded s * nthrottlers + t, ascending */
	size_t npairs;
	unsigned long every;       /* throttled trials between baselines; 0: none */
	unsigned long trials;      /* per point */
	unsigned long total, done;
	struct tb_throttle throttle;
};

static const struct tb_setting_spec settings[] = {
	{ "baseline_every", TB_SETTING_INT, 0,
	  "one baseline trial after every this many trials (default 10, 0: none)" },
	{ NULL, 0, 0, NULL },
};

static int ex_init(const struct tb_host *h, const struct tb_config *cfg,
		   const struct tb_space *space, void **state)
{
	struct exhaustive *x;
	long long every = 10;
	unsigned long throttled;
	size_t s, t;
	int r;

	if (cfg && (r = h->get_int(h, cfg, "baseline_every", &every)) < 0 && r != -ENOENT)
		return r;
	if (every < 0)
		return h->config_error(h, cfg, "baseline_every",
				       "baseline_every must be 0 or more, not %lld", every);
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
	throttled = (unsigned long)x->npairs * space->nlevels * x->trials;
	x->total = space->baseline_trials + throttled + (x->every ? throttled / x->every : 0);
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
	unsigned long k, per_level;
	size_t pair;

	if (x->done >= x->total)
		return 0;
	k = x->done++;
	e->n = 0;
	e->throttles = NULL;
	if (k < sp->baseline_trials)
		return 1;
	k -= sp->baseline_trials;
	if (x->every) {            /* groups of `every` throttled trials and a baseline */
		if (k % (x->every + 1) == x->every)
			return 1;
		k = k / (x->every + 1) * x->every + k % (x->every + 1);
	}
	per_level = x->npairs * x->trials;
	pair = x->pairs[k % per_level % x->npairs];     /* round-robin within the level */
	x->throttle.service = pair / sp->nthrottlers;
	x->throttle.throttler = pair % sp->nthrottlers;
	x->throttle.stress = sp->levels[k / per_level];
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
