/* run.h - one experiment run: its plugins, inventory, search space, applied throttles and results. */
#ifndef TB_RUN_H
#define TB_RUN_H

#include <stdio.h>
#include <time.h>
#include "conf.h"
#include "instance.h"
#include "inventory.h"
#include "results.h"

struct tb_boost;

/* Who applied a throttle, and so undoes it. */
enum tb_applied_by {
	TB_BY_THROTTLER = 0,     /* the throttler, on this machine */
	TB_BY_AGENT = 1,         /* the node's agent; saved is its record */
	TB_BY_ENGINE = 2,        /* the orchestrator, through its engine's API */
};

struct tb_applied {
	struct tb_instance *throttler;
	const struct tb_target *target;
	long journal_id;
	char *saved;
	int remote;              /* enum tb_applied_by */
	int held;                /* the agent said it applied it */
};

struct tb_run {
	struct tb_conf *conf;
	struct tb_instance orchestrator;
	struct tb_instance throttlers[TB_MAX_PLUGINS];
	size_t nthrottlers;
	struct tb_instance metrics[TB_MAX_PLUGINS];
	size_t nmetrics;
	size_t metric_order[TB_MAX_PLUGINS];   /* drivers of the workload first */
	struct tb_instance strategy;
	struct tb_journal *journal;
	struct tb_inventory inv;
	int launched;
	struct tb_space space;
	const char **service_names, **throttler_names, **resources;
	unsigned char *excluded;
	struct tb_results results;
	char *workdir;
	double t0;
	time_t started;
	struct tb_applied *applied;
	size_t napplied;
	char **unrestored;       /* "target (throttler)" whose restore failed */
	size_t nunrestored;
	unsigned long lapsed;    /* this trial's throttles an agent had lifted before restore */
	unsigned long alive_unknown;   /* orchestrator's alive() answers "could not tell" */
	unsigned long check_unknown;   /* throttlers' check() answers "could not tell" */
	/* The schedule (loop.c). */
	unsigned long scheduled;       /* trials the strategy asked for */
	unsigned long extra_budget;    /* most adaptive trials (max_extra_trials) */
	unsigned long extra_used;
	unsigned round;                /* baselines so far: the blocked round */
	FILE *trial_log;               /* output_dir/trials.jsonl */
	/* Resuming an interrupted run (resume.c, manifest.c). */
	struct tb_replay *replay;      /* its recorded trials, until all are taken */
	double started_wall;           /* the run's start, seconds since the epoch (0: now) */
	unsigned resumed_at;           /* the first trial this resume ran, or 0 */
	int rejoining;                 /* running the resume's own warm-up and baseline */
	int refused;                   /* the recorded trials are not this run's: no report */
	struct tb_boost *boosts;       /* the boost phase (boost.h) */
	size_t nboosts;
	struct tb_agent_ref found_agent;   /* tb_run_agent()'s answer for a found agent */
};

/* Load every plugin the configuration names and check their settings.
 * Errors are configuration errors (file:line), -EINVAL. */
int tb_run_load(struct tb_run *run, struct tb_conf *conf);
/* init() every plugin; bad values are configuration errors (-EINVAL). */
int tb_run_init(struct tb_run *run);
/* init() one instance (space: a strategy's search space, else NULL). */
int tb_run_init_instance(struct tb_instance *in, const struct tb_space *space);
/* Open the journal and give it to every instance. */
int tb_run_open_journal(struct tb_run *run);
/* Launch (when launch) and discover the services; apply exclusions. */
int tb_run_discover(struct tb_run *run, int launch);
/* Is a target's node one the configuration leaves alone?  (arg: the run) */
int tb_run_keep_target(const struct tb_target *t, void *arg);
/* Build the search space and init the strategy (plan.c). */
int tb_run_plan(struct tb_run *run);
/* The agent that throttles t (its node's, named in the configuration or found
 * by the orchestrator), or NULL: this host does.  Valid until the next call. */
const struct tb_agent_ref *tb_run_agent(struct tb_run *run, const struct tb_target *t);
/* Journal and apply every throttle of e on every target; all or nothing (trial.c). */
int tb_run_apply(struct tb_run *run, const struct tb_experiment *e, char *err, size_t errlen);
/* Before a throttle is made: journal saved (kind, plugin and path: what
 * undoes it after a crash) and record it as applied, by whom, so that
 * tb_run_restore() undoes it whatever the apply does.  0 or -errno (err). */
int tb_run_record_applied(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
			  const char *kind, const char *plugin, const char *path, const char *saved,
			  enum tb_applied_by by, char *err, size_t errlen);
/* Restore whatever is applied, newest first.  0 or the first error; what
 * could not be restored is added to run->unrestored. */
int tb_run_restore(struct tb_run *run);
/* One trial of e: apply, measure, restore; out is filled even when it fails. */
int tb_run_trial(struct tb_run *run, const struct tb_experiment *e, unsigned index,
		 struct tb_trial_result *out);
/* The whole search, with progress; fills run->results (loop.c). */
int tb_run_execute(struct tb_run *run);
/* Restore, stop what was launched, fini and unload everything. */
void tb_run_finish(struct tb_run *run);

/* 1 when neither the orchestrator nor any throttler touches the kernel. */
int tb_run_unprivileged(const struct tb_run *run);

/* Find a throttler instance / service by name; -1 when none. */
long tb_run_find_throttler(const struct tb_run *run, const char *name);
long tb_run_find_service(const struct tb_run *run, const char *name);

static inline const struct tb_orchestrator *tb_run_orchestrator(const struct tb_run *run)
{
	return (const void *)run->orchestrator.lib.header;
}

static inline const struct tb_throttler *tb_throttler_ops(const struct tb_instance *in)
{
	return (const void *)in->lib.header;
}

static inline const struct tb_strategy *tb_run_strategy(const struct tb_run *run)
{
	return (const void *)run->strategy.lib.header;
}

#endif
