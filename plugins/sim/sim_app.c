/* sim_app.c - generate a call-tree application and evaluate its completion time under throttling. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim_app.h"

const char *const sim_resource_names[SIM_NRES] = { "cpu", "disk", "net" };

/* Typical work per resource: services compute more than they wait on I/O. */
static const double resource_scale[SIM_NRES] = { 1.0, 0.5, 0.3 };

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *g, uint64_t seed)
{
	g->s[0] = splitmix64(&seed);
	g->s[1] = splitmix64(&seed);
}

/* xorshift128+ */
uint64_t sim_rng_next(struct sim_rng *g)
{
	uint64_t a = g->s[0], b = g->s[1];

	g->s[0] = b;
	a ^= a << 23;
	g->s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	return g->s[1] + b;
}

double sim_rng_uniform(struct sim_rng *g)
{
	return (double)(sim_rng_next(g) >> 11) * 0x1.0p-53;
}

double sim_rng_gauss(struct sim_rng *g)
{
	double u = sim_rng_uniform(g), v = sim_rng_uniform(g);

	return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

double sim_noise_factor(struct sim_rng *g, double sd)
{
	double f = 1 + sd * sim_rng_gauss(g);

	return f < 0.05 ? 0.05 : f;
}

static double local_time(const struct sim_app *a, size_t s, const double *allow)
{
	double t = 0;

	for (size_t r = 0; r < SIM_NRES; r++)
		t += a->demand[s * SIM_NRES + r] / (allow ? allow[s * SIM_NRES + r] : 1);
	return t;
}

/* The service's time given its children's times t[]. */
static double service_time(const struct sim_app *a, size_t s, const double *allow, const double *t)
{
	double total = local_time(a, s, allow), slowest = 0;
	size_t c = a->first_child[s], end = c + a->nchildren[s];

	for (; c < end; c++) {
		if (c > a->first_child[s] && a->stage[c] != a->stage[c - 1]) {
			total += slowest;
			slowest = 0;
		}
		slowest = t[c] > slowest ? t[c] : slowest;
	}
	return total + slowest;
}

static void eval_all(const struct sim_app *a, const double *allow, double *t)
{
	for (size_t s = a->n; s-- > 0;)
		t[s] = service_time(a, s, allow, t);
}

double sim_app_eval(const struct sim_app *a, const double *allow)
{
	double *t = malloc(a->n * sizeof(*t)), v;

	if (!t)
		return NAN;
	eval_all(a, allow, t);
	v = t[0];
	free(t);
	return v;
}

static int desc(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return (a < b) - (a > b);
}

double sim_app_eval_sparse(struct sim_app *a, size_t k, const size_t *pair, const double *allow)
{
	size_t ntouched = 0, i;
	double v;

	for (i = 0; i < k; i++) {
		size_t s = pair[i] / SIM_NRES;

		a->allow[pair[i]] = allow[i];
		/* Only the throttled services and their callers change. */
		for (;;) {
			if (a->mark[s])
				break;
			a->mark[s] = 1;
			a->touched[ntouched++] = s;
			if (s == 0)
				break;
			s = a->parent[s];
		}
	}
	qsort(a->touched, ntouched, sizeof(*a->touched), desc);
	for (i = 0; i < ntouched; i++) {
		size_t s = a->touched[i];

		a->cur_t[s] = service_time(a, s, a->allow, a->cur_t);
	}
	v = a->cur_t[0];
	for (i = 0; i < ntouched; i++) {
		size_t s = a->touched[i];

		a->cur_t[s] = a->base_t[s];
		a->mark[s] = 0;
	}
	for (i = 0; i < k; i++)
		a->allow[pair[i]] = 1;
	return v;
}

static void compute_truth(struct sim_app *a)
{
	double allow = 1 - a->level, first = -INFINITY, second = -INFINITY;
	size_t p, np = a->n * SIM_NRES;

	eval_all(a, NULL, a->base_t);
	memcpy(a->cur_t, a->base_t, a->n * sizeof(*a->cur_t));
	a->base = a->base_t[0];
	a->mimr = a->runner_up = 0;
	for (p = 0; p < np; p++) {
		double d = sim_app_eval_sparse(a, 1, &p, &allow) / a->base - 1;

		a->truth[p] = d;
		if (d > first) {
			second = first;
			a->runner_up = a->mimr;
			first = d;
			a->mimr = p;
		} else if (d > second) {
			second = d;
			a->runner_up = p;
		}
	}
}

/* BFS numbering: each service takes its children from the next free numbers. */
static void generate_tree(struct sim_app *a, struct sim_rng *g)
{
	size_t next = 1, s;

	a->parent[0] = 0;
	a->stage[0] = 0;
	for (s = 0; s < a->n; s++) {
		size_t k = 0, c;

		if (next < a->n) {
			/* 30% leaves, else 1 to 4 calls; never let the tree stop early. */
			k = sim_rng_uniform(g) < 0.3 ? 0 : 1 + sim_rng_next(g) % 4;
			if (k == 0 && next == s + 1)
				k = 1;
			if (k > a->n - next)
				k = a->n - next;
		}
		a->first_child[s] = next;
		a->nchildren[s] = k;
		for (c = next; c < next + k; c++) {
			a->parent[c] = s;
			/* Half the calls run in parallel with the previous one. */
			a->stage[c] = c == next ? 0 : a->stage[c - 1] + (sim_rng_uniform(g) < 0.5);
		}
		next += k;
	}
}

/* Room for an application of n services, nothing throttled. */
static int app_alloc(struct sim_app *a, size_t n, double level)
{
	size_t np = n * SIM_NRES;

	memset(a, 0, sizeof(*a));
	if (n == 0)
		return -EINVAL;
	a->n = n;
	a->level = level;
	a->first_child = calloc(n, sizeof(*a->first_child));
	a->nchildren = calloc(n, sizeof(*a->nchildren));
	a->parent = calloc(n, sizeof(*a->parent));
	a->stage = calloc(n, sizeof(*a->stage));
	a->demand = calloc(np, sizeof(*a->demand));
	a->truth = calloc(np, sizeof(*a->truth));
	a->base_t = calloc(n, sizeof(*a->base_t));
	a->cur_t = calloc(n, sizeof(*a->cur_t));
	a->allow = malloc(np * sizeof(*a->allow));
	a->touched = calloc(n, sizeof(*a->touched));
	a->mark = calloc(n, 1);
	if (!a->first_child || !a->nchildren || !a->parent || !a->stage || !a->demand ||
	    !a->truth || !a->base_t || !a->cur_t || !a->allow || !a->touched || !a->mark) {
		sim_app_free(a);
		return -ENOMEM;
	}
	for (size_t s = 0; s < np; s++)
		a->allow[s] = 1;
	return 0;
}

int sim_app_generate(struct sim_app *a, uint64_t seed, size_t n, double margin, double level)
{
	struct sim_rng g;
	size_t s, r, np = n * SIM_NRES;
	int err = app_alloc(a, n, level);

	if (err < 0)
		return err;
	sim_rng_seed(&g, seed);
	generate_tree(a, &g);
	/* Heavy-tailed demands: a few services dominate, as in real applications. */
	for (s = 0; s < n; s++)
		for (r = 0; r < SIM_NRES; r++)
			a->demand[s * SIM_NRES + r] = resource_scale[r] * exp(1.2 * sim_rng_gauss(&g));
	compute_truth(a);
	for (int i = 0; margin > 0 && np > 1 && i < 60; i++) {
		if (a->truth[a->mimr] - a->truth[a->runner_up] >= margin)
			break;
		a->demand[a->mimr] *= 1.2;
		compute_truth(a);
	}
	return 0;
}

/* One service of a model: "PARENT STAGE CPU DISK NET", PARENT "-" for the
 * frontend.  Children must follow their parent's earlier children (the
 * breadth-first numbering the evaluation relies on). */
static int parse_service(struct sim_app *a, size_t s, const char *text)
{
	char parent[24];
	unsigned stage;
	double *d = &a->demand[s * SIM_NRES];
	int used = 0;

	if (sscanf(text, " %23s %u %lf %lf %lf %n", parent, &stage, &d[0], &d[1], &d[2], &used) != 5 ||
	    (text[used] && text[used] != ';'))
		return -EINVAL;
	for (int r = 0; r < SIM_NRES; r++)
		if (!(d[r] >= 0 && d[r] < 1e6))
			return -EINVAL;
	if (s == 0)
		return strcmp(parent, "-") == 0 ? 0 : -EINVAL;
	{
		char *end;
		unsigned long p = strtoul(parent, &end, 10);

		/* Siblings contiguous, stages nondecreasing among them. */
		if (*end || end == parent || p >= s || (s > 1 && p < a->parent[s - 1]))
			return -EINVAL;
		if (a->nchildren[p] == 0)
			a->first_child[p] = s;
		else if (a->first_child[p] + a->nchildren[p] != s || stage < a->stage[s - 1])
			return -EINVAL;
		a->nchildren[p]++;
		a->parent[s] = p;
		a->stage[s] = stage;
	}
	return 0;
}

int sim_app_parse(struct sim_app *a, const char *model, double level)
{
	size_t n = 1;
	int r;

	for (const char *c = model; *c; c++)
		n += *c == ';';
	if (n > 1000 || (r = app_alloc(a, n, level)) < 0)
		return n > 1000 ? -EINVAL : r;
	for (size_t s = 0; s < n; s++) {
		r = parse_service(a, s, model);
		if (r < 0) {
			sim_app_free(a);
			return r;
		}
		model = strchr(model, ';');
		model = model ? model + 1 : "";
	}
	compute_truth(a);
	return 0;
}

void sim_app_free(struct sim_app *a)
{
	free(a->first_child);
	free(a->nchildren);
	free(a->parent);
	free(a->stage);
	free(a->demand);
	free(a->truth);
	free(a->base_t);
	free(a->cur_t);
	free(a->allow);
	free(a->touched);
	free(a->mark);
	memset(a, 0, sizeof(*a));
}
