/* check_cpu_quota.c - a spinning process really gets the quota, and restore puts back the exact previous value. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
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

/* The kernel may still count a reaped task for a moment: retry, bounded. */
static void remove_cgroup(void)
{
	char procs[300];
	FILE *f;
	int pid;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	f = fopen(procs, "r");
	while (f && fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	if (f)
		fclose(f);
	for (int i = 0; i < 50 && rmdir(cg) < 0 && errno == EBUSY; i++)
		usleep(20000);
}

static void setup_real(void)
{
	char pidtext[32];

	if (!tb_test_is_root())
		return;
	ck_assert(mkdir(cg, 0755) == 0 || errno == EEXIST);
	/* A high weight (16 times the default): other cgroups busy on this host
	 * then cannot hold the spinner below the quota being measured. */
	ck_assert_int_eq(tb_cg_write(cg, "cpu.shares", "16384"), 0);
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
	remove_cgroup();
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
	/* Other load on the host can only lower the share: measure again (at
	 * most 3 times) before calling a low reading a failure. */
	for (int i = 0; i < 3; i++) {
		used = usage_over(spinner, 2.0);
		if (used > expected_cores * 0.9)
			break;
	}
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

/*
 * allocate() sets an absolute quota: allocation() reads it back, the spinner
 * gets more CPU once it is raised, and restore puts back the operator's
 * quota exactly.  Beyond the host's cores is -ERANGE; no quota is -ENODATA.
 */
START_TEST(allocate_raises_what_the_process_gets)
{
	struct tb_target target = { .id = "spinner", .cgroup = { [TB_CG_CPU] = cg } };
	char saved[TB_SAVED_MAX] = "", value[64];
	double amount, low, high = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (!tb_test_is_root())
		return;
	ck_assert_int_eq(tb_cg_write(cg, "cpu.cfs_quota_us", "-1"), 0);
	ck_assert_int_eq(throttlebot_plugin.allocation(st, &target, &amount), -ENODATA);
	ck_assert_int_eq(tb_cg_write(cg, "cpu.cfs_quota_us", "20000"), 0);
	ck_assert_int_eq(throttlebot_plugin.allocation(st, &target, &amount), 0);
	ck_assert_double_eq_tol(amount, 0.2, 1e-9);
	usleep(200000);
	low = usage_over(spinner, 1.0);
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.allocate(st, &target, saved, 0.6), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "60000");
	ck_assert_int_eq(throttlebot_plugin.allocation(st, &target, &amount), 0);
	ck_assert_double_eq_tol(amount, 0.6, 1e-9);
	usleep(200000);
	/* Other load on the host can only lower the reading (at most 3 tries);
	 * above 0.3 is beyond what the old quota allowed. */
	for (int i = 0; i < 3 && high < 0.45; i++)
		high = usage_over(spinner, 1.0);
	fprintf(stderr, "cpu_quota: spinner used %.3f cores at a quota of 0.2, %.3f at 0.6\n", low, high);
	ck_assert_msg(low < 0.25 && high > 0.3 && high < 0.66, "CPU use %.3f cores at 0.2, %.3f at 0.6", low, high);
	/* Beyond the host's cores, or below the kernel's minimum quota. */
	ck_assert_int_eq(throttlebot_plugin.allocate(st, &target, saved, (double)cores + 0.5),
			 -ERANGE);
	ck_assert_int_eq(throttlebot_plugin.allocate(st, &target, saved, 0.001), -ERANGE);
	ck_assert_int_eq(throttlebot_plugin.allocate(st, &target, saved, 0), -EINVAL);
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "20000");
}
END_TEST

/* prioritize() raises cpu.shares from the saved value; restore puts it back. */
START_TEST(prioritize_raises_shares_and_restore_puts_them_back)
{
	struct tb_target target = { .id = "spinner", .cgroup = { [TB_CG_CPU] = cg } };
	char saved[TB_SAVED_MAX] = "", value[64], how[64];

	if (!tb_test_is_root())
		return;
	ck_assert_int_eq(tb_cg_write(cg, "cpu.shares", "700"), 0);
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	for (int i = 0; i < 2; i++) {      /* from the saved value: no compounding */
		ck_assert_int_eq(throttlebot_plugin.prioritize(st, &target, saved, 4, how, sizeof(how)), 0);
		ck_assert_str_eq(how, "cpu.shares 700 -> 2800");
		ck_assert_int_eq(tb_cg_read(cg, "cpu.shares", value, sizeof(value)), 0);
		ck_assert_str_eq(value, "2800");
	}
	ck_assert_int_eq(throttlebot_plugin.prioritize(st, &target, saved, 1, how, sizeof(how)), -EINVAL);
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.shares", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "700");
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.shares", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "700");
	/* Held to the kernel's highest; at the highest there is nothing to raise. */
	ck_assert_int_eq(tb_cg_write(cg, "cpu.shares", "200000"), 0);
	saved[0] = '\0';
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.prioritize(st, &target, saved, 10, how, sizeof(how)), 0);
	ck_assert_str_eq(how, "cpu.shares 200000 -> 262144");
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_write(cg, "cpu.shares", "262144"), 0);
	saved[0] = '\0';
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.prioritize(st, &target, saved, 2, how, sizeof(how)), -ERANGE);
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.shares", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "262144");
}
END_TEST

/* The same ops on a cgroupfs-shaped v2 tree (this host's v2 mount has no
 * controllers): cpu.max keeps its period, cpu.weight is held to 10000. */
START_TEST(v2_tree_allocations)
{
	struct tb_target target = { .id = "v2", .cgroup = { [TB_CG_CPU] = tree, [TB_CG_CPUSET] = tree } };
	char saved[TB_SAVED_MAX] = "", value[64], how[64], hostile[TB_SAVED_MAX];
	double amount;

	strcpy(tree, "/tmp/throttlebot-cgv2-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	ck_assert_int_eq(tb_test_sh("printf 'cpuset cpu io memory pids\\n' > %s/cgroup.controllers", tree), 0);
	ck_assert_int_eq(tb_test_sh("cd %s && printf 'max 50000\\n' > cpu.max && printf '100\\n' > "
				    "cpu.weight && printf '0-1\\n' > cpuset.cpus.effective", tree), 0);
	open_plugin();
	ck_assert_int_eq(throttlebot_plugin.allocation(st, &target, &amount), -ENODATA);
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.allocate(st, &target, saved, 1.5), 0);
	ck_assert_int_eq(tb_cg_read(tree, "cpu.max", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "75000 50000");
	ck_assert_int_eq(throttlebot_plugin.allocation(st, &target, &amount), 0);
	ck_assert_double_eq_tol(amount, 1.5, 1e-9);
	ck_assert_int_eq(throttlebot_plugin.allocate(st, &target, saved, 2.5), -ERANGE);
	ck_assert_int_eq(throttlebot_plugin.prioritize(st, &target, saved, 10, how, sizeof(how)), 0);
	ck_assert_str_eq(how, "cpu.weight 100 -> 1000");
	ck_assert_int_eq(tb_cg_read(tree, "cpu.weight", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "1000");
	ck_assert_int_eq(throttlebot_plugin.prioritize(st, &target, saved, 500, how, sizeof(how)), 0);
	ck_assert_str_eq(how, "cpu.weight 100 -> 10000");
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(tree, "cpu.max", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "max 50000");
	ck_assert_int_eq(tb_cg_read(tree, "cpu.weight", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "100");
	/* A weight line that is not a number is refused, and nothing is written. */
	snprintf(hostile, sizeof(hostile), "%s/cpu.weight\t100 -5\n", tree);
	ck_assert_int_eq(throttlebot_plugin.restore(st, hostile), -EINVAL);
	ck_assert_int_eq(tb_cg_read(tree, "cpu.weight", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "100");
	throttlebot_plugin.fini(st);
	st = NULL;
	tb_test_plugin_close(&t);
	tb_test_sh("rm -rf '%s'", tree);
}
END_TEST

/* Descriptors this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

/*
 * The instance keeps the cgroup's files open: applies from one saved state do
 * not compound, a cgroup removed and made again under the same path is still
 * throttled and restored exactly, and fini closes what init opened.
 */
START_TEST(recreated_cgroup)
{
	struct tb_target target = { .id = "again", .cgroup = { [TB_CG_CPU] = cg } };
	char saved[TB_SAVED_MAX] = "", value[64];
	int fds;

	if (!tb_test_is_root())
		return;
	fds = open_fds();
	ck_assert(mkdir(cg, 0755) == 0 || errno == EEXIST);
	ck_assert_int_eq(tb_cg_write(cg, "cpu.cfs_quota_us", "150000"), 0);
	open_plugin();
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(throttlebot_plugin.apply(st, &target, saved, 0.5), 0);
		ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
		ck_assert_str_eq(value, "75000");
	}
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "150000");
	ck_assert_int_eq(rmdir(cg), 0);
	ck_assert_int_eq(mkdir(cg, 0755), 0);
	ck_assert_int_eq(tb_cg_write(cg, "cpu.cfs_period_us", "50000"), 0);
	ck_assert_int_eq(tb_cg_write(cg, "cpu.cfs_quota_us", "40000"), 0);
	saved[0] = '\0';
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.apply(st, &target, saved, 0.25), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "30000");
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "40000");
	/* Unlimited: the period of the new cgroup, the host's CPUs. */
	ck_assert_int_eq(tb_cg_write(cg, "cpu.cfs_quota_us", "-1"), 0);
	saved[0] = '\0';
	ck_assert_int_eq(throttlebot_plugin.save(st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.apply(st, &target, saved, 0.5), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
	ck_assert_int_eq(atoll(value), 25000LL * sysconf(_SC_NPROCESSORS_ONLN));
	ck_assert_int_eq(throttlebot_plugin.restore(st, saved), 0);
	ck_assert_int_eq(tb_cg_read(cg, "cpu.cfs_quota_us", value, sizeof(value)), 0);
	ck_assert_str_eq(value, "-1");
	throttlebot_plugin.fini(st);
	st = NULL;
	tb_test_plugin_close(&t);
	ck_assert_int_eq(open_fds(), fds);
	remove_cgroup();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpu_quota");
	TCase *real = tcase_create("real cgroup v1"), *v2 = tcase_create("v2 tree");
	TCase *again = tcase_create("real cgroup v1, recreated");
	SRunner *sr;
	int failed;

	if (!tb_test_is_root())
		fprintf(stderr, "not root: the real-cgroup cases are skipped\n");
	/* Named in the parent, so the parent can remove it whatever a test did. */
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/cpu/throttlebot-test-%d", (int)getpid());
	tcase_add_checked_fixture(real, setup_real, teardown_real);
	tcase_set_timeout(real, 30);
	tcase_add_test(real, unlimited_process_gets_its_share_of_the_cores);
	tcase_add_test(real, limited_process_gets_a_share_of_its_quota);
	tcase_add_test(real, allocate_raises_what_the_process_gets);
	tcase_add_test(real, prioritize_raises_shares_and_restore_puts_them_back);
	tcase_add_test(v2, v2_tree_formats);
	tcase_add_test(v2, v2_tree_allocations);
	tcase_add_test(again, recreated_cgroup);
	suite_add_tcase(s, real);
	suite_add_tcase(s, v2);
	suite_add_tcase(s, again);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (tb_test_is_root())
		remove_cgroup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
