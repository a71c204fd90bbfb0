/* resume.h - the trials an interrupted run recorded in trials.jsonl, handed back in the order its schedule asks. */
#ifndef TB_RESUME_H
#define TB_RESUME_H

#include <stdio.h>
#include "run.h"

struct tb_replay;

/* Read dir/trials.jsonl (checked like the output dir's other files),
 * naming services and throttlers through run's.  A torn last line is
 * ignored; any other unreadable line refuses (-EINVAL, said why). */
int tb_replay_load(const struct tb_run *run, const char *dir, struct tb_replay **out);
/* Recorded trials not yet taken, the warm-ups and baselines an earlier
 * resume added (rejoin) not counted. */
size_t tb_replay_left(const struct tb_replay *r);
/* The next recorded trial if an earlier resume added it: 1 and *out
 * filled (ownership passes), or 0. */
int tb_replay_take_rejoin(struct tb_replay *r, unsigned index, struct tb_trial_result *out);
/* The next recorded trial, which must be the trial e (warm-up, replication
 * pass, index and round alike): 1 and *out filled, 0 when every recorded
 * trial is taken, -EINVAL (said why) when it is another. */
int tb_replay_take(struct tb_replay *r, const struct tb_experiment *e, int warmup, unsigned extra,
		   unsigned index, unsigned round, struct tb_trial_result *out);
/* Leave out the trials not yet taken (why: for the warning). */
void tb_replay_drop_rest(struct tb_replay *r, const char *why);
/* Every recorded trial taken (else -EINVAL): cut trials.jsonl after the
 * last one taken and open it for appending the new trials. */
int tb_replay_end(struct tb_replay *r, FILE **log);
void tb_replay_free(struct tb_replay *r);

#endif
