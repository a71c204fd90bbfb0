/* rank.h - turn trials into IMRs and a MIMR, per metric: time-local baselines, a trend test per pair, Holm. */
#ifndef TB_RANK_H
#define TB_RANK_H

#include "results.h"

enum tb_verdict { TB_VERDICT_NONE, TB_VERDICT_IMR, TB_VERDICT_PARADOX, TB_VERDICT_UNDECIDED };

struct tb_point {
	double stress;
	size_t n, failed;
	double *values;                /* the successful trials' values */
	double *changes;               /* each relative to its local baseline */
	double *confirming;            /* 1 where the trial came from replication */
	double *paired;                /* replication trials, each against the */
	size_t npaired;                /* baseline trial run just before it */
	double median;                 /* of values */
	double local_baseline;         /* the median local baseline of its trials */
	double delta, degradation, ci_low, ci_high, p_value;
	int significant, paradox;
};

struct tb_pair {
	size_t service, throttler;
	size_t npoints;
	struct tb_point *points;       /* ascending stress */
	size_t headline;               /* the point that sums the pair up (see rank.c) */
	double trend_up, trend_down;   /* one-sided trend p-values: worse / better with stress */
	double trend_p, adjusted_p;    /* in the direction of the pair's change; Holm-adjusted */
	enum tb_verdict verdict;
	int imr, paradox;
	int replicated;                /* decided by the replication trials (verdict.c) */
};

struct tb_ranking {
	size_t value;                  /* index into results->values */
	size_t nbaseline;
	double *baseline;              /* the ranked baseline trials' values */
	double base_median, base_min, base_max;
	/* The baseline trials' own deviations from their local baseline (each
	 * left out of its own), degradation-signed, sorted: the null the pairs
	 * are held against; their quartiles (worse_band: the upper one for a
	 * degradation), and band_low/high: the same in metric units around
	 * base_median. */
	double *base_changes;
	size_t nchanges;
	double better_band, worse_band;
	double band_low, band_high;
	double *local;                 /* per trial of the results: its local baseline */
	size_t npairs;
	struct tb_pair *pairs;         /* IMRs, undecided, then by degradation */
	long mimr;                     /* index into pairs, or -1 */
	long runner_up;                /* the next pair after the MIMR, or -1 */
	double margin;                 /* MIMR's degradation minus the runner-up's at that level */
	int separated;                 /* the MIMR's interval clears the runner-up's */
	size_t nundecided;
};

/*
 * Rank value v of every trial (warm-up trials aside).  Each trial is taken
 * relative to its time-local baseline (baseline.h); each pair gets one
 * verdict from all its levels (verdict.c).  Pairs are ordered IMRs first,
 * then undecided, then by the degradation of their headline point.
 */
int tb_rank(const struct tb_results *res, size_t v, double alpha, double min_effect,
	    struct tb_ranking *out);
void tb_ranking_free(struct tb_ranking *r);

static inline const struct tb_point *tb_pair_headline(const struct tb_pair *p)
{
	return &p->points[p->headline];
}

const char *tb_verdict_name(enum tb_verdict v);

/* Each pair's verdict (verdict.c); sign is -1 when higher is better. */
int tb_verdicts(struct tb_ranking *r, double sign, double alpha, double min_effect);

/* The interval of a point's degradation (its bootstrap is of the change). */
static inline double tb_deg_low(const struct tb_point *pt, double sign)
{
	return sign > 0 ? pt->ci_low : -pt->ci_high;
}

static inline double tb_deg_high(const struct tb_point *pt, double sign)
{
	return sign > 0 ? pt->ci_high : -pt->ci_low;
}

#endif
