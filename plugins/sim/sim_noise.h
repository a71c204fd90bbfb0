/* sim_noise.h - what a host does to a simulated trial: i.i.d. noise, drift, steps, outliers, a slow start. */
#ifndef TB_SIM_NOISE_H
#define TB_SIM_NOISE_H

#include <stdint.h>
#include "sim_app.h"

/*
 * The models compose: a trial's time is the model's, times the host's
 * slowness (drift and steps move it, kept within [1/2, 2]), times a cold
 * start factor, an outlier factor and an i.i.d. gaussian factor.  Each
 * model draws from its own stream of the one seed, a fixed count per trial,
 * so a model's disturbances depend only on the seed and the trial's number,
 * not on which other models are on.
 */
struct sim_noise {
	/* The settings: set them, then sim_noise_start(). */
	double noise;              /* relative sd of the i.i.d. factor */
	double drift;              /* sd of the log slowness's step per trial */
	double steps;              /* probability per trial of a step of the slowness */
	double step_size;          /* a step multiplies or divides it by 1 + step_size */
	double outliers;           /* probability per trial of a factor in [2, 5] */
	double slow_start;         /* factor of the first slow_start_trials */
	long long slow_start_trials;
	/* What has happened so far. */
	uint64_t trials;
	double log_slowness;
	struct sim_rng iid, walk, step, outlier;
};

/* The settings' defaults: 5% i.i.d. noise, nothing else. */
void sim_noise_defaults(struct sim_noise *n);
void sim_noise_start(struct sim_noise *n, uint64_t seed);
/* The factor on the next trial's time. */
double sim_noise_next(struct sim_noise *n);

#endif
