/* run.c - a run's life: load and init the plugins, open the journal, discover the services, finish. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "boost.h"
#include "journal.h"
#include "log.h"
#include "progress.h"
#include "remote.h"
#include "remote_conn.h"
#include "run.h"

static int load_one(struct tb_run *run, struct tb_instance *in, const struct tb_plugin_ref *ref,
		    unsigned kind)
{
	int r = tb_instance_load(in, ref->plugin, ref->name, kind, ref->group, run->conf->plugin_dir);

	if (r < 0)
		return -EINVAL;
	return tb_instance_check_settings(in);
}

int tb_run_load(struct tb_run *run, struct tb_conf *conf)
{
	int r, drivers = 0;
	size_t i, k = 0;

	memset(run, 0, sizeof(*run));
	run->conf = conf;
	r = load_one(run, &run->orchestrator, &conf->orchestrator, TB_KIND_ORCHESTRATOR);
	for (i = 0; r == 0 && i < conf->nthrottlers; i++, run->nthrottlers++)
		r = load_one(run, &run->throttlers[i], &conf->throttlers[i], TB_KIND_THROTTLER);
	for (i = 0; r == 0 && i < conf->nmetrics; i++, run->nmetrics++)
		r = load_one(run, &run->metrics[i], &conf->metrics[i], TB_KIND_METRIC);
	if (r == 0)
		r = load_one(run, &run->strategy, &conf->strategy, TB_KIND_STRATEGY);
	if (r < 0)
		return r;
	/* Metrics that run the workload go first; observers then read its window. */
	for (int pass = 1; pass >= 0; pass--)
		for (i = 0; i < run->nmetrics; i++) {
			const struct tb_metric *m = (const void *)run->metrics[i].lib.header;

			if (!!m->drives_workload == pass) {
				run->metric_order[k++] = i;
				drivers += pass;
			}
		}
	if (drivers == 0)
		return tb_conf_error(conf->metrics[0].group,
				     "no metric runs the workload: add one that does (command, jmeter)");
	return 0;
}

int tb_run_init_instance(struct tb_instance *in, const struct tb_space *space)
{
	int r = tb_instance_init(in, space);

	if (r < 0 && r != -EINVAL)
		tb_error("%s: cannot start: %s", in->name, strerror(-r));
	return r;
}

static int add_value(struct tb_results *res, struct tb_instance *in, size_t metric)
{
	const struct tb_metric *m = (const void *)in->lib.header;
	size_t n = m->count(in->state);

	for (size_t i = 0; i < n; i++) {
		const struct tb_metric_value *d = m->describe(in->state, i);
		struct tb_value_desc *grown = realloc(res->values, (res->nvalues + 1) * sizeof(*grown));
		int clash = 0;

		if (!grown)
			return -ENOMEM;
		res->values = grown;
		for (size_t j = 0; j < res->nvalues; j++)
			clash |= !strcmp(grown[j].name, d->name);
		grown += res->nvalues;
		if (clash ? asprintf(&grown->name, "%s.%s", in->name, d->name) < 0
			  : !(grown->name = strdup(d->name)))
			return -ENOMEM;
		grown->unit = d->unit ? d->unit : "";
		grown->direction = d->direction;
		grown->metric = metric;
		res->nvalues++;
	}
	return 0;
}

int tb_run_init(struct tb_run *run)
{
	int r = tb_run_init_instance(&run->orchestrator, NULL);
	size_t i;

	for (i = 0; r == 0 && i < run->nthrottlers; i++)
		r = tb_run_init_instance(&run->throttlers[i], NULL);
	for (i = 0; r == 0 && i < run->nmetrics; i++)
		r = tb_run_init_instance(&run->metrics[i], NULL);
	for (i = 0; r == 0 && i < run->nmetrics; i++)
		r = add_value(&run->results, &run->metrics[i], i);
	if (r == 0 && run->results.nvalues == 0) {
		tb_conf_error(run->conf->metrics[0].group, "the metrics yield no value to rank by");
		r = -EINVAL;
	}
	return r;
}

int tb_run_open_journal(struct tb_run *run)
{
	const char *path = tb_journal_path();
	int r = tb_journal_open(path, 0, &run->journal);

	if (r == -EEXIST)
		tb_error("%s holds throttles a killed run left applied: run 'throttlebot restore' first",
			 path);
	else if (r == -EBADMSG)
		tb_error("%s holds records that cannot be read: run 'throttlebot restore' first", path);
	else if (r == -EBUSY)
		tb_error("another throttlebot run is active on this host (%s or %s is locked)",
			 tb_journal_lock_path(), path);
	else if (r < 0)
		tb_error("cannot open the journal %s: %s", path, strerror(-r));
	if (r < 0)
		return r;
	tb_instance_bind(&run->orchestrator, run->journal);
	for (size_t i = 0; i < run->nthrottlers; i++)
		tb_instance_bind(&run->throttlers[i], run->journal);
	for (size_t i = 0; i < run->nmetrics; i++)
		tb_instance_bind(&run->metrics[i], run->journal);
	tb_instance_bind(&run->strategy, run->journal);
	return 0;
}

static int keep_service(const struct tb_service *s, void *arg)
{
	const struct tb_run *run = arg;

	if (tb_conf_excluded(run->conf, "services", s->name)) {
		tb_info("service '%s' is excluded by the configuration", s->name);
		return 0;
	}
	return 1;
}

/* Targets on excluded nodes are left alone. */
int tb_run_keep_target(const struct tb_target *t, void *arg)
{
	const struct tb_run *run = arg;

	return !t->node || !tb_conf_excluded(run->conf, "nodes", t->node);
}

/* Agents the orchestrator found that the configuration gives no way to reach. */
static void warn_unreachable(const struct tb_run *run)
{
	for (size_t i = 0; i < run->inv.nagents; i++) {
		const struct tb_found_agent *a = &run->inv.agents[i];

		if (tb_agents_unreachable(&run->conf->agents, a->node, a->url))
			tb_warn("%s found node %s's agent at %s, but the configuration gives no "
				"credentials for it: add agents = ( { node = \"*\"; token_file = ...; "
				"ca = ...; } )", run->orchestrator.name, a->node, a->url);
	}
}

int tb_run_discover(struct tb_run *run, int launch)
{
	const struct tb_orchestrator *o = tb_run_orchestrator(run);
	int r;

	if (launch && o->launch) {
		run->launched = 1;
		r = o->launch(run->orchestrator.state);
		if (r < 0) {
			tb_error("%s: could not start the application: %s", run->orchestrator.name,
				 strerror(-r));
			return r;
		}
	}
	r = o->discover(run->orchestrator.state, &run->inv);
	if (r < 0) {
		tb_error("%s: could not discover the services: %s", run->orchestrator.name, strerror(-r));
		return r;
	}
	warn_unreachable(run);
	tb_inventory_filter(&run->inv, keep_service, run);
	tb_inventory_filter_targets(&run->inv, tb_run_keep_target, run);
	if (run->inv.nservices == 0) {
		tb_error("no service to throttle: the orchestrator found none, or all are excluded");
		return -ENOENT;
	}
	return 0;
}

void tb_run_finish(struct tb_run *run)
{
	const struct tb_orchestrator *o;
	size_t i;

	tb_run_restore(run);
	tb_renew_stop();
	tb_conn_close_all();
	if (run->orchestrator.initialised) {
		o = tb_run_orchestrator(run);
		if (run->launched && o->stop)
			o->stop(run->orchestrator.state);
	}
	tb_instance_fini(&run->orchestrator);
	for (i = 0; i < run->nthrottlers; i++)
		tb_instance_fini(&run->throttlers[i]);
	for (i = 0; i < run->nmetrics; i++)
		tb_instance_fini(&run->metrics[i]);
	tb_instance_fini(&run->strategy);
	tb_journal_close(run->journal);
	run->journal = NULL;
	tb_instance_unload(&run->orchestrator);
	for (i = 0; i < run->nthrottlers; i++)
		tb_instance_unload(&run->throttlers[i]);
	for (i = 0; i < run->nmetrics; i++)
		tb_instance_unload(&run->metrics[i]);
	tb_instance_unload(&run->strategy);
	tb_inventory_free(&run->inv);
	tb_results_free(&run->results);
	tb_boosts_free(run);
	free(run->service_names);
	free(run->throttler_names);
	free(run->resources);
	free(run->excluded);
	free(run->applied);
	free(run->workdir);
	for (i = 0; i < run->nunrestored; i++)
		free(run->unrestored[i]);
	free(run->unrestored);
}

int tb_run_unprivileged(const struct tb_run *run)
{
	int all = run->orchestrator.lib.header->flags & TB_PLUGIN_UNPRIVILEGED;

	for (size_t i = 0; all && i < run->nthrottlers; i++)
		all = run->throttlers[i].lib.header->flags & TB_PLUGIN_UNPRIVILEGED;
	return !!all;
}

long tb_run_find_throttler(const struct tb_run *run, const char *name)
{
	for (size_t i = 0; i < run->nthrottlers; i++)
		if (!strcmp(run->throttlers[i].name, name))
			return (long)i;
	return -1;
}

long tb_run_find_service(const struct tb_run *run, const char *name)
{
	for (size_t i = 0; i < run->inv.nservices; i++)
		if (!strcmp(run->inv.services[i].name, name))
			return (long)i;
	return -1;
}
