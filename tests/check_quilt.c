/* check_quilt.c - the quilt orchestrator: "quilt ps" listings read from a file and from a command. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "inventory.h"
#include "testhost.h"
#include "quilt_ps.h"

/* Quilt is discontinued and cannot run here: the listing is in the layout
 * its "quilt ps" printed (Go's tabwriter, padding 4). */
#ifndef TB_QUILT_FIXTURES
#define TB_QUILT_FIXTURES "tests/fixtures/quilt"
#endif

extern const struct tb_orchestrator throttlebot_plugin;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[65536];
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

START_TEST(parse_listing)
{
	struct quilt_ps ps;
	char err[256];

	ck_assert_int_eq(quilt_parse_ps(slurp(TB_QUILT_FIXTURES "/ps.txt"), &ps, err, sizeof(err)), 0);
	ck_assert_uint_eq(ps.nmachines, 3);
	ck_assert_str_eq(ps.machines[1].public_ip, "54.241.251.192");
	ck_assert_int_eq(ps.machines[2].connected, 0);
	ck_assert_uint_eq(ps.ncontainers, 5);
	ck_assert_str_eq(ps.containers[0].service, "spark-ms");   /* the first of its labels */
	ck_assert_str_eq(ps.containers[3].machine, "");
	ck_assert_str_eq(ps.containers[3].status, "scheduled");
	ck_assert_str_eq(ps.containers[4].service, "");
	ck_assert_ptr_nonnull(quilt_find_machine(&ps, "7e4fc2ffbfb5"));
	quilt_ps_free(&ps);
	/* What is not a listing, or names what we would put in a path, is refused. */
	ck_assert_int_eq(quilt_parse_ps("hello\n", &ps, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "line 1"));
	ck_assert_int_eq(quilt_parse_ps("CONTAINER    MACHINE    COMMAND    LABELS    STATUS    CREATED    PUBLIC IP\n"
					"abc          m1         x          ../etc    running\n", &ps, err,
					sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "line 2"));
	ck_assert_int_eq(quilt_parse_ps("CONTAINER    MACHINE\n", &ps, err, sizeof(err)), -EINVAL);
}
END_TEST

static void *start(struct tb_test_plugin *t, const char *conf, int want)
{
	void *st = NULL;

	ck_assert_int_eq(tb_test_plugin_open(t, &throttlebot_plugin, conf), 0);
	ck_assert_int_eq(throttlebot_plugin.init(&t->in.host, tb_test_plugin_config(t), &st), want);
	return st;
}

static void stop(struct tb_test_plugin *t, void *st, struct tb_inventory *inv)
{
	tb_inventory_free(inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(t);
}

static void assert_spark(const struct tb_inventory *inv)
{
	ck_assert_uint_eq(inv->nservices, 2);
	ck_assert_str_eq(inv->services[0].name, "spark-ms");
	ck_assert_uint_eq(inv->services[0].ntargets, 1);
	ck_assert_str_eq(inv->services[0].targets[0].node, "54.241.251.192");
	ck_assert_str_eq(inv->services[0].targets[0].key, "3ad4b1f2e9c1");
	ck_assert_str_eq(inv->services[1].name, "spark-wk");
	ck_assert_uint_eq(inv->services[1].ntargets, 2);
	ck_assert_str_eq(inv->services[1].targets[1].node, "54.219.1.12");
	/* Each machine's agent, at its public address. */
	ck_assert_str_eq(tb_inventory_agent(inv, "54.241.251.192"), "https://54.241.251.192:7443");
	ck_assert_str_eq(tb_inventory_agent(inv, "54.219.1.12"), "https://54.219.1.12:7443");
}

/* Discovery from the file and from the command give the same services. */
START_TEST(discover)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	void *st = start(&t, _i ? "command = [\"cat\", \"" TB_QUILT_FIXTURES "/ps.txt\"];"
			      : "listing = \"" TB_QUILT_FIXTURES "/ps.txt\";", 0);

	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), 0);
	assert_spark(&inv);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &inv.services[0].targets[0]), 1);
	stop(&t, st, &inv);
}
END_TEST

START_TEST(alive_follows_listing)
{
	char path[] = "/tmp/throttlebot-quilt-XXXXXX", conf[256];
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	int fd = mkstemp(path);
	void *st;

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(tb_test_sh("cp %s/ps.txt %s", TB_QUILT_FIXTURES, path), 0);
	snprintf(conf, sizeof(conf), "listing = \"%s\";", path);
	st = start(&t, conf, 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), 0);
	/* The master's container moved to another machine. */
	ck_assert_int_eq(tb_test_sh("sed -i 's/^3ad4b1f2e9c1    0b9ba5e2ff53/3ad4b1f2e9c1    7e4fc2ffbfb5/' %s",
				    path), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &inv.services[0].targets[0]), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &inv.services[1].targets[0]), 1);
	stop(&t, st, &inv);
	unlink(path);
}
END_TEST

START_TEST(command_failures)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	struct timespec a, b;
	void *st;

	st = start(&t, "command = [\"false\"];", 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -EIO);
	stop(&t, st, &inv);
	/* A command that hangs is stopped at the timeout. */
	st = start(&t, "command = [\"sleep\", \"10\"]; timeout = 0.5;", 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_int_lt(b.tv_sec - a.tv_sec, 3);
	stop(&t, st, &inv);
	st = start(&t, "command = [\"/nonexistent/quilt\"];", 0);
	ck_assert_int_lt(throttlebot_plugin.discover(st, &inv), 0);
	stop(&t, st, &inv);
	st = start(&t, "listing = \"/etc/hostname\"; command = [\"quilt\", \"ps\"];", -EINVAL);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("quilt");
	TCase *tc = tcase_create("listing");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, parse_listing);
	tcase_add_loop_test(tc, discover, 0, 2);
	tcase_add_test(tc, alive_follows_listing);
	tcase_add_test(tc, command_failures);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
