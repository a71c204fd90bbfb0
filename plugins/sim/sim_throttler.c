/* sim_throttler.c - throttle one resource of a simulated service: its allowance in the sim state file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "throttlebot/plugin.h"
#include "sim_app.h"
#include "sim_state.h"
#include "stress.h"


/* Built once per resource, with SIM_RESOURCE 0, 1 or 2 and SIM_RESOURCE_NAME
 * cpu, disk or net: the plugins sim_cpu, sim_disk and sim_net. */
#if !defined(SIM_RESOURCE) || !defined(SIM_RESOURCE_NAME)
#error "define SIM_RESOURCE and SIM_RESOURCE_NAME"
#endif
#define SIM_STR2(x) #x
#define SIM_STR(x) SIM_STR2(x)

struct simt {
	const struct tb_host *h;
	char *state;
};

static const struct tb_setting_spec settings[] = {
	{ "state", TB_SETTING_STRING, 1, "the sim orchestrator's state file" },
	{ NULL, 0, 0, NULL },
};

static int st_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct simt *t = calloc(1, sizeof(*t));
	const char *path;
	int r;

	if (!t)
		return -ENOMEM;
	t->h = h;
	if (cfg) {
		if ((r = h->get_string(h, cfg, "state", &path)) < 0) {
			free(t);
			return r;
		}
		if (!(t->state = strdup(path))) {
			free(t);
			return -ENOMEM;
		}
	}
	*state = t;
	return 0;
}

static void st_fini(void *state)
{
	struct simt *t = state;

	if (t)
		free(t->state);
	free(t);
}

/* A simulated service has a share of 1 of each resource until throttled or
 * given more; the simulated host has room for four times that. */
#define SIM_CAPACITY 4.0

static int st_probe(void *state, const struct tb_target *target, double *capacity)
{
	*capacity = SIM_CAPACITY;
	return sim_target_index(target->id) < 0 ? -EINVAL : 0;
}

/* Saved: "STATE-FILE<TAB>TARGET-ID<TAB>RESOURCE<TAB>ALLOWANCE or -". */
static int st_save(void *state, const struct tb_target *target, char *saved, size_t size)
{
	struct simt *t = state;
	struct sim_state st;
	double prev;
	int r, n;

	if (!t->state || sim_target_index(target->id) < 0)
		return -EINVAL;
	if ((r = sim_state_load(t->state, &st)) < 0)
		return r;
	if (sim_state_get(&st, target->id, SIM_RESOURCE, &prev) == 0)
		n = snprintf(saved, size, "%s\t%s\t%d\t%.17g", t->state, target->id, SIM_RESOURCE, prev);
	else
		n = snprintf(saved, size, "%s\t%s\t%d\t-", t->state, target->id, SIM_RESOURCE);
	sim_state_free(&st);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

static int set_allowance(struct simt *t, const char *path, const char *id, double allowance)
{
	struct sim_state st;
	int r;

	if ((r = sim_state_load(path, &st)) < 0)
		return r;
	r = sim_state_set(&st, id, SIM_RESOURCE, allowance);
	if (r == 0)
		r = sim_state_save(path, &st);
	sim_state_free(&st);
	if (r < 0)
		TB_LOG(t->h, TB_LOG_ERROR, "cannot update %s: %s", path, strerror(-r));
	return r;
}

static int st_apply(void *state, const struct tb_target *target, const char *saved, double stress)
{
	struct simt *t = state;

	if (!t->state || !tb_stress_valid(stress))
		return -EINVAL;
	return set_allowance(t, t->state, target->id, 1 - stress);
}

static int st_restore(void *state, const char *saved)
{
	struct simt *t = state;
	char path[4096], id[256], value[64];
	int resource;

	if (sscanf(saved, "%4095[^\t]\t%255[^\t]\t%d\t%63s", path, id, &resource, value) != 4 ||
	    resource != SIM_RESOURCE)
		return -EINVAL;
	return set_allowance(t, path, id, strcmp(value, "-") == 0 ? NAN : strtod(value, NULL));
}

/* Every simulated service has its own share: 1 until changed. */
static int st_allocation(void *state, const struct tb_target *target, double *amount)
{
	struct simt *t = state;
	struct sim_state st;
	int r;

	if (!t->state || sim_target_index(target->id) < 0)
		return -EINVAL;
	if ((r = sim_state_load(t->state, &st)) < 0)
		return r;
	if (sim_state_get(&st, target->id, SIM_RESOURCE, amount) < 0)
		*amount = 1;
	sim_state_free(&st);
	return 0;
}

static int st_allocate(void *state, const struct tb_target *target, const char *saved, double amount)
{
	struct simt *t = state;

	if (!t->state || !(amount > 0))
		return -EINVAL;
	if (amount > SIM_CAPACITY)
		return -ERANGE;
	return set_allowance(t, t->state, target->id, amount);
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "sim_" SIM_STR(SIM_RESOURCE_NAME),
		    "the " SIM_STR(SIM_RESOURCE_NAME) " allowance of a simulated service",
		    PACKAGE_VERSION, settings, TB_PLUGIN_UNPRIVILEGED },
	.resource = SIM_STR(SIM_RESOURCE_NAME),
	.unit = "share",
	.init = st_init,
	.fini = st_fini,
	.probe = st_probe,
	.save = st_save,
	.apply = st_apply,
	.restore = st_restore,
	.allocation = st_allocation,
	.allocate = st_allocate,
};
