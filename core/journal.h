/* journal.h - the crash-safe record of every change that must be undone. */
#ifndef TB_JOURNAL_H
#define TB_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

/* The format version written in every record (see throttlebot(1), FILES). */
#define TB_JOURNAL_VERSION 2

struct tb_journal;

struct tb_journal_entry {
	long id;
	const char *kind;      /* plugin kind: "throttler", "orchestrator" */
	const char *plugin;    /* plugin name */
	const char *path;      /* the plugin file that made it */
	const char *target;
	const char *saved;     /* what the plugin's restore() takes */
};

/* A line of the journal that could not be read. */
struct tb_journal_damage {
	long line;             /* 1-based line number */
	long long offset;      /* byte offset of the line */
	size_t length;         /* its length, without the newline */
	int torn;              /* 1: the last line, cut short (no newline) */
	const char *why;
	const char *excerpt;   /* its first bytes, control characters escaped */
};

/* The journal's path: $THROTTLEBOT_JOURNAL or the built-in default. */
const char *tb_journal_path(void);
/* The host-wide lock every run takes: $THROTTLEBOT_LOCK or the built-in default. */
const char *tb_journal_lock_path(void);

/* Take the host-wide lock, then open (create) and lock the journal.
 * Refuses (-EBUSY) while another run holds either and, unless for_restore,
 * (-EEXIST) while it holds changes a killed run left and (-EBADMSG) while
 * it holds anything unreadable, a torn last record included. */
int tb_journal_open(const char *path, int for_restore, struct tb_journal **out);
/* The same under another lock than the host-wide one (the agent's own). */
int tb_journal_open_locked_by(const char *path, const char *lock, int for_restore,
			      struct tb_journal **out);
/* Read a journal as it is: no lock, nothing created or changed.  -ENOENT
 * when there is none.  Only pending/damaged/close apply to it. */
int tb_journal_inspect(const char *path, struct tb_journal **out);

/* Record one change, fsync'd; returns its id (> 0) or -errno. */
long tb_journal_add(struct tb_journal *j, const char *kind, const char *plugin,
		    const char *path, const char *target, const char *saved);
/* Mark it undone, fsync'd. */
int tb_journal_done(struct tb_journal *j, long id);
/* Entries not yet undone, newest first.  Returns how many. */
int tb_journal_pending(struct tb_journal *j, struct tb_journal_entry **out);
/* The lines that could not be read, in file order.  Returns how many. */
size_t tb_journal_damaged(const struct tb_journal *j, const struct tb_journal_damage **out);
/* Cut off a torn last record (only that: other damage stays), fsync'd.
 * For restore, once every complete record is accounted for. */
int tb_journal_drop_torn_tail(struct tb_journal *j);
/* Close; removes the file when nothing is pending and nothing is damaged,
 * then releases the host-wide lock. */
void tb_journal_close(struct tb_journal *j);

/* CRC-32 (IEEE 802.3, as zlib's crc32) of len bytes. */
uint32_t tb_crc32(const void *data, size_t len);

#endif
