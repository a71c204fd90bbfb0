/* restore.h - undo what a killed run left applied, from the journal. */
#ifndef TB_RESTORE_H
#define TB_RESTORE_H

/* Returns 0 when nothing is left applied, 1 when something could not be
 * restored or read (it stays in the journal), or -errno. */
int tb_restore_journal(const char *path);
/* Print what the journal holds, changing nothing: 0 when nothing is pending
 * or damaged, 1 when something is, or -errno. */
int tb_restore_check(const char *path);

#endif
