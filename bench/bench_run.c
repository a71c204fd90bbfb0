/* bench_run.c - fork/exec `throttlebot run` on a sim configuration with a timeout, and load its report. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench_run.h"
#include "sim_app.h"

const double bench_levels[4] = { 0.2, 0.4, 0.6, 0.8 };

/* Process-wide by nature: the one scratch directory and the signal that ends the bench. */
static char scratch[4096];
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

int bench_interrupted(void)
{
	return interrupted != 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int bench_setup(const char *plugin_path, char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	struct sigaction sa = { .sa_handler = on_signal };
	char journal[4200];

	/* Memory rather than a disk: the journal's fsync per trial would
	 * measure the disk, and whoever else is using it. */
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/throttlebot-bench-XXXXXX", tmp);
	if (!mkdtemp(scratch)) {
		scratch[0] = 0;
		return -errno;
	}
	/* No SA_RESTART: a signal wakes the wait for a run. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	snprintf(journal, sizeof(journal), "%s/journal", scratch);
	if (setenv("THROTTLEBOT_PLUGIN_PATH", plugin_path, 1) < 0 ||
	    setenv("THROTTLEBOT_JOURNAL", journal, 1) < 0)
		return -errno;
	snprintf(dir, size, "%s", scratch);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void bench_cleanup(void)
{
	if (scratch[0])
		remove_tree(scratch);
	scratch[0] = 0;
}

/* The last "[trial N/TOTAL]" the run printed: how far a stopped run got. */
static size_t last_trial(const char *log)
{
	FILE *f = fopen(log, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, t, total;

	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "[trial %zu/%zu]", &t, &total) == 2)
			n = t;
	free(line);
	fclose(f);
	return n;
}

/* The end of a failed run's output, for the reader. */
static void show_tail(const char *name, const char *log)
{
	char buf[2048];
	FILE *f = fopen(log, "r");
	size_t n;

	if (!f)
		return;
	if (fseek(f, -(long)sizeof(buf) + 1, SEEK_END) < 0)
		rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	fprintf(stderr, "--- %s: the end of its output ---\n%s\n---\n", name, buf);
}

static int write_config(const char *path, const char *dir, const struct bench_sim *s)
{
	FILE *f = fopen(path, "w");
	int r = 0;

	if (!f)
		return -errno;
	fprintf(f, "application = \"bench\";\n"
		"orchestrator = { plugin = \"sim\"; state = \"%s/state\"; services = %zu; seed = %llu;"
		" margin = %g; };\n"
		"throttlers = ( { plugin = \"sim_cpu\"; state = \"%s/state\"; },\n"
		"  { plugin = \"sim_disk\"; state = \"%s/state\"; },\n"
		"  { plugin = \"sim_net\"; state = \"%s/state\"; } );\n"
		"metrics = ( { plugin = \"sim_jct\"; state = \"%s/state\"; seed = %llu; %s } );\n"
		"strategy = { plugin = \"%s\"; };\n"
		"stress_levels = [%g, %g, %g, %g];\n"
		"trials = %u;\n"
		"trial_seconds = 0.01;\n%s\n",
		dir, s->services, s->app_seed, s->margin, dir, dir, dir, dir, s->noise_seed,
		s->metric ? s->metric : "", s->strategy, bench_levels[0], bench_levels[1],
		bench_levels[2], bench_levels[3], s->trials, s->extra ? s->extra : "");
	if (fflush(f) != 0 || ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

/* argv[0] is the program; its output goes to log. */
static void child(char *const *argv, const char *log)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

/* Wait for pid, at most until `deadline`; then ask it to stop (it restores
 * what it throttled), and after a grace period kill it. */
static int wait_bounded(pid_t pid, double deadline, struct bench_result *res)
{
	int fd = pidfd_open(pid, 0), stop = 0;
	double grace = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = (grace ? grace : deadline) - now();

		if (!stop && (interrupted || left <= 0)) {
			res->timed_out = !interrupted;
			kill(pid, SIGTERM);
			stop = 1;
			grace = now() + 30;
			continue;
		}
		if (stop && left <= 0) {
			kill(pid, SIGKILL);
			grace = now() + 3600;
			continue;
		}
		if (poll(&p, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) > 0)
			break;
	}
	close(fd);
	return wait4(pid, &res->status, 0, &res->usage) < 0 ? -errno : 0;
}

static int spawn(char *const *argv, const char *log, double timeout, struct bench_result *res)
{
	double t0 = now();
	pid_t pid;
	int r;

	memset(res, 0, sizeof(*res));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(argv, log);
	if ((r = wait_bounded(pid, t0 + timeout, res)) < 0)
		return r;
	res->seconds = now() - t0;
	return 0;
}

int bench_accepts(const char *throttlebot, const char *dir, const char *extra)
{
	char conf[4200], log[4200];
	struct bench_sim s = { .strategy = "exhaustive", .services = 1, .trials = 1, .extra = extra };
	struct bench_result res;
	char *argv[] = { (char *)throttlebot, "plan", conf, NULL };
	int r;

	snprintf(conf, sizeof(conf), "%s/probe.conf", dir);
	snprintf(log, sizeof(log), "%s/probe.log", dir);
	if ((r = write_config(conf, dir, &s)) < 0 || (r = spawn(argv, log, 60, &res)) < 0)
		return r;
	unlink(conf);
	unlink(log);
	return WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0;
}

int bench_run(const char *throttlebot, const char *dir, const char *name,
	      const struct bench_sim *s, double timeout, struct bench_result *res)
{
	char conf[4200], out[4200], log[4200], report[4300];
	char *argv[] = { (char *)throttlebot, "run", conf, "-o", out, NULL };
	json_error_t err;
	int r;

	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, name);
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	snprintf(report, sizeof(report), "%s/report.json", out);
	if ((r = write_config(conf, dir, s)) < 0 || (r = spawn(argv, log, timeout, res)) < 0)
		return r;
	/* A run stopped at the timeout reports what it did so far. */
	res->report = json_load_file(report, 0, &err);
	res->ok = res->report && !res->timed_out && WIFEXITED(res->status) &&
		  WEXITSTATUS(res->status) == 0;
	if (!res->ok && !res->timed_out && !interrupted)
		show_tail(name, log);
	if (!res->ok)
		res->progress = last_trial(log);
	/* Reports of exhaustive runs are megabytes: keep none. */
	remove_tree(out);
	unlink(conf);
	unlink(log);
	return 0;
}

void bench_result_free(struct bench_result *res)
{
	json_decref(res->report);
	res->report = NULL;
}

long bench_pair(const char *service, const char *resource)
{
	char *end;
	long s;

	if (!service || !resource || strncmp(service, "svc", 3) != 0)
		return -1;
	s = strtol(service + 3, &end, 10);
	if (*end || end == service + 3 || s < 0)
		return -1;
	for (int r = 0; r < SIM_NRES; r++)
		if (strcmp(resource, sim_resource_names[r]) == 0)
			return s * SIM_NRES + r;
	return -1;
}
