/* boost.h - the boost phase: give a pair more of its resource and measure, against paired baselines, what it gains. */
#ifndef TB_BOOST_H
#define TB_BOOST_H

#include "allocate.h"
#include "run.h"

/*
 * One boosted (service, throttler) pair.  Its trials are untouched trials
 * of the application, with the boost made just before and undone just
 * after; each has a baseline trial of its own beside it, the order drawn
 * by a coin (loop.c), so each pair of trials measures the gain on its own.
 */
struct tb_boost {
	size_t service, throttler;
	int imr, mimr;                 /* what the search made of the pair */
	enum tb_change_kind kind;
	double factor;
	char how[256];                 /* "limit 1 -> 1.5 share", "cpu.weight 100 -> 1000" */
	char error[256];               /* why it could not be boosted, or empty */
	size_t n;                      /* measured pairs of trials */
	double *gains;                 /* each pair's relative gain, positive = better */
	double gain, ci_low, ci_high;  /* their median and its 95% bootstrap interval */
	double p_value, adjusted_p;    /* one-sided signed-rank, and Holm over the boosts */
	int confirmed;
};

/*
 * Choose the pairs to boost from the primary metric's ranking: its IMRs, the
 * MIMR first; with boost_pairs = "all" then every other pair, in the
 * ranking's order, then the pairs the search left untried, up to
 * boost_max_pairs in all.  Each is tried once: its allocation raised by
 * boost_factor where it has a limit of its own with headroom, else its share
 * where it contends raised by boost_priority; the first way that works is
 * kept (and undone at once).  A pair whose throttler can do neither is
 * skipped, an IMR recorded with the reason.  Fills run->boosts.
 */
int tb_boost_pick(struct tb_run *run);

/* Make boost b's change again (it worked when picked).  0 or -errno, err says why. */
int tb_boost_make(struct tb_run *run, const struct tb_boost *b, struct tb_change *c, char *err,
		  size_t errlen);

/* Pairs of trials each boost gets: boost_trials, else enough for the
 * Holm-adjusted test over the boosts to be able to pass, at least 2 x trials. */
unsigned tb_boost_trials(const struct tb_run *run);

/* Judge every boost from the run's trials: gain, interval, p-values, confirmed. */
int tb_boost_judge(struct tb_run *run);

void tb_boosts_free(struct tb_run *run);

#endif
