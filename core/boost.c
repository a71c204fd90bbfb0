/* boost.c - the boost phase: which pairs get more of their resource, how, and what the paired trials say it gained. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "boost.h"
#include "log.h"
#include "rank.h"
#include "stats.h"

#define BOOTSTRAP_ROUNDS 1000

static int add_boost(struct tb_run *run, const struct tb_boost *b)
{
	struct tb_boost *grown = realloc(run->boosts, (run->nboosts + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	run->boosts = grown;
	grown[run->nboosts++] = *b;
	return 0;
}

/* Try one way of boosting b; on success it is undone at once and b says how. */
static int try_kind(struct tb_run *run, struct tb_boost *b, enum tb_change_kind kind, double factor)
{
	struct tb_change c;
	int r;

	b->kind = kind;
	b->factor = factor;
	r = tb_boost_make(run, b, &c, b->error, sizeof(b->error));
	if (r < 0)
		return r;
	snprintf(b->how, sizeof(b->how), "%s", c.how);
	b->error[0] = '\0';
	r = tb_change_undo(run, &c);
	tb_change_free(&c);
	return r < 0 ? -EIO : 0;     /* the host is not as found: no more boosts */
}

/*
 * Raise the pair's own limit where it has one with headroom; else (no limit
 * of its own, none the throttler can read, or none left to give) raise its
 * share where it contends.  -EOPNOTSUPP when the throttler can do neither,
 * -EIO when a trial change could not be undone.
 */
static int consider(struct tb_run *run, size_t s, size_t t, int imr, int mimr)
{
	struct tb_boost b = { .service = s, .throttler = t, .imr = imr, .mimr = mimr };
	double amount;
	int r = tb_alloc_read(run, s, t, &amount);

	char first[sizeof(b.error)] = "";

	if (r == 0)
		r = try_kind(run, &b, TB_CHANGE_ALLOCATE, run->conf->boost_factor);
	if (r == -ERANGE)
		snprintf(first, sizeof(first), "no headroom: its limit x%g would pass what the host can "
			 "give", run->conf->boost_factor);
	if (r == -ENODATA || r == -ERANGE || r == -EOPNOTSUPP)
		r = try_kind(run, &b, TB_CHANGE_PRIORITIZE, run->conf->boost_priority);
	if (r < 0 && first[0]) {          /* both ways said why: keep both */
		char second[sizeof(b.error)];

		snprintf(second, sizeof(second), "%s", b.error);
		snprintf(b.error, sizeof(b.error), "%.126s; %.126s", first, second);
	}
	if (r == -EIO)
		return r;
	/* A throttler that has neither way has nothing to say about any pair. */
	if (r == -EOPNOTSUPP && !first[0] && !imr) {
		tb_debug("boost: %s %s skipped: %s", run->service_names[s], run->throttler_names[t],
			 b.error);
		return 0;
	}
	if (r < 0)
		tb_warn("boost: cannot boost %s%s %s: %s", imr ? "the IMR " : "", run->service_names[s],
			run->throttler_names[t], b.error);
	else
		tb_info("boost: %s %s: %s", run->service_names[s], run->throttler_names[t], b.how);
	return add_boost(run, &b);
}

/* Consider each pair once, while the budget lasts. */
static int visit(struct tb_run *run, unsigned char *seen, size_t s, size_t t, int imr, int mimr)
{
	size_t at = s * run->nthrottlers + t;
	int r;

	if (seen[at] || run->excluded[at] || run->nboosts >= run->conf->boost_max_pairs)
		return 0;
	seen[at] = 1;
	r = consider(run, s, t, imr, mimr);
	/* A pair that cannot be boosted (its target gone, say) does not stop the others. */
	return r == -EIO || r == -ENOMEM || r == -EINTR ? r : 0;
}

int tb_boost_pick(struct tb_run *run)
{
	size_t np = run->inv.nservices * run->nthrottlers;
	unsigned char *seen = calloc(np ? np : 1, 1);
	struct tb_ranking rk;
	int r;

	if (!seen)
		return -ENOMEM;
	r = tb_rank(&run->results, 0, run->conf->alpha, run->conf->min_effect, &rk);
	if (r < 0) {
		free(seen);
		return r;
	}
	if (rk.mimr >= 0)
		r = visit(run, seen, rk.pairs[rk.mimr].service, rk.pairs[rk.mimr].throttler, 1, 1);
	for (size_t i = 0; r == 0 && i < rk.npairs; i++)
		if (rk.pairs[i].imr)
			r = visit(run, seen, rk.pairs[i].service, rk.pairs[i].throttler, 1, 0);
	/* Then the pairs the search did not call IMRs: where throttling hurt
	 * little or nothing, more may still help (a limit of the pair's own that
	 * the throttle never reached). */
	for (size_t i = 0; r == 0 && run->conf->boost_all && i < rk.npairs; i++)
		r = visit(run, seen, rk.pairs[i].service, rk.pairs[i].throttler, 0, 0);
	for (size_t i = 0; r == 0 && run->conf->boost_all && i < np; i++)
		r = visit(run, seen, i / run->nthrottlers, i % run->nthrottlers, 0, 0);
	tb_ranking_free(&rk);
	free(seen);
	return r;
}

int tb_boost_make(struct tb_run *run, const struct tb_boost *b, struct tb_change *c, char *err,
		  size_t errlen)
{
	return tb_change_make(run, b->service, b->throttler, b->kind, b->factor, c, err, errlen);
}

unsigned tb_boost_trials(const struct tb_run *run)
{
	double n = 0;
	unsigned want;

	for (size_t k = 0; k < run->nboosts; k++)
		n += !run->boosts[k].error[0];
	n = n > 0 ? n : 1;
	if (run->conf->boost_trials) {
		if (ldexp(n, -(int)run->conf->boost_trials) >= run->conf->alpha)
			tb_warn("boost: %u trials per pair cannot confirm a gain over %.0f pairs at "
				"significance %g, however large: raise boost_trials or leave it out",
				run->conf->boost_trials, n, run->conf->alpha);
		return run->conf->boost_trials;
	}
	/* n pairs all one way give a signed-rank p of 2^-n: enough of them for
	 * the smallest Holm-adjusted p to pass, and a few more for the noise. */
	want = (unsigned)ceil(log2(n / run->conf->alpha)) + 3;
	return want > 2 * run->conf->trials ? want : 2 * run->conf->trials;
}

/* The baseline trial run beside boosted trial i, or NULL. */
static const struct tb_trial_result *beside(const struct tb_results *res, size_t i)
{
	unsigned with = res->trials[i].paired_with;

	for (size_t j = i ? i - 1 : i + 1; j <= i + 1 && j < res->ntrials; j += 2)
		if (res->trials[j].index == with)
			return &res->trials[j];
	return NULL;
}

/* Each pair of trials' gain, positive when the boosted trial did better. */
static int collect_gains(const struct tb_run *run, size_t k, struct tb_boost *b)
{
	const struct tb_results *res = &run->results;
	double sign = res->values[0].direction == TB_HIGHER_IS_BETTER ? 1 : -1;

	free(b->gains);
	b->n = 0;
	b->gains = malloc((res->ntrials ? res->ntrials : 1) * sizeof(*b->gains));
	if (!b->gains)
		return -ENOMEM;
	for (size_t i = 0; i < res->ntrials; i++) {
		const struct tb_trial_result *t = &res->trials[i], *a;
		double before, after;

		if (t->boost != k + 1 || !t->boosted || t->failed || !(a = beside(res, i)) || a->failed)
			continue;
		before = a->values[0];
		after = t->values[0];
		if (isfinite(before) && isfinite(after) && before != 0)
			b->gains[b->n++] = sign * (after / before - 1);
	}
	return 0;
}

int tb_boost_judge(struct tb_run *run)
{
	double *p = malloc((run->nboosts ? run->nboosts : 1) * sizeof(*p));
	double *adjusted = malloc((run->nboosts ? run->nboosts : 1) * sizeof(*adjusted));
	size_t *which = malloc((run->nboosts ? run->nboosts : 1) * sizeof(*which)), m = 0;
	int r = p && adjusted && which ? 0 : -ENOMEM;

	for (size_t k = 0; r == 0 && k < run->nboosts; k++) {
		struct tb_boost *b = &run->boosts[k];
		double up, down;

		b->gain = b->ci_low = b->ci_high = b->p_value = b->adjusted_p = NAN;
		b->confirmed = 0;
		r = collect_gains(run, k, b);
		if (r < 0 || b->n == 0)
			continue;
		b->gain = tb_median(b->gains, b->n);
		tb_bootstrap_median(b->gains, b->n, BOOTSTRAP_ROUNDS, &b->ci_low, &b->ci_high);
		tb_signed_rank(b->gains, b->n, &up, &down);
		b->p_value = up;
		p[m] = up;
		which[m++] = k;
	}
	if (r == 0 && m > 0)
		r = tb_holm(p, m, adjusted);
	/* Confirmed: the gain is significant after Holm, and as large as an
	 * IMR's degradation has to be (min_effect). */
	for (size_t i = 0; r == 0 && i < m; i++) {
		struct tb_boost *b = &run->boosts[which[i]];

		b->adjusted_p = adjusted[i];
		b->confirmed = adjusted[i] < run->conf->alpha && b->gain > 0 &&
			       b->gain >= run->conf->min_effect;
	}
	free(p);
	free(adjusted);
	free(which);
	return r;
}

void tb_boosts_free(struct tb_run *run)
{
	for (size_t k = 0; k < run->nboosts; k++)
		free(run->boosts[k].gains);
	free(run->boosts);
	run->boosts = NULL;
	run->nboosts = 0;
}
