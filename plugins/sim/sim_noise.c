/* sim_noise.c - the factor on each simulated trial's time, from the noise models and the trial's number. */
#include <math.h>
#include "sim_noise.h"

/* The host is never more than twice as slow or fast as it started. */
#define MAX_LOG_SLOWNESS M_LN2

void sim_noise_defaults(struct sim_noise *n)
{
	*n = (struct sim_noise){ .noise = 0.05, .step_size = 0.3, .slow_start = 1,
				 .slow_start_trials = 1 };
}

void sim_noise_start(struct sim_noise *n, uint64_t seed)
{
	/* The i.i.d. stream is the seed's own, as it was before the other models. */
	sim_rng_seed(&n->iid, seed);
	sim_rng_seed(&n->walk, seed ^ 0x5851f42d4c957f2dull);
	sim_rng_seed(&n->step, seed ^ 0x14057b7ef767814full);
	sim_rng_seed(&n->outlier, seed ^ 0x2545f4914f6cdd1dull);
	n->trials = 0;
	n->log_slowness = 0;
}

static double clamp(double x)
{
	return x > MAX_LOG_SLOWNESS ? MAX_LOG_SLOWNESS : x < -MAX_LOG_SLOWNESS ? -MAX_LOG_SLOWNESS : x;
}

/* Between two trials the host's slowness drifts and, now and then, steps. */
static void move_host(struct sim_noise *n)
{
	if (n->drift > 0)
		n->log_slowness = clamp(n->log_slowness + n->drift * sim_rng_gauss(&n->walk));
	if (n->steps > 0) {
		double u = sim_rng_uniform(&n->step), s = log1p(n->step_size);

		if (sim_rng_uniform(&n->step) < 0.5)
			s = -s;
		if (u < n->steps) {
			/* A step that would leave the range goes the other way. */
			if (fabs(n->log_slowness + s) > MAX_LOG_SLOWNESS)
				s = -s;
			n->log_slowness = clamp(n->log_slowness + s);
		}
	}
}

double sim_noise_next(struct sim_noise *n)
{
	double f;

	if (n->trials > 0)
		move_host(n);
	f = exp(n->log_slowness);
	if (n->trials < (uint64_t)n->slow_start_trials)
		f *= n->slow_start;
	if (n->outliers > 0) {
		double u = sim_rng_uniform(&n->outlier), by = 2 + 3 * sim_rng_uniform(&n->outlier);

		if (u < n->outliers)
			f *= by;
	}
	n->trials++;
	return f * sim_noise_factor(&n->iid, n->noise);
}
