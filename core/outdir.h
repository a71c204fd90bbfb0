/* outdir.h - make the output directory and trials/, refusing ones others could tamper with. */
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

#endif
