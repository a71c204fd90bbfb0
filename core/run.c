/* run.c - the experiment loop: discover, then per strategy step journal, apply, measure, restore. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "journal.h"
#include "log.h"
#include "outdir.h"
#include "progress.h"
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

static int init_one(struct tb_instance *in, const struct tb_space *space)
{
	const struct tb_plugin_header *h = in->lib.header;
	const struct tb_config *cfg = (const struct tb_config *)in->group;
	int r;

	switch (h->kind) {
	case TB_KIND_ORCHESTRATOR:
		r = ((const struct tb_orchestrator *)h)->init(&in->host, cfg, &in->state);
		break;
	case TB_KIND_THROTTLER:
		r = ((const struct tb_throttler *)h)->init(&in->host, cfg, &in->state);
		break;
	case TB_KIND_METRIC:
		r = ((const struct tb_metric *)h)->init(&in->host, cfg, &in->state);
		break;
	default:
		r = ((const struct tb_strategy *)h)->init(&in->host, cfg, space, &in->state);
		break;
	}
	if (r == 0)
		in->initialised = 1;
	else if (r != -EINVAL)
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
	int r = init_one(&run->orchestrator, NULL);
	size_t i;

	for (i = 0; r == 0 && i < run->nthrottlers; i++)
		r = init_one(&run->throttlers[i], NULL);
	for (i = 0; r == 0 && i < run->nmetrics; i++)
		r = init_one(&run->metrics[i], NULL);
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
	else if (r == -EBUSY)
		tb_error("%s is locked: another throttlebot run is active on this host", path);
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

static const struct tb_orchestrator *orchestrator(const struct tb_run *run)
{
	return (const void *)run->orchestrator.lib.header;
}

static const struct tb_throttler *throttler(const struct tb_instance *in)
{
	return (const void *)in->lib.header;
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
static int keep_target(const struct tb_target *t, void *arg)
{
	const struct tb_run *run = arg;

	return !t->node || !tb_conf_excluded(run->conf, "nodes", t->node);
}

int tb_run_discover(struct tb_run *run, int launch)
{
	const struct tb_orchestrator *o = orchestrator(run);
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
	tb_inventory_filter(&run->inv, keep_service, run);
	tb_inventory_filter_targets(&run->inv, keep_target, run);
	if (run->inv.nservices == 0) {
		tb_error("no service to throttle: the orchestrator found none, or all are excluded");
		return -ENOENT;
	}
	return 0;
}

static int pair_excluded(const struct tb_run *run, const char *service, const struct tb_instance *t)
{
	char pair[512];

	snprintf(pair, sizeof(pair), "%s:%s", service, throttler(t)->resource);
	if (tb_conf_excluded(run->conf, "pairs", pair))
		return 1;
	snprintf(pair, sizeof(pair), "%s:%s", service, t->name);
	return tb_conf_excluded(run->conf, "pairs", pair) ||
	       tb_conf_excluded(run->conf, "resources", throttler(t)->resource) ||
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
		run->resources[t] = throttler(&run->throttlers[t])->resource;
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
	return init_one(&run->strategy, sp);
}

static int push_applied(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			long id, const char *saved)
{
	struct tb_applied *grown = realloc(run->applied, (run->napplied + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	run->applied = grown;
	grown += run->napplied;
	grown->throttler = t;
	grown->target = target;
	grown->journal_id = id;
	grown->saved = strdup(saved);
	if (!grown->saved)
		return -ENOMEM;
	run->napplied++;
	return 0;
}

static int apply_target(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			double stress, char *err, size_t errlen)
{
	const struct tb_throttler *ops = throttler(t);
	char saved[TB_SAVED_MAX] = "";
	long id;
	int r;

	r = ops->save(t->state, target, saved, sizeof(saved));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the current state of %s: %s", t->name,
			 target->id, strerror(-r));
		return r;
	}
	/* Journal first: if we die between here and restore, 'throttlebot restore' undoes it. */
	id = run->journal ? tb_journal_add(run->journal, "throttler", t->lib.header->name,
					   t->lib.path, target->id, saved) : 0;
	if (id < 0) {
		snprintf(err, errlen, "cannot write the journal: %s", strerror((int)-id));
		return (int)id;
	}
	r = push_applied(run, t, target, id, saved);
	if (r < 0)
		return r;
	r = ops->apply(t->state, target, saved, stress);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot throttle %s at stress %.2f: %s", t->name, target->id,
			 stress, strerror(-r));
	return r;
}

int tb_run_apply(struct tb_run *run, const struct tb_experiment *e, char *err, size_t errlen)
{
	for (size_t i = 0; i < e->n; i++) {
		const struct tb_throttle *th = &e->throttles[i];
		const struct tb_service *s = &run->inv.services[th->service];
		struct tb_instance *t = &run->throttlers[th->throttler];

		if (s->ntargets == 0) {
			snprintf(err, errlen, "service '%s' has no target to throttle", s->name);
			tb_run_restore(run);
			return -ENOENT;
		}
		for (size_t j = 0; j < s->ntargets; j++) {
			int r = apply_target(run, t, &s->targets[j], th->stress, err, errlen);

			if (r < 0) {
				tb_run_restore(run);
				return r;
			}
		}
	}
	return 0;
}

int tb_run_restore(struct tb_run *run)
{
	int first = 0;

	while (run->napplied > 0) {
		struct tb_applied *a = &run->applied[--run->napplied];
		int r = throttler(a->throttler)->restore(a->throttler->state, a->saved);

		if (r == -ENOENT)       /* the target is gone, and its throttle with it */
			r = 0;
		if (r < 0) {
			tb_error("%s: could not restore %s: %s (kept in the journal for 'throttlebot restore')",
				 a->throttler->name, a->target->id, strerror(-r));
			first = first ? first : r;
		} else if (run->journal && a->journal_id > 0) {
			tb_journal_done(run->journal, a->journal_id);
		}
		free(a->saved);
	}
	return first;
}

static int targets_alive(struct tb_run *run, const struct tb_experiment *e, char *err, size_t len)
{
	const struct tb_orchestrator *o = orchestrator(run);

	if (!o->alive)
		return 1;
	for (size_t i = 0; i < e->n; i++) {
		const struct tb_service *s = &run->inv.services[e->throttles[i].service];

		for (size_t j = 0; j < s->ntargets; j++)
			if (o->alive(run->orchestrator.state, &s->targets[j]) == 0) {
				snprintf(err, len, "service '%s': %s stopped or restarted during the trial",
					 s->name, s->targets[j].id);
				return 0;
			}
	}
	return 1;
}

/*
 * Did a throttled service stop or restart during the trial?  That explains a
 * failed workload better than the metric's own error, so it is named first.
 * The workload can break the instant a container dies, a moment before its
 * engine notices: a failed trial gives the orchestrator a second to.
 */
static int service_gone(struct tb_run *run, const struct tb_experiment *e, int measured,
			char *err, size_t len)
{
	struct timespec tenth = { 0, 100000000 };
	char gone[512], metric[1024];
	int alive = targets_alive(run, e, gone, sizeof(gone));

	for (int i = 0; measured < 0 && alive && e->n > 0 && i < 10 && !tb_cancelled; i++) {
		nanosleep(&tenth, NULL);
		alive = targets_alive(run, e, gone, sizeof(gone));
	}
	if (alive)
		return 0;
	snprintf(metric, sizeof(metric), "%s", err);
	if (measured < 0)
		snprintf(err, len, "%.511s (%.400s)", gone, metric);
	else
		snprintf(err, len, "%s", gone);
	return 1;
}

/* After a service restarted, find its targets again, so that the trials
 * after this one throttle the new container or process.  Strategies keep
 * their service indices: only the targets change. */
static void rediscover(struct tb_run *run)
{
	const struct tb_orchestrator *o = orchestrator(run);
	struct tb_inventory fresh = { 0 };
	int r = o->discover(run->orchestrator.state, &fresh);

	if (r < 0) {
		tb_warn("could not find the services again: %s", strerror(-r));
		tb_inventory_free(&fresh);
		return;
	}
	tb_inventory_filter_targets(&fresh, keep_target, run);
	tb_inventory_adopt_targets(&run->inv, &fresh);
	tb_info("services found again after a restart");
}

static int measure(struct tb_run *run, struct tb_trial *trial, double *values, char *err, size_t len)
{
	size_t offset[TB_MAX_PLUGINS], at = 0;

	for (size_t i = 0; i < run->nmetrics; i++) {
		const struct tb_metric *m = (const void *)run->metrics[i].lib.header;

		offset[i] = at;
		at += m->count(run->metrics[i].state);
	}
	for (size_t k = 0; k < run->nmetrics; k++) {
		size_t i = run->metric_order[k];
		struct tb_instance *in = &run->metrics[i];
		const struct tb_metric *m = (const void *)in->lib.header;
		int r;

		tb_instance_clear_error(in);
		r = m->measure(in->state, trial, values + offset[i]);
		if (r < 0) {
			snprintf(err, len, "%s: %s", in->name, r == -EINTR ? "interrupted"
				 : in->first_error[0] ? in->first_error : strerror(-r));
			return r;
		}
	}
	return 0;
}

static int run_trial(struct tb_run *run, const struct tb_experiment *e, unsigned index,
		     struct tb_trial_result *out)
{
	struct tb_trial trial = { .index = index, .experiment = e, .workdir = run->workdir };
	char err[1024] = "";
	int r;

	memset(out, 0, sizeof(*out));
	out->index = index;
	out->n = e->n;
	out->throttles = calloc(e->n ? e->n : 1, sizeof(*out->throttles));
	out->values = malloc(run->results.nvalues * sizeof(double));
	if (!out->throttles || !out->values)
		return -ENOMEM;
	memcpy(out->throttles, e->throttles, e->n * sizeof(*e->throttles));
	for (size_t i = 0; i < run->results.nvalues; i++)
		out->values[i] = NAN;
	out->start = tb_now() - run->t0;
	r = tb_run_apply(run, e, err, sizeof(err));
	if (r == 0) {
		r = measure(run, &trial, out->values, err, sizeof(err));
		if (r != -EINTR && service_gone(run, e, r, err, sizeof(err)))
			r = -ESRCH;
		int rr = tb_run_restore(run);

		if (r == 0 && rr < 0) {
			snprintf(err, sizeof(err), "restore failed: %s", strerror(-rr));
			r = rr;
		}
	}
	out->duration = tb_now() - run->t0 - out->start;
	if (r == -ESRCH || r == -ENOENT)     /* stopped, restarted, or its cgroup is gone */
		rediscover(run);
	if (r < 0) {
		out->failed = 1;
		out->error = strdup(err);
		for (size_t i = 0; i < run->results.nvalues; i++)
			out->values[i] = NAN;
		if (r != -EINTR)
			tb_warn("trial %u failed: %s", index, err);
	}
	return r;
}

static void describe(const struct tb_run *run, const struct tb_experiment *e, char *buf, size_t len)
{
	size_t used = 0;

	if (e->n == 0) {
		snprintf(buf, len, "baseline");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < e->n && used < len; i++) {
		const struct tb_throttle *t = &e->throttles[i];

		if (i == 3) {
			snprintf(buf + used, len - used, " +%zu more", e->n - 3);
			break;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s/%s@%.2f", i ? " " : "",
					 run->service_names[t->service],
					 run->throttler_names[t->throttler], t->stress);
	}
}

static int make_workdir(struct tb_run *run)
{
	return tb_outdir_prepare(run->conf->output_dir, &run->workdir);
}

int tb_run_execute(struct tb_run *run)
{
	const struct tb_strategy *st = (const void *)run->strategy.lib.header;
	unsigned long total = st->estimate ? st->estimate(run->strategy.state) : 0;
	struct tb_progress progress;
	unsigned index = 0;
	int r;

	r = make_workdir(run);
	if (r < 0) {
		tb_error("cannot create %s: %s", run->conf->output_dir, strerror(-r));
		return r;
	}
	run->t0 = tb_now();
	run->started = time(NULL);
	tb_progress_start(&progress, total);
	for (;;) {
		struct tb_experiment e = { 0 };
		struct tb_trial_result result;
		char what[256];

		if (tb_cancelled) {
			r = -EINTR;
			break;
		}
		r = st->next(run->strategy.state, &e);
		if (r <= 0)
			break;
		describe(run, &e, what, sizeof(what));
		tb_progress_update(&progress, ++index, what);
		r = run_trial(run, &e, index, &result);
		if (tb_results_add(&run->results, &result) < 0)
			return -ENOMEM;
		if (r == -EINTR || tb_cancelled) {
			r = -EINTR;
			break;
		}
		if (st->observe)
			st->observe(run->strategy.state, &e, result.values[0], result.failed);
		if (st->estimate)        /* an adaptive strategy learns how far it has to go */
			progress.total = st->estimate(run->strategy.state);
	}
	tb_progress_done(&progress);
	if (r == -EINTR)
		tb_warn("interrupted after %u trials: everything is restored", index);
	return r;
}

void tb_run_finish(struct tb_run *run)
{
	const struct tb_orchestrator *o;
	size_t i;

	tb_run_restore(run);
	if (run->orchestrator.initialised) {
		o = orchestrator(run);
		if (run->launched && o->stop)
			o->stop(run->orchestrator.state);
		o->fini(run->orchestrator.state);
	}
	for (i = 0; i < run->nthrottlers; i++)
		if (run->throttlers[i].initialised)
			throttler(&run->throttlers[i])->fini(run->throttlers[i].state);
	for (i = 0; i < run->nmetrics; i++)
		if (run->metrics[i].initialised)
			((const struct tb_metric *)run->metrics[i].lib.header)->fini(run->metrics[i].state);
	if (run->strategy.initialised)
		((const struct tb_strategy *)run->strategy.lib.header)->fini(run->strategy.state);
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
	free(run->service_names);
	free(run->throttler_names);
	free(run->resources);
	free(run->excluded);
	free(run->applied);
	free(run->workdir);
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
