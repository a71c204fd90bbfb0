/* adaptive.h - where more trials would settle a verdict: undecided pairs, and a MIMR too close to its runner-up. */
#ifndef TB_ADAPTIVE_H
#define TB_ADAPTIVE_H

#include "rank.h"

/*
 * The replication trials for a ranking of the schedule (a malloc'd array in
 * *out, most promising pairs first): every undecided pair gets 3 x trials at
 * its worst level and 2 x trials at each other level carrying its effect (at
 * least half the worst level's degradation): enough for the confirmation
 * test on those trials alone (verdict.c).  While the MIMR's interval
 * overlaps the runner-up's, each gets `trials` more at its headline level.
 * 0 or -ENOMEM.
 */
int tb_adaptive_pick(const struct tb_ranking *r, unsigned trials, struct tb_throttle **out,
		     size_t *n);

#endif
