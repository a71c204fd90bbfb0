/* cgroup_file.h - read and write cgroup control files exactly, for throttlers on cgroup v1 and v2. */
#ifndef TB_CGROUP_FILE_H
#define TB_CGROUP_FILE_H

#include <stddef.h>

/*
 * Throttlers write cgroup files directly rather than through libcgroup:
 * libcgroup 2.0 cannot read back a value here (cgroup_get_cgroup fails with
 * "invalid operation" on a plain v1 cpu cgroup), has no v1/v2 name mapping,
 * and only works on mounted hierarchies, while we also test against
 * cgroupfs-shaped trees.  Orchestrators use libcgroup to find mounts and to
 * create cgroups.
 */

/* 1 if dir is a cgroup v2 directory (it has cgroup.controllers), else 0. */
int tb_cg_is_v2(const char *dir);

/* Read dir/file into buf, without the trailing newline.  0 or -errno. */
int tb_cg_read(const char *dir, const char *file, char *buf, size_t size);

/* Write value to dir/file in one write().  0 or -errno (the kernel's). */
int tb_cg_write(const char *dir, const char *file, const char *value);

/*
 * Saved state for restore(): lines "path<TAB>value".  tb_saved_add appends a
 * line (-ENOSPC when full, -EINVAL when tb_saved_check refuses it); tb_saved_restore writes every value back to its
 * path, in order, and returns the first error while still trying the rest.
 */
int tb_saved_add(char *saved, size_t size, const char *dir, const char *file,
		 const char *value);
int tb_saved_restore(const char *saved);
/* 0 if path (absolute, plain, a control file a throttler saves) and value
 * (of that file's shape) may be written back; -EINVAL if not.  Every line
 * is checked by tb_saved_add and before tb_saved_restore writes it. */
int tb_saved_check(const char *path, const char *value);
/* The next line of saved state at *at, split into path and value (each
 * TB_SAVED_LINE_MAX bytes) and checked; *at moves past it.  1, 0 at the end, or
 * -EINVAL for a line that is malformed or refused.  tb_saved_restore reads
 * its lines with this, so the parsing is tested apart from the writing. */
#define TB_SAVED_LINE_MAX 4096
int tb_saved_next(const char **at, char *path, char *value);
/* The value saved for dir/file, copied into out; -ENOENT if none. */
int tb_saved_get(const char *saved, const char *dir, const char *file, char *out,
		 size_t size);

/*
 * An instance's cgroup files, kept open: on cgroupfs a path lookup with open
 * and close costs about 5 us, the pread or pwrite itself about 1 us, so a
 * save + apply + restore cycle through kept files costs a few microseconds.
 * Only cgroupfs files are kept (fstatfs tells); any other file, such as a
 * cgroupfs-shaped test tree, is opened per call exactly as tb_cg_read and
 * tb_cg_write do, because a regular file replaced under the same name would
 * leave a kept descriptor writing to the old one without an error.  A kept
 * file whose cgroup was removed fails with ENODEV; it is then reopened once,
 * so that a cgroup removed and recreated under the same path still works.
 * At most TB_CG_FILES_MAX files stay open per set; the least recently used
 * is closed beyond that.  A set serves one thread.  Every function below
 * accepts a NULL set and then keeps nothing open.
 */
#define TB_CG_FILES_MAX 64
struct tb_cg_files;

/* An empty set, or NULL when out of memory. */
struct tb_cg_files *tb_cg_files_new(void);
/* Close every kept file and free the set (NULL is fine). */
void tb_cg_files_free(struct tb_cg_files *f);
/* tb_cg_read, tb_cg_write and tb_saved_restore through the set's files. */
int tb_cg_files_read(struct tb_cg_files *f, const char *dir, const char *file, char *buf,
		     size_t size);
int tb_cg_files_write(struct tb_cg_files *f, const char *dir, const char *file,
		      const char *value);
int tb_saved_restore_files(struct tb_cg_files *f, const char *saved);
/* tb_cg_is_v2, remembered per directory until a file of it fails as gone. */
int tb_cg_files_is_v2(struct tb_cg_files *f, const char *dir);

/*
 * A weight raised by factor (> 1, finite), rounded and held to [lo, hi]:
 * cpu.shares, cpu.weight, blkio.weight, io.weight.  0, -EINVAL for a bad
 * factor or an old weight outside [lo, hi], -ERANGE when it is at hi already.
 */
int tb_weight_raise(long long old, double factor, long long lo, long long hi, long long *out);

/* Number of CPUs in a cpuset list such as "0-3,6"; -EINVAL for anything
 * else, a number of TB_CPU_LIMIT or more, or a total beyond it. */
#define TB_CPU_LIMIT 65536
int tb_cpulist_count(const char *list);

/* cpulist.c.  A cpuset list into ascending CPU numbers (*cpus malloc()ed):
 * the count, or -EINVAL for what the kernel would not print. */
int tb_cpulist_parse(const char *s, int **cpus);
/* Ascending CPU numbers as the kernel prints them: "0-3,6,8-9".  0 or -ENOSPC. */
int tb_cpulist_format(const int *cpus, int n, char *out, size_t size);
/* What stress (0 <= stress < 1) leaves of the CPUs of base: (1 - stress) of
 * them rounded up, at least one, the lowest-numbered (the highest with
 * keep_last), as a list in out.  The count kept, or -errno. */
int tb_cpulist_shrink(const char *base, double stress, int keep_last, char *out, size_t size);

#endif
