/* stats.h - the statistics ranking rests on: medians, Mann-Whitney U, bootstrap intervals. */
#ifndef TB_STATS_H
#define TB_STATS_H

#include <stddef.h>

double tb_median(const double *v, size_t n);
double tb_min(const double *v, size_t n);
double tb_max(const double *v, size_t n);
/* The q-quantile (0..1) of v, linearly interpolated. */
double tb_quantile(const double *v, size_t n, double q);

/* One-sided Mann-Whitney U test: the p-value of "x tends to be greater than
 * y".  Exact for small samples (no ties correction needed there), normal
 * approximation with continuity and tie correction above. */
double tb_mann_whitney_greater(const double *x, size_t nx, const double *y, size_t ny);

/* 95% bootstrap interval of (median(x) - median(y)) / median(y), with a
 * fixed seed so reports are reproducible. */
void tb_bootstrap_rel_change(const double *x, size_t nx, const double *y, size_t ny,
			     unsigned rounds, double *lo, double *hi);

#endif
