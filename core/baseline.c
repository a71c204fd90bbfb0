/* baseline.c - the time-local baseline: a running median of the baseline trials, interpolated in time. */
#include <math.h>
#include "baseline.h"

/* The series with one element left out, seen through its index. */
struct view {
	const struct tb_baseline_series *b;
	size_t skip, n;
};

static size_t raw(const struct view *v, size_t j)
{
	return v->skip != TB_BASELINE_KEEP_ALL && j >= v->skip ? j + 1 : j;
}

static double value(const struct view *v, size_t j)
{
	return v->b->value[raw(v, j)];
}

static double median3(double a, double b, double c)
{
	if (a > b) {
		double t = a;

		a = b;
		b = t;
	}
	return c < a ? a : c > b ? b : c;
}

/* The running median of three at j (0 < j < n - 1). */
static double inner(const struct view *v, size_t j)
{
	return median3(value(v, j - 1), value(v, j), value(v, j + 1));
}

static double smoothed(const struct view *v, size_t j)
{
	size_t n = v->n;

	if (n < 3)
		return n == 2 ? (value(v, 0) + value(v, 1)) / 2 : value(v, 0);
	if (j > 0 && j < n - 1)
		return inner(v, j);
	/* Tukey's end rule: the end value, its smoothed neighbour, and the
	 * line through the two smoothed neighbours extended to the end. */
	if (j == 0)
		return median3(value(v, 0), n > 3 ? inner(v, 1) : value(v, 1),
			       n > 3 ? 3 * inner(v, 1) - 2 * inner(v, 2) : value(v, 1));
	return median3(value(v, n - 1), n > 3 ? inner(v, n - 2) : value(v, n - 2),
		       n > 3 ? 3 * inner(v, n - 2) - 2 * inner(v, n - 3) : value(v, n - 2));
}

static double at(const struct view *v, size_t j)
{
	return v->b->at[raw(v, j)];
}

double tb_baseline_at(const struct tb_baseline_series *b, double t, size_t skip)
{
	struct view v = { b, skip, b->n - (skip != TB_BASELINE_KEEP_ALL && skip < b->n) };
	size_t lo = 0, hi;
	double t0, t1;

	if (v.n == 0)
		return NAN;
	hi = v.n;
	while (lo < hi) {              /* the first baseline after t */
		size_t mid = lo + (hi - lo) / 2;

		if (at(&v, mid) <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return smoothed(&v, 0);
	if (lo == v.n)
		return smoothed(&v, v.n - 1);
	t0 = at(&v, lo - 1);
	t1 = at(&v, lo);
	return smoothed(&v, lo - 1) + (t - t0) / (t1 - t0) * (smoothed(&v, lo) - smoothed(&v, lo - 1));
}
