/* plan.c - the search space of a run: its services, throttlers, levels, and the pairs left alone. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "run.h"

static int pair_excluded(const struct tb_run *run, const char *service, const struct tb_instance *t)
{
	char pair[512];

	snprintf(pair, sizeof(pair), "%s:%s", service, tb_throttler_ops(t)->resource);
	if (tb_conf_excluded(run->conf, "pairs", pair))
		return 1;
	snprintf(pair, sizeof(pair), "%s:%s", service, t->name);
	return tb_conf_excluded(run->conf, "pairs", pair) ||
	       tb_conf_excluded(run->conf, "resources", tb_throttler_ops(t)->resource) ||
	       tb_conf_excluded(run->conf, "throttlers", t->name);
}

int tb_run_plan(struct tb_run *run)
{
	struct tb_space *sp = &run->space;
	size_t ns = run->inv.nservices, nt = run->nthrottlers;

	run->service_names = calloc(ns, sizeof(char *));
	run->throttler_names = calloc(nt, sizeof(char *));
	run->resources = calloc(nt, sizeof(char *));
	run->excluded = calloc(ns * nt, 1);
	if (!run->service_names || !run->throttler_names || !run->resources || !run->excluded)
		return -ENOMEM;
	for (size_t s = 0; s < ns; s++) {
		run->service_names[s] = run->inv.services[s].name;
		for (size_t t = 0; t < nt; t++)
			run->excluded[s * nt + t] = pair_excluded(run, run->service_names[s],
								  &run->throttlers[t]);
	}
	for (size_t t = 0; t < nt; t++) {
		run->throttler_names[t] = run->throttlers[t].name;
		run->resources[t] = tb_throttler_ops(&run->throttlers[t])->resource;
	}
	sp->nservices = ns;
	sp->services = run->service_names;
	sp->nthrottlers = nt;
	sp->throttlers = run->throttler_names;
	sp->resources = run->resources;
	sp->excluded = run->excluded;
	sp->nlevels = run->conf->nlevels;
	sp->levels = run->conf->levels;
	sp->trials = run->conf->trials;
	sp->baseline_trials = run->conf->baseline_trials;
	sp->direction = run->results.values[0].direction;
	sp->seed = run->conf->seed;
	return tb_run_init_instance(&run->strategy, sp);
}

