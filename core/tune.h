/* tune.h - what clampdown and improve share: a change measured against interleaved baselines, a fresh ranking. */
#ifndef TB_TUNE_H
#define TB_TUNE_H

#include <stdint.h>
#include <jansson.h>
#include "allocate.h"
#include "rank.h"

/* One allocation change: the (service, throttler) pair's amount x factor. */
struct tb_tune_step {
	size_t service, throttler;
	double factor;
};

/* What steps did to the primary metric: each pair of trials gives the
 * relative change of the trial with the steps against its own baseline,
 * signed so that + is worse whatever the metric's direction. */
struct tb_tune_effect {
	size_t n, failed;
	double median, low, high;      /* the median change and its 95% bootstrap interval */
	double p_worse, p_better;      /* Wilcoxon signed-rank, one-sided each */
	double *d;                     /* the n changes */
};

/*
 * Measure steps against the host as it is: npairs pairs of trials, each a
 * baseline and a trial with the steps made (journalled, tb_change_make) just
 * before it and undone exactly just after, which goes first drawn by a coin
 * from *rng.  The host is as before when this returns, also on failure.
 * out starts zeroed ({ 0 }); given again, its pairs are added to (the test
 * is then of them all).  tb_tune_effect_free() it after.
 */
int tb_tune_compare(struct tb_run *run, const struct tb_tune_step *steps, size_t nsteps,
		    unsigned npairs, uint64_t *rng, struct tb_tune_effect *out);
void tb_tune_effect_free(struct tb_tune_effect *e);

/* Make steps in order and keep them applied (journal records open) in
 * out[nsteps]; all or nothing. */
int tb_tune_make(struct tb_run *run, const struct tb_tune_step *steps, size_t nsteps,
		 struct tb_change *out);
/* Undo changes[n] newest first (and free them); 0 or the first error. */
int tb_tune_undo(struct tb_run *run, struct tb_change *changes, size_t n);
/* Keep them (--keep): close their journal records, free them. */
int tb_tune_keep(struct tb_run *run, struct tb_change *changes, size_t n);

/* Changes made one after another and kept applied until the command ends:
 * each step and its change, in the order made. */
struct tb_tune_set {
	struct tb_tune_step *steps;
	struct tb_change *changes;
	size_t n;
};

/* Make steps[nsteps] (all or nothing) and add them to the set. */
int tb_tune_set_add(struct tb_run *run, struct tb_tune_set *set, const struct tb_tune_step *steps,
		    size_t nsteps);
/* Undo (or with keep, keep) every change of the set, and free it. */
int tb_tune_set_end(struct tb_run *run, struct tb_tune_set *set, int keep);

/* Rank the host as it is now: the configured strategy's schedule run
 * afresh (earlier trials dropped), the primary metric ranked. */
int tb_tune_rank(struct tb_run *run, struct tb_ranking *out);

/* How many pairs of trials verify one step: enough for the signed-rank
 * test and the bootstrap to mean something, more when 'trials' asks. */
unsigned tb_tune_pairs(const struct tb_run *run);

/* "5%" or "0.05" -> 0.05; -EINVAL unless lo < value < hi. */
int tb_tune_fraction(const char *text, double lo, double hi, double *out);

/* A top-level number of the configuration, def when absent; -EINVAL
 * (reported as file:line) unless lo < value < hi. */
int tb_tune_conf_number(const struct tb_run *run, const char *key, double def, double lo, double hi,
			double *out);

/* The (service, throttler) pair as JSON: service, resource, throttler, unit. */
json_t *tb_tune_pair_json(const struct tb_run *run, size_t service, size_t throttler);
json_t *tb_tune_effect_json(const struct tb_tune_effect *e);

/* Write j to output_dir/name (atomically); 0 or -errno, reported. */
int tb_tune_write(const struct tb_run *run, const char *name, const json_t *j);

#endif
