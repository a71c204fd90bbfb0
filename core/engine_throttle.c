/* engine_throttle.c - throttles of targets on nodes without an agent, through their orchestrator's own API (an engine's container update). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "engine_throttle.h"
#include "journal.h"

int tb_engine_target(const struct tb_target *t)
{
	if (!t->node || t->pid > 0)
		return 0;
	for (int c = 0; c < TB_CG_SLOTS; c++)
		if (t->cgroup[c])
			return 0;
	return 1;
}

static const struct tb_orchestrator *ops_of(const struct tb_instance *orchestrator)
{
	return (const void *)orchestrator->lib.header;
}

/* What the orchestrator said, else the error's name. */
static const char *why(const struct tb_instance *o, int r)
{
	return o->first_error[0] ? o->first_error : strerror(-r);
}

int tb_engine_apply(struct tb_run *run, struct tb_instance *t, const struct tb_target *target,
		    double stress, char *err, size_t errlen)
{
	struct tb_instance *o = &run->orchestrator;
	const struct tb_orchestrator *ops = ops_of(o);
	int (*save)(void *, const struct tb_target *, const char *, char *, size_t) =
		TB_SINCE(ops, 3, throttle_save);
	int (*apply)(void *, const struct tb_target *, const char *, double) =
		TB_SINCE(ops, 3, throttle_apply);
	char saved[TB_SAVED_MAX] = "";
	int r;

	if (!save || !apply || !TB_SINCE(ops, 3, throttle_restore)) {
		snprintf(err, errlen, "%s is on node %s, which has no agent, and orchestrator %s cannot "
			 "throttle it through its own API: give node %s an agent in the configuration's "
			 "agents list", target->id, target->node, o->name, target->node);
		return -EOPNOTSUPP;
	}
	tb_instance_clear_error(o);
	r = save(o->state, target, t->lib.header->name, saved, sizeof(saved));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot throttle %s (node %s, no agent) with %s through its "
			 "engine: %s%s%s%s", o->name, target->id, target->node, t->name, why(o, r),
			 r == -EOPNOTSUPP ? "; give node " : "", r == -EOPNOTSUPP ? target->node : "",
			 r == -EOPNOTSUPP ? " an agent in the configuration's agents list" : "");
		return r;
	}
	r = tb_run_record_applied(run, t, target, TB_ENGINE_KIND, o->lib.header->name, o->lib.path,
				  saved, TB_BY_ENGINE, err, errlen);
	if (r < 0)
		return r;
	tb_instance_clear_error(o);
	r = apply(o->state, target, saved, stress);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot throttle %s with %s at stress %.2f through its engine: %s",
			 o->name, target->id, t->name, stress, why(o, r));
	return r;
}

int tb_engine_restore(struct tb_instance *orchestrator, const char *saved)
{
	int (*restore)(void *, const char *) = TB_SINCE(ops_of(orchestrator), 3, throttle_restore);

	return restore ? restore(orchestrator->state, saved) : -EOPNOTSUPP;
}
