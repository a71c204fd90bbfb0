/* baseline.h - the time-local baseline: what an untouched trial would have measured at a given moment. */
#ifndef TB_BASELINE_H
#define TB_BASELINE_H

#include <stddef.h>

/*
 * A host drifts while a run goes on, so a throttled trial is judged against
 * the baselines around it in time, not against a pool gathered minutes
 * earlier.  The baseline series is smoothed by a running median of three
 * (Tukey's end rule at the ends), which drops a lone wild baseline trial but
 * keeps a step in the host's speed sharp, and interpolated linearly between
 * the two baselines that bracket a moment.  Time is the trial index.
 */
struct tb_baseline_series {
	size_t n;
	const double *at;          /* ascending trial indices */
	const double *value;
};

#define TB_BASELINE_KEEP_ALL ((size_t)-1)

/* The local baseline at time t, with baseline `skip` left out (to judge that
 * baseline trial itself like any other), or TB_BASELINE_KEEP_ALL.  NAN when
 * no baseline is left. */
double tb_baseline_at(const struct tb_baseline_series *b, double t, size_t skip);

#endif
