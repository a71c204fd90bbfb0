/* sim_app.h - a generated microservice application whose completion time is known in closed form. */
#ifndef TB_SIM_APP_H
#define TB_SIM_APP_H

#include <stddef.h>
#include <stdint.h>

#define SIM_NRES 3             /* cpu, disk, net */

/*
 * A call tree rooted at the frontend (service 0).  Services are numbered
 * breadth first, so a service's children are a contiguous range of higher
 * numbers.  Children are called in stages: the stages of a service run one
 * after the other, the calls within a stage in parallel.  A service's time is
 * its own work, sum over resources of demand / allowance, plus, per stage,
 * the slowest child.  The application's completion time is the frontend's.
 *
 * Throttling (service s, resource r) at stress k leaves allowance 1 - k.
 */
struct sim_app {
	size_t n;
	size_t *first_child, *nchildren;
	size_t *parent;            /* parent[0] = 0 */
	unsigned *stage;           /* within the parent's calls, nondecreasing */
	double *demand;            /* n * SIM_NRES, seconds at full allowance */
	double base;               /* completion time untouched */
	/* The truth at level `level`: relative degradation of every pair,
	 * the largest (the MIMR) and the next. */
	double level;
	double *truth;             /* n * SIM_NRES */
	size_t mimr, runner_up;
	/* Scratch for sparse evaluation. */
	double *base_t, *cur_t, *allow;
	size_t *touched;
	unsigned char *mark;
};

struct sim_rng {
	uint64_t s[2];
};

void sim_rng_seed(struct sim_rng *g, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *g);
double sim_rng_uniform(struct sim_rng *g);      /* [0, 1) */
double sim_rng_gauss(struct sim_rng *g);        /* N(0, 1) */

/*
 * Generate the application for (seed, n).  margin > 0 plants a clear MIMR:
 * the largest pair's demand grows until its degradation at stress `level`
 * exceeds the runner-up's by margin (in relative-degradation units).
 * 0 or -ENOMEM.
 */
int sim_app_generate(struct sim_app *a, uint64_t seed, size_t n, double margin, double level);
/*
 * Build the application a model describes instead: services separated by
 * ';', each "PARENT STAGE CPU DISK NET" (PARENT "-" for the frontend, the
 * demands in seconds at full allowance), numbered breadth first as above.
 * 0, -EINVAL for a model that breaks those rules, or -ENOMEM.
 */
int sim_app_parse(struct sim_app *a, const char *model, double level);
void sim_app_free(struct sim_app *a);

/* Completion time with the allowances allow[n * SIM_NRES] (NULL: all 1). */
double sim_app_eval(const struct sim_app *a, const double *allow);

/* Completion time with only k pairs (s * SIM_NRES + r) at allowance allow[i];
 * cost grows with the pairs' depth, not with n. */
double sim_app_eval_sparse(struct sim_app *a, size_t k, const size_t *pair, const double *allow);

/* Multiply by this for noise (relative standard deviation sd), never below 0.05. */
double sim_noise_factor(struct sim_rng *g, double sd);

extern const char *const sim_resource_names[SIM_NRES];

#endif
