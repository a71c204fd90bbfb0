/* stats.c - quantiles, rank tests (Mann-Whitney, Jonckheere-Terpstra), bootstrap intervals and Holm's adjustment. */
#define _GNU_SOURCE
#include <errno.h>
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

void tb_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

/* The k-th smallest of v[0..n), reordering v so that everything before k is
 * <= it and everything after >= it (Wirth's selection). */
static double select_kth(double *v, size_t n, size_t k)
{
	long lo = 0, hi = (long)n - 1, at = (long)k;

	while (lo < hi) {
		double pivot = v[at], t;
		long i = lo, j = hi;

		do {
			while (v[i] < pivot)
				i++;
			while (pivot < v[j])
				j--;
			if (i <= j) {
				t = v[i];
				v[i++] = v[j];
				v[j--] = t;
			}
		} while (i <= j);
		if (j < at)
			lo = i;
		if (at < i)
			hi = j;
	}
	return v[k];
}

/* The q-quantile of v, reordering v. */
static double quantile_in_place(double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1), x;
	size_t i = (size_t)pos;

	x = select_kth(v, n, i);
	if (i + 1 < n && pos > (double)i) {
		/* After selection, everything above index i is >= v[i]. */
		double next = tb_min(v + i + 1, n - i - 1);

		x += (pos - (double)i) * (next - x);
	}
	return x;
}

double tb_quantile(const double *v, size_t n, double q)
{
	double small[64], *s = n <= 64 ? small : malloc(n * sizeof(*s)), x;

	if (n == 0 || !s)
		return NAN;
	memcpy(s, v, n * sizeof(*s));
	x = quantile_in_place(s, n, q);
	if (s != small)
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

uint64_t tb_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void tb_bootstrap_median(const double *x, size_t n, unsigned rounds, double *lo, double *hi)
{
	double *medians = malloc(rounds * sizeof(*medians));
	double *buf = malloc((n ? n : 1) * sizeof(*buf));
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	*lo = *hi = NAN;
	if (medians && buf && n > 0 && rounds > 0) {
		for (unsigned r = 0; r < rounds; r++) {
			for (size_t i = 0; i < n; i++)
				buf[i] = x[tb_xorshift(&seed) % n];
			medians[r] = quantile_in_place(buf, n, 0.5);
		}
		*lo = quantile_in_place(medians, rounds, 0.025);
		*hi = quantile_in_place(medians, rounds, 0.975);
	}
	free(medians);
	free(buf);
}

/* How many of the sorted y are below x, ties counting one half. */
static double count_below(double x, const double *y, size_t ny)
{
	size_t lo = 0, hi = ny, below, upto;

	while (lo < hi) {              /* first y >= x */
		size_t mid = lo + (hi - lo) / 2;

		if (y[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	below = lo;
	hi = ny;
	while (lo < hi) {              /* first y > x */
		size_t mid = lo + (hi - lo) / 2;

		if (y[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	upto = lo;
	return (double)below + 0.5 * (double)(upto - below);
}

static void normal_tails(double stat, double mean, double var, double *up, double *down)
{
	double sd = sqrt(var);

	if (!(sd > 0)) {
		*up = *down = 1.0;
		return;
	}
	*up = 0.5 * erfc((stat - mean - 0.5) / sd / sqrt(2));
	*down = 0.5 * erfc((mean - stat - 0.5) / sd / sqrt(2));
	*up = *up > 1 ? 1 : *up;
	*down = *down > 1 ? 1 : *down;
}

void tb_mann_whitney_sorted(const double *x, size_t nx, const double *y_sorted, size_t ny,
			    double *up, double *down)
{
	double u = 0;

	if (nx == 0 || ny == 0) {
		*up = *down = 1.0;
		return;
	}
	if (nx * ny <= 400) {          /* small: exact, from the unsorted-sample test */
		*up = tb_mann_whitney_greater(x, nx, y_sorted, ny);
		*down = tb_mann_whitney_greater(y_sorted, ny, x, nx);
		return;
	}
	for (size_t i = 0; i < nx; i++)
		u += count_below(x[i], y_sorted, ny);
	normal_tails(u, (double)nx * (double)ny / 2,
		     (double)nx * (double)ny * (double)(nx + ny + 1) / 12, up, down);
}

void tb_trend_test(const double *base_sorted, size_t nbase, const double *const *groups,
		   const size_t *sizes, size_t k, double *up, double *down)
{
	double j = 0, total = (double)nbase, squares = (double)nbase * nbase;
	double cubes = (double)nbase * nbase * (2.0 * nbase + 3);

	for (size_t g = 0; g < k; g++) {
		double n = (double)sizes[g];

		total += n;
		squares += n * n;
		cubes += n * n * (2 * n + 3);
		for (size_t i = 0; i < sizes[g]; i++) {
			double x = groups[g][i];

			j += count_below(x, base_sorted, nbase);
			for (size_t e = 0; e < g; e++)        /* earlier doses below x */
				for (size_t m = 0; m < sizes[e]; m++)
					j += groups[e][m] < x ? 1 : groups[e][m] == x ? 0.5 : 0;
		}
	}
	normal_tails(j, (total * total - squares) / 4,
		     (total * total * (2 * total + 3) - cubes) / 72, up, down);
}

struct ranked_d {
	double abs;
	int positive;
};

static int by_abs(const void *a, const void *b)
{
	const struct ranked_d *x = a, *y = b;

	return (x->abs > y->abs) - (x->abs < y->abs);
}

/* P(W+ >= w) for n untied ranks: the count of subsets of 1..n by rank sum. */
static double exact_signed_rank_tail(size_t n, double w)
{
	size_t top = n * (n + 1) / 2;
	double *count = calloc(top + 1, sizeof(*count)), total = 0, tail = 0;

	if (!count)
		return NAN;
	count[0] = 1;
	for (size_t k = 1; k <= n; k++)
		for (size_t s = top; s >= k; s--)
			count[s] += count[s - k];
	for (size_t s = 0; s <= top; s++) {
		total += count[s];
		if ((double)s >= w - 1e-9)
			tail += count[s];
	}
	free(count);
	return tail / total;
}

void tb_signed_rank(const double *d, size_t n, double *up, double *down)
{
	struct ranked_d *r = malloc((n ? n : 1) * sizeof(*r));
	double w = 0, ties = 0;
	size_t m = 0, i, k;

	*up = *down = 1;
	if (!r)
		return;
	for (i = 0; i < n; i++)
		if (d[i] != 0 && isfinite(d[i])) {     /* zeros say nothing either way */
			r[m].abs = fabs(d[i]);
			r[m++].positive = d[i] > 0;
		}
	qsort(r, m, sizeof(*r), by_abs);
	for (i = 0; i < m; i = k) {                 /* mid-ranks over ties */
		for (k = i + 1; k < m && r[k].abs == r[i].abs; k++)
			;
		for (size_t j = i; j < k; j++)
			w += r[j].positive ? (double)(i + k + 1) / 2 : 0;
		ties += pow((double)(k - i), 3) - (double)(k - i);
	}
	free(r);
	if (m == 0)
		return;
	if (ties == 0 && m <= 40) {
		*up = exact_signed_rank_tail(m, w);
		*down = exact_signed_rank_tail(m, (double)m * (m + 1) / 2 - w);
		return;
	}
	normal_tails(w, (double)m * (m + 1) / 4, (double)m * (m + 1) * (2 * m + 1) / 24 - ties / 48,
		     up, down);
}

struct ranked_p {
	double p;
	size_t at;
};

static int by_p(const void *a, const void *b)
{
	const struct ranked_p *x = a, *y = b;

	return (x->p > y->p) - (x->p < y->p);
}

int tb_holm(const double *p, size_t n, double *adjusted)
{
	struct ranked_p *r = malloc((n ? n : 1) * sizeof(*r));
	double running = 0;

	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r[i].p = isnan(p[i]) ? 1 : p[i];
		r[i].at = i;
	}
	qsort(r, n, sizeof(*r), by_p);
	for (size_t i = 0; i < n; i++) {
		double a = (double)(n - i) * r[i].p;

		running = a > running ? a : running;
		adjusted[r[i].at] = running < 1 ? running : 1;
	}
	free(r);
	return 0;
}
