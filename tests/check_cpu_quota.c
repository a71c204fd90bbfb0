/* check_cpu_quota.c - a spinning process really gets the quota, and restore puts back the exact previous value. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "testhost.h"

extern const struct tb_throttler throttlebot_plugin;

static char cg[256], tree[] = "/tmp/throttlebot-cgv2-XXXXXX";
static pid_t spinner;
static struct tb_test_plugin t;
static void *st;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds the process has used, from outside (/proc/PID/stat). */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime, stime;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	p = strrchr(buf, ')');
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&utime, &stime), 2);
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double usage_over(pid_t pid, double seconds)
{
	double c0 = cpu_seconds(pid), t0 = now();

	usleep((useconds_t)(seconds * 1e6));
	return (cpu_seconds(pid) - c0) / (now() - t0);
}

static void open_plugin(void)
{
	ck_assert_int_eq(tb_test_plugin_open(&t, &throttlebot_plugin, NULL), 0);
	ck_assert_int_eq(throttlebot_plugin.init(&t.in.host, NULL, &st), 0);
}

static void setup_real(void)
{
	char pidtext[32];

	if (!tb_test_is_root())
		return;
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/cpu/throttlebot-test-%d", (int)getpid());
	ck_assert_int_eq(mkdir(cg, 0755), 0);
	spinner = fork();
	ck_assert_int_ge(spinner, 0);
	if (spinner == 0) {
		double end = now() + 30;            /* bounded, in case the test dies */

		while (now() < end)
			;
		_exit(0);
	}
	snprintf(pidtext, sizeof(pidtext), "%d", (int)spinner);
	ck_assert_int_eq(tb_cg_write(cg, "cgroup.procs", pidtext), 0);
	open_plugin();
}

static void teardown_real(void)
{
	if (spinner > 0) {
		kill(spinner, SIGKILL);
		waitpid(spinner, NULL, 0);
		spinner = 0;
	}
	if (st)
		throttlebot_plugin.fini(st);
	st = NULL;
	tb_test_plugin_close(&t);
	if (*cg)
		rmdir(cg);
	cg[0] = '\0';
}

static void check_quota_holds(const char *initial_quota, double stress, double expected_cores)
{
	struct tb_target target = { .id = "spinner", .cgroup = { [TB_CG_CPU] = cg } };
	char saved[TB_SAVED_MAX] = "", before[64], after[64];
	double capacity, used;

	ck_assert_int_eq(tb_cg_write(cg, "cpu.cfs_quota_us", initial_quota), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", before, sizeof(before)), 0);
	ck_assert_int_eq(throttlebot_plugin.probe(st, &target, &capacity), 0);
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.apply(st, &target, saved, stress), 0);
	usleep(300000);                               /* let a few periods pass */
	used = usage_over(spinner, 2.0);
	ck_assert_msg(used > expected_cores * 0.9 && used < expected_cores * 1.1,
		      "CPU use %.3f cores, expected %.3f +-10%%", used, expected_cores);
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", after, sizeof(after)), 0);
	ck_assert_str_eq(after, before);
	/* Restore is idempotent. */
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", after, sizeof(after)), 0);
	ck_assert_str_eq(after, before);
}

START_TEST(unlimited_process_gets_its_share_of_the_cores)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (!tb_test_is_root())
		return;
	/* Unlimited: stress k leaves (1 - k) of all cores; 0.75 of 2 cores = 0.5 core. */
	check_quota_holds("-1", 1 - 0.5 / (double)cores, 0.5);
}
END_TEST

START_TEST(limited_process_gets_a_share_of_its_quota)
{
	if (!tb_test_is_root())
		return;
	/* An operator's quota of 0.8 core, stress 0.5: 0.4 core. */
	check_quota_holds("80000", 0.5, 0.4);
}
END_TEST

START_TEST(v2_tree_formats)
{
	char cpu_max[256], saved[TB_SAVED_MAX] = "", value[64];
	struct tb_target target = { .id = "v2", .cgroup = { [TB_CG_CPU] = tree } };
	double capacity;
	FILE *f;

	strcpy(tree, "/tmp/throttlebot-cgv2-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	ck_assert_int_eq(tb_test_sh("printf 'cpuset cpu io memory pids\\n' > %s/cgroup.controllers", tree), 0);
	snprintf(cpu_max, sizeof(cpu_max), "%s/cpu.max", tree);
	f = fopen(cpu_max, "w");
	fputs("max 100000\n", f);
	fclose(f);
	ck_assert_int_eq(tb_test_sh("printf '0-1\\n' > %s/cpuset.cpus.effective", tree), 0);
	target.cgroup[TB_CG_CPUSET] = tree;
	open_plugin();
	ck_assert_int_eq(throttlebot_plugin.probe(st, &target, &capacity), 0);
	ck_assert_double_eq_tol(capacity, 2.0, 1e-9);
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.apply(st, &target, saved, 0.75), 0);
	ck_assert_int_eq(tb_cg_read(tree, "cpu.max", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "50000 100000");
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(tree, "cpu.max", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "max 100000");
	/* A limit the operator set: 1.5 cores at stress 0.2 -> 1.2 cores. */
	ck_assert_int_eq(tb_cg_write(tree, "cpu.max", "150000 100000"), 0);
	saved[0] = '\0';
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.apply(st, &target, saved, 0.2), 0);
	ck_assert_int_eq(tb_cg_read(tree, "cpu.max", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "120000 100000");
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(tree, "cpu.max", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "150000 100000");
	throttlebot_plugin.fini(st);
	st = NULL;
	tb_test_plugin_close(&t);
	tb_test_sh("rm -rf '%s'", tree);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpu_quota");
	TCase *real = tcase_create("real cgroup v1"), *v2 = tcase_create("v2 tree");
	SRunner *sr;
	int failed;

	if (!tb_test_is_root())
		fprintf(stderr, "not root: the real-cgroup cases are skipped\n");
	tcase_add_checked_fixture(real, setup_real, teardown_real);
	tcase_set_timeout(real, 30);
	tcase_add_test(real, unlimited_process_gets_its_share_of_the_cores);
	tcase_add_test(real, limited_process_gets_a_share_of_its_quota);
	tcase_add_test(v2, v2_tree_formats);
	suite_add_tcase(s, real);
	suite_add_tcase(s, v2);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
