/* sim_jct.c - metric: the simulated application's completion time, disturbed by the noise models. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "throttlebot/plugin.h"
#include "sim_app.h"
#include "sim_noise.h"
#include "sim_state.h"


struct simj {
	const struct tb_host *h;
	char *state;
	struct sim_noise noise;
	struct sim_app app;
	struct sim_state params;   /* what app was generated from */
	int have_app;
	double *allow;
};

static const struct tb_setting_spec settings[] = {
	{ "state", TB_SETTING_STRING, 1, "the sim orchestrator's state file" },
	{ "noise", TB_SETTING_NUMBER, 0,
	  "relative standard deviation of a trial, i.i.d. gaussian (default 0.05)" },
	{ "drift", TB_SETTING_NUMBER, 0,
	  "the host's speed drifts: standard deviation of its log's step per trial (default 0)" },
	{ "steps", TB_SETTING_NUMBER, 0,
	  "probability per trial that the host's speed steps up or down (default 0)" },
	{ "step_size", TB_SETTING_NUMBER, 0,
	  "a step makes the host this much slower or faster: 0.3 is x1.3 or /1.3 (default 0.3)" },
	{ "outliers", TB_SETTING_NUMBER, 0, "fraction of trials 2 to 5 times slower (default 0)" },
	{ "slow_start", TB_SETTING_NUMBER, 0,
	  "the first slow_start_trials are this many times slower (default 1: no cold start)" },
	{ "slow_start_trials", TB_SETTING_INT, 0, "how many trials start slow (default 1)" },
	{ "seed", TB_SETTING_INT, 0, "of the noise models (default 1)" },
	{ NULL, 0, 0, NULL },
};

/* The numeric settings and their ranges, [lo, hi] (hi excluded when open). */
static const struct range {
	const char *key;
	size_t offset;
	double lo, hi;
	int open;
} ranges[] = {
	{ "noise", offsetof(struct sim_noise, noise), 0, 1, 1 },
	{ "drift", offsetof(struct sim_noise, drift), 0, 1, 0 },
	{ "steps", offsetof(struct sim_noise, steps), 0, 1, 0 },
	{ "step_size", offsetof(struct sim_noise, step_size), 0.01, 1, 0 },
	{ "outliers", offsetof(struct sim_noise, outliers), 0, 1, 0 },
	{ "slow_start", offsetof(struct sim_noise, slow_start), 1, 100, 0 },
};

static int get_noise(const struct tb_host *h, const struct tb_config *cfg, struct sim_noise *n)
{
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		const struct range *g = &ranges[i];
		double *v = (double *)((char *)n + g->offset);
		int r = h->get_number(h, cfg, g->key, v);

		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		if (!(*v >= g->lo && (g->open ? *v < g->hi : *v <= g->hi)))
			return h->config_error(h, cfg, g->key, "%s must be in [%g, %g%c, not %g", g->key,
					       g->lo, g->hi, g->open ? ')' : ']', *v);
	}
	return 0;
}

static const struct tb_metric_value jct = { "jct", "s", TB_LOWER_IS_BETTER };

static int sj_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct simj *j = calloc(1, sizeof(*j));
	const char *path = NULL;
	long long seed = 1;
	int r;

	if (!j)
		return -ENOMEM;
	j->h = h;
	sim_noise_defaults(&j->noise);
	if (cfg) {
		if ((r = h->get_string(h, cfg, "state", &path)) < 0 ||
		    (r = get_noise(h, cfg, &j->noise)) < 0 ||
		    ((r = h->get_int(h, cfg, "slow_start_trials", &j->noise.slow_start_trials)) < 0 &&
		     r != -ENOENT) ||
		    ((r = h->get_int(h, cfg, "seed", &seed)) < 0 && r != -ENOENT))
			goto fail;
		if (j->noise.slow_start_trials < 0) {
			r = h->config_error(h, cfg, "slow_start_trials", "slow_start_trials must be 0 or more");
			goto fail;
		}
		if (!(j->state = strdup(path))) {
			r = -ENOMEM;
			goto fail;
		}
	}
	sim_noise_start(&j->noise, (uint64_t)seed);
	*state = j;
	return 0;
fail:
	free(j);
	return r;
}

static void sj_fini(void *state)
{
	struct simj *j = state;

	if (!j)
		return;
	if (j->have_app)
		sim_app_free(&j->app);
	free(j->allow);
	free(j->params.model);
	free(j->state);
	free(j);
}

static size_t sj_count(void *state)
{
	return 1;
}

static const struct tb_metric_value *sj_describe(void *state, size_t i)
{
	return i == 0 ? &jct : NULL;
}

/* The model the orchestrator described; regenerated only when that changes. */
static int model_for(struct simj *j, const struct sim_state *st)
{
	const struct sim_state *p = &j->params;
	int r;

	if (!st->have_app) {
		TB_LOG(j->h, TB_LOG_ERROR, "%s describes no application: is the sim orchestrator used?",
		       j->state);
		return -EINVAL;
	}
	if (j->have_app && p->seed == st->seed && p->nservices == st->nservices &&
	    p->margin == st->margin && p->level == st->level &&
	    !p->model == !st->model && (!p->model || !strcmp(p->model, st->model)))
		return 0;
	if (j->have_app)
		sim_app_free(&j->app);
	free(j->allow);
	j->have_app = 0;
	j->allow = malloc(st->nservices * SIM_NRES * sizeof(*j->allow));
	if (!j->allow)
		return -ENOMEM;
	free(j->params.model);
	j->params.model = NULL;
	if (st->model && !(j->params.model = strdup(st->model)))
		return -ENOMEM;
	r = st->model ? sim_app_parse(&j->app, st->model, st->level)
		      : sim_app_generate(&j->app, st->seed, st->nservices, st->margin, st->level);
	if (r < 0)
		return r;
	j->have_app = 1;
	j->params.seed = st->seed;
	j->params.nservices = st->nservices;
	j->params.margin = st->margin;
	j->params.level = st->level;
	return 0;
}

static int sj_measure(void *state, struct tb_trial *trial, double *values)
{
	struct simj *j = state;
	struct sim_state st;
	struct timespec wall;
	size_t i, np;
	double f;
	int r;

	if (!j->state)
		return -EINVAL;
	/* Every call is a trial of the noise models, failed or not: the
	 * disturbances follow the trials' order alone. */
	f = sim_noise_next(&j->noise);

	clock_gettime(CLOCK_REALTIME, &wall);
	trial->wall_start = wall.tv_sec + wall.tv_nsec / 1e9;
	trial->start = j->h->now(j->h);
	if ((r = sim_state_load(j->state, &st)) < 0) {
		TB_LOG(j->h, TB_LOG_ERROR, "cannot read %s: %s", j->state, strerror(-r));
		return r;
	}
	if ((r = model_for(j, &st)) < 0)
		goto out;
	np = j->app.n * SIM_NRES;
	for (i = 0; i < np; i++)
		j->allow[i] = 1;
	for (i = 0; i < st.nallow; i++) {
		long s = sim_target_index(st.allow[i].id);
		int res = st.allow[i].resource;

		if (s < 0 || (size_t)s >= j->app.n || res < 0 || res >= SIM_NRES ||
		    !(st.allow[i].allowance > 0)) {
			TB_LOG(j->h, TB_LOG_ERROR, "%s: bad allowance for %s", j->state, st.allow[i].id);
			r = -EINVAL;
			goto out;
		}
		j->allow[(size_t)s * SIM_NRES + (size_t)res] = st.allow[i].allowance;
	}
	values[0] = sim_app_eval(&j->app, j->allow) * f;
out:
	sim_state_free(&st);
	trial->end = j->h->now(j->h);
	return r;
}

TB_PLUGIN_DEFINE(tb_metric) = {
	.header = { TB_ABI_CURRENT, TB_KIND_METRIC, "sim_jct",
		    "completion time of the sim orchestrator's application model",
		    PACKAGE_VERSION, settings },
	.drives_workload = 1,
	.init = sj_init,
	.fini = sj_fini,
	.count = sj_count,
	.describe = sj_describe,
	.measure = sj_measure,
};
