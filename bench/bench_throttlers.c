/* bench_throttlers.c - each throttler's save+apply+restore latency against the command-line route for the same change. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "instance.h"
#include "log.h"
#include "settings.h"

/*
 * For each throttler the bench makes a target of its own (v1 cgroups holding
 * a sleeping process; for tc a veth pair in a network namespace; a container
 * when a Docker daemon answers), loads the built plugin with the core's
 * loader and host services, and times save + apply(0.5) + restore per cycle.
 * The command-line route then makes the same change the way an operator's
 * script would, one "sh -c" per cycle: it writes exactly what apply() wrote,
 * then the saved value back.  The CPU quota and disk targets start from
 * limits of their own, so that "restored byte for byte" means the previous
 * value, not a default.
 */

#define PLUGIN_CYCLES 1000
#define CLI_CYCLES 100
#define LOOP_SECONDS 30.0       /* per route and row: the cycles stop there */
#define COMMAND_SECONDS 20      /* one command is killed after this */
#define TARGET_MEDIAN_US 1000.0
#define TARGET_SPEEDUP 50.0
#define SNAP_MAX 16384
#define IMAGE "throttlebot-bench/busybox:latest"

extern char **environ;

/* ---- what the bench created, undone at exit, on failure and on SIGINT ---- */

static struct {
	char cgroup[3][256];       /* v1 cgroup directories, "" if none */
	pid_t sleeper;             /* the process the cgroups hold */
	char netns[64];            /* "" if none */
	char container[64];        /* name, "" if none */
	int image;                 /* 1: we imported IMAGE */
} made;

static volatile pid_t waiting_for;   /* the command being waited for, 0 if none */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	tb_cancelled = sig;
	if (waiting_for > 0)
		kill(-waiting_for, SIGKILL);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (waiting_for > 0)
		kill(-waiting_for, SIGKILL);
}

/*
 * Run argv with no shell of ours (argv may be "sh -c ..." when that is what is
 * measured), its standard output into out (NULL: discarded), its standard
 * error ours unless quiet.  It runs in a process group of its own, killed
 * whole after COMMAND_SECONDS or on SIGINT.  Returns the exit status, or -1.
 */
static int run_argv(char *const argv[], char *out, size_t size, int quiet)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int pipefd[2] = { -1, -1 }, st = 0, r;
	size_t used = 0;
	pid_t pid;

	if (out && pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	if (out)
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (out)
		close(pipefd[1]);
	if (r != 0) {
		if (out)
			close(pipefd[0]);
		return -1;
	}
	waiting_for = pid;
	alarm(COMMAND_SECONDS);
	if (out) {
		ssize_t n = 1;

		while (n > 0 || (n < 0 && errno == EINTR && waiting_for)) {
			char sink[512];
			int full = used + 1 >= size;

			n = read(pipefd[0], full ? sink : out + used, full ? sizeof(sink) : size - 1 - used);
			if (n > 0 && !full)
				used += (size_t)n;
		}
		out[used] = '\0';
		close(pipefd[0]);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	alarm(0);
	waiting_for = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_sh(const char *script, char *out, size_t size, int quiet)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };

	return run_argv(argv, out, size, quiet);
}

/* A command line made from a format: setup and checks only, never timed. */
static int shf(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int shf(char *out, size_t size, const char *fmt, ...)
{
	char script[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(script, sizeof(script), fmt, ap);
	va_end(ap);
	return run_sh(script, out, size, 1);
}

static void cleanup(void)
{
	sigset_t block;

	/* A second SIGINT must not cut the cleanup short. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (made.sleeper > 0) {
		kill(made.sleeper, SIGKILL);
		waitpid(made.sleeper, NULL, 0);
		made.sleeper = 0;
	}
	for (int i = 0; i < 3; i++) {
		/* The killed sleeper leaves its cgroups a moment later. */
		for (int tries = 0; made.cgroup[i][0] && tries < 50; tries++) {
			if (rmdir(made.cgroup[i]) == 0 || errno == ENOENT)
				made.cgroup[i][0] = '\0';
			else
				usleep(20000);
		}
		if (made.cgroup[i][0])
			fprintf(stderr, "bench: cannot remove %s: %s\n", made.cgroup[i], strerror(errno));
	}
	if (made.netns[0]) {
		shf(NULL, 0, "ip netns del '%s'", made.netns);
		made.netns[0] = '\0';
	}
	if (made.container[0]) {
		shf(NULL, 0, "docker rm -f '%s'", made.container);
		made.container[0] = '\0';
	}
	if (made.image) {
		shf(NULL, 0, "docker rmi -f '%s'", IMAGE);
		made.image = 0;
	}
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}

/* ---- files ---------------------------------------------------------------- */

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	close(fd);
	return 0;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -errno;
}

/* ---- rows ------------------------------------------------------------------ */

struct stats {
	int n;
	double median, p99;       /* microseconds */
};

struct row {
	const char *label;
	const char *plugin;          /* file name without ".so" */
	const char *config;          /* the plugin's settings */
	struct tb_target target;
	/* Before the "before" snapshot: give the target non-default limits so
	 * that restore must put back an exact value, not a default.  Gets the
	 * state of a first save(). */
	int (*preset)(struct row *row, const char *saved);
	/* The state compared byte for byte; NULL: the files saved state names. */
	int (*snapshot)(struct row *row, const char *saved, char *out, size_t size);
	/* The command-line route, built once apply()'s effect is known. */
	int (*cli)(struct row *row, const char *saved, const char *applied, char *script,
		   size_t size);
	char skip[1024];              /* why the row did not run, or "" */
	char error[1024];            /* why it failed, or "" */
	struct stats tb, cmd, raw;    /* raw: cgroup rows' bare write()s */
	struct stats phase[3];        /* save, apply, restore on their own */
	int exact, cmd_exact;        /* after the cycles, as before them */
	char script[2048];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank quantiles. */
static void summarise(double *v, int n, struct stats *s)
{
	s->n = n;
	if (n == 0)
		return;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s->median = v[(int)ceil(0.5 * n) - 1];
	s->p99 = v[(int)ceil(0.99 * n) - 1];
}

/* Each "path<TAB>value" line of saved, in order: f(path, value). */
static int each_saved(const char *saved, int (*f)(void *arg, const char *path, const char *value),
		      void *arg)
{
	for (const char *line = saved; line && *line;) {
		const char *end = strchr(line, '\n'), *tab = strchr(line, '\t');
		char path[4096], value[4096];
		int r;

		if (!end)
			end = line + strlen(line);
		if (tab && tab < end && (size_t)(tab - line) < sizeof(path) &&
		    (size_t)(end - tab) <= sizeof(value)) {
			snprintf(path, sizeof(path), "%.*s", (int)(tab - line), line);
			snprintf(value, sizeof(value), "%.*s", (int)(end - tab - 1), tab + 1);
			if ((r = f(arg, path, value)) < 0)
				return r;
		}
		line = *end ? end + 1 : NULL;
	}
	return 0;
}

struct snap {
	char *out;
	size_t size, used;
};

static int snap_file(void *arg, const char *path, const char *value)
{
	struct snap *s = arg;
	char buf[4096];
	int r = read_file(path, buf, sizeof(buf));

	(void)value;
	if (r < 0)
		return r;
	s->used += (size_t)snprintf(s->out + s->used, s->size - s->used, "%s:\n%s", path, buf);
	return s->used < s->size ? 0 : -ENOSPC;
}

static int snapshot(struct row *row, const char *saved, char *out, size_t size)
{
	struct snap s = { out, size, 0 };

	if (row->snapshot)
		return row->snapshot(row, saved, out, size);
	out[0] = '\0';
	return each_saved(saved, snap_file, &s);
}

/* The command-line route for cgroup files: echo what apply() left in each
 * file, then the value saved before it, as an operator's script would. */
struct echo_script {
	char *out;
	size_t size, used;
	const char *applied;   /* NULL: the restoring half */
};

/* apply()'s value for path: the file's content in the applied snapshot. */
static int applied_value(const char *applied, const char *path, char *out, size_t size)
{
	const char *at = strstr(applied, path);

	if (!at || !(at = strchr(at, '\n')))
		return -EINVAL;
	snprintf(out, size, "%.*s", (int)strcspn(at + 1, "\n"), at + 1);
	return 0;
}

static int echo_line(void *arg, const char *path, const char *value)
{
	struct echo_script *e = arg;
	char now_value[4096];

	if (e->applied) {
		if (applied_value(e->applied, path, now_value, sizeof(now_value)) < 0)
			return -EINVAL;
		value = now_value;
	}
	e->used += (size_t)snprintf(e->out + e->used, e->size - e->used, "; echo '%s' > '%s'",
				    value, path);
	return e->used < e->size ? 0 : -ENOSPC;
}

static int cli_echo(struct row *row, const char *saved, const char *applied, char *script,
		    size_t size)
{
	struct echo_script e = { script, size, 0, applied };
	int r;

	(void)row;
	e.used = (size_t)snprintf(script, size, "set -e");
	r = each_saved(saved, echo_line, &e);
	e.applied = NULL;
	return r < 0 ? r : each_saved(saved, echo_line, &e);
}

/* The kernel's own share of a cgroup row: the command line's writes, done
 * in-process with nothing around them. */
static int raw_line(void *arg, const char *path, const char *value)
{
	const char *applied = arg;
	char now_value[4096];

	if (applied) {
		if (applied_value(applied, path, now_value, sizeof(now_value)) < 0)
			return -EINVAL;
		value = now_value;
	}
	return write_file(path, value);
}

/* ---- one row: the plugin, then the command line ------------------------- */

static int fail(struct row *row, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct row *row, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(row->error, sizeof(row->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int bench_plugin(struct row *row, const char *plugin_dir, char *saved, char *before,
			char *applied)
{
	static const char *const reserved[] = { "plugin", "name", NULL };
	static double us[PLUGIN_CYCLES], phase_us[3][PLUGIN_CYCLES];
	const struct tb_throttler *th;
	const struct tb_target *t = &row->target;
	struct tb_instance in;
	char path[4096], why[2048], after[SNAP_MAX];
	config_t cfg;
	void *st = NULL;
	double end;
	int n = 0, r;

	memset(&in, 0, sizeof(in));
	config_init(&cfg);
	snprintf(path, sizeof(path), "%s/%s.so", plugin_dir, row->plugin);
	r = tb_plugin_load_file(path, TB_KIND_THROTTLER, &in.lib, why, sizeof(why));
	if (r < 0) {
		config_destroy(&cfg);
		return fail(row, "%s", why);
	}
	th = (const struct tb_throttler *)in.lib.header;
	in.name = strdup(row->plugin);
	if (!config_read_string(&cfg, row->config)) {
		r = fail(row, "settings:%d: %s", config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}
	in.group = config_root_setting(&cfg);
	if (tb_settings_check(in.group, in.lib.header->settings, reserved) < 0) {
		r = fail(row, "bad settings \"%s\"", row->config);
		goto out;
	}
	tb_instance_bind(&in, NULL);
	r = th->init(&in.host, (const struct tb_config *)in.group, &st);
	if (r < 0) {
		st = NULL;
		r = fail(row, "init: %s", strerror(-r));
		goto out;
	}
	if ((r = th->save(st, t, saved, TB_SAVED_MAX)) < 0) {
		r = fail(row, "save: %s", strerror(-r));
		goto out;
	}
	if (row->preset && ((r = row->preset(row, saved)) < 0 ||
			    (r = th->save(st, t, saved, TB_SAVED_MAX)) < 0)) {
		r = fail(row, "setting the starting limits: %s", strerror(-r));
		goto out;
	}
	if ((r = snapshot(row, saved, before, SNAP_MAX)) < 0) {
		r = fail(row, "reading the target's state: %s", strerror(-r));
		goto out;
	}
	/* One untimed cycle: it shows what apply() does (the command line
	 * repeats exactly that) and opens what a plugin opens once. */
	if ((r = th->apply(st, t, saved, 0.5)) < 0 ||
	    (r = snapshot(row, saved, applied, SNAP_MAX)) < 0 ||
	    (r = th->restore(st, saved)) < 0) {
		r = fail(row, "first apply/restore: %s", strerror(-r));
		goto out;
	}
	if (!strcmp(applied, before)) {
		r = fail(row, "apply(0.5) changed nothing");
		goto out;
	}
	end = now() + LOOP_SECONDS;
	for (; n < PLUGIN_CYCLES && now() < end && !tb_cancelled; n++) {
		double at[4];

		at[0] = now();
		if ((r = th->save(st, t, saved, TB_SAVED_MAX)) < 0)
			goto cycle_failed;
		at[1] = now();
		if ((r = th->apply(st, t, saved, 0.5)) < 0)
			goto cycle_failed;
		at[2] = now();
		if ((r = th->restore(st, saved)) < 0)
			goto cycle_failed;
		at[3] = now();
		us[n] = (at[3] - at[0]) * 1e6;
		for (int k = 0; k < 3; k++)
			phase_us[k][n] = (at[k + 1] - at[k]) * 1e6;
	}
	summarise(us, n, &row->tb);
	for (int k = 0; k < 3; k++)
		summarise(phase_us[k], n, &row->phase[k]);
	if ((r = snapshot(row, saved, after, sizeof(after))) < 0) {
		r = fail(row, "reading the target's state: %s", strerror(-r));
		goto out;
	}
	row->exact = !strcmp(after, before);
	if (!row->exact)
		fprintf(stderr, "%s: after %d cycles the state differs.\nbefore:\n%s\nafter:\n%s\n",
			row->label, n, before, after);
	r = 0;
	goto out;
cycle_failed:
	r = fail(row, "cycle %d: %s", n + 1, strerror(-r));
	th->restore(st, saved);   /* best effort: the target is ours and goes anyway */
out:
	if (st)
		th->fini(st);
	free(in.name);
	tb_plugin_unload(&in.lib);
	config_destroy(&cfg);
	return r;
}

static int bench_cli(struct row *row, const char *saved, const char *before, const char *applied)
{
	static double us[CLI_CYCLES];
	char after[SNAP_MAX];
	double end;
	int n = 0, r;

	if ((r = row->cli(row, saved, applied, row->script, sizeof(row->script))) < 0)
		return fail(row, "building the command line: %s", strerror(-r));
	end = now() + LOOP_SECONDS;
	for (; n < CLI_CYCLES && now() < end && !tb_cancelled; n++) {
		double t0 = now();

		if (run_sh(row->script, NULL, 0, 0) != 0)
			return fail(row, "the command line failed (cycle %d): %s", n + 1, row->script);
		us[n] = (now() - t0) * 1e6;
	}
	summarise(us, n, &row->cmd);
	if (snapshot(row, saved, after, sizeof(after)) < 0)
		return fail(row, "reading the target's state after the command line");
	row->cmd_exact = !strcmp(after, before);
	return 0;
}

static int bench_raw(struct row *row, const char *saved, const char *applied)
{
	static double us[PLUGIN_CYCLES];
	double end = now() + LOOP_SECONDS;
	int n = 0, r;

	for (; n < PLUGIN_CYCLES && now() < end && !tb_cancelled; n++) {
		double t0 = now();

		if ((r = each_saved(saved, raw_line, (void *)applied)) < 0 ||
		    (r = each_saved(saved, raw_line, NULL)) < 0)
			return fail(row, "bare writes (cycle %d): %s", n + 1, strerror(-r));
		us[n] = (now() - t0) * 1e6;
	}
	summarise(us, n, &row->raw);
	return 0;
}

static void bench_row(struct row *row, const char *plugin_dir)
{
	static char saved[TB_SAVED_MAX], before[SNAP_MAX], applied[SNAP_MAX];
	char path[4096];

	if (row->skip[0] || row->error[0])
		return;
	snprintf(path, sizeof(path), "%s/%s.so", plugin_dir, row->plugin);
	if (access(path, R_OK) < 0) {
		snprintf(row->skip, sizeof(row->skip), "%.900s not built", path);
		return;
	}
	fprintf(stderr, "bench: %s ...\n", row->label);
	if (bench_plugin(row, plugin_dir, saved, before, applied) == 0 && !tb_cancelled &&
	    bench_cli(row, saved, before, applied) == 0 && !tb_cancelled && !row->snapshot)
		bench_raw(row, saved, applied);
}

/* ---- targets ---------------------------------------------------------------- */

static const char *const controllers[3] = { "cpu", "cpuset", "blkio" };

/* A v1 cgroup per controller holding one sleeping process. */
static int make_cgroups(char *why, size_t size)
{
	char *argv[] = { "sleep", "600", NULL };
	char pid[32], value[256];

	if (posix_spawnp(&made.sleeper, "sleep", NULL, NULL, argv, environ) != 0) {
		snprintf(why, size, "cannot start sleep");
		made.sleeper = 0;
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d", (int)made.sleeper);
	for (int i = 0; i < 3; i++) {
		char parent[64], *dir = made.cgroup[i], file[sizeof(made.cgroup[i]) + 32];

		snprintf(parent, sizeof(parent), "/sys/fs/cgroup/%s", controllers[i]);
		snprintf(file, sizeof(file), "%s/cgroup.controllers", parent);
		if (access(file, F_OK) == 0 || access(parent, W_OK) < 0) {
			snprintf(why, size, "no cgroup v1 %s hierarchy at %s", controllers[i], parent);
			return -1;
		}
		snprintf(dir, sizeof(made.cgroup[i]), "%s/throttlebot-bench-%d", parent, (int)getpid());
		if (mkdir(dir, 0755) < 0) {
			snprintf(why, size, "mkdir %s: %s", dir, strerror(errno));
			dir[0] = '\0';
			return -1;
		}
		/* A v1 cpuset takes no process until it has CPUs and memory nodes. */
		for (int k = 0; i == 1 && k < 2; k++) {
			const char *f = k ? "cpuset.mems" : "cpuset.cpus";

			snprintf(file, sizeof(file), "%.63s/%s", parent, f);
			if (read_file(file, value, sizeof(value)) < 0)
				goto failed;
			snprintf(file, sizeof(file), "%.255s/%s", dir, f);
			if (write_file(file, value) < 0)
				goto failed;
		}
		snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
		if (write_file(file, pid) < 0)
			goto failed;
		continue;
failed:
		snprintf(why, size, "setting up %.300s: %s", file, strerror(errno));
		return -1;
	}
	return 0;
}

/* cpu_quota: start from a 1.5-CPU quota rather than the unlimited default. */
static int preset_quota(struct row *row, const char *saved)
{
	char file[512];

	(void)saved;
	snprintf(file, sizeof(file), "%s/cpu.cfs_quota_us", row->target.cgroup[TB_CG_CPU]);
	return write_file(file, "150000");
}

/* blkio: an operator's own 100 MiB/s limit on the disk the plugin resolved
 * (its saved line is "MAJ:MIN 0"). */
static int preset_blkio(struct row *row, const char *saved)
{
	const char *tab = strchr(saved, '\t');
	char file[4096], value[64];

	(void)row;
	if (!tab)
		return -EINVAL;
	snprintf(file, sizeof(file), "%.*s", (int)(tab - saved), saved);
	snprintf(value, sizeof(value), "%.*s 104857600", (int)strcspn(tab + 1, " \n"), tab + 1);
	return write_file(file, value);
}

/* ---- tc: a veth pair inside a namespace of the bench's own -------------- */

static int snapshot_tc(struct row *row, const char *saved, char *out, size_t size)
{
	(void)saved;
	return shf(out, size, "tc -n '%s' qdisc show dev %s; tc -n '%s' class show dev %s",
		   made.netns, row->target.ifname, made.netns, row->target.ifname) == 0 ? 0 : -EIO;
}

static int cli_tc(struct row *row, const char *saved, const char *applied, char *script,
		  size_t size)
{
	const char *ns = made.netns, *dev = row->target.ifname;

	(void)saved;
	(void)applied;
	snprintf(script, size, "set -e; tc -n %s qdisc add dev %s root handle 1: htb default 1; "
		 "tc -n %s class add dev %s parent 1: classid 1:1 htb rate 500mbit ceil 500mbit quantum 60000; "
		 "tc -n %s qdisc del dev %s root", ns, dev, ns, dev, ns, dev);
	return 0;
}

static int make_netns(struct row *row, char *why, size_t size)
{
	static char path[128];

	snprintf(made.netns, sizeof(made.netns), "throttlebot-bench-%d", (int)getpid());
	if (shf(NULL, 0, "ip netns add '%s'", made.netns) != 0) {
		snprintf(why, size, "ip netns add %s failed", made.netns);
		made.netns[0] = '\0';
		return -1;
	}
	if (shf(NULL, 0, "set -e; ip -n '%1$s' link add tbbench0 type veth peer name tbbench1; "
		"ip -n '%1$s' link set tbbench0 up; ip -n '%1$s' link set tbbench1 up",
		made.netns) != 0) {
		snprintf(why, size, "cannot create a veth pair in %s", made.netns);
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", made.netns);
	row->target.netns = path;
	row->target.ifname = "tbbench0";
	return 0;
}

/* ---- docker: a container of the bench's own, when a daemon answers ------ */

static int cli_docker(struct row *row, const char *saved, const char *applied, char *script,
		      size_t size)
{
	const char *tab = strchr(saved, '\t'), *at = strchr(applied, '\n');

	if (!tab || !at)
		return -EINVAL;
	snprintf(script, size, "set -e; docker update --cpu-quota %.*s %s; "
		 "docker update --cpu-quota %.*s %s", (int)strcspn(at + 1, "\n"), at + 1,
		 made.container, (int)strcspn(tab + 1, "\n"), tab + 1, made.container);
	(void)row;
	return 0;
}

static int make_container(struct row *row, char *why, size_t size)
{
	static char dir[512];
	char out[4096], *line, *save = NULL;

	if (shf(NULL, 0, "docker version --format '{{.Server.Version}}'") != 0) {
		snprintf(why, size, "no Docker daemon answers");
		return -1;
	}
	if (shf(NULL, 0, "docker image inspect '%s'", IMAGE) != 0) {
		if (shf(NULL, 0, "[ -x /bin/busybox ] && ! ldd /bin/busybox") != 0) {
			snprintf(why, size, "no static /bin/busybox to build an image from "
				 "(apt-get install busybox-static)");
			return -1;
		}
		made.image = 1;
		if (shf(NULL, 0, "set -e; d=$(mktemp -d /tmp/throttlebot-bench-rootfs.XXXXXX); "
			"trap 'rm -rf \"$d\"' EXIT; mkdir \"$d/bin\"; cp /bin/busybox \"$d/bin/\"; "
			"for a in sh sleep; do ln -s busybox \"$d/bin/$a\"; done; "
			"tar -C \"$d\" -c . | docker import - '%s'", IMAGE) != 0) {
			snprintf(why, size, "docker import of a busybox rootfs failed");
			return -1;
		}
	}
	snprintf(made.container, sizeof(made.container), "throttlebot-bench-%d", (int)getpid());
	if (shf(NULL, 0, "docker run -d --cpu-quota 150000 --name '%s' '%s' sleep 600", made.container, IMAGE) != 0 ||
	    shf(out, sizeof(out), "cat /proc/$(docker inspect -f '{{.State.Pid}}' '%s')/cgroup",
		made.container) != 0) {
		snprintf(why, size, "cannot run a container of %s", IMAGE);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c = strchr(line, ':'), *p = c ? strchr(c + 1, ':') : NULL;

		if (!p || strncmp(c + 1, "cpu", 3) || (c[4] != ':' && c[4] != ','))
			continue;
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/cpu%s", p + 1);
		row->target.cgroup[TB_CG_CPU] = dir;
		return 0;
	}
	snprintf(why, size, "the container has no v1 cpu cgroup");
	return -1;
}

/* ---- the table -------------------------------------------------------------- */

static void print_table(struct row *rows, int nrows)
{
	static const char rule[] = "------------------------------------------";
	char load[128] = "?";
	int misses = 0;

	/* Other work on the machine shows in the tails: say how busy it was. */
	if (read_file("/proc/loadavg", load, sizeof(load)) == 0)
		load[strcspn(load, " ")] = '\0';
	printf("\nsave + apply(0.5) + restore through the plugin (%d cycles) against the command line "
	       "for the same change (%d cycles), microseconds; %ld CPUs, load average %s\n\n",
	       PLUGIN_CYCLES, CLI_CYCLES, sysconf(_SC_NPROCESSORS_ONLN), load);
	printf("%-18s | %-21s | %-21s | %-8s | %-11s | %s\n", "throttler", "ThrottleBot med / p99",
	       "CLI route med / p99", "speed-up", "bare writes", "restored exactly / targets");
	printf("%.18s-+-%.21s-+-%.21s-+-%.8s-+-%.11s-+-%.28s\n", rule, rule, rule, rule, rule, rule);
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		char tb[64], cmd[64], speed[32], raw[32];
		int miss;

		if (r->skip[0] || (r->error[0] && r->tb.n == 0)) {
			printf("%-18s | %s: %s\n", r->label, r->skip[0] ? "skipped" : "FAILED",
			       r->skip[0] ? r->skip : r->error);
			continue;
		}
		snprintf(tb, sizeof(tb), "%8.1f / %8.1f", r->tb.median, r->tb.p99);
		snprintf(cmd, sizeof(cmd), "-");
		snprintf(speed, sizeof(speed), "-");
		snprintf(raw, sizeof(raw), "-");
		if (r->cmd.n) {
			snprintf(cmd, sizeof(cmd), "%8.1f / %8.1f", r->cmd.median, r->cmd.p99);
			snprintf(speed, sizeof(speed), "%7.0fx", r->cmd.median / r->tb.median);
		}
		if (r->raw.n)
			snprintf(raw, sizeof(raw), "%8.1f", r->raw.median);
		miss = r->tb.median >= TARGET_MEDIAN_US ||
		       (r->cmd.n && r->cmd.median / r->tb.median < TARGET_SPEEDUP);
		misses += miss;
		printf("%-18s | %-21s | %-21s | %-8s | %-11s | %s%s%s%s\n", r->label, tb, cmd, speed,
		       raw, r->exact ? "yes" : "NO", r->tb.n < PLUGIN_CYCLES ? " (cycles cut short)" : "",
		       miss ? " / MISSED" : " / met",
		       r->tb.median >= TARGET_MEDIAN_US ? " (median >= 1 ms)" :
		       miss ? " (< 50x)" : "");
		if (r->error[0])
			printf("%-18s |   FAILED: %s\n", "", r->error);
	}
	printf("\ntargets: median < %.0f us and at least %.0fx faster than the CLI route%s\n",
	       TARGET_MEDIAN_US, TARGET_SPEEDUP, misses ? "; rows marked MISSED do not meet them" : "");
	printf("restored exactly: after the %d cycles every file the throttler touches (tc: the "
	       "qdisc and class listing) is byte for byte as before the first cycle\n", PLUGIN_CYCLES);
	printf("bare writes: the CLI route's writes done in-process with nothing around them, "
	       "median of %d (the kernel's share)\n", PLUGIN_CYCLES);
	printf("\nThrottleBot's cycle by step, median / p99 (us):\n");
	printf("  %-18s %-19s %-19s %-19s\n", "", "save", "apply(0.5)", "restore");
	for (int i = 0; i < nrows; i++) {
		const struct stats *ph = rows[i].phase;

		if (rows[i].tb.n)
			printf("  %-18s %7.1f / %-9.1f %7.1f / %-9.1f %7.1f / %-9.1f\n", rows[i].label,
			       ph[0].median, ph[0].p99, ph[1].median, ph[1].p99, ph[2].median,
			       ph[2].p99);
	}
	printf("\nCLI routes (one \"sh -c\" per cycle, as an operator's script would):\n");
	for (int i = 0; i < nrows; i++)
		if (rows[i].script[0])
			printf("  %-18s %s%s\n", rows[i].label, rows[i].script,
			       rows[i].cmd.n && !rows[i].cmd_exact ?
			       "\n                     (it did not leave the state as before)" : "");
}

int main(int argc, char **argv)
{
	const char *plugin_dir = argc > 1 ? argv[1] : "plugins/throttlers/.libs";
	char why[1024];
	struct row rows[] = {
		{ .label = "cpu_quota", .plugin = "cpu_quota", .config = "",
		  .preset = preset_quota, .cli = cli_echo },
		{ .label = "cpuset", .plugin = "cpuset", .config = "", .cli = cli_echo },
		{ .label = "blkio", .plugin = "blkio",
		  .config = "direction = \"write\"; capacity = 2097152;",
		  .preset = preset_blkio, .cli = cli_echo },
		{ .label = "tc", .plugin = "tc", .config = "capacity = \"1gbit\";",
		  .snapshot = snapshot_tc, .cli = cli_tc },
		{ .label = "cpu_quota (docker)", .plugin = "cpu_quota", .config = "",
		  .cli = cli_docker },
	};
	const int nrows = (int)(sizeof(rows) / sizeof(rows[0]));
	struct sigaction sa;
	int failed = 0;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [PLUGIN_DIR]   (default plugins/throttlers/.libs)\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0 || access("/sys/fs/cgroup", W_OK) < 0) {
		printf("SKIP: bench_throttlers needs root (it creates cgroups, a network namespace "
		       "and a container)\n");
		return 77;
	}
	if (access(plugin_dir, F_OK) < 0 && access(PLUGINDIR, F_OK) == 0)
		plugin_dir = PLUGINDIR;
	/* Plugins log each apply at INFO: the bench times them, not the terminal. */
	tb_verbosity = TB_LOG_WARNING;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;      /* no SA_RESTART: waits end early */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	atexit(cleanup);

	if (make_cgroups(why, sizeof(why)) < 0) {
		for (int i = 0; i < 3; i++)
			snprintf(rows[i].skip, sizeof(rows[i].skip), "%s", why);
	} else {
		for (int i = 0; i < 3; i++) {
			rows[i].target.id = "bench";
			rows[i].target.pid = made.sleeper;
		}
		rows[0].target.cgroup[TB_CG_CPU] = made.cgroup[0];
		rows[1].target.cgroup[TB_CG_CPUSET] = made.cgroup[1];
		rows[2].target.cgroup[TB_CG_IO] = made.cgroup[2];
	}
	for (int i = 0; i < 3 && !tb_cancelled; i++)
		bench_row(&rows[i], plugin_dir);

	rows[3].target.id = "bench veth";
	snprintf(why, sizeof(why), "%s/tc.so", plugin_dir);
	if (access(why, R_OK) < 0)
		snprintf(rows[3].skip, sizeof(rows[3].skip), "no tc plugin built (%.900s)", why);
	else if (!tb_cancelled && make_netns(&rows[3], why, sizeof(why)) < 0)
		snprintf(rows[3].error, sizeof(rows[3].error), "%s", why);
	if (!tb_cancelled)
		bench_row(&rows[3], plugin_dir);

	rows[4].target.id = "bench container";
	if (!tb_cancelled && make_container(&rows[4], why, sizeof(why)) < 0)
		snprintf(rows[4].skip, sizeof(rows[4].skip), "%s", why);
	if (!tb_cancelled)
		bench_row(&rows[4], plugin_dir);

	if (tb_cancelled) {
		fprintf(stderr, "bench: interrupted; cleaning up\n");
		cleanup();
		return 130;
	}
	print_table(rows, nrows);
	for (int i = 0; i < nrows; i++)
		failed |= rows[i].error[0] || (rows[i].tb.n && !rows[i].exact);
	cleanup();
	return failed;
}
