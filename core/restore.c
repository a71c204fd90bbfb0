/* restore.c - undo what a killed run left applied: replay the journal's pending entries, newest first. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine_throttle.h"
#include "instance.h"
#include "journal.h"
#include "log.h"
#include "remote.h"
#include "remote_conn.h"
#include "restore.h"

static unsigned kind_of(const char *name)
{
	return !strcmp(name, "throttler") ? TB_KIND_THROTTLER
	       : !strcmp(name, "orchestrator") ? TB_KIND_ORCHESTRATOR
	       : !strcmp(name, "metric") ? TB_KIND_METRIC : 0;
}

/* The plugin that made the change, from its recorded file if it is still
 * there, else by name from the usual directories. */
static int load(struct tb_instance *in, const struct tb_journal_entry *e, unsigned kind)
{
	char why[2048];
	int r = -ENOENT;

	memset(in, 0, sizeof(*in));
	in->name = strdup(e->plugin);
	if (!in->name)
		return -ENOMEM;
	if (*e->path && access(e->path, F_OK) == 0)
		r = tb_plugin_load_file(e->path, kind, &in->lib, why, sizeof(why));
	/* Another plugin now at that path would be handed state it never saved. */
	if (r == 0 && strcmp(in->lib.header->name, e->plugin)) {
		snprintf(why, sizeof(why), "%s: refused: it is plugin '%s', the journal names '%s'",
			 e->path, in->lib.header->name, e->plugin);
		tb_plugin_unload(&in->lib);
		r = -EPROTO;
	} else if (r < 0) {
		r = tb_plugin_find(e->plugin, kind, NULL, &in->lib, why, sizeof(why));
	}
	if (r < 0) {
		tb_error("cannot restore %s: %s", e->target, why);
		return r;
	}
	tb_instance_bind(in, NULL);
	return 0;
}

/* The plugin's undo for an entry of kind: a throttler's restore, an
 * orchestrator's (optional) restore, or for an engine throttle its
 * throttle_restore (since 1.3). */
static int (*undo_of(const struct tb_instance *in, const char *kind))(void *, const char *)
{
	const struct tb_orchestrator *o = (const void *)in->lib.header;

	if (kind_of(kind) == TB_KIND_THROTTLER)
		return ((const struct tb_throttler *)in->lib.header)->restore;
	return strcmp(kind, TB_ENGINE_KIND) ? o->restore : TB_SINCE(o, 3, throttle_restore);
}

int tb_restore_entry(const struct tb_journal_entry *e)
{
	int engine = !strcmp(e->kind, TB_ENGINE_KIND);
	unsigned kind = engine ? TB_KIND_ORCHESTRATOR : kind_of(e->kind);
	int (*restore)(void *state, const char *saved);
	struct tb_instance in;
	int r;

	if (!strcmp(e->kind, TB_REMOTE_KIND)) {
		r = tb_remote_release(e->saved, 0);
		if (r == 0)
			tb_info("restored %s (%s, at its node's agent)", e->target, e->plugin);
		if (r == -ENOENT)
			tb_info("%s (%s): its node's agent had restored it already", e->target,
				e->plugin);
		return r == -ENOENT ? 0 : r;
	}

	if (kind != TB_KIND_THROTTLER && kind != TB_KIND_ORCHESTRATOR) {
		tb_error("journal entry %ld: unknown kind '%s'", e->id, e->kind);
		return -EINVAL;
	}
	r = load(&in, e, kind);
	if (r < 0) {
		free(in.name);
		return r;
	}
	restore = undo_of(&in, e->kind);
	r = restore ? tb_instance_init(&in, NULL) : -ENOTSUP;
	if (r == 0)
		r = restore(in.state, e->saved);
	tb_instance_fini(&in);
	if (r == -ENOENT)      /* already gone: nothing left to undo */
		r = 0;
	if (r < 0)
		tb_error("%s: could not restore %s: %s", e->plugin, e->target, strerror(-r));
	else
		tb_info("restored %s (%s%s)", e->target, e->plugin, engine ? ", through its engine" : "");
	tb_instance_unload(&in);
	return r;
}

/* Say what could not be read; returns how many complete records that is. */
static size_t report_damage(struct tb_journal *j, const char *path, FILE *out)
{
	const struct tb_journal_damage *d;
	size_t n = tb_journal_damaged(j, &d), unreadable = 0;

	for (size_t i = 0; i < n; i++) {
		const char *what = d[i].torn ? "torn last record, never applied" : "unreadable record";

		if (out)
			fprintf(out, "%s:%ld: %s (byte %lld, %zu bytes): %s: %s\n", path, d[i].line,
				what, d[i].offset, d[i].length, d[i].why, d[i].excerpt);
		else
			tb_warn("%s:%ld: %s (byte %lld, %zu bytes): %s: %s", path, d[i].line, what,
				d[i].offset, d[i].length, d[i].why, d[i].excerpt);
		unreadable += !d[i].torn;
	}
	return unreadable;
}

static int open_for_restore(const char *path, struct tb_journal **j)
{
	int r = tb_journal_open(path, 1, j);

	if (r == -EBUSY)
		tb_error("%s is locked by a running throttlebot: stop it (Ctrl-C restores)",
			 tb_journal_lock_path());
	else if (r < 0)
		tb_error("cannot open %s: %s", path, strerror(-r));
	return r;
}

int tb_restore_pending(struct tb_journal *j, const char *path)
{
	struct tb_journal_entry *pending;
	size_t unreadable = report_damage(j, path, NULL);
	int n, failed = 0;

	/* A torn last record was never applied: a change is applied only once
	 * its record is wholly written and fsync'd.  With every other record
	 * read, it is cut off, and this restore's records start on a new line. */
	if (unreadable == 0 && tb_journal_drop_torn_tail(j) < 0)
		unreadable = 1;
	n = tb_journal_pending(j, &pending);
	if (n < 0)
		return n;
	if (n == 0 && unreadable == 0)
		tb_info("nothing to restore: every change in %s was already undone", path);
	for (int i = 0; i < n; i++) {
		if (tb_restore_entry(&pending[i]) < 0)
			failed = 1;
		else
			tb_journal_done(j, pending[i].id);
	}
	free(pending);
	if (unreadable > 0) {
		tb_error("%s is kept: %zu record%s could not be read and may name changes still "
			 "applied; undo those by hand, then remove the file", path, unreadable,
			 unreadable == 1 ? "" : "s");
		failed = 1;
	}
	return failed;
}

int tb_restore_journal(const char *path)
{
	struct tb_journal *j;
	int r;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		tb_info("nothing to restore (no journal at %s)", path);
		return 0;
	}
	r = open_for_restore(path, &j);
	if (r < 0)
		return r;
	r = tb_restore_pending(j, path);
	tb_conn_close_all();
	tb_journal_close(j);
	return r;
}

static void print_escaped(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

int tb_restore_check(const char *path)
{
	struct tb_journal *j;
	struct tb_journal_entry *pending;
	const struct tb_journal_damage *d;
	int n, r = tb_journal_inspect(path, &j);

	if (r == -ENOENT) {
		printf("%s: no journal: nothing is pending\n", path);
		return 0;
	}
	if (r < 0) {
		tb_error("cannot read %s: %s", path, strerror(-r));
		return r;
	}
	n = tb_journal_pending(j, &pending);
	if (n < 0) {
		tb_journal_close(j);
		return n;
	}
	printf("%s: %d pending change%s, %zu record%s that could not be read\n", path, n,
	       n == 1 ? "" : "s", tb_journal_damaged(j, &d), tb_journal_damaged(j, &d) == 1 ? "" : "s");
	for (int i = 0; i < n; i++) {
		printf("pending %ld: %s %s, target %s, saved \"", pending[i].id, pending[i].kind,
		       pending[i].plugin, pending[i].target);
		print_escaped(pending[i].saved);
		printf("\"\n");
	}
	report_damage(j, path, stdout);
	r = n > 0 || tb_journal_damaged(j, &d) > 0;
	free(pending);
	tb_journal_close(j);
	return r;
}
