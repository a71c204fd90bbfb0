/* top_level.c - an out-of-tree strategy: the baseline, then every pair at the highest stress level only. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <throttlebot/plugin.h>

/*
 * A quick first look at an application: one stress level instead of all of
 * them, pairs taking turns so that drift touches them alike, and a baseline
 * trial after every round.  Built like cpu_weight.c, against the installed
 * header only.
 */
struct top_level {
	const struct tb_space *space;
	size_t *pairs, npairs;       /* non-excluded s * nthrottlers + t */
	unsigned long next, total;   /* trials handed out, and in all */
	struct tb_throttle throttle;
};

static int init(const struct tb_host *h, const struct tb_config *cfg,
		const struct tb_space *space, void **state)
{
	struct top_level *x = calloc(1, sizeof(*x));
	size_t n = space->nservices * space->nthrottlers;

	if (!x || !(x->pairs = calloc(n ? n : 1, sizeof(*x->pairs)))) {
		free(x);
		return -ENOMEM;
	}
	x->space = space;
	for (size_t i = 0; i < n; i++)
		if (!space->excluded || !space->excluded[i])
			x->pairs[x->npairs++] = i;
	/* Each round: every pair once, then a baseline trial. */
	x->total = space->baseline_trials + (unsigned long)space->trials * (x->npairs + 1);
	TB_LOG(h, TB_LOG_INFO, "%zu pairs at stress %.2f, %lu trials", x->npairs,
	       space->levels[space->nlevels - 1], x->total);
	*state = x;
	return 0;
}

static void fini(void *state)
{
	struct top_level *x = state;

	free(x->pairs);
	free(x);
}

static int next(void *state, struct tb_experiment *e)
{
	struct top_level *x = state;
	const struct tb_space *sp = x->space;
	unsigned long k;
	size_t pair;

	if (x->next >= x->total)
		return 0;
	k = x->next++;
	e->n = 0;
	e->throttles = NULL;
	if (k < sp->baseline_trials)
		return 1;
	k = (k - sp->baseline_trials) % (x->npairs + 1);
	if (k == x->npairs)
		return 1;            /* the round's baseline trial */
	pair = x->pairs[k];
	x->throttle.service = pair / sp->nthrottlers;
	x->throttle.throttler = pair % sp->nthrottlers;
	x->throttle.stress = sp->levels[sp->nlevels - 1];
	e->n = 1;
	e->throttles = &x->throttle;
	return 1;
}

static void observe(void *state, const struct tb_experiment *e, double value, int failed)
{
	(void)state, (void)e, (void)value, (void)failed;   /* the order is fixed */
}

static unsigned long estimate(void *state)
{
	return ((struct top_level *)state)->total;
}

TB_PLUGIN_DEFINE(tb_strategy) = {
	.header = { TB_ABI_CURRENT, TB_KIND_STRATEGY, "top_level",
		    "every pair at the highest stress level only; an example plugin", "1.0", NULL },
	.init = init,
	.fini = fini,
	.next = next,
	.observe = observe,
	.estimate = estimate,
};
