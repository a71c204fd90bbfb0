/* agent_table.c - the throttles an agent holds: apply under a lease (journalled first), renew, restore, expire. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "agent.h"
#include "journal.h"
#include "log.h"
#include "plugin.h"
#include "progress.h"

static const struct tb_throttler *ops(const struct tb_agent *a, size_t i)
{
	return (const struct tb_throttler *)a->throttlers[i].lib.header;
}

/* Unguessable, and never one a previous agent gave out: a controller that
 * holds a stale handle must not renew or restore someone else's throttle. */
static int new_handle(char out[TB_AGENT_HANDLE_LEN + 1])
{
	unsigned char raw[TB_AGENT_HANDLE_LEN / 2];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

static struct tb_agent_throttle *find(struct tb_agent *a, const char *handle)
{
	for (size_t i = 0; i < a->nactive; i++)
		if (!strcmp(a->active[i].handle, handle))
			return &a->active[i];
	return NULL;
}

static void free_target(struct tb_agent_target *t)
{
	if (t)
		tb_agent_target_free(t);
	free(t);
}

/* Take it out of the table, keeping the order they were applied in:
 * everything is undone newest first.  The lock is held. */
static void drop(struct tb_agent *a, struct tb_agent_throttle *t)
{
	free(t->saved);
	free(t->where);
	free_target(t->target);
	memmove(t, t + 1, (size_t)(a->active + --a->nactive - t) * sizeof(*t));
}

/* Restore one and drop it from the table; the lock is held. */
static int undo(struct tb_agent *a, struct tb_agent_throttle *t, const char *why)
{
	struct tb_instance *in = &a->throttlers[t->throttler];
	int r = ops(a, t->throttler)->restore(in->state, t->saved);

	if (r == -ENOENT)        /* the target is gone: nothing left to undo */
		r = 0;
	if (r < 0) {
		/* Kept in the journal: the next agent's start retries it. */
		tb_error("%s: could not restore %s %s (%s): %s", in->name, t->kind, t->id, why,
			 strerror(-r));
	} else {
		tb_journal_done(a->journal, t->journal_id);
		tb_info("%s: restored %s %s (%s)", in->name, t->kind, t->id, why);
	}
	drop(a, t);
	return r;
}

/* What a throttle changes, as a key: two throttles of one throttler on the
 * same key would save each other's values, and undone out of order would
 * leave one applied.  A "net" throttler changes the namespace, the others
 * the cgroups. */
static char *where(const struct tb_throttler *th, const struct tb_agent_target *t)
{
	char *key = NULL;
	struct stat st;
	size_t len = 0;
	FILE *f = open_memstream(&key, &len);

	if (!f)
		return NULL;
	if (!strcmp(th->resource, "net"))
		fprintf(f, "netns %llu %s", t->t.pid > 0 && stat(t->netns, &st) == 0
			? (unsigned long long)st.st_ino : 0ULL, t->t.ifname ? t->t.ifname : "");
	else
		for (int c = 0; c < TB_CG_SLOTS; c++)
			fprintf(f, "%s\n", t->dirs[c] ? t->dirs[c] : "");
	if (fclose(f) != 0) {
		free(key);
		return NULL;
	}
	return key;
}

static int same_key(const struct tb_agent_throttle *x, const struct tb_agent_throttle *y)
{
	return x->throttler == y->throttler && !strcmp(x->where, y->where);
}

/* Another entry on the key that a new one may not stack on.  A throttle or a
 * change may go over changes (improve ranks with its changes in place, and
 * gives a pair more again): each saves what the one below left, and they are
 * undone newest first.  Nothing goes over a stress: a trial's throttle is
 * the last thing on a key. */
static int busy(const struct tb_agent *a, size_t ti, const char *key)
{
	for (size_t i = 0; i < a->nactive; i++)
		if (a->active[i].throttler == ti && !strcmp(a->active[i].where, key) &&
		    a->active[i].op == TB_AGENT_STRESS)
			return 1;
	return 0;
}

/* A newer entry stacked on the same key: the one below may not go first. */
static int covered(const struct tb_agent *a, const struct tb_agent_throttle *t)
{
	for (const struct tb_agent_throttle *u = t + 1; u < a->active + a->nactive; u++)
		if (same_key(t, u))
			return 1;
	return 0;
}

static const char *const op_names[] = { "stress", "allocate", "prioritize" };

/* The throttler's op for rq->op, or -EOPNOTSUPP when it has none. */
static int act(struct tb_instance *in, const struct tb_throttler *th, const struct tb_target *t,
	       const char *saved, struct tb_agent_throttle *e)
{
	int (*allocate)(void *, const struct tb_target *, const char *, double) =
		TB_SINCE(th, 2, allocate);
	int (*prioritize)(void *, const struct tb_target *, const char *, double, char *, size_t) =
		TB_SINCE(th, 2, prioritize);

	if (e->op == TB_AGENT_STRESS)
		return th->apply(in->state, t, saved, e->stress);
	if (e->op == TB_AGENT_ALLOCATE)
		return allocate ? allocate(in->state, t, saved, e->stress) : -EOPNOTSUPP;
	return prioritize ? prioritize(in->state, t, saved, e->stress, e->how, sizeof(e->how))
			  : -EOPNOTSUPP;
}

/* Resolve the target into a table entry of its own, keyed by what it changes. */
static int resolve(struct tb_agent *a, const struct tb_agent_request *rq, size_t ti,
		   struct tb_agent_throttle *t, char *why, size_t whylen)
{
	int r;

	t->target = calloc(1, sizeof(*t->target));
	if (!t->target)
		return -ENOMEM;
	r = tb_agent_target_resolve(&a->mounts, rq->kind, rq->id, t->target, why, whylen);
	if (r < 0) {
		free(t->target);
		t->target = NULL;
		return r;
	}
	t->where = where(ops(a, ti), t->target);
	return t->where ? 0 : -ENOMEM;
}

static int apply_locked(struct tb_agent *a, const struct tb_agent_request *rq, size_t ti,
			struct tb_agent_throttle *out, char *why, size_t whylen)
{
	struct tb_instance *in = &a->throttlers[ti];
	const struct tb_throttler *th = ops(a, ti);
	char saved[TB_SAVED_MAX] = "", value[32];
	struct tb_agent_throttle t = { .op = rq->op, .stress = rq->value };
	long jid = 0;
	int r;

	if (a->nactive >= TB_AGENT_MAX_THROTTLES) {
		snprintf(why, whylen, "%d throttles are applied already", TB_AGENT_MAX_THROTTLES);
		return -ENOSPC;
	}
	r = resolve(a, rq, ti, &t, why, whylen);
	if (r == 0 && !*rq->handle)
		r = new_handle(t.handle);
	if (*rq->handle)
		snprintf(t.handle, sizeof(t.handle), "%s", rq->handle);
	if (r == 0 && find(a, t.handle)) {
		snprintf(why, whylen, "handle %s is taken", t.handle);
		r = -EBUSY;
	}
	if (r == 0 && busy(a, ti, t.where)) {
		snprintf(why, whylen, "%s: %s already holds a throttle there", t.target->id, in->name);
		r = -EBUSY;
	}
	if (r == 0 && (r = th->save(in->state, &t.target->t, saved, sizeof(saved))) < 0)
		snprintf(why, whylen, "%s: cannot save %s: %s", in->name, t.target->id, strerror(-r));
	/* Journal first: an agent killed from here on is undone by the next one. */
	if (r == 0 && (jid = tb_journal_add(a->journal, "throttler", in->lib.header->name,
					    in->lib.path, t.target->id, saved)) < 0) {
		r = (int)jid;
		snprintf(why, whylen, "cannot journal: %s", strerror(-r));
	}
	if (r == 0 && !(t.saved = strdup(saved))) {
		tb_journal_done(a->journal, jid);
		r = -ENOMEM;
	}
	if (r < 0) {
		free(t.where);
		free_target(t.target);
		return r;
	}
	snprintf(t.kind, sizeof(t.kind), "%s", rq->kind);
	snprintf(t.id, sizeof(t.id), "%s", rq->id);
	t.throttler = ti;
	t.lease = rq->lease;
	t.expires = tb_now() + rq->lease;
	t.journal_id = jid;
	a->active[a->nactive++] = t;
	tb_instance_clear_error(in);
	r = act(in, th, &t.target->t, saved, &a->active[a->nactive - 1]);
	if (r < 0) {
		snprintf(why, whylen, "%s: cannot %s %s: %s", in->name,
			 rq->op == TB_AGENT_STRESS ? "apply to" : op_names[rq->op], t.id,
			 r == -EOPNOTSUPP ? "the throttler cannot do that"
			 : in->first_error[0] ? in->first_error : strerror(-r));
		/* A failed apply does not undo itself (throttlebot-plugin(7)). */
		undo(a, &a->active[a->nactive - 1], "apply failed");
		return r;
	}
	*out = a->active[a->nactive - 1];
	snprintf(value, sizeof(value), rq->op == TB_AGENT_STRESS ? "%.3f" : "%g", rq->value);
	tb_info("%s: applied %s %s to %s %s, handle %s, lease %.0f s", in->name, op_names[rq->op],
		value, rq->kind, rq->id, t.handle, rq->lease);
	return 0;
}

static int throttler_index(const struct tb_agent *a, const char *name, size_t *ti, char *why,
			   size_t whylen)
{
	for (*ti = 0; *ti < a->nthrottlers; ++*ti)
		if (!strcmp(a->throttlers[*ti].name, name))
			return 0;
	snprintf(why, whylen, "no throttler named '%s' on this agent", name);
	return -EINVAL;
}

int tb_agent_apply(struct tb_agent *a, const struct tb_agent_request *rq,
		   struct tb_agent_throttle *out, char *why, size_t whylen)
{
	size_t ti;
	int r = throttler_index(a, rq->throttler, &ti, why, whylen);

	if (r < 0)
		return r;
	pthread_mutex_lock(&a->lock);
	r = apply_locked(a, rq, ti, out, why, whylen);
	pthread_mutex_unlock(&a->lock);
	return r;
}

int tb_agent_allocation(struct tb_agent *a, const struct tb_agent_request *rq, double *amount,
			int *limited, char *why, size_t whylen)
{
	struct tb_agent_target target;
	int (*allocation)(void *, const struct tb_target *, double *);
	struct tb_instance *in;
	size_t ti;
	int r = throttler_index(a, rq->throttler, &ti, why, whylen);

	if (r < 0)
		return r;
	in = &a->throttlers[ti];
	allocation = TB_SINCE(ops(a, ti), 2, allocation);
	if (!allocation) {
		snprintf(why, whylen, "%s cannot tell an allocation", in->name);
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&a->lock);
	r = tb_agent_target_resolve(&a->mounts, rq->kind, rq->id, &target, why, whylen);
	if (r == 0) {
		r = allocation(in->state, &target.t, amount);
		*limited = r == 0;
		/* Without a limit of its own, what it may use: the capacity. */
		if (r == -ENODATA)
			r = ops(a, ti)->probe(in->state, &target.t, amount);
		if (r < 0)
			snprintf(why, whylen, "%s: cannot read the allocation of %s: %s", in->name,
				 target.id, strerror(-r));
		tb_agent_target_free(&target);
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

int tb_agent_check(struct tb_agent *a, const char *handle, char *why, size_t whylen)
{
	int (*check)(void *, const struct tb_target *, const char *, char *, size_t);
	struct tb_agent_throttle *t;
	int r = -ENOENT;

	pthread_mutex_lock(&a->lock);
	t = find(a, handle);
	if (t) {
		check = TB_SINCE(ops(a, t->throttler), 2, check);
		r = check ? check(a->throttlers[t->throttler].state, &t->target->t, t->saved, why,
				  whylen) : -EOPNOTSUPP;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

int tb_agent_keep(struct tb_agent *a, const char *handle)
{
	struct tb_agent_throttle *t;
	int r = -ENOENT;

	pthread_mutex_lock(&a->lock);
	t = find(a, handle);
	if (t) {
		r = tb_journal_done(a->journal, t->journal_id);
		tb_info("%s: kept %s %s as the client asked (handle %s)",
			a->throttlers[t->throttler].name, t->kind, t->id, t->handle);
		drop(a, t);
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

int tb_agent_renew(struct tb_agent *a, const char *handle, double lease, double *left)
{
	struct tb_agent_throttle *t;
	int r = -ENOENT;

	pthread_mutex_lock(&a->lock);
	t = find(a, handle);
	if (t) {
		if (lease > 0)
			t->lease = lease;
		t->expires = tb_now() + t->lease;
		*left = t->lease;
		r = 0;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

int tb_agent_release(struct tb_agent *a, const char *handle)
{
	struct tb_agent_throttle *t;
	int r = -ENOENT;

	pthread_mutex_lock(&a->lock);
	t = find(a, handle);
	if (t && covered(a, t))
		r = -EBUSY;
	else if (t)
		r = undo(a, t, "released by the client");
	pthread_mutex_unlock(&a->lock);
	return r;
}

void tb_agent_expire(struct tb_agent *a, double now)
{
	pthread_mutex_lock(&a->lock);
	/* Newest first; what is stacked on a lapsed entry goes before it,
	 * lapsed or not, so that the key comes back to what the oldest saved. */
	for (size_t i = a->nactive; i-- > 0;) {
		int lapsed = 0;

		for (size_t j = 0; j <= i && !lapsed; j++)
			lapsed = a->active[j].expires <= now && same_key(&a->active[j], &a->active[i]);
		if (lapsed)
			undo(a, &a->active[i], a->active[i].expires <= now ? "lease expired"
					       : "lease of what it is stacked on expired");
	}
	pthread_mutex_unlock(&a->lock);
}

int tb_agent_release_all(struct tb_agent *a)
{
	int failed = 0;

	pthread_mutex_lock(&a->lock);
	/* Newest first, as they were stacked. */
	while (a->nactive > 0)
		failed |= undo(a, &a->active[a->nactive - 1], "agent stopping") < 0;
	pthread_mutex_unlock(&a->lock);
	return failed ? -EIO : 0;
}

json_t *tb_agent_list(struct tb_agent *a)
{
	json_t *list = json_array();
	double now = tb_now();

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; list && i < a->nactive; i++) {
		const struct tb_agent_throttle *t = &a->active[i];

		json_array_append_new(list, json_pack("{s:s, s:{s:s, s:s}, s:s, s:f, s:f, s:f}",
			"handle", t->handle, "target", "kind", t->kind, "id", t->id,
			"throttler", a->throttlers[t->throttler].name, op_names[t->op], t->stress,
			"lease_seconds", t->lease, "expires_in", t->expires - now));
	}
	pthread_mutex_unlock(&a->lock);
	return list;
}
