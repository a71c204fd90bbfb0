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
 * line (-ENOSPC when full); tb_saved_restore writes every value back to its
 * path, in order, and returns the first error while still trying the rest.
 */
int tb_saved_add(char *saved, size_t size, const char *dir, const char *file,
		 const char *value);
int tb_saved_restore(const char *saved);
/* The value saved for dir/file, copied into out; -ENOENT if none. */
int tb_saved_get(const char *saved, const char *dir, const char *file, char *out,
		 size_t size);

/* Number of CPUs in a cpuset list such as "0-3,6". */
int tb_cpulist_count(const char *list);

#endif
