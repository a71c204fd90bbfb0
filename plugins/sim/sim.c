/* sim.c - orchestrator of a generated application: one service per model node, truth in the log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "throttlebot/plugin.h"
#include "sim_app.h"
#include "sim_state.h"
#include "stress.h"


struct sim {
	const struct tb_host *h;
	char *state;
	long long seed, nservices;
	double margin, level;
	int alive;                   /* what alive() answers for every target */
};

static const struct tb_setting_spec settings[] = {
	{ "state", TB_SETTING_STRING, 1, "file shared with the sim throttlers and metric" },
	{ "seed", TB_SETTING_INT, 0, "of the generated application (default 1)" },
	{ "services", TB_SETTING_INT, 0, "how many services (default 10)" },
	{ "margin", TB_SETTING_NUMBER, 0,
	  "plant a MIMR this far above the runner-up (default 0.25, 0: none)" },
	{ "level", TB_SETTING_NUMBER, 0, "stress the truth and the margin refer to (default 0.8)" },
	{ "alive", TB_SETTING_STRING, 0,
	  "what alive() answers: \"running\" (default), \"stopped\" or \"unknown\" (-EIO)" },
	{ NULL, 0, 0, NULL },
};

static int sim_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	const char *path = NULL, *alive = "running";
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->h = h;
	s->seed = 1;
	s->nservices = 10;
	s->margin = 0.25;
	s->level = 0.8;
	s->alive = 1;
	if (cfg) {
		if ((r = h->get_string(h, cfg, "state", &path)) < 0 ||
		    ((r = h->get_int(h, cfg, "seed", &s->seed)) < 0 && r != -ENOENT) ||
		    ((r = h->get_int(h, cfg, "services", &s->nservices)) < 0 && r != -ENOENT) ||
		    ((r = h->get_number(h, cfg, "margin", &s->margin)) < 0 && r != -ENOENT) ||
		    ((r = h->get_number(h, cfg, "level", &s->level)) < 0 && r != -ENOENT) ||
		    ((r = h->get_string(h, cfg, "alive", &alive)) < 0 && r != -ENOENT))
			goto fail;
		r = 0;
		if (s->nservices < 1 || s->nservices > 1000000)
			r = h->config_error(h, cfg, "services", "services must be 1 to 1000000, not %lld",
					    s->nservices);
		else if (s->seed < 0)
			r = h->config_error(h, cfg, "seed", "seed must be 0 or more");
		else if (s->margin < 0)
			r = h->config_error(h, cfg, "margin", "margin must be 0 or more");
		else if (!tb_stress_level_valid(s->level))
			r = h->config_error(h, cfg, "level", "level %s", TB_STRESS_LEVEL_RULE);
		else if ((s->alive = !strcmp(alive, "running") ? 1 : !strcmp(alive, "stopped") ? 0
				     : !strcmp(alive, "unknown") ? -EIO : 2) == 2)
			r = h->config_error(h, cfg, "alive", "alive must be \"running\", \"stopped\" "
					    "or \"unknown\", not \"%s\"", alive);
		if (r < 0)
			goto fail;
		s->state = strdup(path);
		if (!s->state) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*state = s;
	return 0;
fail:
	free(s);
	return r;
}

static void sim_fini(void *state)
{
	struct sim *s = state;

	if (s)
		free(s->state);
	free(s);
}

static void log_truth(struct sim *s, const struct sim_app *a)
{
	TB_LOG(s->h, TB_LOG_INFO, "%zu services; at stress %g the MIMR is svc%zu %s (%+.1f%%), "
	       "the runner-up svc%zu %s (%+.1f%%)", a->n, a->level,
	       a->mimr / SIM_NRES, sim_resource_names[a->mimr % SIM_NRES], 100 * a->truth[a->mimr],
	       a->runner_up / SIM_NRES, sim_resource_names[a->runner_up % SIM_NRES],
	       100 * a->truth[a->runner_up]);
}

/* A fresh state file (nothing throttled), and one service per model node. */
static int sim_discover(void *state, struct tb_inventory *inv)
{
	struct sim *s = state;
	struct sim_state st = { .have_app = 1, .seed = (uint64_t)s->seed,
				.nservices = (size_t)s->nservices, .margin = s->margin,
				.level = s->level };
	struct sim_app app;
	char name[32], id[32];
	int r;

	if (!s->state)
		return -EINVAL;
	r = sim_app_generate(&app, st.seed, st.nservices, st.margin, st.level);
	if (r < 0)
		return r;
	log_truth(s, &app);
	sim_app_free(&app);
	if ((r = sim_state_save(s->state, &st)) < 0) {
		TB_LOG(s->h, TB_LOG_ERROR, "cannot write %s: %s", s->state, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < st.nservices; i++) {
		struct tb_target t = { .id = id };

		snprintf(name, sizeof(name), "svc%zu", i);
		snprintf(id, sizeof(id), "sim:%zu", i);
		if ((r = s->h->add_service(s->h, inv, name, &t)) < 0)
			return r;
	}
	return 0;
}

/* The simulated services never stop: the setting says what to answer, to
 * see what the core makes of each answer. */
static int sim_alive(void *state, const struct tb_target *t)
{
	(void)t;
	return ((struct sim *)state)->alive;
}

/* A simulated target has nothing to start again: it is back at once. */
static int sim_revive(void *state, const struct tb_target *t)
{
	(void)state;
	(void)t;
	return 0;
}

TB_PLUGIN_DEFINE(tb_orchestrator) = {
	.header = { TB_ABI_CURRENT, TB_KIND_ORCHESTRATOR, "sim",
		    "a generated application model, for trying strategies without one",
		    PACKAGE_VERSION, settings, TB_PLUGIN_UNPRIVILEGED },
	.init = sim_init,
	.fini = sim_fini,
	.discover = sim_discover,
	.alive = sim_alive,
	.revive = sim_revive,
};
