/* bench_run.h - run the built throttlebot on a generated sim application and read its report. */
#ifndef TB_BENCH_RUN_H
#define TB_BENCH_RUN_H

#include <stddef.h>
#include <sys/resource.h>
#include <jansson.h>

/* One run: the application, the noise, the strategy. */
struct bench_sim {
	const char *strategy;
	size_t services;
	unsigned long long app_seed, noise_seed;
	double margin;
	unsigned trials;
	const char *metric;        /* "key = value; ..." for sim_jct (the noise models) */
	const char *extra;         /* top-level "key = value; ..." or NULL */
};

struct bench_result {
	int ok;                    /* exited 0 and wrote report.json */
	int timed_out;
	int status;                /* of waitpid() */
	double seconds;
	struct rusage usage;       /* of the run alone */
	json_t *report;            /* report.json (also of a run stopped at the timeout), or NULL */
	size_t progress;           /* of a run not ok: the last trial its progress showed */
};

/* The levels every run uses, for the truth. */
extern const double bench_levels[4];

/* A private directory under $TMPDIR (else /dev/shm, else /tmp) for everything the bench makes,
 * removed by bench_cleanup(), also on SIGINT/SIGTERM; and the environment
 * that points throttlebot at the build tree's plugin directories (a colon
 * list) and a journal in that directory.  0 or -errno. */
int bench_setup(const char *plugin_path, char *dir, size_t size);
void bench_cleanup(void);
/* Set by SIGINT/SIGTERM: stop starting runs. */
int bench_interrupted(void);

/* Write the configuration of run `name` under dir and run `throttlebot run`
 * on it, killing it after timeout seconds; its output goes to dir/name.log.
 * 0 (see res->ok for how the run went) or -errno. */
int bench_run(const char *throttlebot, const char *dir, const char *name,
	      const struct bench_sim *s, double timeout, struct bench_result *res);
void bench_result_free(struct bench_result *res);
/* 1 when `throttlebot plan` accepts a configuration with the top-level
 * settings `extra` (a setting of a newer core, say), 0 if not, or -errno. */
int bench_accepts(const char *throttlebot, const char *dir, const char *extra);

/* "svc12" and "disk": the sim pair's index (service * 3 + resource), or -1. */
long bench_pair(const char *service, const char *resource);

#endif
