/* rank.h - turn trials into IMRs and a MIMR, per metric, with significance against the baseline. */
#ifndef TB_RANK_H
#define TB_RANK_H

#include "results.h"

struct tb_point {
	double stress;
	size_t n, failed;
	double *values;                /* the successful trials' values */
	double median, delta, degradation, ci_low, ci_high, p_value;
	int significant, paradox;
};

struct tb_pair {
	size_t service, throttler;
	size_t npoints;
	struct tb_point *points;       /* ascending stress */
	size_t headline;               /* the point that sums the pair up (see rank.c) */
	int imr, paradox;
};

struct tb_ranking {
	size_t value;                  /* index into results->values */
	size_t nbaseline;
	double *baseline;
	double base_median, base_min, base_max;
	/* The baseline's spread, as the test uses it: its range without far
	 * outliers (beyond 3 IQR of the quartiles, with 8 trials or more), so
	 * one wild baseline trial cannot hide every IMR. */
	double band_low, band_high;
	size_t npairs;
	struct tb_pair *pairs;         /* sorted: largest headline degradation first */
	long mimr;                     /* index into pairs, or -1 */
	long runner_up;                /* the next pair after the MIMR, or -1 */
	double margin;                 /* MIMR's degradation minus the runner-up's at that level */
};

/*
 * Rank value v of every trial.  A point (pair at a level) is significant when
 * a one-sided Mann-Whitney test against the baseline gives p < alpha AND its
 * median lies beyond the worst baseline trial (far outliers aside): a degradation within the
 * baseline's own spread is never an IMR, however many trials; nor is one
 * smaller than min_effect (a fraction of the baseline median).  A significant
 * improvement beyond the best baseline trial is a paradox.
 */
int tb_rank(const struct tb_results *res, size_t v, double alpha, double min_effect,
	    struct tb_ranking *out);
void tb_ranking_free(struct tb_ranking *r);

static inline const struct tb_point *tb_pair_headline(const struct tb_pair *p)
{
	return &p->points[p->headline];
}

#endif
