/* remote.h - throttles on another node: sent to its agent over HTTPS, journalled so that restore reaches them. */
#ifndef TB_REMOTE_H
#define TB_REMOTE_H

#include <jansson.h>
#include <stddef.h>
#include <throttlebot/plugin.h>
#include "agents.h"

/* The journal's kind for a throttle an agent holds. */
#define TB_REMOTE_KIND "agent"

/*
 * The record of one remote throttle, made before it is asked for: the
 * agent's url and credentials' paths, and a fresh handle that names the
 * throttle to the agent.  It is what the journal keeps as saved text, and
 * all that renew and release need.  0 or -errno.
 */
int tb_remote_record(const struct tb_agent_ref *ag, char *saved, size_t size);

/* Ask the agent to apply: target by pid (or container key), the throttler by
 * its instance name, under the record's lease.  0 or -errno with err set. */
int tb_remote_apply(const char *saved, const struct tb_target *t, const char *throttler,
		    double stress, char *err, size_t errlen);
/* POST body to the record's agent at path, with the target (by pid or
 * container key), the record's lease and handle added.  The status, or
 * -errno with err set; *answer the JSON answer or NULL.  For the requests
 * beside apply (remote_alloc.c). */
long tb_remote_post_target(const char *saved, const struct tb_target *t, const char *path,
			   json_t *body, json_t **answer, char *err, size_t errlen);
/* method at /v1/throttles/HANDLE + suffix; as above. */
long tb_remote_by_handle(const char *saved, const char *method, const char *suffix,
			 json_t **answer, char *err, size_t errlen);
/* An agent's status as -errno: 0 for 2xx. */
int tb_remote_errno(long status);

/* Changes of allocation and priority at the agent (remote_alloc.c), each
 * under the record's lease and handle like a throttle, so that renew,
 * release and 'throttlebot restore' treat them alike.  The target's own
 * limit (0), or -ENODATA with the capacity it may use without one. */
int tb_remote_allocation(const char *saved, const struct tb_target *t, const char *throttler,
			 double *amount, char *err, size_t errlen);
/* op: "allocate" (value: the amount) or "prioritize" (value: the factor);
 * how: what changed, for people (prioritize). */
int tb_remote_change(const char *saved, const struct tb_target *t, const char *throttler,
		     const char *op, double value, char *how, size_t howlen, char *err,
		     size_t errlen);
/* The throttler's check() at the agent: 1 with why, 0, or -errno
 * (-EOPNOTSUPP: it cannot tell; -ENOENT: the agent holds no such handle). */
int tb_remote_check(const char *saved, char *why, size_t whylen);
/* Keep what the agent changed: it forgets the handle without restoring. */
int tb_remote_keep(const char *saved);

/* Extend the lease.  -ENOENT: the agent holds no such throttle any more. */
int tb_remote_renew(const char *saved);
/* Restore it.  -ENOENT when the agent no longer holds it (never applied, or
 * the agent restored it itself: its lease ran out, or it restarted).  The
 * record is checked first: it may come from a journal on disk.  patient: an
 * agent that does not answer is asked again for up to the lease (it may be
 * restarting), unless the command is cancelled. */
int tb_remote_release(const char *saved, int patient);

/* Keep renewing the record's lease from a thread of its own until
 * tb_renew_remove(); tb_renew_stop() ends the thread. */
int tb_renew_add(const char *saved);
void tb_renew_remove(const char *saved);
void tb_renew_stop(void);

#endif
