/* check_jmeter.c - the jmeter metric with a stand-in load generator (sh writing a known JTL): values, files, errors. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testhost.h"

#ifndef TB_FIXTURES
#define TB_FIXTURES "tests/fixtures"
#endif

/*
 * JMeter itself runs in tests/jmeter-real.sh; here "sh -c cp" stands in for
 * it so that each value can be checked against a file of known figures.
 */
extern const struct tb_metric throttlebot_plugin;

static char base[] = "/tmp/throttlebot-jmeter-XXXXXX";
static char workdir[96];
static struct tb_test_plugin t;
static void *st;

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
}

static void teardown(void)
{
	if (st)
		throttlebot_plugin.fini(st);
	st = NULL;
	tb_test_plugin_close(&t);
	tb_test_sh("rm -rf '%s'", workdir);
}

static int run(const char *config, double *values, unsigned index)
{
	struct tb_trial trial = { .index = index, .workdir = workdir };

	ck_assert_int_eq(tb_test_plugin_open(&t, &throttlebot_plugin, config), 0);
	ck_assert_int_eq(throttlebot_plugin.init(&t.in.host, tb_test_plugin_config(&t), &st), 0);
	return throttlebot_plugin.measure(st, &trial, values);
}

START_TEST(all_values_from_the_trial_file)
{
	static const char *const names[] = { "mean", "median", "p90", "p95", "p99", "throughput",
					     "error_rate" };
	const double want[] = { 30, 30, 50, 50, 50, 5 / 0.45, 0.4 };
	char config[1024], path[256];
	double v[7];

	snprintf(config, sizeof(config), "command = [\"sh\", \"-c\", \"cp %s/quoted.csv $0\", \"@JTL@\"];",
		 TB_FIXTURES);
	ck_assert_int_eq(run(config, v, 4), 0);
	ck_assert_uint_eq(throttlebot_plugin.count(st), 7);
	for (int i = 0; i < 7; i++) {
		ck_assert_str_eq(throttlebot_plugin.describe(st, (size_t)i)->name, names[i]);
		ck_assert_double_eq_tol(v[i], want[i], 1e-9);
	}
	ck_assert_int_eq(throttlebot_plugin.describe(st, 5)->direction, TB_HIGHER_IS_BETTER);
	ck_assert_int_eq(throttlebot_plugin.describe(st, 6)->direction, TB_LOWER_IS_BETTER);
	snprintf(path, sizeof(path), "%s/trial-4.jtl", workdir);
	ck_assert_int_eq(access(path, R_OK), 0);
	snprintf(path, sizeof(path), "%s/trial-4.out", workdir);
	ck_assert_int_eq(access(path, R_OK), 0);
}
END_TEST

START_TEST(chosen_values_and_label)
{
	char config[1024];
	double v[3];

	snprintf(config, sizeof(config),
		 "command = [\"cp\", \"%s/sample.xml\", \"@WORKDIR@/r.xml\"]; jtl = \"%s/r.xml\";"
		 "values = [\"error_rate\", \"p99\"]; label = \"^(home|java)$\";", TB_FIXTURES, workdir);
	ck_assert_int_eq(run(config, v, 1), 0);
	ck_assert_uint_eq(throttlebot_plugin.count(st), 2);
	ck_assert_str_eq(throttlebot_plugin.describe(st, 0)->name, "error_rate");
	ck_assert_str_eq(throttlebot_plugin.describe(st, 1)->name, "p99");
	ck_assert_ptr_null(throttlebot_plugin.describe(st, 2));
	ck_assert_double_eq(v[0], 0);
	ck_assert_double_eq(v[1], 70000);
}
END_TEST

START_TEST(stale_results_are_removed_first)
{
	/* JMeter appends to an existing file: a trial must only see its own samples. */
	char config[1024], path[256];
	double v[1];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fixed.jtl", workdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("timeStamp,elapsed,success\n1700000000000,999,false\n", f);
	fclose(f);
	snprintf(config, sizeof(config),
		 "command = [\"sh\", \"-c\", \"test -e $0 || printf 'timeStamp,elapsed,success\\\\n"
		 "1700000000000,7,true\\\\n' >> $0\", \"@JTL@\"]; jtl = \"%s\"; values = [\"mean\"];", path);
	ck_assert_int_eq(run(config, v, 1), 0);
	ck_assert_double_eq(v[0], 7);
}
END_TEST

START_TEST(no_result_file_fails)
{
	double v[7];

	ck_assert_int_eq(run("command = [\"true\", \"@JTL@\"];", v, 1), -ENOENT);
}
END_TEST

START_TEST(malformed_result_fails)
{
	double v[7];

	ck_assert_int_eq(run("command = [\"sh\", \"-c\", \"printf 'timeStamp,elapsed\\\\n1,x\\\\n' > $0\", \"@JTL@\"];",
			     v, 1), -EINVAL);
}
END_TEST

START_TEST(failing_generator_fails)
{
	double v[7];

	ck_assert_int_lt(run("command = [\"sh\", \"-c\", \"exit 2\", \"@JTL@\"];", v, 1), 0);
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
	ck_assert(init_fails("command = [\"true\", \"-n\"];"));
	ck_assert(init_fails("command = [\"true\", \"@JTL@\"]; values = [\"p42\"];"));
	ck_assert(init_fails("command = [\"true\", \"@JTL@\"]; values = [\"p99\", \"p99\"];"));
	ck_assert(init_fails("command = [\"true\", \"@JTL@\"]; values = [];"));
	ck_assert(init_fails("command = [\"true\", \"@JTL@\"]; label = \"(\";"));
	ck_assert(init_fails("command = [\"true\", \"@JTL@\"]; timeout = -1;"));
	ck_assert(init_fails("command = [\"true\"]; jtl = \"\";"));
	ck_assert(init_fails("command = [\"throttlebot-no-such-program\", \"@JTL@\"];"));
	/* The control: the same settings with nothing wrong. */
	ck_assert(!init_fails("command = [\"true\", \"@JTL@\"]; values = [\"p99\"]; label = \"x\";"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jmeter");
	TCase *tc = tcase_create("jmeter");
	SRunner *sr;
	int failed;

	if (!mkdtemp(base)) {
		perror(base);
		return 1;
	}
	tcase_add_unchecked_fixture(tc, NULL, remove_base);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, all_values_from_the_trial_file);
	tcase_add_test(tc, chosen_values_and_label);
	tcase_add_test(tc, stale_results_are_removed_first);
	tcase_add_test(tc, no_result_file_fails);
	tcase_add_test(tc, malformed_result_fails);
	tcase_add_test(tc, failing_generator_fails);
	tcase_add_test(tc, restore_only_init);
	tcase_add_test(tc, bad_settings_rejected);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
