/* allocate.h - journalled changes of a service's allocation that outlive a trial: boost, improve, clampdown. */
#ifndef TB_ALLOCATE_H
#define TB_ALLOCATE_H

#include "run.h"

enum tb_change_kind {
	TB_CHANGE_ALLOCATE,    /* each target's own limit (or, without one, its capacity) x factor */
	TB_CHANGE_PRIORITIZE,  /* each target's share where it contends x factor */
};

/* One saved target of a change: what restore() takes, and its journal record. */
struct tb_change_target {
	char *target;          /* its id, for messages */
	char *saved;
	long journal_id;
	int remote;            /* held by its node's agent; saved is the record (remote.h) */
};

struct tb_change {
	size_t service, throttler;
	enum tb_change_kind kind;
	double factor;
	double before, after;  /* ALLOCATE: the targets' summed amounts, in the throttler's unit */
	int had_limit;         /* ALLOCATE: every target had a limit of its own before */
	char how[256];         /* what changed, from what to what, for people */
	size_t n;
	struct tb_change_target *targets;
};

/*
 * The summed allocation of a service's targets for a throttler, in its unit.
 * -ENODATA when a target has no limit of its own (then *amount sums what
 * probe() says it could use), -EOPNOTSUPP when the throttler cannot tell.
 */
int tb_alloc_read(struct tb_run *run, size_t service, size_t throttler, double *amount);

/*
 * Change every target of the service, each saved and journalled (fsync)
 * before it is touched; all or nothing: on failure what was changed is
 * restored and err says why.  -EOPNOTSUPP: the throttler lacks the op;
 * -ERANGE: no headroom (the amount would pass the capacity).
 */
int tb_change_make(struct tb_run *run, size_t service, size_t throttler, enum tb_change_kind kind,
		   double factor, struct tb_change *out, char *err, size_t errlen);
/* Put back exactly what the change replaced, newest target first, and close
 * its journal records.  On failure the records stay for 'throttlebot restore'. */
int tb_change_undo(struct tb_run *run, struct tb_change *c);
/* Keep the change: close its journal records, so neither the end of the run
 * nor 'throttlebot restore' undoes it (--keep). */
int tb_change_keep(struct tb_run *run, struct tb_change *c);
void tb_change_free(struct tb_change *c);

#endif
