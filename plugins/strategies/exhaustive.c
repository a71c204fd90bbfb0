/* exhaustive.c - the baseline strategy: every (service, throttler) pair at every stress level. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "throttlebot/plugin.h"


/*
 * The schedule is fixed in advance, so estimate() is exact and a run can be
 * reasoned about before it starts: the baseline trials first, then
 * space->trials passes, each over every (non-excluded pair, level) point once
 * in a random order drawn from the run's seed.  One baseline trial after every
 * `baseline_every` throttled trials closes a round, and the core judges every
 * trial against the baselines around it.  Levels are mixed in time rather
 * than run one after the other: a host that slows down during the run then
 * touches every level alike, and drift cannot pass for a dose-response.
 * After one pass every pair has been tried at every level.
 */
struct exhaustive {
	const struct tb_space *space;
	size_t *pairs;             /* non-excluded s * nthrottlers + t, ascending */
	size_t npairs;
	unsigned long every;       /* throttled trials between baselines; 0: none */
	unsigned long trials;      /* per point */
	unsigned long total, done;
	size_t *order;             /* throttled trial k: point pair * nlevels + level */
	struct tb_throttle throttle;
};

static const struct tb_setting_spec settings[] = {
	{ "baseline_every", TB_SETTING_INT, 0,
	  "one baseline trial after every this many trials (default 10, 0: none)" },
	{ NULL, 0, 0, NULL },
};

static void ex_fini(void *state)
{
	struct exhaustive *x = state;

	if (x) {
		free(x->pairs);
		free(x->order);
	}
	free(x);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Every pass a fresh random order of all the points (Fisher-Yates). */
static int shuffle(struct exhaustive *x, uint64_t seed, unsigned long throttled)
{
	size_t points = x->npairs * x->space->nlevels;

	x->order = malloc((throttled ? throttled : 1) * sizeof(*x->order));
	if (!x->order)
		return -ENOMEM;
	for (unsigned long pass = 0; pass < x->trials && points > 0; pass++) {
		size_t *o = x->order + pass * points;

		for (size_t i = 0; i < points; i++)
			o[i] = i;
		for (size_t i = points; i > 1; i--) {
			size_t j = splitmix64(&seed) % i, t = o[i - 1];

			o[i - 1] = o[j];
			o[j] = t;
		}
	}
	return 0;
}

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
	/* A 1.0 host has no seed in the space: its schedule is then seed 0's. */
	if (shuffle(x, TB_ABI_VERSION_MINOR(h->abi) >= 1 ? space->seed : 0, throttled) < 0) {
		ex_fini(x);
		return -ENOMEM;
	}
	x->total = space->baseline_trials + throttled + (x->every ? throttled / x->every : 0);
	TB_LOG(h, TB_LOG_DEBUG, "%zu pairs x %zu levels x %lu trials: %lu trials in all",
	       x->npairs, space->nlevels, x->trials, x->total);
	*state = x;
	return 0;
}

static int ex_next(void *state, struct tb_experiment *e)
{
	struct exhaustive *x = state;
	const struct tb_space *sp = x->space;
	unsigned long k;
	size_t point, pair;

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
	point = x->order[k];
	pair = x->pairs[point / sp->nlevels];
	x->throttle.service = pair / sp->nthrottlers;
	x->throttle.throttler = pair % sp->nthrottlers;
	x->throttle.stress = sp->levels[point % sp->nlevels];
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
