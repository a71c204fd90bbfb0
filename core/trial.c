/* trial.c - one trial: journal and apply the throttles, measure, check the services lived, restore. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "journal.h"
#include "log.h"
#include "progress.h"
#include "remote.h"
#include "run.h"

static int push_applied(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			long id, const char *saved, int remote)
{
	struct tb_applied *grown = realloc(run->applied, (run->napplied + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	run->applied = grown;
	grown += run->napplied;
	grown->throttler = t;
	grown->target = target;
	grown->journal_id = id;
	grown->remote = remote;
	grown->saved = strdup(saved);
	if (!grown->saved)
		return -ENOMEM;
	run->napplied++;
	return 0;
}

/* A target on a node with an agent: the agent saves and applies, under a
 * lease kept alive from here.  The record (the agent and a handle of our
 * own) is journalled before the request, so that 'throttlebot restore'
 * reaches the agent whatever became of the answer. */
static int apply_remote(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			const struct tb_agent_ref *ag, double stress, char *err, size_t errlen)
{
	char saved[TB_SAVED_MAX];
	long id;
	int r = tb_remote_record(ag, saved, sizeof(saved));

	if (r < 0) {
		snprintf(err, errlen, "%s: %s", target->id, strerror(-r));
		return r;
	}
	id = run->journal ? tb_journal_add(run->journal, TB_REMOTE_KIND, t->lib.header->name,
					   "", target->id, saved) : 0;
	if (id < 0) {
		snprintf(err, errlen, "cannot write the journal: %s", strerror((int)-id));
		return (int)id;
	}
	r = push_applied(run, t, target, id, saved, 1);
	if (r == 0)
		r = tb_remote_apply(saved, target, t->name, stress, err, errlen);
	if (r == 0)
		r = tb_renew_add(saved);
	return r;
}

static int apply_target(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			double stress, char *err, size_t errlen)
{
	const struct tb_throttler *ops = tb_throttler_ops(t);
	const struct tb_agent_ref *ag = tb_agents_find(&run->conf->agents, target->node);
	char saved[TB_SAVED_MAX] = "";
	long id;
	int r;

	if (ag)
		return apply_remote(run, t, target, ag, stress, err, errlen);

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
	r = push_applied(run, t, target, id, saved, 0);
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

/* A target left throttled, for the command to name at the end. */
static void keep_unrestored(struct tb_run *run, const struct tb_applied *a)
{
	char **grown = realloc(run->unrestored, (run->nunrestored + 1) * sizeof(*grown));

	if (!grown)
		return;
	run->unrestored = grown;
	if (asprintf(&grown[run->nunrestored], "%s (%s)", a->target->id, a->throttler->name) >= 0)
		run->nunrestored++;
}

int tb_run_restore(struct tb_run *run)
{
	int first = 0;

	while (run->napplied > 0) {
		struct tb_applied *a = &run->applied[--run->napplied];
		int r;

		if (a->remote)
			tb_renew_remove(a->saved);
		r = a->remote ? tb_remote_release(a->saved)
			      : tb_throttler_ops(a->throttler)->restore(a->throttler->state, a->saved);

		if (r == -ENOENT)       /* the target is gone, and its throttle with it */
			r = 0;
		if (r < 0) {
			tb_error("%s: could not restore %s: %s (kept in the journal for 'throttlebot restore')",
				 a->throttler->name, a->target->id, strerror(-r));
			first = first ? first : r;
			keep_unrestored(run, a);
		} else if (run->journal && a->journal_id > 0) {
			tb_journal_done(run->journal, a->journal_id);
		}
		free(a->saved);
	}
	return first;
}

static int targets_alive(struct tb_run *run, const struct tb_experiment *e, char *err, size_t len)
{
	const struct tb_orchestrator *o = tb_run_orchestrator(run);

	if (!o->alive)
		return 1;
	for (size_t i = 0; i < e->n; i++) {
		const struct tb_service *s = &run->inv.services[e->throttles[i].service];

		for (size_t j = 0; j < s->ntargets; j++) {
			int r = o->alive(run->orchestrator.state, &s->targets[j]);

			if (r == 0) {
				snprintf(err, len, "service '%s': %s stopped or restarted during the trial",
					 s->name, s->targets[j].id);
				return 0;
			}
			/* Could not tell: a trial is not failed on an engine's hiccup,
			 * its metrics judge it; said once, as it may recur every trial. */
			if (r < 0 && !run->alive_unknown++)
				tb_warn("%s: could not tell whether %s is still running (%s): taken "
					"as running", run->orchestrator.name, s->targets[j].id,
					strerror(-r));
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
	const struct tb_orchestrator *o = tb_run_orchestrator(run);
	struct tb_inventory fresh = { 0 };
	int r = o->discover(run->orchestrator.state, &fresh);

	if (r < 0) {
		tb_warn("could not find the services again: %s", strerror(-r));
		tb_inventory_free(&fresh);
		return;
	}
	tb_inventory_filter_targets(&fresh, tb_run_keep_target, run);
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

int tb_run_trial(struct tb_run *run, const struct tb_experiment *e, unsigned index,
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
	if (e->n)   /* a baseline's throttles may be NULL, which memcpy may not be given */
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

