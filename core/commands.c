/* commands.c - the subcommands: run, plan, probe, hold, restore, plugins. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "clampdown.h"
#include "commands.h"
#include "improve.h"
#include "journal.h"
#include "log.h"
#include "manifest.h"
#include "progress.h"
#include "rank.h"
#include "report.h"
#include "report_render.h"
#include "restore.h"
#include "resume.h"
#include "run.h"
#include "stress.h"

static pid_t self_pid;

static void on_signal(int sig, siginfo_t *info, void *context)
{
	(void)context;
	/* A write to a closed pipe or socket raises SIGPIPE from the kernel on
	 * our own behalf: the write fails with EPIPE and the run goes on.  One
	 * sent by someone else asks us to stop, as its default would. */
	if (sig == SIGPIPE && info && info->si_code == SI_USER && info->si_pid == self_pid)
		return;
	tb_cancelled = sig;
}

/*
 * Every signal whose default action ends the process, except the faults
 * raised by our own code (SEGV, BUS, FPE, ILL, TRAP, ABRT: returning from
 * them would fault again; the journal is there for those).  Caught, not
 * ignored: a caught signal goes back to its default in the programs we
 * start, so a workload's own pipes behave as usual.
 */
void tb_install_signal_handlers(void)
{
	static const int terminating[] = {
		SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE,
		SIGVTALRM, SIGPROF, SIGPOLL, SIGPWR, SIGSYS, SIGXCPU, SIGXFSZ, SIGSTKFLT,
	};
	struct sigaction sa;

	self_pid = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;      /* no SA_RESTART: waits return EINTR */
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(terminating) / sizeof(*terminating); i++)
		sigaction(terminating[i], &sa, NULL);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaction(sig, &sa, NULL);
}

/* Name what is still throttled; 1 if anything is. */
static int report_unrestored(const struct tb_run *run)
{
	if (run->nunrestored == 0)
		return 0;
	tb_error("%zu throttle%s could not be restored and %s still applied:", run->nunrestored,
		 run->nunrestored == 1 ? "" : "s", run->nunrestored == 1 ? "is" : "are");
	for (size_t i = 0; i < run->nunrestored; i++)
		tb_error("  still throttled: %s", run->unrestored[i]);
	if (run->journal)
		tb_error("they stay in the journal %s: 'throttlebot restore' will retry them",
			 tb_journal_path());
	return 1;
}

static int exit_for(int r)
{
	return r == -EINVAL ? TB_EXIT_CONFIG : r == -EINTR ? TB_EXIT_INTERRUPTED : TB_EXIT_FAILURE;
}

static int need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	tb_error("%s changes cgroup and network settings, which needs root: run it as root "
		 "('throttlebot plan' shows the schedule without root)", what);
	return -EPERM;
}

/* Parse, load and init everything: the part every command shares.  Any
 * error here is the configuration's, reported as file:line. */
static int prepare(struct tb_run *run, struct tb_conf *conf, const char *path,
		   const struct tb_options *o)
{
	int r;

	memset(run, 0, sizeof(*run));       /* tb_run_finish() is safe whatever fails */
	r = tb_conf_load(conf, path);
	if (r < 0)
		return -EINVAL;
	if (o->output)
		conf->output_dir = o->output;
	r = tb_run_load(run, conf);
	if (r == 0)
		r = tb_run_init(run);
	return r;
}

/* report.json is the contract; the HTML and CSV are views of it. */
static int write_reports(const json_t *rep, const char *dir)
{
	static const struct {
		const char *name;
		int (*write)(const json_t *, const char *);
	} writers[] = {
		{ "report.json", tb_report_write_json },
		{ "report.html", tb_report_write_html },
		{ "report.csv", tb_report_write_csv },
	};
	char path[4096];
	int first = 0;

	for (size_t i = 0; i < sizeof(writers) / sizeof(*writers); i++) {
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, writers[i].name);
		r = writers[i].write(rep, path);
		if (r < 0) {
			tb_error("cannot write %s: %s", path, strerror(-r));
			first = first ? first : r;
		}
	}
	return first;
}

static int rank_and_report(struct tb_run *run)
{
	size_t nv = run->results.nvalues;
	struct tb_ranking *rankings = calloc(nv, sizeof(*rankings));
	json_t *rep;
	int r = 0;

	if (!rankings)
		return -ENOMEM;
	for (size_t v = 0; v < nv && r == 0; v++)
		r = tb_rank(&run->results, v, run->conf->alpha, run->conf->min_effect, &rankings[v]);
	rep = r == 0 ? tb_report_build(run, rankings) : NULL;
	if (!rep) {
		r = r ? r : -ENOMEM;
	} else {
		r = write_reports(rep, run->conf->output_dir);
		tb_report_print_table(stdout, rep);
		printf("Reports: %s/report.{json,html,csv}\n", run->conf->output_dir);
		json_decref(rep);
	}
	for (size_t v = 0; v < nv; v++)
		tb_ranking_free(&rankings[v]);
	free(rankings);
	return r;
}

/* Before a resumed run touches anything: the directory is a run of this
 * configuration and seed (else refused), and not one already finished
 * (1: nothing to do). */
static int resume_check(const json_t *m, const char *dir, struct tb_conf *conf)
{
	char path[4096];
	int r = tb_manifest_match_conf(m, dir, conf);

	snprintf(path, sizeof(path), "%s/report.json", dir);
	if (r == 0 && tb_manifest_finished(m) && access(path, F_OK) == 0) {
		printf("%s: the run finished, every trial is in its report.json: nothing to do\n", dir);
		return 1;
	}
	return r;
}

/* Never trust that a killed run restored: undo what its journal holds
 * before anything of the resumed run starts. */
static int resume_restore(void)
{
	int r = tb_restore_journal(tb_journal_path());

	if (r != 0)
		tb_error("resume refused: what %s holds could not all be restored", tb_journal_path());
	return r == 0 ? 0 : r < 0 ? r : -EIO;
}

int tb_cmd_run(const char *config, const struct tb_options *o)
{
	struct tb_conf conf;
	struct tb_run run;
	json_t *m = NULL;
	int r, unprivileged, journal;

	memset(&run, 0, sizeof(run));
	memset(&conf, 0, sizeof(conf));
	if (o->resume) {
		r = tb_manifest_load(o->resume, &m);
		if (r < 0)
			return exit_for(r == -EINVAL ? r : -EPERM);
		if (!config)
			config = tb_manifest_config(m);
		tb_info("resuming the run in %s (configuration %s)", o->resume, config);
	}
	r = prepare(&run, &conf, config, o);
	if (r == 0 && m) {
		conf.output_dir = o->resume;
		r = resume_check(m, o->resume, &conf);
	}
	if (r == 1) {                   /* a finished run: nothing to resume */
		r = 0;
		goto out;
	}
	if (o->boost)
		conf.boost = 1;
	unprivileged = r == 0 && tb_run_unprivileged(&run);
	if (r == 0 && !unprivileged)
		r = need_root("throttlebot run");
	/* Nothing a simulator changes needs undoing after a crash. */
	journal = !(unprivileged && geteuid() != 0);
	if (r == 0 && m && journal)
		r = resume_restore();
	if (r == 0 && journal)
		r = tb_run_open_journal(&run);
	if (r == 0)
		r = tb_run_discover(&run, 1);
	if (r == 0 && m)
		r = tb_manifest_match_services(m, o->resume, &run);
	if (r == 0)
		r = tb_run_plan(&run);
	if (r == 0 && m) {
		run.started_wall = tb_manifest_started(m);
		r = tb_replay_load(&run, o->resume, &run.replay);
	}
	if (r == 0) {
		r = tb_run_execute(&run);
		tb_run_restore(&run);
		/* Trials that are not this run's make no report of it. */
		if (run.results.ntrials > 0 && !run.refused) {
			int rr = rank_and_report(&run);

			r = r ? r : rr;
		}
		if (r == 0 && (r = tb_manifest_write(&run, run.started_wall, 1)) < 0)
			tb_error("cannot write %s/run.json: %s", conf.output_dir, strerror(-r));
	}
	tb_run_restore(&run);
	if (report_unrestored(&run))
		r = -EIO;
out:
	tb_replay_free(run.replay);
	run.replay = NULL;
	tb_run_finish(&run);
	tb_conf_free(&conf);
	json_decref(m);
	return r == 0 ? TB_EXIT_OK : exit_for(r);
}

/* clampdown and improve: a run whose ranking is a means, then journalled
 * allocation changes; whatever is left applied is restored at the end. */
static int with_run(const char *config, const struct tb_options *o, const char *what,
		    int (*body)(struct tb_run *, const struct tb_options *))
{
	struct tb_conf conf;
	struct tb_run run;
	char name[64];
	int r, unprivileged;

	snprintf(name, sizeof(name), "throttlebot %s", what);
	r = prepare(&run, &conf, config, o);
	unprivileged = r == 0 && tb_run_unprivileged(&run);
	if (r == 0 && !unprivileged)
		r = need_root(name);
	/* Nothing a simulator changes needs undoing after a crash. */
	if (r == 0 && !(unprivileged && geteuid() != 0))
		r = tb_run_open_journal(&run);
	if (r == 0)
		r = tb_run_discover(&run, 1);
	if (r == 0)
		r = tb_run_plan(&run);
	if (r == 0)
		r = body(&run, o);
	tb_run_restore(&run);
	if (report_unrestored(&run))
		r = -EIO;
	tb_run_finish(&run);
	tb_conf_free(&conf);
	return r == 0 ? TB_EXIT_OK : exit_for(r);
}

static int clampdown_body(struct tb_run *run, const struct tb_options *o)
{
	return tb_clampdown(run, o->tolerance, o->keep);
}

int tb_cmd_clampdown(const char *config, const struct tb_options *o)
{
	return with_run(config, o, "clampdown", clampdown_body);
}

static int improve_body(struct tb_run *run, const struct tb_options *o)
{
	return tb_improve(run, o->budget, o->rounds, o->step, o->keep);
}

int tb_cmd_improve(const char *config, const struct tb_options *o)
{
	return with_run(config, o, "improve", improve_body);
}

/* Median trial duration of an earlier run's report, or 0. */
static double previous_trial_seconds(const char *output_dir)
{
	char path[4096];
	json_t *rep, *trials, *t;
	double sum = 0;
	size_t i, n = 0;

	snprintf(path, sizeof(path), "%s/report.json", output_dir);
	rep = json_load_file(path, 0, NULL);
	trials = json_object_get(rep, "trials");
	json_array_foreach(trials, i, t) {
		sum += json_number_value(json_object_get(t, "duration_s"));
		n++;
	}
	json_decref(rep);
	return n ? sum / (double)n : 0;
}

int tb_cmd_plan(const char *config, const struct tb_options *o)
{
	struct tb_conf conf;
	struct tb_run run;
	int r;

	r = prepare(&run, &conf, config, o);
	if (r == 0)
		r = tb_run_discover(&run, 0);
	if (r == 0)
		r = tb_run_plan(&run);
	if (r == 0) {
		const struct tb_strategy *st = (const void *)run.strategy.lib.header;
		unsigned long total = st->estimate ? st->estimate(run.strategy.state) : 0;
		double per = previous_trial_seconds(conf.output_dir);
		const char *source = "from the previous run's report";
		unsigned long extra;
		size_t pairs = 0;
		char dur[32];

		if (per <= 0) {
			per = conf.trial_seconds;
			source = "from trial_seconds";
		}
		printf("Plan for %s (%s)\n", conf.application, config);
		printf("  orchestrator: %s\n  strategy:     %s\n", run.orchestrator.name, run.strategy.name);
		printf("  services:     ");
		for (size_t s = 0; s < run.inv.nservices; s++)
			printf("%s%s", s ? ", " : "", run.service_names[s]);
		printf("\n  throttlers:   ");
		for (size_t t = 0; t < run.nthrottlers; t++)
			printf("%s%s (%s)", t ? ", " : "", run.throttler_names[t], run.resources[t]);
		printf("\n  stress:       ");
		for (size_t l = 0; l < conf.nlevels; l++)
			printf("%s%.2f", l ? ", " : "", conf.levels[l]);
		for (size_t i = 0; i < run.inv.nservices * run.nthrottlers; i++)
			pairs += !run.excluded[i];
		printf("\n  pairs:        %zu (service, resource) pairs, %zu excluded\n", pairs,
		       run.inv.nservices * run.nthrottlers - pairs);
		for (size_t s = 0; s < run.inv.nservices; s++)
			for (size_t t = 0; t < run.nthrottlers; t++)
				if (run.excluded[s * run.nthrottlers + t])
					printf("                excluded: %s %s\n", run.service_names[s],
					       run.resources[t]);
		printf("  trials:       %u per point, %u baseline, %u warm-up\n", conf.trials,
		       conf.baseline_trials, conf.warmup_trials);
		total += conf.warmup_trials + 1;        /* the warm-up and the closing baseline */
		tb_format_duration((double)total * per, dur, sizeof(dur));
		printf("  schedule:     %lu trials, about %s (%.1f s per trial, %s)\n", total, dur, per,
		       source);
		extra = conf.max_extra_trials >= 0 ? (unsigned long)conf.max_extra_trials
						   : (total - conf.warmup_trials - 1) / 2;
		tb_format_duration((double)extra * per, dur, sizeof(dur));
		printf("  replication:  at most %lu trials more where a verdict is undecided "
		       "(about %s)\n", extra, dur);
		if (conf.boost) {
			printf("  boost:        %s, at most %u pairs; ", conf.boost_all
			       ? "the IMRs, then the other pairs" : "the IMRs", conf.boost_max_pairs);
			if (conf.boost_trials)
				printf("%u boosted trials each", conf.boost_trials);
			else
				printf("enough boosted trials each for the test");
			printf(", each beside a baseline\n");
		}
		if (conf.seed_given)
			printf("  seed:         %llu (from the configuration)\n",
			       (unsigned long long)conf.seed);
		else
			printf("  seed:         drawn when the run starts (set 'seed' to repeat a run)\n");
	}
	tb_run_finish(&run);
	tb_conf_free(&conf);
	return r == 0 ? TB_EXIT_OK : exit_for(r);
}

static void print_target(const struct tb_target *t)
{
	static const char *const names[] = { "cpu", "cpuset", "io", "memory" };

	printf("    target %s: pid %d\n", t->id ? t->id : "?", (int)t->pid);
	for (int k = 0; k < 4; k++)
		if (t->cgroup[k])
			printf("      cgroup %-7s %s\n", names[k], t->cgroup[k]);
	if (t->netns)
		printf("      netns   %s\n      iface   %s\n", t->netns,
		       t->ifname ? t->ifname : "(found by the network throttler)");
	else
		printf("      netns   (the host's)\n");
	if (t->node)
		printf("      node    %s\n", t->node);
}

int tb_cmd_probe(const char *config, const struct tb_options *o)
{
	struct tb_conf conf;
	struct tb_run run;
	int r;

	r = prepare(&run, &conf, config, o);
	if (r == 0)
		r = need_root("throttlebot probe");
	if (r == 0)
		r = tb_run_open_journal(&run);
	if (r == 0)
		r = tb_run_discover(&run, 1);
	for (size_t s = 0; r == 0 && s < run.inv.nservices; s++) {
		const struct tb_service *sv = &run.inv.services[s];

		printf("service %s: %zu target%s\n", sv->name, sv->ntargets, sv->ntargets == 1 ? "" : "s");
		for (size_t j = 0; j < sv->ntargets; j++) {
			const struct tb_agent_ref *ag = tb_run_agent(&run, &sv->targets[j]);

			print_target(&sv->targets[j]);
			/* This host's cgroups say nothing of another node's. */
			if (ag)
				printf("      agent   %s (throttles it; its capacity is not read "
				       "from here)\n", ag->url);
			for (size_t t = 0; !ag && t < run.nthrottlers; t++) {
				const struct tb_throttler *th = (const void *)run.throttlers[t].lib.header;
				double cap = NAN;
				int pr = th->probe ? th->probe(run.throttlers[t].state, &sv->targets[j], &cap)
						   : -ENOTSUP;

				if (pr < 0)
					printf("      %-12s %s: cannot probe: %s\n", run.throttlers[t].name,
					       th->resource, strerror(-pr));
				else
					printf("      %-12s %s capacity %.6g %s\n", run.throttlers[t].name,
					       th->resource, cap, th->unit ? th->unit : "");
			}
		}
	}
	tb_run_finish(&run);
	tb_conf_free(&conf);
	return r == 0 ? TB_EXIT_OK : exit_for(r);
}

int tb_cmd_hold(const char *config, const char *service, const char *throttler_name,
		const char *stress_text, const struct tb_options *o)
{
	struct tb_conf conf;
	struct tb_run run;
	struct tb_throttle th;
	struct tb_experiment e = { 1, &th };
	char *end, err[1024];
	double stress = strtod(stress_text, &end);
	long s = -1, t = -1;
	int r;

	if (*end || end == stress_text || !tb_stress_level_valid(stress)) {
		tb_error("stress '%s' %s", stress_text, TB_STRESS_LEVEL_RULE);
		return TB_EXIT_CONFIG;
	}
	r = prepare(&run, &conf, config, o);
	if (r == 0 && (t = tb_run_find_throttler(&run, throttler_name)) < 0) {
		tb_error("no throttler named '%s' in %s", throttler_name, config);
		r = -EINVAL;
	}
	if (r == 0)
		r = need_root("throttlebot hold");
	if (r == 0)
		r = tb_run_open_journal(&run);
	if (r == 0)
		r = tb_run_discover(&run, 1);
	if (r == 0 && (s = tb_run_find_service(&run, service)) < 0) {
		tb_error("no service named '%s' (or it is excluded)", service);
		r = -EINVAL;
	}
	if (r == 0) {
		th.service = (size_t)s;
		th.throttler = (size_t)t;
		th.stress = stress;
		r = tb_run_apply(&run, &e, err, sizeof(err));
		if (r < 0)
			tb_error("%s", err);
	}
	if (r == 0) {
		double until = tb_now() + o->hold_seconds;

		tb_info("holding %s %s at stress %.2f %s", service, throttler_name, stress,
			o->hold_seconds > 0 ? "" : "until interrupted (Ctrl-C restores)");
		while (!tb_cancelled && (o->hold_seconds <= 0 || tb_now() < until))
			usleep(20000);
		r = tb_run_restore(&run);
		if (r == 0)
			tb_info("restored");
	}
	tb_run_restore(&run);
	if (report_unrestored(&run))
		r = r ? r : -EIO;
	tb_run_finish(&run);
	tb_conf_free(&conf);
	return r == 0 ? TB_EXIT_OK : exit_for(r);
}

int tb_cmd_restore(const struct tb_options *o)
{
	int r;

	/* --check only reads: whoever can read the journal may look. */
	if (o->check)
		return tb_restore_check(tb_journal_path()) == 0 ? TB_EXIT_OK : TB_EXIT_FAILURE;
	r = need_root("throttlebot restore");
	if (r == 0)
		r = tb_restore_journal(tb_journal_path());
	return r == 0 ? TB_EXIT_OK : TB_EXIT_FAILURE;
}

static void list_dir(const char *dir, const struct tb_options *o)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		char path[4096], why[2048];
		struct tb_loaded p;

		if (len > 3 && !strcmp(names[i]->d_name + len - 3, ".so")) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (tb_plugin_load_file(path, 0, &p, why, sizeof(why)) < 0) {
				printf("  %-14s %-12s %s\n", "(refused)", "", why);
			} else {
				const struct tb_setting_spec *s = p.header->settings;

				printf("  %-14s %-12s ABI %u.%u  %s\n      %s\n", p.header->name,
				       tb_kind_name(p.header->kind), TB_ABI_VERSION_MAJOR(p.header->abi),
				       TB_ABI_VERSION_MINOR(p.header->abi), path,
				       p.header->summary ? p.header->summary : "");
				for (; o->verbose && s && s->name; s++)
					printf("        %-18s %s%s\n", s->name, s->doc ? s->doc : "",
					       s->required ? " (required)" : "");
				tb_plugin_unload(&p);
			}
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

int tb_cmd_plugins(const struct tb_options *o)
{
	char **dirs;
	int n = tb_plugin_dirs(NULL, &dirs);

	if (n < 0)
		return TB_EXIT_FAILURE;
	printf("Plugins (ABI %u.%u), searched in this order:\n", TB_ABI_MAJOR, TB_ABI_MINOR);
	for (int i = 0; i < n; i++) {
		printf("%s\n", dirs[i]);
		list_dir(dirs[i], o);
	}
	tb_plugin_dirs_free(dirs, n);
	return TB_EXIT_OK;
}
