/* trial.c - one trial: journal and apply the throttles, measure, check the services lived unharmed, restore, revive. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine_throttle.h"
#include "journal.h"
#include "log.h"
#include "progress.h"
#include "remote.h"
#include "run.h"

int tb_run_record_applied(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			  const char *kind, const char *plugin, const char *path, const char *saved,
			  enum tb_applied_by remote, char *err, size_t errlen)
{
	long id = run->journal ? tb_journal_add(run->journal, kind, plugin, path, target->id, saved) : 0;
	struct tb_applied *grown;

	if (id < 0) {
		snprintf(err, errlen, "cannot write the journal: %s", strerror((int)-id));
		return (int)id;
	}
	grown = realloc(run->applied, (run->napplied + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	run->applied = grown;
	grown += run->napplied;
	grown->throttler = t;
	grown->target = target;
	grown->journal_id = id;
	grown->remote = remote;
	grown->held = 0;
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
	int r = tb_remote_record(ag, saved, sizeof(saved));

	if (r < 0) {
		snprintf(err, errlen, "%s: %s", target->id, strerror(-r));
		return r;
	}
	r = tb_run_record_applied(run, t, target, TB_REMOTE_KIND, t->lib.header->name, "", saved,
				  TB_BY_AGENT, err, errlen);
	if (r == 0)
		r = tb_remote_apply(saved, target, t->name, stress, err, errlen);
	if (r == 0)
		run->applied[run->napplied - 1].held = 1;
	if (r == 0)
		r = tb_renew_add(saved);
	return r;
}

const struct tb_agent_ref *tb_run_agent(struct tb_run *run, const struct tb_target *t)
{
	return tb_agents_for(&run->conf->agents, t->node, tb_inventory_agent(&run->inv, t->node),
			     &run->found_agent);
}

static int apply_target(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			double stress, char *err, size_t errlen)
{
	const struct tb_throttler *ops = tb_throttler_ops(t);
	const struct tb_agent_ref *ag = tb_run_agent(run, target);
	char saved[TB_SAVED_MAX] = "";
	int r;

	if (ag)
		return apply_remote(run, t, target, ag, stress, err, errlen);
	if (tb_engine_target(target))
		return tb_engine_apply(run, t, target, stress, err, errlen);

	r = ops->save(t->state, target, saved, sizeof(saved));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the current state of %s: %s", t->name,
			 target->id, strerror(-r));
		return r;
	}
	r = tb_run_record_applied(run, t, target, "throttler", t->lib.header->name, t->lib.path,
				  saved, TB_BY_THROTTLER, err, errlen);
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

		if (a->remote == TB_BY_AGENT)
			tb_renew_remove(a->saved);
		r = a->remote == TB_BY_AGENT ? tb_remote_release(a->saved, 1)
		    : a->remote == TB_BY_ENGINE ? tb_engine_restore(&run->orchestrator, a->saved)
		    : tb_throttler_ops(a->throttler)->restore(a->throttler->state, a->saved);

		/* The agent restored it before we asked: the trial ran part of the
		 * time unthrottled, and its measurement is not the throttle's. */
		if (r == -ENOENT && a->remote == TB_BY_AGENT && a->held) {
			tb_warn("%s: %s: its agent had restored it already (its lease ran out, or "
				"the agent restarted)", a->throttler->name, a->target->id);
			run->lapsed++;
		}
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

/* Targets a trial harmed or lost: revived (when the orchestrator can) before
 * the services are discovered again.  They point into run->inv, which only
 * the discovery after them replaces. */
struct casualties {
	const struct tb_target **t;
	size_t n;
};

static void note_casualty(struct casualties *c, const struct tb_target *t)
{
	const struct tb_target **grown;

	for (size_t i = 0; i < c->n; i++)
		if (c->t[i] == t)
			return;
	grown = realloc(c->t, (c->n + 1) * sizeof(*grown));
	if (!grown)
		return;        /* not revived: the discovery after the trial still runs */
	c->t = grown;
	c->t[c->n++] = t;
}

static const char *service_of(const struct tb_run *run, const struct tb_target *t)
{
	for (size_t i = 0; i < run->inv.nservices; i++) {
		const struct tb_service *s = &run->inv.services[i];

		if (t >= s->targets && t < s->targets + s->ntargets)
			return s->name;
	}
	return "?";
}

/* The trial's error: what happened to a service, then the metric's own error if it failed. */
static void blame(char *err, size_t len, const char *what, int measured)
{
	char metric[1024];

	snprintf(metric, sizeof(metric), "%s", err);
	if (measured < 0)
		snprintf(err, len, "%.511s (%.400s)", what, metric);
	else
		snprintf(err, len, "%s", what);
}

static int targets_alive(struct tb_run *run, const struct tb_experiment *e, struct casualties *lost,
			 char *err, size_t len)
{
	const struct tb_orchestrator *o = tb_run_orchestrator(run);
	int alive = 1;

	if (!o->alive)
		return 1;
	for (size_t i = 0; i < e->n; i++) {
		const struct tb_service *s = &run->inv.services[e->throttles[i].service];

		for (size_t j = 0; j < s->ntargets; j++) {
			int r = o->alive(run->orchestrator.state, &s->targets[j]);

			if (r == 0) {
				if (alive)
					snprintf(err, len, "service '%s': %s stopped or restarted during the trial",
						 s->name, s->targets[j].id);
				note_casualty(lost, &s->targets[j]);
				alive = 0;
			}
			/* Could not tell: a trial is not failed on an engine's hiccup,
			 * its metrics judge it; said once, as it may recur every trial. */
			if (r < 0 && !run->alive_unknown++)
				tb_warn("%s: could not tell whether %s is still running (%s): taken "
					"as running", run->orchestrator.name, s->targets[j].id,
					strerror(-r));
		}
	}
	return alive;
}

/*
 * Did a throttled service stop or restart during the trial?  That explains a
 * failed workload better than the metric's own error, so it is named first.
 * The workload can break the instant a container dies, a moment before its
 * engine notices: a failed trial gives the orchestrator a second to.
 */
static int service_gone(struct tb_run *run, const struct tb_experiment *e, int measured,
			struct casualties *lost, char *err, size_t len)
{
	struct timespec tenth = { 0, 100000000 };
	char gone[512];
	int alive = targets_alive(run, e, lost, gone, sizeof(gone));

	for (int i = 0; measured < 0 && alive && e->n > 0 && i < 10 && !tb_cancelled; i++) {
		nanosleep(&tenth, NULL);
		alive = targets_alive(run, e, lost, gone, sizeof(gone));
	}
	if (alive)
		return 0;
	blame(err, len, gone, measured);
	return 1;
}

/*
 * After the trial, before restore: did a throttle harm a target beyond
 * slowing it (an OOM kill, say)?  Each applied throttler that can tell is
 * asked about each target; the first harm is named, every harmed target is
 * noted for revival.
 */
static int targets_harmed(struct tb_run *run, int measured, struct casualties *lost, char *err,
			  size_t len)
{
	char what[768];
	int harmed = 0;

	for (size_t i = 0; i < run->napplied; i++) {
		const struct tb_applied *a = &run->applied[i];
		const struct tb_throttler *ops = tb_throttler_ops(a->throttler);
		int (*check)(void *, const struct tb_target *, const char *, char *, size_t) =
			TB_SINCE(ops, 2, check);
		char why[256] = "";
		int r;

		/* Its node's agent asks the throttler there; an engine cannot tell. */
		if (a->remote == TB_BY_ENGINE || (a->remote == TB_BY_THROTTLER && !check))
			continue;
		r = a->remote == TB_BY_AGENT ? tb_remote_check(a->saved, why, sizeof(why))
		    : check(a->throttler->state, a->target, a->saved, why, sizeof(why));
		if (r > 0) {
			if (!harmed)
				snprintf(what, sizeof(what), "service '%s': %s harmed by %s: %.200s",
					 service_of(run, a->target), a->target->id, a->throttler->name,
					 why[0] ? why : "no reason given");
			harmed = 1;
			note_casualty(lost, a->target);
		} else if (r < 0 && r != -ENODATA && r != -ENOENT && r != -EOPNOTSUPP &&
			   !run->check_unknown++) {
			tb_warn("%s: could not tell whether %s was harmed (%s)", a->throttler->name,
				a->target->id, strerror(-r));
		}
	}
	if (harmed)
		blame(err, len, what, measured);
	return harmed;
}

/* Bring back what died or was harmed, before the services are found again. */
static void revive(struct tb_run *run, const struct casualties *lost)
{
	const struct tb_orchestrator *o = tb_run_orchestrator(run);
	int (*rv)(void *, const struct tb_target *) = TB_SINCE(o, 2, revive);

	for (size_t i = 0; rv && i < lost->n; i++) {
		int r = rv(run->orchestrator.state, lost->t[i]);

		if (r < 0)
			tb_warn("%s: could not bring %s back: %s", run->orchestrator.name, lost->t[i]->id,
				strerror(-r));
		else
			tb_info("%s: brought %s back", run->orchestrator.name, lost->t[i]->id);
	}
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
	struct casualties lost = { NULL, 0 };
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
	run->lapsed = 0;
	r = tb_run_apply(run, e, err, sizeof(err));
	if (r == 0) {
		r = measure(run, &trial, out->values, err, sizeof(err));
		/* A harm (an OOM kill) names its cause; a plain death is found after. */
		if (r != -EINTR && (targets_harmed(run, r, &lost, err, sizeof(err)) ||
				    service_gone(run, e, r, &lost, err, sizeof(err))))
			r = -ESRCH;
		int rr = tb_run_restore(run);

		if (r == 0 && rr < 0) {
			snprintf(err, sizeof(err), "restore failed: %s", strerror(-rr));
			r = rr;
		}
		if (r == 0 && run->lapsed) {
			snprintf(err, sizeof(err), "%lu throttle(s) lifted by the agent before the trial "
				 "ended: its measurement is not the throttle's", run->lapsed);
			r = -ETIMEDOUT;
		}
	}
	out->duration = tb_now() - run->t0 - out->start;
	/* Unthrottled first: a revived service starts with its own limits. */
	revive(run, &lost);
	free(lost.t);
	if (r == -ESRCH || r == -ENOENT)     /* stopped, restarted, harmed, or its cgroup is gone */
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

