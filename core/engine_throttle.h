/* engine_throttle.h - throttles of targets on nodes without an agent, through their orchestrator's own API (an engine's container update). */
#ifndef TB_ENGINE_THROTTLE_H
#define TB_ENGINE_THROTTLE_H

#include <stddef.h>
#include "run.h"

/* The journal's kind for a throttle the orchestrator applied: its
 * throttle_restore() takes the saved text. */
#define TB_ENGINE_KIND "engine"

/* 1 when t is on another node with nothing of this machine's to write to
 * (no process, no cgroup): only the node's agent or its engine can act. */
int tb_engine_target(const struct tb_target *t);

/* Through the orchestrator's throttle_save, journal (TB_ENGINE_KIND),
 * recorded as applied, then throttle_apply.  An orchestrator without them is
 * refused, saying to give the node an agent.  0 or -errno with err set. */
int tb_engine_apply(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
		    double stress, char *err, size_t errlen);

/* Undo one with the orchestrator instance's throttle_restore. */
int tb_engine_restore(struct tb_instance *orchestrator, const char *saved);

#endif
