/* results.h - every trial of a run, as the ranking and the reports see it. */
#ifndef TB_RESULTS_H
#define TB_RESULTS_H

#include <stddef.h>
#include <throttlebot/plugin.h>

/* One ranked quantity: value i of metric m. */
struct tb_value_desc {
	char *name;            /* "jct", or "metric.value" when metrics share names */
	const char *unit;
	enum tb_direction direction;
	size_t metric;         /* index of the metric instance */
};

struct tb_trial_result {
	unsigned index;
	size_t n;                      /* throttles; 0 = baseline */
	struct tb_throttle *throttles;
	double *values;                /* nvalues, NAN when failed */
	int failed;
	int warmup;                    /* before the first baseline: never ranked */
	unsigned extra;                /* 0, or the replication pass that added it */
	unsigned round;                /* the blocked round: baselines so far */
	unsigned paired_with;          /* a replication trial's own baseline trial (index), or 0 */
	int resumed;                   /* run by a resumed run, not by the first */
	int rejoin;                    /* a warm-up or baseline a resume added before going on */
	char *error;
	double start, duration;        /* seconds since the run started */
};

struct tb_results {
	size_t nvalues;
	struct tb_value_desc *values;
	size_t ntrials, cap;
	struct tb_trial_result *trials;
};

int tb_results_add(struct tb_results *r, const struct tb_trial_result *t);
void tb_results_free(struct tb_results *r);

#endif
