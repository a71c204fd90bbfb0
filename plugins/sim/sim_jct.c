/* sim_jct.c - metric: the simulated application's completion time under the current allowances, with noise. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "throttlebot/plugin.h"
#include "sim_app.h"
#include "sim_state.h"


struct simj {
	const struct tb_host *h;
	char *state;
	double noise;
	struct sim_rng rng;
	struct sim_app app;
	struct sim_state params;   /* what app was generated from */
	int have_app;
	double *allow;
};

static const struct tb_setting_spec settings[] = {
	{ "state", TB_SETTING_STRING, 1, "the sim orchestrator's state file" },
	{ "noise", TB_SETTING_NUMBER, 0, "relative standard deviation of a trial (default 0.05)" },
	{ "seed", TB_SETTING_INT, 0, "of the noise (default 1)" },
	{ NULL, 0, 0, NULL },
};

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
	j->noise = 0.05;
	if (cfg) {
		if ((r = h->get_string(h, cfg, "state", &path)) < 0 ||
		    ((r = h->get_number(h, cfg, "noise", &j->noise)) < 0 && r != -ENOENT) ||
		    ((r = h->get_int(h, cfg, "seed", &seed)) < 0 && r != -ENOENT))
			goto fail;
		if (!(j->noise >= 0 && j->noise < 1)) {
			r = h->config_error(h, cfg, "noise", "noise must be in [0, 1), not %g", j->noise);
			goto fail;
		}
		if (!(j->state = strdup(path))) {
			r = -ENOMEM;
			goto fail;
		}
	}
	sim_rng_seed(&j->rng, (uint64_t)seed);
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
	    p->margin == st->margin && p->level == st->level)
		return 0;
	if (j->have_app)
		sim_app_free(&j->app);
	free(j->allow);
	j->have_app = 0;
	j->allow = malloc(st->nservices * SIM_NRES * sizeof(*j->allow));
	if (!j->allow)
		return -ENOMEM;
	if ((r = sim_app_generate(&j->app, st->seed, st->nservices, st->margin, st->level)) < 0)
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
	int r;

	if (!j->state)
		return -EINVAL;

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
	values[0] = sim_app_eval(&j->app, j->allow) * sim_noise_factor(&j->rng, j->noise);
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
