/* restore.h - undo what a killed run left applied, from the journal. */
#ifndef TB_RESTORE_H
#define TB_RESTORE_H

struct tb_journal;
struct tb_journal_entry;

/* Returns 0 when nothing is left applied, 1 when something could not be
 * restored or read (it stays in the journal), or -errno. */
int tb_restore_journal(const char *path);
/* Undo one journal entry with a fresh instance of the plugin that made it
 * (its recorded file if it is still that plugin, else found by name).  A
 * target already gone counts as restored.  0 or -errno. */
int tb_restore_entry(const struct tb_journal_entry *e);
/* The same on a journal opened for restore (path names it in messages). */
int tb_restore_pending(struct tb_journal *j, const char *path);
/* Print what the journal holds, changing nothing: 0 when nothing is pending
 * or damaged, 1 when something is, or -errno. */
int tb_restore_check(const char *path);

#endif
