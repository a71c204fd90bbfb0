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
	char *model;                 /* the application described, or NULL: generated */
	long long seed, nservices;
	double margin, level;
	int alive;                   /* what alive() answers for every target */
	int have_capped;             /* a pair with a limit of its own (sim_throttler.c) */
	size_t capped;
	int capped_resource;
};

static const struct tb_setting_spec settings[] = {
	{ "state", TB_SETTING_STRING, 1, "file shared with the sim throttlers and metric" },
	{ "seed", TB_SETTING_INT, 0, "of the generated application (default 1)" },
	{ "services", TB_SETTING_INT, 0, "how many services (default 10)" },
	{ "margin", TB_SETTING_NUMBER, 0,
	  "plant a MIMR this far above the runner-up (default 0.25, 0: none)" },
	{ "level", TB_SETTING_NUMBER, 0, "stress the truth and the margin refer to (default 0.8)" },
	{ "model", TB_SETTING_STRING, 0,
	  "describe the application instead: \"PARENT STAGE CPU DISK NET; ...\" (see sim_app.h)" },
	{ "alive", TB_SETTING_STRING, 0,
	  "what alive() answers: \"running\" (default), \"stopped\" or \"unknown\" (-EIO)" },
	{ "capped", TB_SETTING_STRING, 0,
	  "\"svcN:RESOURCE\": that pair has a limit of its own, a quarter of what the host can "
	  "give: a throttle of the host's capacity below 0.75 does not reach it, more of it helps" },
	{ NULL, 0, 0, NULL },
};

/* "svcN:cpu" -> the pair; -EINVAL unless N < services and the resource is one of the three. */
static int parse_capped(struct sim *s, const char *text)
{
	char res[16];
	int end = 0;

	if (sscanf(text, "svc%zu:%15[a-z]%n", &s->capped, res, &end) != 2 || text[end] ||
	    s->capped >= (size_t)s->nservices)
		return -EINVAL;
	for (int r = 0; r < SIM_NRES; r++)
		if (!strcmp(res, sim_resource_names[r])) {
			s->capped_resource = r;
			s->have_capped = 1;
			return 0;
		}
	return -EINVAL;
}

static int sim_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct sim *s = calloc(1, sizeof(*s));
	const char *path = NULL, *alive = "running", *capped = NULL, *model = NULL;
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
		    ((r = h->get_string(h, cfg, "alive", &alive)) < 0 && r != -ENOENT) ||
		    ((r = h->get_string(h, cfg, "capped", &capped)) < 0 && r != -ENOENT) ||
		    ((r = h->get_string(h, cfg, "model", &model)) < 0 && r != -ENOENT))
			goto fail;
		r = 0;
		if (model) {
			struct sim_app app;

			if (strlen(model) > SIM_MODEL_MAX || strchr(model, '\n') ||
			    sim_app_parse(&app, model, s->level) < 0) {
				r = h->config_error(h, cfg, "model", "model must be at most %d characters of "
						    "\"PARENT STAGE CPU DISK NET\" separated by ';', "
						    "children after their parent", SIM_MODEL_MAX);
				goto fail;
			}
			s->nservices = (long long)app.n;
			sim_app_free(&app);
			if (!(s->model = strdup(model))) {
				r = -ENOMEM;
				goto fail;
			}
		}
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
		else if (capped && parse_capped(s, capped) < 0)
			r = h->config_error(h, cfg, "capped", "capped must be \"svcN:cpu\" (or disk, "
					    "net) with N below services, not \"%s\"", capped);
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
	free(s->model);
	free(s);
	return r;
}

static void sim_fini(void *state)
{
	struct sim *s = state;

	if (s) {
		free(s->state);
		free(s->model);
	}
	free(s);
}

/* What x1.5 of a pair's share gains (positive: faster). */
static double boost_gain(struct sim_app *a, size_t pair)
{
	double more = 1.5;

	return 1 - sim_app_eval_sparse(a, 1, &pair, &more) / a->base;
}

static void log_truth(struct sim *s, struct sim_app *a)
{
	TB_LOG(s->h, TB_LOG_INFO, "%zu services; at stress %g the MIMR is svc%zu %s (%+.1f%%), "
	       "the runner-up svc%zu %s (%+.1f%%); x1.5 of the MIMR gains %.1f%%", a->n, a->level,
	       a->mimr / SIM_NRES, sim_resource_names[a->mimr % SIM_NRES], 100 * a->truth[a->mimr],
	       a->runner_up / SIM_NRES, sim_resource_names[a->runner_up % SIM_NRES],
	       100 * a->truth[a->runner_up], 100 * boost_gain(a, a->mimr));
	if (s->have_capped)
		TB_LOG(s->h, TB_LOG_INFO, "svc%zu %s has a limit of its own, a quarter of the host's: "
		       "a throttle below stress 0.75 leaves it alone; x1.5 of it gains %.1f%%",
		       s->capped, sim_resource_names[s->capped_resource],
		       100 * boost_gain(a, s->capped * SIM_NRES + (size_t)s->capped_resource));
}

/* A fresh state file (nothing throttled), and one service per model node. */
static int sim_discover(void *state, struct tb_inventory *inv)
{
	struct sim *s = state;
	struct sim_state st = { .have_app = 1, .seed = (uint64_t)s->seed,
				.nservices = (size_t)s->nservices, .margin = s->margin,
				.level = s->level, .have_capped = s->have_capped,
				.capped = s->capped, .capped_resource = s->capped_resource,
				.model = s->model };
	struct sim_app app;
	char name[32], id[32];
	int r;

	if (!s->state)
		return -EINVAL;
	r = s->model ? sim_app_parse(&app, s->model, st.level)
		     : sim_app_generate(&app, st.seed, st.nservices, st.margin, st.level);
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
