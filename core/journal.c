/* journal.c - an append-only, fsync'd JSON-lines record of changes to undo, so a killed run can be restored. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdint.h>
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
#ifndef TB_LOCK_DEFAULT
#define TB_LOCK_DEFAULT "/run/throttlebot/lock"
#endif
/* Far beyond any run's journal; a bound on what restore reads into memory. */
#define JOURNAL_MAX (64L << 20)

struct tb_journal {
	int fd, lock_fd;          /* lock_fd < 0: inspected, read-only */
	char *path;
	json_t *entries;          /* object: id -> record, only those not yet done */
	long next_id;
	off_t end;                /* end of the last complete line */
	struct tb_journal_damage *damage;
	size_t ndamage;
	int torn;                 /* the file ends in a line cut short */
	int keep;                 /* never remove it: not ours, or not whole */
};

const char *tb_journal_path(void)
{
	const char *env = getenv("THROTTLEBOT_JOURNAL");

	return env && *env ? env : TB_JOURNAL_DEFAULT;
}

const char *tb_journal_lock_path(void)
{
	const char *env = getenv("THROTTLEBOT_LOCK");

	return env && *env ? env : TB_LOCK_DEFAULT;
}

uint32_t tb_crc32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
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

/*
 * Open and flock path.  The lock must be on the file the name stands for
 * now: a file unlinked or replaced between our open and our flock would
 * give us a lock nobody else ever sees, so check the inode and retry.
 */
static int open_locked(const char *path, int flags, int *out)
{
	for (int tries = 0; tries < 8; tries++) {
		struct stat held, named;
		int fd = open(path, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int e = errno;

			close(fd);
			return e == EWOULDBLOCK ? -EBUSY : -e;
		}
		if (fstat(fd, &held) < 0 || !S_ISREG(held.st_mode) || held.st_uid != geteuid()) {
			close(fd);
			return -EPERM;
		}
		if (lstat(path, &named) == 0 && named.st_dev == held.st_dev &&
		    named.st_ino == held.st_ino) {
			*out = fd;
			return 0;
		}
		close(fd);
	}
	return -EAGAIN;
}

/* The first bytes of a line, printable. */
static char *excerpt_of(const char *line, size_t len)
{
	size_t max = 60, used = 0;
	char *out = malloc(max * 4 + 4);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c >= 0x7f)
			used += (size_t)sprintf(out + used, "\\x%02x", c);
		else
			out[used++] = (char)c;
	}
	strcpy(out + used, len > max ? "..." : "");
	return out;
}

static int add_damage(struct tb_journal *j, long lineno, off_t offset, const char *line,
		      size_t len, int torn, const char *why)
{
	struct tb_journal_damage *grown = realloc(j->damage, (j->ndamage + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	j->damage = grown;
	grown[j->ndamage] = (struct tb_journal_damage){ lineno, (long long)offset, len, torn, why,
							excerpt_of(line, len) };
	if (!grown[j->ndamage].excerpt)
		return -ENOMEM;
	j->ndamage++;
	return 0;
}

/* The record a line holds, or NULL and why not. */
static json_t *parse_line(const char *line, size_t len, const char **why)
{
	json_t *outer = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *rec = NULL;
	json_int_t version = 0, rlen = -1, crc = -1, id = 0;
	const char *text = NULL, *op = NULL;
	size_t tlen = 0;

	if (!json_is_object(outer)) {
		*why = "not a JSON object";
		json_decref(outer);
		return NULL;
	}
	if (!json_object_get(outer, "v")) {
		rec = outer;            /* format 1: the bare record, unchecked */
	} else {
		if (json_unpack(outer, "{s:I}", "v", &version) < 0 || version != TB_JOURNAL_VERSION) {
			*why = "unknown format version";
		} else if (json_unpack(outer, "{s:I, s:I, s:s%}", "len", &rlen, "crc32", &crc,
				       "record", &text, &tlen) < 0) {
			*why = "no length, checksum or record";
		} else if ((size_t)rlen != tlen || rlen < 0) {
			*why = "length does not match";
		} else if ((uint32_t)crc != tb_crc32(text, tlen) || crc < 0 || crc > UINT32_MAX) {
			*why = "checksum does not match";
		} else if (!(rec = json_loadb(text, tlen, JSON_REJECT_DUPLICATES, NULL))) {
			*why = "record is not JSON";
		} else {
			json_decref(outer);
			outer = NULL;
		}
		if (outer) {
			json_decref(outer);
			return NULL;
		}
	}
	if (json_unpack(rec, "{s:s, s:I}", "op", &op, "id", &id) < 0 || id <= 0) {
		*why = "no operation or id";
	} else if (!strcmp(op, "done")) {
		return rec;
	} else if (strcmp(op, "apply")) {
		*why = "unknown operation";
	} else if (json_unpack(rec, "{s:s, s:s, s:s, s:s, s:s}", "kind", &text, "plugin", &text,
			       "path", &text, "target", &text, "saved", &text) < 0) {
		*why = "an apply record without its fields";
	} else {
		return rec;
	}
	json_decref(rec);
	return NULL;
}

static void replay(struct tb_journal *j, json_t *rec)
{
	json_int_t id = json_integer_value(json_object_get(rec, "id"));
	char key[32];

	snprintf(key, sizeof(key), "%lld", (long long)id);
	if (!strcmp(json_string_value(json_object_get(rec, "op")), "apply"))
		json_object_set(j->entries, key, rec);
	else
		json_object_del(j->entries, key);
	/* An id at the top of the range leaves next_id there: add() refuses it. */
	if (id >= j->next_id)
		j->next_id = id == INT64_MAX ? INT64_MAX : (long)id + 1;
}

static int read_all(int fd, char **out, size_t *len)
{
	struct stat st;
	size_t used = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size > JOURNAL_MAX)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (used < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + used, (size_t)st.st_size - used, (off_t)used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		used += (size_t)n;
	}
	*out = buf;
	*len = used;
	return 0;
}

static int read_existing(struct tb_journal *j)
{
	size_t len = 0, at = 0;
	long lineno = 0;
	char *buf = NULL;
	int r = read_all(j->fd, &buf, &len);

	while (r == 0 && at < len) {
		char *nl = memchr(buf + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - buf) - at : len - at;
		const char *why = "cut short: a run was killed, or the disk filled, while writing it";
		json_t *rec = NULL;

		lineno++;
		if (nl && n > 0)
			rec = parse_line(buf + at, n, &why);
		if (rec) {
			replay(j, rec);
			json_decref(rec);
		} else if (n > 0) {
			r = add_damage(j, lineno, (off_t)at, buf + at, n, !nl, why);
			j->torn = !nl;
		}
		at += n + (nl != NULL);
		if (nl)
			j->end = (off_t)at;
	}
	free(buf);
	return r;
}

static struct tb_journal *journal_new(const char *path)
{
	struct tb_journal *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->fd = j->lock_fd = -1;
	j->next_id = 1;
	j->path = strdup(path);
	j->entries = json_object();
	if (!j->path || !j->entries) {
		tb_journal_close(j);
		return NULL;
	}
	return j;
}

/* A journal whose every change was undone, left by a run that died before
 * removing it, starts afresh: ids begin at 1 again. */
static int start_afresh(struct tb_journal *j)
{
	if (ftruncate(j->fd, 0) < 0 || fsync(j->fd) < 0)
		return -errno;
	j->end = 0;
	j->next_id = 1;
	return 0;
}

int tb_journal_open(const char *path, int for_restore, struct tb_journal **out)
{
	return tb_journal_open_locked_by(path, tb_journal_lock_path(), for_restore, out);
}

int tb_journal_open_locked_by(const char *path, const char *lock, int for_restore,
			      struct tb_journal **out)
{
	struct tb_journal *j = journal_new(path);
	int r;

	if (!j)
		return -ENOMEM;
	r = make_parent(lock);
	/* The lock first: the journal is created, read and removed only under it. */
	if (r == 0)
		r = open_locked(lock, O_RDWR, &j->lock_fd);
	if (r == 0)
		r = make_parent(path);
	if (r == 0)
		r = open_locked(path, O_RDWR | O_APPEND, &j->fd);
	if (r == 0)
		r = read_existing(j);
	if (r == 0 && !for_restore && j->ndamage > 0)
		r = -EBADMSG;
	if (r == 0 && !for_restore && json_object_size(j->entries) > 0)
		r = -EEXIST;
	if (r == 0 && !for_restore && j->end > 0)
		r = start_afresh(j);
	if (r < 0) {
		j->keep = 1;      /* whatever it holds, it is not ours to remove */
		tb_journal_close(j);
		return r;
	}
	*out = j;
	return 0;
}

int tb_journal_inspect(const char *path, struct tb_journal **out)
{
	struct tb_journal *j = journal_new(path);
	int r = 0;

	if (!j)
		return -ENOMEM;
	j->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (j->fd < 0)
		r = -errno;
	if (r == 0)
		r = read_existing(j);
	if (r < 0) {
		tb_journal_close(j);
		return r;
	}
	*out = j;
	return 0;
}

static int write_all(int fd, const char *text, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		done += (size_t)w;
	}
	return 0;
}

/*
 * One line: {"v":2,"len":N,"crc32":C,"record":"<the record's JSON>"}.  The
 * record travels as a string so that its length and checksum are over the
 * exact bytes written.  A write that fails part way is cut back off, so the
 * next record never continues a torn line.
 */
static int append(struct tb_journal *j, json_t *rec)
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS), *line = NULL;
	json_t *outer = NULL;
	int r = -ENOMEM;

	if (j->lock_fd < 0)
		r = -EROFS;
	else if (text)
		outer = json_pack("{s:i, s:I, s:I, s:s}", "v", TB_JOURNAL_VERSION, "len",
				  (json_int_t)strlen(text), "crc32",
				  (json_int_t)tb_crc32(text, strlen(text)), "record", text);
	if (outer) {
		char *body = json_dumps(outer, JSON_COMPACT);

		if (body && asprintf(&line, "%s%s\n", j->torn ? "\n" : "", body) < 0)
			line = NULL;
		free(body);
		r = line ? write_all(j->fd, line, strlen(line)) : -ENOMEM;
		if (r == 0 && fsync(j->fd) < 0)
			r = -errno;
		if (r == 0) {
			j->end += (off_t)strlen(line);
			/* A torn line we ended is now a complete unreadable one: kept as damage. */
			j->torn = 0;
		} else if (line && (ftruncate(j->fd, j->end) < 0 || fsync(j->fd) < 0)) {
			tb_warn("%s: cannot cut back a record that failed to write: %s", j->path,
				strerror(errno));
			j->torn = j->keep = 1;
		}
	}
	free(line);
	json_decref(outer);
	free(text);
	return r;
}

long tb_journal_add(struct tb_journal *j, const char *kind, const char *plugin,
		    const char *path, const char *target, const char *saved)
{
	long id = j->next_id;
	json_t *e;
	char key[32];
	int r;

	if (id == INT64_MAX)
		return -EOVERFLOW;
	e = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "op", "apply",
		      "id", (json_int_t)id, "kind", kind, "plugin", plugin,
		      "path", path ? path : "", "target", target ? target : "",
		      "saved", saved, "pid", (json_int_t)getpid());
	if (!e)
		return -ENOMEM;
	r = append(j, e);
	if (r == 0) {
		j->next_id++;
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

size_t tb_journal_damaged(const struct tb_journal *j, const struct tb_journal_damage **out)
{
	*out = j->damage;
	return j->ndamage;
}

int tb_journal_drop_torn_tail(struct tb_journal *j)
{
	if (j->lock_fd < 0)
		return -EROFS;
	if (!j->torn)
		return 0;
	if (ftruncate(j->fd, j->end) < 0 || fsync(j->fd) < 0)
		return -errno;
	j->torn = 0;
	free((char *)j->damage[--j->ndamage].excerpt);
	return 0;
}

void tb_journal_close(struct tb_journal *j)
{
	if (!j)
		return;
	/* Removed under the lock, which outlives it: whoever locks next finds no journal or a new one. */
	if (j->fd >= 0 && j->lock_fd >= 0 && json_object_size(j->entries) == 0 && j->ndamage == 0 &&
	    !j->torn && !j->keep)
		unlink(j->path);
	if (j->fd >= 0)
		close(j->fd);
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	for (size_t i = 0; i < j->ndamage && j->damage; i++)
		free((char *)j->damage[i].excerpt);
	free(j->damage);
	json_decref(j->entries);
	free(j->path);
	free(j);
}
