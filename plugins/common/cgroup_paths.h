/* cgroup_paths.h - which cgroup directory, per controller, a process or a cgroup path has. */
#ifndef TB_CGROUP_PATHS_H
#define TB_CGROUP_PATHS_H

#include <stddef.h>
#include <sys/types.h>
#include <throttlebot/plugin.h>

/*
 * Each controller is looked up on its own, at run time: in the cgroup v1
 * hierarchy that mounts it if there is one, else in the cgroup v2 hierarchy
 * when its root offers it (listed in cgroup.controllers).  That covers pure
 * v1, pure v2 and the hybrid layouts (v1 controllers plus an empty v2 mount).
 */

/* The mounted hierarchies, from a mountinfo file. */
struct tb_cg_mounts {
	char *v1[TB_CG_SLOTS];       /* v1 mount holding the controller, or NULL */
	char *v1_root[TB_CG_SLOTS];  /* that mount's root inside its hierarchy ("/") */
	char *v2;                    /* the cgroup2 mount, or NULL */
	char *v2_root;
	int in_v2[TB_CG_SLOTS];      /* the controller is offered by the v2 root */
	char *cpuacct;               /* v1 cpuacct mount (accounting only), or NULL */
};

/* The v1 hierarchy name and the v2 name of a controller: "blkio" / "io". */
const char *tb_cg_v1_name(int ctl);
const char *tb_cg_v2_name(int ctl);

/* Read mountinfo (NULL: /proc/self/mountinfo).  0 or -errno. */
int tb_cg_mounts_read(const char *mountinfo, struct tb_cg_mounts *m);
void tb_cg_mounts_free(struct tb_cg_mounts *m);

/* The mount holding ctl, and 1 if it is cgroup v2; NULL when none does. */
const char *tb_cg_mount_of(const struct tb_cg_mounts *m, int ctl, int *v2);

/*
 * 0 when dir, with symlinks and ".." resolved, is mount or lies below it;
 * -EXDEV when it leads elsewhere.  A part of dir that does not exist yet
 * must be plain names.  Every cgroup directory made from text that comes
 * from outside (an engine's answer, a configuration) goes through here, so
 * that nothing is written outside the cgroup hierarchies.
 */
int tb_cg_confine(const char *mount, const char *dir);

/*
 * dirs[ctl]: the absolute directory of each controller for the process whose
 * /proc/PID/cgroup text is in file proc_cgroup (NULL for controllers that
 * are not mounted).  Strings are malloc'd; free with tb_cg_paths_free.
 */
int tb_cg_paths_parse(const struct tb_cg_mounts *m, const char *proc_cgroup,
		      char *dirs[TB_CG_SLOTS]);
/* The same for a live process. */
int tb_cg_paths_of_pid(const struct tb_cg_mounts *m, pid_t pid, char *dirs[TB_CG_SLOTS]);
/* A cgroup path such as "/system.slice/nginx.service" in each controller's
 * hierarchy, where that directory exists.  -ENOENT if it exists in none,
 * -EXDEV if it leads outside a hierarchy (both functions). */
int tb_cg_paths_of_cgroup(const struct tb_cg_mounts *m, const char *path,
			  char *dirs[TB_CG_SLOTS]);
void tb_cg_paths_free(char *dirs[TB_CG_SLOTS]);

/* Up to max pids listed in dir/cgroup.procs; returns how many, or -errno. */
int tb_cg_procs(const char *dir, pid_t *pids, size_t max);

#endif
