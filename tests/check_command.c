/* check_command.c - the command metric against real processes: wall time, exit status, pattern, timeout, cancel. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "testhost.h"

extern const struct tb_metric throttlebot_plugin;

/* All tests work under base, made and removed by the parent process so that
 * a failed test (its child exits early) leaves nothing behind. */
static char base[] = "/tmp/throttlebot-command-XXXXXX";
static char workdir[64];
static struct tb_test_plugin t;
static void *st;

static void make_base(void)
{
	if (!mkdtemp(base)) {
		perror(base);
		exit(1);
	}
}

static void remove_base(void)
{
	tb_test_sh("rm -rf '%s'", base);
}

static void setup(void)
{
	static int n;

	snprintf(workdir, sizeof(workdir), "%s/%d-%d", base, (int)getpid(), ++n);
	ck_assert_int_eq(mkdir(workdir, 0755), 0);
	st = NULL;
	tb_cancelled = 0;
}

static void teardown(void)
{
	if (st)
		throttlebot_plugin.fini(st);
	st = NULL;
	tb_test_plugin_close(&t);
	tb_test_sh("rm -rf '%s'", workdir);
	tb_cancelled = 0;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Open the plugin with config, init it, and run one trial. */
static int run(const char *config, double *values, struct tb_trial *trial)
{
	ck_assert_int_eq(tb_test_plugin_open(&t, &throttlebot_plugin, config), 0);
	ck_assert_int_eq(throttlebot_plugin.init(&t.in.host, tb_test_plugin_config(&t), &st), 0);
	memset(trial, 0, sizeof(*trial));
	trial->index = 1;
	trial->workdir = workdir;
	return throttlebot_plugin.measure(st, trial, values);
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(wall_time_of_sleep)
{
	struct tb_trial trial;
	double v[2], before = mono(), after, now = (double)time(NULL);

	ck_assert_int_eq(run("command = [\"sleep\", \"0.3\"];", v, &trial), 0);
	after = mono();
	ck_assert_uint_eq(throttlebot_plugin.count(st), 1);
	ck_assert_str_eq(throttlebot_plugin.describe(st, 0)->name, "jct");
	ck_assert_str_eq(throttlebot_plugin.describe(st, 0)->unit, "s");
	/* Measured from outside too: the value lies within what this process saw. */
	ck_assert_double_ge(v[0], 0.3);
	ck_assert_double_le(v[0], after - before);
	ck_assert_double_lt(v[0], 1.0);   /* fork and exec on a loaded machine */
	ck_assert_double_ge(trial.start, before);
	ck_assert_double_le(trial.end, after);
	ck_assert_double_eq_tol(trial.end - trial.start, v[0], 1e-9);
	ck_assert_double_eq_tol(trial.wall_start, now, 2.0);
}
END_TEST

START_TEST(output_goes_to_trial_file)
{
	struct tb_trial trial;
	char path[4096], expect[4200];
	double v[2];

	ck_assert_int_eq(run("command = [\"sh\", \"-c\", \"echo out-$FOO; echo err >&2; pwd\"];"
			     "env = [\"FOO=bar\"]; cwd = \"/usr\";", v, &trial), 0);
	snprintf(path, sizeof(path), "%s/trial-1.out", workdir);
	snprintf(expect, sizeof(expect), "out-bar\nerr\n/usr\n");
	ck_assert_str_eq(slurp(path), expect);
}
END_TEST

/* A root run must not write through what someone left at the trial's file name. */
START_TEST(output_file_never_followed)
{
	struct tb_trial trial;
	char victim[4096], at[4096];
	double v[2];

	snprintf(victim, sizeof(victim), "%s/victim-%d", base, (int)getpid());
	snprintf(at, sizeof(at), "%s/trial-1.out", workdir);
	ck_assert_int_eq(tb_test_sh("echo precious > '%s'", victim), 0);
	ck_assert_int_eq(symlink(victim, at), 0);
	ck_assert_int_eq(run("command = [\"echo\", \"overwritten\"];", v, &trial), -ELOOP);
	ck_assert_str_eq(slurp(victim), "precious\n");
	/* A hard link: the same file under another name. */
	ck_assert_int_eq(unlink(at), 0);
	ck_assert_int_eq(link(victim, at), 0);
	ck_assert_int_eq(throttlebot_plugin.measure(st, &trial, v), -EPERM);
	ck_assert_str_eq(slurp(victim), "precious\n");
	/* What an earlier run left there, its own, is emptied. */
	ck_assert_int_eq(unlink(at), 0);
	ck_assert_int_eq(tb_test_sh("echo earlier run > '%s'", at), 0);
	ck_assert_int_eq(throttlebot_plugin.measure(st, &trial, v), 0);
	ck_assert_str_eq(slurp(at), "overwritten\n");
}
END_TEST

START_TEST(nonzero_exit_fails)
{
	struct tb_trial trial;
	double v[2];

	ck_assert_int_lt(run("command = [\"sh\", \"-c\", \"echo boom; exit 3\"];", v, &trial), 0);
}
END_TEST

START_TEST(missing_program_fails)
{
	/* Found at configuration time, not when the first trial runs. */
	ck_assert_int_eq(tb_test_plugin_open(&t, &throttlebot_plugin,
					     "command = [\"/nonexistent/throttlebot-nothing\"];"), 0);
	ck_assert_int_eq(throttlebot_plugin.init(&t.in.host, tb_test_plugin_config(&t), &st), -EINVAL);
	ck_assert_ptr_null(st);
}
END_TEST

START_TEST(program_gone_before_the_trial_fails)
{
	struct tb_trial trial;
	char prog[128], config[256];
	double v[2], before;
	FILE *f;

	/* Found at init, removed before the trial: execvp's error is reported. */
	snprintf(prog, sizeof(prog), "%s/workload", workdir);
	f = fopen(prog, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(prog, 0755), 0);
	snprintf(config, sizeof(config), "command = [\"%s\"];", prog);
	ck_assert_int_eq(tb_test_plugin_open(&t, &throttlebot_plugin, config), 0);
	ck_assert_int_eq(throttlebot_plugin.init(&t.in.host, tb_test_plugin_config(&t), &st), 0);
	ck_assert_int_eq(unlink(prog), 0);
	memset(&trial, 0, sizeof(trial));
	trial.index = 1;
	trial.workdir = workdir;
	before = mono();
	ck_assert_int_eq(throttlebot_plugin.measure(st, &trial, v), -ENOENT);
	ck_assert_double_lt(mono() - before, 1.0);
}
END_TEST

START_TEST(pattern_takes_last_match_and_converts)
{
	struct tb_trial trial;
	double v[2];

	ck_assert_int_eq(run("command = [\"sh\", \"-c\", "
			     "\"echo 'Latency 5.00ms'; echo '  Latency   1.2s  x Latency 850us'; echo done\"];"
			     "pattern = \"Latency +([0-9.]+[a-z]*)\"; pattern_name = \"lat\";"
			     "pattern_unit = \"ms\";", v, &trial), 0);
	ck_assert_uint_eq(throttlebot_plugin.count(st), 2);
	ck_assert_str_eq(throttlebot_plugin.describe(st, 1)->name, "lat");
	ck_assert_str_eq(throttlebot_plugin.describe(st, 1)->unit, "ms");
	ck_assert_int_eq(throttlebot_plugin.describe(st, 1)->direction, TB_LOWER_IS_BETTER);
	ck_assert_double_eq_tol(v[1], 0.85, 1e-9);
}
END_TEST

START_TEST(pattern_suffix_after_capture)
{
	struct tb_trial trial;
	double v[2];

	ck_assert_int_eq(run("command = [\"sh\", \"-c\", \"echo 'Requests/sec: 1234.5'; echo 'took 1.5s'\"];"
			     "pattern = \"took ([0-9.]+)\"; pattern_unit = \"ms\";"
			     "pattern_direction = \"higher\";", v, &trial), 0);
	ck_assert_double_eq_tol(v[1], 1500, 1e-9);
	ck_assert_int_eq(throttlebot_plugin.describe(st, 1)->direction, TB_HIGHER_IS_BETTER);
}
END_TEST

START_TEST(pattern_without_unit)
{
	struct tb_trial trial;
	double v[2];

	ck_assert_int_eq(run("command = [\"sh\", \"-c\", \"echo 'Requests/sec:  4321.25'\"];"
			     "pattern = \"Requests/sec: *([0-9.]+)\"; pattern_name = \"rps\";",
			     v, &trial), 0);
	ck_assert_double_eq_tol(v[1], 4321.25, 1e-9);
}
END_TEST

START_TEST(pattern_missing_fails)
{
	struct tb_trial trial;
	double v[2];

	ck_assert_int_eq(run("command = [\"echo\", \"nothing here\"];"
			     "pattern = \"Latency ([0-9.]+)\";", v, &trial), -ENOENT);
}
END_TEST

START_TEST(unconvertible_unit_fails)
{
	struct tb_trial trial;
	double v[2];

	ck_assert_int_lt(run("command = [\"echo\", \"size 12KB\"];"
			     "pattern = \"size ([0-9.]+[A-Za-z]*)\"; pattern_unit = \"ms\";", v, &trial), 0);
}
END_TEST

/* Processes of group pgid that are not zombies, from /proc (zombies await
 * their reaper, which is not ours once the shell is gone). */
static int live_in_group(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		char path[300], buf[1024], *p, state;
		int grp;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* after "(comm)": state ppid pgrp */
		if (p && sscanf(p + 1, " %c %*d %d", &state, &grp) == 2 && grp == pgid && state != 'Z')
			n++;
	}
	closedir(d);
	return n;
}

/* The group must be gone: the leader and a background child alike. */
static void assert_group_gone(const char *pidfile)
{
	char *s = slurp(pidfile);
	pid_t pgid;
	int tries = 0;

	ck_assert_ptr_nonnull(s);
	pgid = (pid_t)atoi(s);
	ck_assert_int_gt(pgid, 1);
	while (live_in_group(pgid) > 0 && tries++ < 50)
		usleep(20000);
	ck_assert_int_eq(live_in_group(pgid), 0);
}

START_TEST(timeout_kills_group)
{
	struct tb_trial trial;
	char config[512], pidfile[128];
	double v[2], before = mono();

	snprintf(pidfile, sizeof(pidfile), "%s/pid", workdir);
	snprintf(config, sizeof(config),
		 "command = [\"sh\", \"-c\", \"echo $$ > %s; sleep 30 & sleep 30; wait\"];"
		 "timeout = 0.5;", pidfile);
	ck_assert_int_eq(run(config, v, &trial), -ETIMEDOUT);
	ck_assert_double_lt(mono() - before, 4.0);
	ck_assert_double_ge(mono() - before, 0.5);
	assert_group_gone(pidfile);
}
END_TEST

START_TEST(leftovers_stopped_after_exit)
{
	struct tb_trial trial;
	char config[512], pidfile[128];
	double v[2];

	/* The shell exits at once, leaving a background sleep in its group. */
	snprintf(pidfile, sizeof(pidfile), "%s/pid", workdir);
	snprintf(config, sizeof(config),
		 "command = [\"sh\", \"-c\", \"echo $$ > %s; sleep 30 &\"];", pidfile);
	ck_assert_int_eq(run(config, v, &trial), 0);
	ck_assert_double_lt(v[0], 1.0);
	assert_group_gone(pidfile);
}
END_TEST

static void *cancel_soon(void *arg)
{
	usleep(300000);
	tb_cancelled = 1;
	return arg;
}

START_TEST(cancel_kills_group)
{
	struct tb_trial trial;
	char config[512], pidfile[128];
	double v[2], before = mono();
	pthread_t th;

	snprintf(pidfile, sizeof(pidfile), "%s/pid", workdir);
	snprintf(config, sizeof(config),
		 "command = [\"sh\", \"-c\", \"echo $$ > %s; sleep 30 & sleep 30; wait\"];", pidfile);
	ck_assert_int_eq(pthread_create(&th, NULL, cancel_soon, NULL), 0);
	ck_assert_int_eq(run(config, v, &trial), -EINTR);
	pthread_join(th, NULL);
	ck_assert_double_lt(mono() - before, 4.0);
	assert_group_gone(pidfile);
}
END_TEST

START_TEST(restore_only_init)
{
	ck_assert_int_eq(tb_test_plugin_open(&t, &throttlebot_plugin, NULL), 0);
	ck_assert_int_eq(throttlebot_plugin.init(&t.in.host, NULL, &st), 0);
}
END_TEST

static int init_fails(const char *config)
{
	return tb_test_init(&throttlebot_plugin, config) < 0;
}

START_TEST(bad_settings_rejected)
{
	ck_assert(init_fails("command = [\"true\"]; pattern = \"(unclosed\";"));
	ck_assert(init_fails("command = [\"true\"]; pattern = \"no group\";"));
	ck_assert(init_fails("command = [\"true\"]; pattern = \"(x)\"; pattern_direction = \"up\";"));
	ck_assert(init_fails("command = [\"true\"]; env = [\"NOEQUALS\"];"));
	ck_assert(init_fails("command = [\"true\"]; timeout = 0;"));
	ck_assert(init_fails("command = [];"));
	ck_assert(init_fails("timeout = 5;"));
	ck_assert(init_fails("command = [\"true\"]; bogus = 1;"));
	ck_assert(init_fails("command = [\"/nonexistent/throttlebot-workload\"];"));
	ck_assert(init_fails("command = [\"throttlebot-no-such-program\"];"));
	ck_assert(init_fails("command = [\"./true\"]; cwd = \"/usr\";"));
	/* The controls: found in PATH, and relative to cwd. */
	ck_assert(!init_fails("command = [\"true\"];"));
	ck_assert(!init_fails("command = [\"./true\"]; cwd = \"/bin\";"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("command");
	SRunner *sr;
	int failed;

	make_base();
	tcase_add_unchecked_fixture(tc, NULL, remove_base);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, wall_time_of_sleep);
	tcase_add_test(tc, output_goes_to_trial_file);
	tcase_add_test(tc, output_file_never_followed);
	tcase_add_test(tc, nonzero_exit_fails);
	tcase_add_test(tc, missing_program_fails);
	tcase_add_test(tc, program_gone_before_the_trial_fails);
	tcase_add_test(tc, pattern_takes_last_match_and_converts);
	tcase_add_test(tc, pattern_suffix_after_capture);
	tcase_add_test(tc, pattern_without_unit);
	tcase_add_test(tc, pattern_missing_fails);
	tcase_add_test(tc, unconvertible_unit_fails);
	tcase_add_test(tc, timeout_kills_group);
	tcase_add_test(tc, cancel_kills_group);
	tcase_add_test(tc, leftovers_stopped_after_exit);
	tcase_add_test(tc, restore_only_init);
	tcase_add_test(tc, bad_settings_rejected);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
