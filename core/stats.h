/* stats.h - the statistics ranking rests on: quantiles, rank tests, bootstrap intervals, Holm. */
#ifndef TB_STATS_H
#define TB_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Quantiles by selection (no sort): v is left untouched. */
double tb_median(const double *v, size_t n);
double tb_min(const double *v, size_t n);
double tb_max(const double *v, size_t n);
/* The q-quantile (0..1) of v, linearly interpolated. */
double tb_quantile(const double *v, size_t n, double q);

/* One-sided Mann-Whitney U test: the p-value of "x tends to be greater than
 * y".  Exact for small samples (no ties correction needed there), normal
 * approximation with continuity and tie correction above.  Costs nx * ny. */
double tb_mann_whitney_greater(const double *x, size_t nx, const double *y, size_t ny);

/*
 * Both one-sided Mann-Whitney p-values of x against a large sample y that is
 * sorted ascending: up = "x tends to be greater", down = "smaller".  Costs
 * nx log ny, so a point can be held against every baseline of a long run.
 */
void tb_mann_whitney_sorted(const double *x, size_t nx, const double *y_sorted, size_t ny,
			    double *up, double *down);

/*
 * Jonckheere-Terpstra trend test over ordered groups: group 0 (sorted
 * ascending, typically large: the baselines) then groups[0..k-1] in order of
 * dose.  up is the p-value of "values increase with the dose", down of "they
 * decrease".  Normal approximation with continuity correction (its tail is
 * conservative for these bounded sums).  Costs (sum of n) log n0 plus the
 * square of the dosed trials.
 */
void tb_trend_test(const double *base_sorted, size_t nbase, const double *const *groups,
		   const size_t *sizes, size_t k, double *up, double *down);

/* Wilcoxon's signed-rank test of paired differences d: up is the p-value of
 * "they tend to be positive", down of "negative".  Exact without ties (up to
 * 40), normal approximation with tie correction otherwise. */
void tb_signed_rank(const double *d, size_t n, double *up, double *down);

/* Holm's step-down adjustment of n p-values (family-wise error control). */
int tb_holm(const double *p, size_t n, double *adjusted);

/* 95% bootstrap interval of the median of x, with a fixed seed so reports
 * are reproducible. */
/* The next number of a xorshift64 generator whose state (never 0) is *s:
 * every seeded draw of the core (schedules, coins, bootstraps) comes from it. */
uint64_t tb_xorshift(uint64_t *s);

void tb_bootstrap_median(const double *x, size_t n, unsigned rounds, double *lo, double *hi);

/* Sort ascending (for the *_sorted inputs above). */
void tb_sort(double *v, size_t n);

#endif
