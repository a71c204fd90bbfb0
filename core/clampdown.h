/* clampdown.h - take resources away from the pairs that do not limit the application, one verified cut at a time. */
#ifndef TB_CLAMPDOWN_H
#define TB_CLAMPDOWN_H

#include "run.h"

/*
 * Rank the application, then cut each pair that is not limiting by
 * clampdown_step of its allocation, again and again down to clampdown_floor
 * of it, while each cut keeps the primary metric within tolerance (a
 * fraction) of its baseline; re-verify all kept cuts together.  Prints the
 * table and writes output_dir/clampdown.json.  The cuts are undone at the
 * end unless keep.  0 or -errno.
 */
int tb_clampdown(struct tb_run *run, double tolerance, int keep);

#endif
