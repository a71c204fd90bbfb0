/* fake_strategy.c - a strategy built to an older ABI (1.0, or another major) for the compatibility test. */
#include <errno.h>
#include <stdlib.h>
#include <throttlebot/plugin.h>

#ifndef FAKE_MAJOR
#define FAKE_MAJOR 1
#endif

/*
 * struct tb_space as ABI 1.0 defined it, before 1.1 appended the seed: the
 * plugin reads the host's space through this copy, as a plugin compiled
 * against the 1.0 header would, so a member the host moved shows up as a
 * wrong count of pairs or trials.
 */
struct space_1_0 {
	size_t nservices;
	const char *const *services;
	size_t nthrottlers;
	const char *const *throttlers;
	const char *const *resources;
	const unsigned char *excluded;
	size_t nlevels;
	const double *levels;
	unsigned trials;
	unsigned baseline_trials;
	enum tb_direction direction;
};

/* The baseline trials, then every pair once at the highest level, then one baseline. */
struct fake {
	const struct space_1_0 *space;
	unsigned long next, total;
	size_t *pairs, npairs;
	struct tb_throttle throttle;
};

static int init(const struct tb_host *h, const struct tb_config *cfg,
		const struct tb_space *space, void **state)
{
	const struct space_1_0 *sp = (const void *)space;
	size_t n = sp->nservices * sp->nthrottlers;
	struct fake *x = calloc(1, sizeof(*x));

	(void)cfg;
	if (!x || !(x->pairs = calloc(n ? n : 1, sizeof(*x->pairs)))) {
		free(x);
		return -ENOMEM;
	}
	x->space = sp;
	for (size_t i = 0; i < n; i++)
		if (!sp->excluded || !sp->excluded[i])
			x->pairs[x->npairs++] = i;
	x->total = sp->baseline_trials + x->npairs + 1;
	TB_LOG(h, TB_LOG_INFO, "ABI 1.0 strategy: %zu services, %zu throttlers, %zu pairs, %lu trials",
	       sp->nservices, sp->nthrottlers, x->npairs, x->total);
	*state = x;
	return 0;
}

static void fini(void *state)
{
	struct fake *x = state;

	free(x->pairs);
	free(x);
}

static int next(void *state, struct tb_experiment *e)
{
	struct fake *x = state;
	const struct space_1_0 *sp = x->space;
	unsigned long k;

	if (x->next >= x->total)
		return 0;
	k = x->next++;
	e->n = 0;
	e->throttles = NULL;
	if (k < sp->baseline_trials || k - sp->baseline_trials >= x->npairs)
		return 1;
	k -= sp->baseline_trials;
	x->throttle.service = x->pairs[k] / sp->nthrottlers;
	x->throttle.throttler = x->pairs[k] % sp->nthrottlers;
	x->throttle.stress = sp->levels[sp->nlevels - 1];
	e->n = 1;
	e->throttles = &x->throttle;
	return 1;
}

static void observe(void *state, const struct tb_experiment *e, double value, int failed)
{
	(void)state, (void)e, (void)value, (void)failed;
}

static unsigned long estimate(void *state)
{
	return ((struct fake *)state)->total;
}

TB_PLUGIN_DEFINE(tb_strategy) = {
	.header = { TB_ABI_VERSION(FAKE_MAJOR, 0), TB_KIND_STRATEGY, FAKE_NAME,
		    "a strategy of an older ABI, for the compatibility test", "1", NULL, 0 },
	.init = init,
	.fini = fini,
	.next = next,
	.observe = observe,
	.estimate = estimate,
};
