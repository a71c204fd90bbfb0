/* check_loader.c - the plugin loader finds plugins in order and refuses unsafe or foreign files, naming why. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plugin.h"
#include "testhost.h"

/* Each test's directory is made in base, which main() removes: Check ends a
 * failed test's process before its teardown. */
static char base[] = "/tmp/throttlebot-loader-XXXXXX";
static char dir[sizeof(base) + 16];
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
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", base);
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

/* name.so, asked for as a plugin of kind, is refused, and the message names it and why. */
static void assert_refused_as(const char *name, unsigned kind, const char *reason)
{
	struct tb_loaded p;
	char path[4096];

	ck_assert_int_lt(tb_plugin_find(name, kind, NULL, &p, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	ck_assert_msg(strstr(why, path), "message names the file: %s", why);
	ck_assert_msg(strstr(why, reason), "message says '%s': %s", reason, why);
}

static void assert_refused(const char *name, const char *reason)
{
	assert_refused_as(name, TB_KIND_THROTTLER, reason);
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

static int open_fds(void)
{
	char fd[64];
	int n = 0;

	for (int i = 0; i < 1024; i++) {
		snprintf(fd, sizeof(fd), "/proc/self/fd/%d", i);
		n += access(fd, F_OK) == 0;
	}
	return n;
}

START_TEST(loads_two_plugins_at_once)
{
	struct tb_loaded a, b;
	char path[4096];
	int fds = open_fds();

	/* Each is loaded through its own descriptor's name: they must not be
	 * taken for one another. */
	install("fake_ok", "fake_ok", 0644);
	ck_assert_msg(find("fake_ok", &a) == 0, "%s", why);
	snprintf(path, sizeof(path), "%s/plugins/throttlers/.libs/cpu_quota.so", BUILDDIR);
	ck_assert_msg(tb_plugin_load_file(path, TB_KIND_THROTTLER, &b, why, sizeof(why)) == 0, "%s", why);
	ck_assert_str_eq(a.header->name, "fake_ok");
	ck_assert_str_eq(b.header->name, "cpu_quota");
	tb_plugin_unload(&a);
	tb_plugin_unload(&b);
	ck_assert_msg(find("fake_ok", &a) == 0, "%s", why);
	ck_assert_str_eq(a.header->name, "fake_ok");
	tb_plugin_unload(&a);
	ck_assert_int_eq(open_fds(), fds);     /* each descriptor closed with its plugin */
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
	char want[64];

	snprintf(want, sizeof(want), "plugin ABI 2.0, this ThrottleBot is ABI 1.%d", TB_ABI_MINOR);
	install("fake_abi2", "fake_abi2", 0644);
	assert_refused("fake_abi2", want);
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
	char want[4200];

	install("fake_ok", "fake_ok", 0644);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	/* The message names the directory itself, not its parent. */
	snprintf(want, sizeof(want), "directory %s is writable by any user (mode 0777)", dir);
	assert_refused("fake_ok", want);
}
END_TEST

/* A plugin in dir/sub (made with mode) under dir/mid (made with mid_mode), searched there. */
static void install_below(mode_t mid_mode, mode_t sub_mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/mid", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/mid/sub", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(tb_test_sh("cp '%s/tests/.libs/fake_ok.so' '%s/fake_ok.so'", BUILDDIR, path), 0);
	ck_assert_int_eq(chmod(path, sub_mode), 0);
	setenv("THROTTLEBOT_PLUGIN_PATH", path, 1);
	snprintf(path, sizeof(path), "%s/mid", dir);
	ck_assert_int_eq(chmod(path, mid_mode), 0);
}

/* fake_ok is refused because dir/sub, a directory on its way, is writable by anyone. */
static void assert_refused_for(const char *sub)
{
	struct tb_loaded p;
	char want[4200];

	ck_assert_int_lt(find("fake_ok", &p), 0);
	snprintf(want, sizeof(want), "directory %s/%s is writable by any user", dir, sub);
	ck_assert_msg(strstr(why, want), "%s", why);
}

START_TEST(refuses_an_unsafe_ancestor)
{
	/* Whoever may write dir/mid can rename sub away and put their own in its place. */
	install_below(0777, 0755);
	assert_refused_for("mid");
}
END_TEST

START_TEST(sticky_directories_only_on_the_way_up)
{
	struct tb_loaded p;

	/* Like /tmp: nobody can rename what it holds that is not theirs... */
	install_below(01777, 0755);
	ck_assert_msg(find("fake_ok", &p) == 0, "%s", why);
	tb_plugin_unload(&p);
	ck_assert_int_eq(tb_test_sh("rm -rf '%s/mid'", dir), 0);
	/* ...but anyone may add files to it: no plugin directory. */
	install_below(0755, 01777);
	assert_refused_for("mid/sub");
}
END_TEST

/* dir/fake_ok.so -> mid/sub/fake_ok.so */
static void link_below(void)
{
	char target[4096], link[4096];

	snprintf(target, sizeof(target), "%s/mid/sub/fake_ok.so", dir);
	snprintf(link, sizeof(link), "%s/fake_ok.so", dir);
	ck_assert_int_eq(symlink(target, link), 0);
	setenv("THROTTLEBOT_PLUGIN_PATH", dir, 1);
}

START_TEST(checks_where_a_symlink_leads)
{
	struct tb_loaded p;

	install_below(0755, 0755);
	link_below();
	ck_assert_msg(find("fake_ok", &p) == 0, "%s", why);
	tb_plugin_unload(&p);
	ck_assert_int_eq(tb_test_sh("chmod 0777 '%s/mid/sub'", dir), 0);
	assert_refused_for("mid/sub");
}
END_TEST

START_TEST(refuses_a_throttler_without_save)
{
	/* It would crash the run at its first trial, with the journal open. */
	install("fake_nosave", "fake_nosave", 0644);
	assert_refused("fake_nosave", "a throttler plugin without 'save'");
}
END_TEST

START_TEST(refuses_a_metric_without_measure)
{
	install("fake_nomeasure", "fake_nomeasure", 0644);
	assert_refused_as("fake_nomeasure", TB_KIND_METRIC, "a metric plugin without 'measure'");
}
END_TEST

/* The inode of the file mapped at address p, from /proc/self/maps. */
static unsigned long mapped_inode(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, ino, found = 0;
	char line[4096];

	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 &&
		    (unsigned long)p >= lo && (unsigned long)p < hi)
			found = ino;
	fclose(f);
	return found;
}

/*
 * An attacker's best moment: after the checks, before the dynamic linker
 * opens the file.  This program's own dlopen() is the one the loader calls;
 * armed, it first puts bad.so at the plugin's name.
 */
static int swap_before_dlopen;

void *dlopen(const char *file, int mode)
{
	void *(*real)(const char *, int) = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	char bad[4096], at[4096];

	if (swap_before_dlopen) {
		swap_before_dlopen = 0;
		snprintf(bad, sizeof(bad), "%s/bad.so", dir);
		snprintf(at, sizeof(at), "%s/fake_ok.so", dir);
		ck_assert_int_eq(rename(bad, at), 0);
	}
	return real(file, mode);
}

START_TEST(loads_the_file_it_checked)
{
	struct stat good, bad;
	struct tb_loaded p;
	char path[4096];

	/* bad.so is the same plugin, but writable by anyone: never to be loaded. */
	install("fake_ok", "bad", 0666);
	install("fake_ok", "fake_ok", 0644);
	snprintf(path, sizeof(path), "%s/bad.so", dir);
	ck_assert_int_eq(stat(path, &bad), 0);
	snprintf(path, sizeof(path), "%s/fake_ok.so", dir);
	ck_assert_int_eq(stat(path, &good), 0);
	swap_before_dlopen = 1;
	ck_assert_msg(find("fake_ok", &p) == 0, "%s", why);
	ck_assert_int_eq(swap_before_dlopen, 0);
	ck_assert_uint_ne(mapped_inode(p.header), (unsigned long)bad.st_ino);
	ck_assert_uint_eq(mapped_inode(p.header), (unsigned long)good.st_ino);
	tb_plugin_unload(&p);
}
END_TEST

START_TEST(refuses_wrong_kind)
{
	install("fake_ok", "fake_ok", 0644);
	assert_refused_as("fake_ok", TB_KIND_METRIC, "a throttler plugin, not a metric");
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
	tcase_add_test(tc, loads_two_plugins_at_once);
	tcase_add_test(tc, refuses_missing_symbol);
	tcase_add_test(tc, refuses_other_abi_major);
	tcase_add_test(tc, refuses_non_regular_file);
	tcase_add_test(tc, refuses_world_writable_file);
	tcase_add_test(tc, refuses_world_writable_directory);
	tcase_add_test(tc, refuses_an_unsafe_ancestor);
	tcase_add_test(tc, sticky_directories_only_on_the_way_up);
	tcase_add_test(tc, checks_where_a_symlink_leads);
	tcase_add_test(tc, refuses_a_throttler_without_save);
	tcase_add_test(tc, refuses_a_metric_without_measure);
	tcase_add_test(tc, loads_the_file_it_checked);
	tcase_add_test(tc, refuses_wrong_kind);
	tcase_add_test(tc, refuses_a_file_that_renamed_itself);
	tcase_add_test(tc, missing_plugin_lists_where_it_looked);
	tcase_add_test(tc, search_order_env_then_config_then_builtin);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	if (!mkdtemp(base))
		return EXIT_FAILURE;
	srunner_run_all(sr, CK_NORMAL);
	tb_test_sh("rm -rf '%s'", base);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
