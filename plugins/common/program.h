/* program.h - find a workload's or service's program as execvp would, at configuration time. */
#ifndef TB_PROGRAM_H
#define TB_PROGRAM_H

/* The absolute path of prog: taken as is when it holds a '/' (relative to
 * cwd, or to the current directory when cwd is NULL), else searched in
 * $PATH.  NULL when there is no such executable file.  Free the result. */
char *tb_find_program(const char *prog, const char *cwd);

#endif
