/* check_loader.c - the plugin loader finds plugins in order and refuses unsafe or foreign files, naming why. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plugin.h"
#include "testhost.h"

static char dir[] = "/tmp/throttlebot-loader-XXXXXX";
static char why[4096];

static void chmod_file(const char *name, mode_t mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Copy a test plugin built by libtool into the test directory as name.so. */
static void install(const char *built, const char *name, mode_t mode)
{
	ck_assert_int_eq(tb_test_sh("cp '%s/tests/.libs/%s.so' '%s/%s.so'", BUILDDIR, built, dir, name), 0);
	chmod_file(name, mode);
}

static void setup(void)
{
	strcpy(dir, "/tmp/throttlebot-loader-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("THROTTLEBOT_PLUGIN_PATH", dir, 1);
	why[0] = '\0';
}

static void teardown(void)
{
	chmod(dir, 0700);
	tb_test_sh("rm -rf '%s'", dir);
}

static int find(const char *name, struct tb_loaded *p)
{
	return tb_plugin_find(name, TB_KIND_THROTTLER, NULL, p, why, sizeof(why));
}

static void assert_refused(const char *name, const char *reason)
{
	struct tb_loaded p;
	char path[4096];

	ck_assert_int_lt(find(name, &p), 0);
	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	ck_assert_msg(strstr(why, path), "message names the file: %s", why);
	ck_assert_msg(strstr(why, reason), "message says '%s': %s", reason, why);
}

START_TEST(loads_a_good_plugin)
{
	struct tb_loaded p;

	install("fake_ok", "fake_ok", 0644);
	ck_assert_msg(find("fake_ok", &p) == 0, "%s", why);
	ck_assert_str_eq(p.header->name, "fake_ok");
	ck_assert_uint_eq(p.header->kind, TB_KIND_THROTTLER);
	tb_plugin_unload(&p);
}
END_TEST

START_TEST(refuses_missing_symbol)
{
	install("fake_nosym", "fake_nosym", 0644);
	assert_refused("fake_nosym", "no 'throttlebot_plugin' symbol");
}
END_TEST

START_TEST(refuses_other_abi_major)
{
	install("fake_abi2", "fake_abi2", 0644);
	assert_refused("fake_abi2", "plugin ABI 2.0");
}
END_TEST

START_TEST(refuses_non_regular_file)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/fake_dir.so", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	assert_refused("fake_dir", "not a regular file");
}
END_TEST

START_TEST(refuses_world_writable_file)
{
	install("fake_ok", "fake_ok", 0666);
	assert_refused("fake_ok", "writable by any user");
}
END_TEST

START_TEST(refuses_world_writable_directory)
{
	install("fake_ok", "fake_ok", 0644);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	assert_refused("fake_ok", "its directory is unsafe");
}
END_TEST

START_TEST(refuses_wrong_kind)
{
	struct tb_loaded p;

	install("fake_ok", "fake_ok", 0644);
	ck_assert_int_lt(tb_plugin_find("fake_ok", TB_KIND_METRIC, NULL, &p, why, sizeof(why)), 0);
	ck_assert_msg(strstr(why, "a throttler plugin, not a metric"), "%s", why);
}
END_TEST

START_TEST(refuses_a_file_that_renamed_itself)
{
	install("fake_ok", "impostor", 0644);
	assert_refused("impostor", "calls itself 'fake_ok'");
}
END_TEST

START_TEST(missing_plugin_lists_where_it_looked)
{
	struct tb_loaded p;

	ck_assert_int_eq(find("absent", &p), -ENOENT);
	ck_assert_msg(strstr(why, "absent.so") && strstr(why, dir), "%s", why);
}
END_TEST

START_TEST(search_order_env_then_config_then_builtin)
{
	char **dirs;
	int n;

	setenv("THROTTLEBOT_PLUGIN_PATH", "/a:/b", 1);
	n = tb_plugin_dirs("/c", &dirs);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(dirs[0], "/a");
	ck_assert_str_eq(dirs[1], "/b");
	ck_assert_str_eq(dirs[2], "/c");
	ck_assert_str_eq(dirs[3], PLUGINDIR);
	tb_plugin_dirs_free(dirs, n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("rejections");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, loads_a_good_plugin);
	tcase_add_test(tc, refuses_missing_symbol);
	tcase_add_test(tc, refuses_other_abi_major);
	tcase_add_test(tc, refuses_non_regular_file);
	tcase_add_test(tc, refuses_world_writable_file);
	tcase_add_test(tc, refuses_world_writable_directory);
	tcase_add_test(tc, refuses_wrong_kind);
	tcase_add_test(tc, refuses_a_file_that_renamed_itself);
	tcase_add_test(tc, missing_plugin_lists_where_it_looked);
	tcase_add_test(tc, search_order_env_then_config_then_builtin);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
