/* improve.h - give the bottleneck more, round by round, each step kept only if the application gains. */
#ifndef TB_IMPROVE_H
#define TB_IMPROVE_H

#include "run.h"

/*
 * Each round: rank the application as it is, give the MIMR step more of its
 * resource, from the budget ("cpu=2,disk=50M": unallocated amounts per
 * resource) or, when that is spent, from the pair of the same throttler that
 * hurt least when throttled; keep it when paired trials show the metric
 * better (one-sided signed-rank test), else undo it exactly.  Stops when no
 * IMR is left, the budget is spent or after rounds.  Writes improve.json,
 * improve-docker.sh and improve-compose.yaml in output_dir.  The changes are
 * undone at the end unless keep.  0 or -errno.
 */
int tb_improve(struct tb_run *run, const char *budget, unsigned rounds, double step, int keep);

#endif
