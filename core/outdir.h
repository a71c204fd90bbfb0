/* outdir.h - make or check the output directory, trials/ and the files in it, refusing what others could tamper with. */
#ifndef TB_OUTDIR_H
#define TB_OUTDIR_H

/*
 * Create dir and dir/trials if missing (mode 0755), then check both: a real
 * directory (not a symlink), owned by the running user, writable by nobody
 * else.  ThrottleBot writes there as root; a directory someone else controls
 * would let them point its files anywhere.  *workdir is set to "dir/trials"
 * (malloc'd).  0, or -errno with the reason logged.
 */
int tb_outdir_prepare(const char *dir, char **workdir);

/* The same checks on an existing dir, creating nothing (resume).  0 or -errno, logged. */
int tb_outdir_check(const char *dir);
/* Open dir/name (flags: O_RDONLY, O_RDWR...) refusing a symlink, anything but
 * a regular file, or one owned by someone else or writable by others.
 * The descriptor, or -errno (logged, except -ENOENT). */
int tb_outdir_open_file(const char *dir, const char *name, int flags);

#endif
