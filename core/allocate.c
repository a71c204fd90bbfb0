/* allocate.c - journalled changes of a service's allocation that outlive a trial: boost, improve, clampdown. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "allocate.h"
#include "engine_throttle.h"
#include "journal.h"
#include "log.h"
#include "plugin.h"
#include "remote.h"


/* One target's own limit, or (-ENODATA) the capacity it may use without one. */
static int target_amount(struct tb_instance *in, const struct tb_target *t, double *amount)
{
	const struct tb_throttler *ops = tb_throttler_ops(in);
	int (*allocation)(void *, const struct tb_target *, double *) = TB_SINCE(ops, 2, allocation);
	int r;

	if (!allocation)
		return -EOPNOTSUPP;
	r = allocation(in->state, t, amount);
	if (r == -ENODATA) {
		int p = ops->probe(in->state, t, amount);

		return p < 0 ? p : -ENODATA;
	}
	return r;
}

/* As target_amount(), asked of its node's agent when it has one. */
static int amount_of(struct tb_run *run, struct tb_instance *in, const struct tb_target *t,
		     double *amount)
{
	const struct tb_agent_ref *ag = tb_run_agent(run, t);
	char record[TB_SAVED_MAX], err[1024] = "";
	int r;

	if (!ag)
		return target_amount(in, t, amount);
	r = tb_remote_record(ag, record, sizeof(record));
	if (r == 0)
		r = tb_remote_allocation(record, t, in->name, amount, err, sizeof(err));
	if (r < 0 && r != -ENODATA && err[0])
		tb_warn("%s", err);
	return r;
}

int tb_alloc_read(struct tb_run *run, size_t service, size_t throttler, double *amount)
{
	const struct tb_service *s = &run->inv.services[service];
	int unlimited = 0;

	*amount = 0;
	for (size_t i = 0; i < s->ntargets; i++) {
		double a;
		int r = tb_engine_target(&s->targets[i]) ? -EOPNOTSUPP
			: amount_of(run, &run->throttlers[throttler], &s->targets[i], &a);

		if (r < 0 && r != -ENODATA)
			return r;
		unlimited |= r == -ENODATA;
		*amount += a;
	}
	return unlimited ? -ENODATA : 0;
}

/* Journal a target's saved text (or remote record) first, then note it in
 * the change: a change outlives the run only if kept. */
static int keep_target(struct tb_run *run, struct tb_change *c, struct tb_instance *in,
		       const char *kind, const char *path, const struct tb_target *t,
		       const char *saved, char *err, size_t errlen)
{
	struct tb_change_target *ct = &c->targets[c->n];

	ct->remote = 0;
	ct->journal_id = run->journal ? tb_journal_add(run->journal, kind, in->lib.header->name,
						       path, t->id, saved) : 0;
	if (ct->journal_id < 0) {
		snprintf(err, errlen, "cannot write the journal: %s", strerror((int)-ct->journal_id));
		return (int)ct->journal_id;
	}
	ct->saved = strdup(saved);
	ct->target = strdup(t->id);
	if (!ct->saved || !ct->target) {
		free(ct->saved);
		free(ct->target);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

static void account(struct tb_change *c, double amount, int limited, const char *how)
{
	if (c->kind == TB_CHANGE_ALLOCATE) {
		c->before += amount;
		c->after += amount * c->factor;
		c->had_limit &= limited;
	} else if (!c->how[0]) {
		snprintf(c->how, sizeof(c->how), "%s", how);
	}
}

/* A target on a node with an agent: the agent saves, changes and journals
 * it under a lease kept alive from here; our journal holds the record (the
 * agent and our handle), made before the request, as for a throttle. */
static int change_remote(struct tb_run *run, struct tb_change *c, const struct tb_target *t,
			 const struct tb_agent_ref *ag, char *err, size_t errlen)
{
	struct tb_instance *in = &run->throttlers[c->throttler];
	struct tb_change_target *ct = &c->targets[c->n];
	char record[TB_SAVED_MAX], how[sizeof(c->how)] = "";
	double amount = 0;
	int r, limited = 0;

	if (c->kind == TB_CHANGE_ALLOCATE) {
		r = amount_of(run, in, t, &amount);
		if (r < 0 && r != -ENODATA) {
			snprintf(err, errlen, "%s: cannot read the allocation of %s at its agent: %s",
				 in->name, t->id, strerror(-r));
			return r;
		}
		limited = r == 0;
	}
	r = tb_remote_record(ag, record, sizeof(record));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", t->id, strerror(-r));
		return r;
	}
	r = keep_target(run, c, in, TB_REMOTE_KIND, "", t, record, err, errlen);
	if (r < 0)
		return r;
	ct->remote = 1;
	r = tb_remote_change(record, t, in->name, c->kind == TB_CHANGE_ALLOCATE ? "allocate"
			     : "prioritize", c->kind == TB_CHANGE_ALLOCATE ? amount * c->factor
			     : c->factor, how, sizeof(how), err, errlen);
	if (r == 0)
		r = tb_renew_add(record);
	if (r == 0)
		account(c, amount, limited, how);
	return r;
}

static int change_one(struct tb_run *run, struct tb_change *c, const struct tb_target *t,
		      char *err, size_t errlen)
{
	struct tb_instance *in = &run->throttlers[c->throttler];
	const struct tb_throttler *ops = tb_throttler_ops(in);
	const struct tb_agent_ref *ag = tb_run_agent(run, t);
	char saved[TB_SAVED_MAX] = "", how[sizeof(c->how)] = "";
	double amount = 0;
	int r, limited = 0;

	/* Acting here on a target of another node would change this host instead. */
	if (ag)
		return change_remote(run, c, t, ag, err, errlen);
	if (tb_engine_target(t)) {
		snprintf(err, errlen, "%s is on node %s, which has no agent: its engine takes throttles "
			 "but not allocations; give node %s an agent in the configuration's agents list",
			 t->id, t->node, t->node);
		return -EOPNOTSUPP;
	}
	if (c->kind == TB_CHANGE_ALLOCATE) {
		r = target_amount(in, t, &amount);
		if (r < 0 && r != -ENODATA) {
			snprintf(err, errlen, "%s: cannot read the allocation of %s: %s", in->name, t->id,
				 strerror(-r));
			return r;
		}
		limited = r == 0;
	}
	r = ops->save(in->state, t, saved, sizeof(saved));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the current state of %s: %s", in->name, t->id,
			 strerror(-r));
		return r;
	}
	r = keep_target(run, c, in, "throttler", in->lib.path, t, saved, err, errlen);
	if (r < 0)
		return r;
	if (c->kind == TB_CHANGE_ALLOCATE)
		r = TB_SINCE(ops, 2, allocate)(in->state, t, saved, amount * c->factor);
	else
		r = TB_SINCE(ops, 2, prioritize)(in->state, t, saved, c->factor, how, sizeof(how));
	if (r == 0)
		account(c, amount, limited, how);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot %s %s: %s", in->name,
			 c->kind == TB_CHANGE_ALLOCATE ? "change the allocation of" : "raise the share of",
			 t->id, strerror(-r));
	return r;
}

int tb_change_make(struct tb_run *run, size_t service, size_t throttler, enum tb_change_kind kind,
		   double factor, struct tb_change *out, char *err, size_t errlen)
{
	const struct tb_service *s = &run->inv.services[service];
	const struct tb_throttler *ops = tb_throttler_ops(&run->throttlers[throttler]);
	int r = 0;

	memset(out, 0, sizeof(*out));
	out->service = service;
	out->throttler = throttler;
	out->kind = kind;
	out->factor = factor;
	out->had_limit = 1;
	if (kind == TB_CHANGE_ALLOCATE ? !TB_SINCE(ops, 2, allocate) || !TB_SINCE(ops, 2, allocation)
				       : !TB_SINCE(ops, 2, prioritize)) {
		snprintf(err, errlen, "%s cannot %s", run->throttlers[throttler].name,
			 kind == TB_CHANGE_ALLOCATE ? "set an allocation" : "raise a share");
		return -EOPNOTSUPP;
	}
	if (s->ntargets == 0) {
		snprintf(err, errlen, "service '%s' has no target", s->name);
		return -ENOENT;
	}
	out->targets = calloc(s->ntargets, sizeof(*out->targets));
	if (!out->targets)
		return -ENOMEM;
	for (size_t i = 0; i < s->ntargets && r == 0; i++)
		r = change_one(run, out, &s->targets[i], err, errlen);
	if (r < 0) {
		tb_change_undo(run, out);
		tb_change_free(out);
		return r;
	}
	if (kind == TB_CHANGE_ALLOCATE)
		snprintf(out->how, sizeof(out->how), "%s %g -> %g %s", out->had_limit ? "limit" : "capacity",
			 out->before, out->after, ops->unit);
	return 0;
}

int tb_change_undo(struct tb_run *run, struct tb_change *c)
{
	struct tb_instance *in = &run->throttlers[c->throttler];
	int first = 0;

	while (c->n > 0) {
		struct tb_change_target *ct = &c->targets[--c->n];
		int r;

		if (ct->remote)
			tb_renew_remove(ct->saved);
		r = ct->remote ? tb_remote_release(ct->saved, 1)
			       : tb_throttler_ops(in)->restore(in->state, ct->saved);

		if (r == -ENOENT && ct->remote)
			tb_warn("%s: %s: its agent had put it back already (its lease ran out, or the "
				"agent restarted)", in->name, ct->target);
		if (r == -ENOENT)      /* the target is gone, and its change with it */
			r = 0;
		if (r < 0) {
			tb_error("%s: could not put back %s: %s (kept in the journal for 'throttlebot "
				 "restore')", in->name, ct->target, strerror(-r));
			first = first ? first : r;
		} else if (run->journal && ct->journal_id > 0) {
			tb_journal_done(run->journal, ct->journal_id);
		}
		free(ct->saved);
		free(ct->target);
	}
	return first;
}

int tb_change_keep(struct tb_run *run, struct tb_change *c)
{
	int first = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct tb_change_target *ct = &c->targets[i];
		int r = ct->remote ? tb_remote_keep(ct->saved) : 0;

		/* At an agent: it forgets the change without restoring; our record
		 * closes only once it has, or the agent's lease would undo it. */

		if (ct->remote)
			tb_renew_remove(ct->saved);
		if (r < 0) {
			first = first ? first : r;
			continue;
		}
		r = run->journal && ct->journal_id > 0 ? tb_journal_done(run->journal, ct->journal_id) : 0;
		first = first ? first : r;
		ct->journal_id = 0;
	}
	return first;
}

void tb_change_free(struct tb_change *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->targets[i].saved);
		free(c->targets[i].target);
	}
	free(c->targets);
	c->targets = NULL;
	c->n = 0;
}
