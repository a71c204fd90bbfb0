/* loop.c - the schedule of a run: warm-up, the strategy's trials in blocked rounds, then adaptive replication. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "adaptive.h"
#include "boost.h"
#include "log.h"
#include "manifest.h"
#include "outdir.h"
#include "progress.h"
#include "rank.h"
#include "stats.h"
#include "report.h"
#include "resume.h"
#include "run.h"


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

/* trials.jsonl: every trial as it finishes, so a run killed between two
 * reports loses nothing it measured. */
static int open_trial_log(struct tb_run *run)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/trials.jsonl", run->conf->output_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	run->trial_log = fdopen(fd, "w");
	if (!run->trial_log) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

struct schedule {
	struct tb_progress progress;
	unsigned index;
	int last_was_baseline;
	uint64_t rng;
	unsigned boost;         /* the boost phase's trials: 1 + the boost */
	int boosted;            /* the boost is made during this one */
};

static uint64_t next_random(struct schedule *s)
{
	return tb_xorshift(&s->rng);
}

/* Fisher-Yates: n items of size bytes at base in a seeded random order. */
static void shuffle(struct schedule *s, void *base, size_t n, size_t size)
{
	unsigned char *a = base, tmp[64];

	for (size_t i = n; i > 1; i--) {
		size_t j = next_random(s) % i;

		if (j == i - 1)
			continue;
		memcpy(tmp, a + (i - 1) * size, size);
		memcpy(a + (i - 1) * size, a + j * size, size);
		memcpy(a + j * size, tmp, size);
	}
}

/* A trial taken from the record, with the schedule's state it left. */
static int keep(struct tb_run *run, struct schedule *s, const struct tb_trial_result *t)
{
	s->index = t->index;
	run->round = t->round;
	s->last_was_baseline = t->n == 0 && !t->warmup;
	return tb_results_add(&run->results, t);
}

static int baseline(struct tb_run *run, struct schedule *s, int warmup, unsigned extra);

/* The recorded trials are all taken: the run goes on from here, after
 * warm-up trials and a baseline of its own (unless the next trial is one),
 * so that the trials after the gap are judged against baselines taken
 * after it too. */
static int rejoin(struct tb_run *run, struct schedule *s, int next_is_baseline)
{
	int r = tb_replay_end(run->replay, &run->trial_log);

	tb_replay_free(run->replay);
	run->replay = NULL;
	if (r < 0) {
		run->refused = 1;
		return r;
	}
	run->resumed_at = s->index + 1;
	if (run->results.ntrials == 0)    /* nothing was recorded: a plain start */
		return 0;
	tb_info("resuming at trial %u, after %u warm-up trial%s%s", s->index + 1,
		run->conf->warmup_trials, run->conf->warmup_trials == 1 ? "" : "s",
		next_is_baseline ? "" : " and a baseline");
	s->progress.total += run->conf->warmup_trials + !next_is_baseline;
	run->rejoining = 1;
	for (unsigned i = 0; r == 0 && i < run->conf->warmup_trials; i++)
		r = baseline(run, s, 1, 0);
	if (r == 0 && !next_is_baseline)
		r = baseline(run, s, 0, 0);
	run->rejoining = 0;
	return r;
}

/* A resumed run takes the trials its earlier run recorded, checked to be
 * the ones its schedule asks for, instead of running them again: 1 when
 * e was taken, 0 when it is to be run. */
static int replay(struct tb_run *run, struct schedule *s, const struct tb_experiment *e,
		  int warmup, unsigned extra)
{
	struct tb_trial_result t;
	int r;

	if (!run->replay)
		return 0;
	while ((r = tb_replay_take_rejoin(run->replay, s->index + 1, &t)) == 1)
		if (keep(run, s, &t) < 0)
			return -ENOMEM;
	if (r == 0)
		r = tb_replay_take(run->replay, e, warmup, extra, s->index + 1,
				   run->round + (e->n == 0 && !warmup), &t);
	if (r == 1)
		return keep(run, s, &t) < 0 ? -ENOMEM : 1;
	if (r < 0) {
		run->refused = 1;
		return r;
	}
	return rejoin(run, s, e->n == 0 && !warmup && !extra);
}

/* Run one trial of e and keep it: in the results and the trial log. */
static int run_one(struct tb_run *run, struct schedule *s, const struct tb_experiment *e,
		   int warmup, unsigned extra)
{
	struct tb_trial_result result;
	char what[256];
	int r = replay(run, s, e, warmup, extra);

	if (r != 0)
		return r < 0 ? r : tb_cancelled ? -EINTR : 0;
	describe(run, e, what, sizeof(what));
	if (warmup)
		snprintf(what, sizeof(what), "warm-up");
	if (s->boosted)
		snprintf(what, sizeof(what), "boost %s/%s",
			 run->service_names[run->boosts[s->boost - 1].service],
			 run->throttler_names[run->boosts[s->boost - 1].throttler]);
	tb_progress_update(&s->progress, ++s->index, what);
	if (e->n == 0 && !warmup && !s->boosted)
		run->round++;
	r = tb_run_trial(run, e, s->index, &result);
	result.warmup = warmup;
	result.extra = extra;
	result.round = run->round;
	result.resumed = run->resumed_at > 0;
	result.rejoin = run->rejoining;
	s->last_was_baseline = e->n == 0 && !warmup;
	result.boost = s->boost;
	result.boosted = s->boosted;
	s->last_was_baseline = e->n == 0 && !warmup && !s->boosted;
	if (tb_results_add(&run->results, &result) < 0)
		return -ENOMEM;
	/* A trial cut short by a signal is not a measurement: a resume runs it again. */
	if (run->trial_log && r != -EINTR) {
		json_t *j = tb_report_trial(run, &run->results.trials[run->results.ntrials - 1], NULL);

		if (j) {
			/* 17 digits: a resume reads back the very values ranked. */
			json_dumpf(j, run->trial_log, JSON_COMPACT | JSON_REAL_PRECISION(17));
			fputc('\n', run->trial_log);
			fflush(run->trial_log);
			json_decref(j);
		}
	}
	/* A failed trial is recorded and the run goes on without it. */
	return r == -EINTR || tb_cancelled ? -EINTR : 0;
}

static int baseline(struct tb_run *run, struct schedule *s, int warmup, unsigned extra)
{
	struct tb_experiment e = { 0, NULL };

	return run_one(run, s, &e, warmup, extra);
}

/* The strategy's own trials: it may be adaptive, so one at a time. */
static int strategy_trials(struct tb_run *run, struct schedule *s)
{
	const struct tb_strategy *st = tb_run_strategy(run);

	for (;;) {
		struct tb_experiment e = { 0 };
		int r = st->next(run->strategy.state, &e);

		if (r <= 0)
			return r;
		run->scheduled++;
		r = run_one(run, s, &e, 0, 0);
		if (r < 0)
			return r;
		if (st->observe) {
			const struct tb_trial_result *t = &run->results.trials[run->results.ntrials - 1];

			st->observe(run->strategy.state, &e, t->values[0], t->failed);
		}
		if (st->estimate)        /* an adaptive strategy learns how far it has to go */
			s->progress.total = s->index + 1 +
					    (st->estimate(run->strategy.state) - run->scheduled);
	}
}

/* Replication trials in a random order, each with a baseline trial of its
 * own run just before or just after it, the order drawn by a coin: every
 * (baseline, trial) pair measures the change on its own, and a host that
 * keeps slowing down biases as many pairs one way as the other. */
static int replication_pairs(struct tb_run *run, struct schedule *s, struct tb_throttle *t, size_t n)
{
	_Static_assert(sizeof(*t) <= 64, "shuffle() swaps through 64 bytes");
	shuffle(s, t, n, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		struct tb_experiment e = { 1, &t[i] };
		int baseline_first = next_random(s) & 1, r;
		struct tb_trial_result *trial;

		/* A pair measures the change on its own: half of one recorded is
		 * measured again with its other half. */
		if (run->replay && tb_replay_left(run->replay) == 1)
			tb_replay_drop_rest(run->replay, "the first half of a replication pair whose "
					    "other half was never run: both are run again");
		r = baseline_first ? baseline(run, s, 0, 1) : run_one(run, s, &e, 0, 1);
		if (r == 0)
			r = baseline_first ? run_one(run, s, &e, 0, 1) : baseline(run, s, 0, 1);
		run->extra_used += 2;
		if (r < 0)
			return r;
		trial = &run->results.trials[run->results.ntrials - (baseline_first ? 1 : 2)];
		trial->paired_with = run->results.trials[run->results.ntrials -
							  (baseline_first ? 2 : 1)].index;
	}
	return 0;
}

/* One trial with boost k made just before it and undone just after.  A
 * boost that cannot be made again is skipped (its baseline stays unpaired);
 * one that cannot be undone stops the phase: the host is not as found. */
static int boosted_trial(struct tb_run *run, struct schedule *s, size_t k)
{
	struct tb_experiment none = { 0, NULL };
	struct tb_change c;
	char err[1024];
	int r = tb_boost_make(run, &run->boosts[k], &c, err, sizeof(err)), undone;

	if (r < 0) {
		tb_warn("boost: %s", err);
		return r == -ENOMEM ? r : 0;
	}
	s->boosted = 1;
	r = run_one(run, s, &none, 0, 0);
	s->boosted = 0;
	undone = tb_change_undo(run, &c);
	tb_change_free(&c);
	return undone < 0 ? -EIO : r;
}

/* The boost phase: every boost's trials in one shuffled order, each beside a
 * baseline trial of its own, which of the two goes first drawn by a coin,
 * as in the replication pairs. */
static int boost_phase(struct tb_run *run, struct schedule *s)
{
	size_t n = 0, *order;
	unsigned per;
	int r = tb_boost_pick(run);

	if (r < 0)
		return r;
	per = tb_boost_trials(run);
	order = malloc((run->nboosts * per + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t k = 0; k < run->nboosts; k++)
		for (unsigned i = 0; !run->boosts[k].error[0] && i < per; i++)
			order[n++] = k;
	shuffle(s, order, n, sizeof(*order));
	if (n > 0)
		tb_info("boost: %zu pair%s, %u trials each, each with a baseline", n / per,
			n / per == 1 ? "" : "s", per);
	s->progress.total = s->index + 2 * n;
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct tb_experiment none = { 0, NULL };
		int baseline_first = next_random(s) & 1;
		size_t at;

		s->boost = (unsigned)order[i] + 1;
		at = run->results.ntrials;
		r = baseline_first ? run_one(run, s, &none, 0, 0) : boosted_trial(run, s, order[i]);
		if (r == 0)
			r = baseline_first ? boosted_trial(run, s, order[i]) : run_one(run, s, &none, 0, 0);
		if (run->results.ntrials == at + 2)
			run->results.trials[at + baseline_first].paired_with =
				run->results.trials[at + !baseline_first].index;
	}
	s->boost = 0;
	free(order);
	return r;
}

/* Add the picks of one metric to the run's: a (pair, level) gets the most
 * trials any metric asks for, not their sum. */
static int merge_picks(struct tb_throttle **all, size_t *nall, const struct tb_throttle *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t have = 0, want = 0;
		struct tb_throttle *grown;

		for (size_t j = 0; j < *nall; j++)
			have += (*all)[j].service == t[i].service && (*all)[j].throttler == t[i].throttler &&
				(*all)[j].stress == t[i].stress;
		for (size_t j = 0; j <= i; j++)
			want += t[j].service == t[i].service && t[j].throttler == t[i].throttler &&
				t[j].stress == t[i].stress;
		if (want <= have)
			continue;
		grown = realloc(*all, (*nall + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*all = grown;
		grown[(*nall)++] = t[i];
	}
	return 0;
}

/* Where a metric's verdict is undecided after the schedule, one pass of
 * replication pairs, within the budget: their trials alone confirm or refute
 * (verdict.c), so there is one pass, not a test repeated until it passes.
 * The primary metric's pairs come first. */
static int replicate(struct tb_run *run, struct schedule *s)
{
	struct tb_throttle *all = NULL;
	size_t n = 0;
	unsigned long left = run->extra_budget;
	int r = 0;

	for (size_t v = 0; v < run->results.nvalues && r == 0; v++) {
		struct tb_ranking ranking;
		struct tb_throttle *t = NULL;
		size_t nt = 0;

		r = tb_rank(&run->results, v, run->conf->alpha, run->conf->min_effect, &ranking);
		if (r == 0)
			r = tb_adaptive_pick(&ranking, run->conf->trials, &t, &nt);
		tb_ranking_free(&ranking);
		if (r == 0)
			r = merge_picks(&all, &n, t, nt);
		free(t);
	}
	/* Each trial comes with its baseline, and one more closes the last;
	 * the most promising pairs come first. */
	while (r == 0 && n > 0 && 2 * n + 1 > left)
		n--;
	if (r == 0 && n > 0) {
		tb_info("%zu trials more, each with a baseline, where a verdict is undecided "
			"(at most %lu in all)", n, run->extra_budget);
		s->progress.total = s->index + 2 * n + 1;
		r = replication_pairs(run, s, all, n);
	}
	free(all);
	return r;
}

int tb_run_execute(struct tb_run *run)
{
	const struct tb_strategy *st = tb_run_strategy(run);
	unsigned long planned = st->estimate ? st->estimate(run->strategy.state) : 0;
	struct schedule s = { .rng = run->conf->seed * 0x9e3779b97f4a7c15ull | 1 };
	int r;

	r = make_workdir(run);
	if (r == 0 && !run->replay && (r = open_trial_log(run)) < 0)
		tb_error("cannot create %s/trials.jsonl: %s", run->conf->output_dir, strerror(-r));
	else if (r < 0)
		tb_error("cannot create %s: %s", run->conf->output_dir, strerror(-r));
	if (r < 0)
		return r;
	/* A resumed run keeps its first start: its trials' times go on from
	 * there, the gap included. */
	if (run->started_wall <= 0)
		run->started_wall = tb_wall_now();
	run->t0 = tb_now() - (tb_wall_now() - run->started_wall);
	run->started = (time_t)run->started_wall;
	/* A resumed run's run.json stands until it ends. */
	r = run->replay ? 0 : tb_manifest_write(run, run->started_wall, 0);
	if (r < 0) {
		tb_error("cannot write %s/run.json: %s", run->conf->output_dir, strerror(-r));
		return r;
	}
	run->extra_budget = run->conf->max_extra_trials >= 0 ? (unsigned long)run->conf->max_extra_trials
							     : planned / 2;
	tb_progress_start(&s.progress, run->conf->warmup_trials + planned + 1);
	for (unsigned i = 0; r == 0 && i < run->conf->warmup_trials; i++)
		r = baseline(run, &s, 1, 0);
	if (r == 0)
		r = strategy_trials(run, &s);
	/* Close the last round with a baseline: its trials are then judged
	 * between two baselines rather than after the last one. */
	if (r == 0 && !s.last_was_baseline)
		r = baseline(run, &s, 0, 0);
	if (r == 0)
		r = replicate(run, &s);
	if (r == 0 && !s.last_was_baseline) {       /* after replication: close its last round */
		r = baseline(run, &s, 0, 1);
		run->extra_used++;
	}
	/* Every trial of the schedule was recorded: nothing was left to run. */
	if (r == 0 && run->replay) {
		r = tb_replay_end(run->replay, &run->trial_log);
		run->refused = r < 0;
		if (r == 0)
			tb_info("every trial of the schedule was recorded: nothing left to run");
	}
	tb_replay_free(run->replay);
	run->replay = NULL;
	if (r == 0 && run->conf->boost)
		r = boost_phase(run, &s);
	if (run->nboosts > 0) {
		int rr = tb_boost_judge(run);

		r = r ? r : rr;
	}
	tb_progress_done(&s.progress);
	if (r == -EINTR)
		tb_warn("interrupted after %u trials: everything is restored", s.index);
	if (run->trial_log) {
		fclose(run->trial_log);
		run->trial_log = NULL;
	}
	return r;
}
