/* journal.h - the crash-safe record of every change that must be undone. */
#ifndef TB_JOURNAL_H
#define TB_JOURNAL_H

struct tb_journal;

struct tb_journal_entry {
	long id;
	const char *kind;      /* plugin kind: "throttler", "orchestrator" */
	const char *plugin;    /* plugin name */
	const char *path;      /* the plugin file that made it */
	const char *target;
	const char *saved;     /* what the plugin's restore() takes */
};

/* The journal's path: $THROTTLEBOT_JOURNAL or the built-in default. */
const char *tb_journal_path(void);

/* Open (create) and lock the journal.  Refuses (-EBUSY) while another run
 * holds it and, unless for_restore, (-EEXIST) while it holds changes a
 * crashed run left. */
int tb_journal_open(const char *path, int for_restore, struct tb_journal **out);

/* Record one change, fsync'd; returns its id (> 0) or -errno. */
long tb_journal_add(struct tb_journal *j, const char *kind, const char *plugin,
		    const char *path, const char *target, const char *saved);
/* Mark it undone, fsync'd. */
int tb_journal_done(struct tb_journal *j, long id);
/* Entries not yet undone, newest first.  Returns how many. */
int tb_journal_pending(struct tb_journal *j, struct tb_journal_entry **out);
/* Close; removes the file when nothing is pending. */
void tb_journal_close(struct tb_journal *j);

#endif
