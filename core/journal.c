/* journal.c - an append-only, fsync'd JSON-lines record of changes to undo, so a killed run can be restored. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "journal.h"
#include "log.h"

#ifndef TB_JOURNAL_DEFAULT
#define TB_JOURNAL_DEFAULT "/run/throttlebot/journal"
#endif

struct tb_journal {
	int fd;
	char *path;
	json_t *entries;      /* object: id -> entry, only those not yet done */
	long next_id;
};

const char *tb_journal_path(void)
{
	const char *env = getenv("THROTTLEBOT_JOURNAL");

	return env && *env ? env : TB_JOURNAL_DEFAULT;
}

static int make_parent(const char *path)
{
	char *copy = strdup(path);
	int r = 0;

	if (!copy)
		return -ENOMEM;
	if (mkdir(dirname(copy), 0700) < 0 && errno != EEXIST)
		r = -errno;
	free(copy);
	return r;
}

/* A line cut short by a crash is not an entry: skip it. */
static void replay_line(struct tb_journal *j, const char *line, size_t lineno)
{
	json_t *e = json_loads(line, 0, NULL);
	const char *op = json_string_value(json_object_get(e, "op"));
	json_int_t id = json_integer_value(json_object_get(e, "id"));
	char key[32];

	if (!e || !op || id <= 0) {
		tb_warn("%s:%zu: unreadable journal line skipped", j->path, lineno);
		json_decref(e);
		return;
	}
	snprintf(key, sizeof(key), "%lld", (long long)id);
	if (!strcmp(op, "apply"))
		json_object_set(j->entries, key, e);
	else if (!strcmp(op, "done"))
		json_object_del(j->entries, key);
	if (id >= j->next_id)
		j->next_id = (long)id + 1;
	json_decref(e);
}

static int read_existing(struct tb_journal *j)
{
	FILE *f = fdopen(dup(j->fd), "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		replay_line(j, line, ++lineno);
	free(line);
	fclose(f);
	return 0;
}

int tb_journal_open(const char *path, int for_restore, struct tb_journal **out)
{
	struct tb_journal *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->next_id = 1;
	j->path = strdup(path);
	j->entries = json_object();
	j->fd = -1;
	r = !j->path || !j->entries ? -ENOMEM : make_parent(path);
	if (r == 0) {
		j->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (j->fd < 0)
			r = -errno;
	}
	if (r == 0 && flock(j->fd, LOCK_EX | LOCK_NB) < 0)
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
	if (r == 0)
		r = read_existing(j);
	if (r == 0 && !for_restore && json_object_size(j->entries) > 0)
		r = -EEXIST;
	if (r < 0) {
		if (j->fd >= 0)
			close(j->fd);
		json_decref(j->entries);
		free(j->path);
		free(j);
		return r;
	}
	*out = j;
	return 0;
}

static int append(struct tb_journal *j, json_t *e)
{
	char *text = json_dumps(e, JSON_COMPACT);
	size_t len;
	ssize_t w;
	int r = 0;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';       /* json_dumps leaves room for the NUL we replace */
	w = write(j->fd, text, len + 1);
	if (w != (ssize_t)(len + 1))
		r = w < 0 ? -errno : -EIO;
	else if (fsync(j->fd) < 0)
		r = -errno;
	free(text);
	return r;
}

long tb_journal_add(struct tb_journal *j, const char *kind, const char *plugin,
		    const char *path, const char *target, const char *saved)
{
	long id = j->next_id++;
	json_t *e = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "op", "apply",
			      "id", (json_int_t)id, "kind", kind, "plugin", plugin,
			      "path", path ? path : "", "target", target ? target : "",
			      "saved", saved, "pid", (json_int_t)getpid());
	char key[32];
	int r;

	if (!e)
		return -ENOMEM;
	r = append(j, e);
	if (r == 0) {
		snprintf(key, sizeof(key), "%ld", id);
		json_object_set(j->entries, key, e);
	}
	json_decref(e);
	return r < 0 ? r : id;
}

int tb_journal_done(struct tb_journal *j, long id)
{
	json_t *e = json_pack("{s:s, s:I}", "op", "done", "id", (json_int_t)id);
	char key[32];
	int r;

	if (!e)
		return -ENOMEM;
	r = append(j, e);
	json_decref(e);
	snprintf(key, sizeof(key), "%ld", id);
	if (r == 0)
		json_object_del(j->entries, key);
	return r;
}

static int newest_first(const void *a, const void *b)
{
	const struct tb_journal_entry *x = a, *y = b;

	return (x->id < y->id) - (x->id > y->id);
}

static const char *field(json_t *e, const char *key)
{
	const char *s = json_string_value(json_object_get(e, key));

	return s ? s : "";
}

int tb_journal_pending(struct tb_journal *j, struct tb_journal_entry **out)
{
	size_t n = json_object_size(j->entries), i = 0;
	struct tb_journal_entry *list = calloc(n ? n : 1, sizeof(*list));
	const char *key;
	json_t *e;

	if (!list)
		return -ENOMEM;
	json_object_foreach(j->entries, key, e) {
		list[i].id = (long)json_integer_value(json_object_get(e, "id"));
		list[i].kind = field(e, "kind");
		list[i].plugin = field(e, "plugin");
		list[i].path = field(e, "path");
		list[i].target = field(e, "target");
		list[i].saved = field(e, "saved");
		i++;
	}
	qsort(list, n, sizeof(*list), newest_first);
	*out = list;
	return (int)n;
}

void tb_journal_close(struct tb_journal *j)
{
	if (!j)
		return;
	if (json_object_size(j->entries) == 0)
		unlink(j->path);
	close(j->fd);
	json_decref(j->entries);
	free(j->path);
	free(j);
}
