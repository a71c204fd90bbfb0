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
	free(t->saved);
	free(t->where);
	/* Keep the order they were applied in: everything is undone newest first. */
	memmove(t, t + 1, (size_t)(a->active + --a->nactive - t) * sizeof(*t));
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

static int busy(const struct tb_agent *a, size_t ti, const char *key)
{
	for (size_t i = 0; i < a->nactive; i++)
		if (a->active[i].throttler == ti && !strcmp(a->active[i].where, key))
			return 1;
	return 0;
}

static int apply_locked(struct tb_agent *a, const char *kind, const char *id, size_t ti,
			double stress, double lease, struct tb_agent_throttle *out, char *why,
			size_t whylen)
{
	struct tb_instance *in = &a->throttlers[ti];
	const struct tb_throttler *th = ops(a, ti);
	char saved[TB_SAVED_MAX] = "";
	struct tb_agent_target target;
	struct tb_agent_throttle t = { 0 };
	long jid = 0;
	int r;

	if (a->nactive >= TB_AGENT_MAX_THROTTLES) {
		snprintf(why, whylen, "%d throttles are applied already", TB_AGENT_MAX_THROTTLES);
		return -ENOSPC;
	}
	r = tb_agent_target_resolve(&a->mounts, kind, id, &target, why, whylen);
	if (r < 0)
		return r;
	t.where = where(th, &target);
	r = !t.where ? -ENOMEM : *out->handle ? 0 : new_handle(t.handle);
	if (*out->handle)
		snprintf(t.handle, sizeof(t.handle), "%s", out->handle);
	if (r == 0 && find(a, t.handle)) {
		snprintf(why, whylen, "handle %s is taken", t.handle);
		r = -EBUSY;
	}
	if (r == 0 && busy(a, ti, t.where)) {
		snprintf(why, whylen, "%s: %s already holds a throttle there", target.id, in->name);
		r = -EBUSY;
	}
	if (r == 0 && (r = th->save(in->state, &target.t, saved, sizeof(saved))) < 0)
		snprintf(why, whylen, "%s: cannot save %s: %s", in->name, target.id, strerror(-r));
	/* Journal first: an agent killed from here on is undone by the next one. */
	if (r == 0 && (jid = tb_journal_add(a->journal, "throttler", in->lib.header->name,
					    in->lib.path, target.id, saved)) < 0) {
		r = (int)jid;
		snprintf(why, whylen, "cannot journal: %s", strerror(-r));
	}
	if (r == 0 && !(t.saved = strdup(saved))) {
		tb_journal_done(a->journal, jid);
		r = -ENOMEM;
	}
	if (r < 0) {
		free(t.where);
		tb_agent_target_free(&target);
		return r;
	}
	snprintf(t.kind, sizeof(t.kind), "%s", kind);
	snprintf(t.id, sizeof(t.id), "%s", id);
	t.throttler = ti;
	t.stress = stress;
	t.lease = lease;
	t.expires = tb_now() + lease;
	t.journal_id = jid;
	a->active[a->nactive++] = t;
	tb_instance_clear_error(in);
	r = th->apply(in->state, &target.t, saved, stress);
	tb_agent_target_free(&target);
	if (r < 0) {
		snprintf(why, whylen, "%s: cannot apply to %s: %s", in->name, t.id,
			 in->first_error[0] ? in->first_error : strerror(-r));
		/* A failed apply does not undo itself (throttlebot-plugin(7)). */
		undo(a, &a->active[a->nactive - 1], "apply failed");
		return r;
	}
	*out = t;
	tb_info("%s: applied stress %.3f to %s %s, handle %s, lease %.0f s", in->name, stress, kind,
		id, t.handle, lease);
	return 0;
}

int tb_agent_apply(struct tb_agent *a, const char *kind, const char *id, const char *throttler,
		   double stress, double lease, struct tb_agent_throttle *out, char *why,
		   size_t whylen)
{
	size_t ti;
	int r;

	for (ti = 0; ti < a->nthrottlers; ti++)
		if (!strcmp(a->throttlers[ti].name, throttler))
			break;
	if (ti == a->nthrottlers) {
		snprintf(why, whylen, "no throttler named '%s' on this agent", throttler);
		return -EINVAL;
	}
	pthread_mutex_lock(&a->lock);
	r = apply_locked(a, kind, id, ti, stress, lease, out, why, whylen);
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
	if (t)
		r = undo(a, t, "released by the client");
	pthread_mutex_unlock(&a->lock);
	return r;
}

void tb_agent_expire(struct tb_agent *a, double now)
{
	pthread_mutex_lock(&a->lock);
	for (size_t i = a->nactive; i-- > 0;)
		if (a->active[i].expires <= now)
			undo(a, &a->active[i], "lease expired");
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
			"throttler", a->throttlers[t->throttler].name, "stress", t->stress,
			"lease_seconds", t->lease, "expires_in", t->expires - now));
	}
	pthread_mutex_unlock(&a->lock);
	return list;
}
