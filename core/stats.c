/* stats.c - medians, the Mann-Whitney U test and bootstrap intervals, on small samples of trial results. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double tb_quantile(const double *v, size_t n, double q)
{
	double *s, pos, x;
	size_t i;

	if (n == 0)
		return NAN;
	s = malloc(n * sizeof(*s));
	if (!s)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	x = i + 1 < n ? s[i] + (pos - (double)i) * (s[i + 1] - s[i]) : s[n - 1];
	free(s);
	return x;
}

double tb_median(const double *v, size_t n)
{
	return tb_quantile(v, n, 0.5);
}

double tb_min(const double *v, size_t n)
{
	double m = INFINITY;

	for (size_t i = 0; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

double tb_max(const double *v, size_t n)
{
	double m = -INFINITY;

	for (size_t i = 0; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

/* U counts pairs (x_i, y_j) with x_i > y_j, ties as one half. */
static double u_statistic(const double *x, size_t nx, const double *y, size_t ny, int *ties)
{
	double u = 0;

	*ties = 0;
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++) {
			if (x[i] > y[j])
				u += 1;
			else if (x[i] == y[j]) {
				u += 0.5;
				*ties = 1;
			}
		}
	return u;
}

/* P(U >= u_obs) under the null.  The count of orderings giving U = u with m
 * x's and n y's follows from where the largest value is: an x beats all n
 * y's, c(u; m, n) = c(u - n; m - 1, n) + c(u; m, n - 1). */
static double exact_upper_tail(size_t m, size_t n, double u_obs)
{
	size_t width = m * n + 1, i, j, u;
	double *c = calloc((m + 1) * (n + 1) * width, sizeof(double));
	double total = 0, tail = 0, *last;

	if (!c)
		return NAN;
#define C(i, j) (c + ((i) * (n + 1) + (j)) * width)
	for (i = 0; i <= m; i++)
		for (j = 0; j <= n; j++) {
			if (i == 0 || j == 0) {
				C(i, j)[0] = 1;
				continue;
			}
			for (u = 0; u < width; u++)
				C(i, j)[u] = (u >= j ? C(i - 1, j)[u - j] : 0) + C(i, j - 1)[u];
		}
	last = C(m, n);
#undef C
	for (u = 0; u < width; u++) {
		total += last[u];
		if ((double)u >= u_obs - 1e-9)
			tail += last[u];
	}
	free(c);
	return tail / total;
}

double tb_mann_whitney_greater(const double *x, size_t nx, const double *y, size_t ny)
{
	int ties;
	double u, mu, sigma, z, tie_term = 0;
	size_t n = nx + ny;

	if (nx == 0 || ny == 0)
		return 1.0;
	u = u_statistic(x, nx, y, ny, &ties);
	if (!ties && nx * ny <= 400)
		return exact_upper_tail(nx, ny, u);
	/* Normal approximation with tie correction. */
	{
		double *all = malloc(n * sizeof(*all));
		size_t i, k;

		if (!all)
			return NAN;
		memcpy(all, x, nx * sizeof(*all));
		memcpy(all + nx, y, ny * sizeof(*all));
		qsort(all, n, sizeof(*all), cmp_double);
		for (i = 0; i < n; i = k) {
			for (k = i + 1; k < n && all[k] == all[i]; k++)
				;
			tie_term += pow((double)(k - i), 3) - (double)(k - i);
		}
		free(all);
	}
	mu = (double)nx * ny / 2;
	sigma = sqrt((double)nx * ny / 12 * ((n + 1) - tie_term / ((double)n * (n - 1))));
	if (sigma == 0)
		return 1.0;
	z = (u - mu - 0.5) / sigma;
	return 0.5 * erfc(z / sqrt(2));
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double resampled_median(const double *v, size_t n, double *buf, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = v[xorshift(seed) % n];
	qsort(buf, n, sizeof(*buf), cmp_double);
	return n % 2 ? buf[n / 2] : (buf[n / 2 - 1] + buf[n / 2]) / 2;
}

void tb_bootstrap_rel_change(const double *x, size_t nx, const double *y, size_t ny,
			     unsigned rounds, double *lo, double *hi)
{
	double *changes = malloc(rounds * sizeof(*changes));
	double *buf = malloc((nx > ny ? nx : ny) * sizeof(*buf));
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned r, kept = 0;

	*lo = *hi = NAN;
	if (!changes || !buf || nx == 0 || ny == 0) {
		free(changes);
		free(buf);
		return;
	}
	for (r = 0; r < rounds; r++) {
		double mx = resampled_median(x, nx, buf, &seed);
		double my = resampled_median(y, ny, buf, &seed);

		if (my != 0)
			changes[kept++] = (mx - my) / fabs(my);
	}
	if (kept > 0) {
		qsort(changes, kept, sizeof(*changes), cmp_double);
		*lo = changes[(size_t)(0.025 * (kept - 1))];
		*hi = changes[(size_t)ceil(0.975 * (kept - 1))];
	}
	free(changes);
	free(buf);
}
