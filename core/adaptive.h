/* adaptive.h - where more trials would settle a verdict: undecided pairs, and a MIMR too close to its runner-up. */
#ifndef TB_ADAPTIVE_H
#define TB_ADAPTIVE_H

#include "rank.h"

/*
 * The trials one more pass of replication adds (a malloc'd array in *out):
 * for every undecided pair one trial at each level that carries its effect
 * (at least half its worst level's degradation), and while the MIMR's
 * interval overlaps the runner-up's, one more at each one's headline level.
 * A point that already has max_per_point trials gets none.  0 or -ENOMEM.
 */
int tb_adaptive_pick(const struct tb_ranking *r, unsigned max_per_point, struct tb_throttle **out,
		     size_t *n);

#endif
