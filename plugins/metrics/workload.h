/* workload.h - run a metric's workload: execvp in its own process group, output to a file, timeout, cancel. */
#ifndef TB_METRICS_WORKLOAD_H
#define TB_METRICS_WORKLOAD_H

#include <throttlebot/plugin.h>

struct tb_workload_run {
	char *const *argv;          /* NULL-terminated; argv[0] is looked up in PATH */
	const char *cwd;            /* NULL: ThrottleBot's own */
	char *const *env;           /* NULL-terminated "K=V" added to the environment, or NULL */
	double timeout;             /* seconds; <= 0: none */
	const char *out_path;       /* stdout and stderr go here (emptied first, not via a symlink) */
};

/* The settings of a metric that runs a workload: command, env, timeout, cwd. */
struct tb_workload {
	char **argv;
	char **env;
	char *cwd;
	double timeout;
};

/* Read and check them (the program must exist: a typo is a configuration
 * error, found before anything runs).  0, or -EINVAL reported as file:line. */
int tb_workload_configure(const struct tb_host *h, const struct tb_config *cfg,
			  struct tb_workload *w);
void tb_workload_free(struct tb_workload *w);

/*
 * Run r to completion.  Sets trial->start, trial->end (h->now clock) and
 * trial->wall_start.  Returns 0 when the workload exited with status 0;
 * otherwise logs why (exit code or signal, with the last lines of its output)
 * and returns -ECHILD (failed), -ETIMEDOUT, -EINTR (h->cancelled) or another
 * -errno.  On timeout or cancel the whole process group is killed.
 */
int tb_workload_exec(const struct tb_host *h, const struct tb_workload_run *r,
		     struct tb_trial *trial);

/* Log (at level) up to nlines last lines of file path, prefixed by "  | ". */
void tb_workload_log_tail(const struct tb_host *h, enum tb_log_level level, const char *path,
		     int nlines);

#endif
