/* cgtest.h - file, cgroup and process helpers shared by the cgroup throttler tests. */
#ifndef TB_CGTEST_H
#define TB_CGTEST_H

#include <stddef.h>
#include <sys/types.h>

/* The whole content of path, byte for byte, into buf (NUL-terminated);
 * the length or -errno. */
long cgt_slurp(const char *path, char *buf, size_t size);
/* Create or truncate dir/file with exactly content.  0 or -errno. */
int cgt_put(const char *dir, const char *file, const char *content);
/* Create a cgroup directory, removing a leftover of the same name first. */
int cgt_mkcg(const char *dir);
/* Kill every process in the cgroup, wait (bounded) for it to empty, rmdir.
 * Safe to call on a directory that does not exist. */
void cgt_rmcg(const char *dir);
/* Move pid into the cgroup.  0 or -errno. */
int cgt_attach(const char *dir, pid_t pid);
/* Wait at most timeout seconds for pid; its wait status, or -1 (then it
 * has been killed). */
int cgt_wait(pid_t pid, double timeout);
/* Monotonic seconds. */
double cgt_now(void);

#endif
