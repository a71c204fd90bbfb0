/* check_outdir.c - output directories: made when missing, refused when someone else could tamper. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outdir.h"
#include "testhost.h"

/* Made and removed by main(): Check ends a failed test's process at once. */
static char base[] = "/tmp/throttlebot-outdir-XXXXXX";
static char out[128], trials[160];

static void setup(void)
{
	static int n;

	snprintf(out, sizeof(out), "%s/%d-%d", base, (int)getpid(), ++n);
	snprintf(trials, sizeof(trials), "%s/trials", out);
}

static void assert_mode(const char *path, mode_t mode)
{
	struct stat st;

	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, mode);
}

/* tb_outdir_prepare(out) fails with err and sets no workdir. */
static void assert_refused(int err)
{
	char *workdir = (char *)"unset";

	ck_assert_int_eq(tb_outdir_prepare(out, &workdir), err);
	ck_assert_ptr_null(workdir);
}

START_TEST(makes_both_then_reuses_them)
{
	char *workdir;

	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(tb_outdir_prepare(out, &workdir), 0);
		ck_assert_str_eq(workdir, trials);
		free(workdir);
		assert_mode(out, 0755);
		assert_mode(trials, 0755);
	}
}
END_TEST

START_TEST(refuses_a_symlink)
{
	char real[200];

	/* The output directory itself... */
	snprintf(real, sizeof(real), "%s-real", out);
	ck_assert_int_eq(mkdir(real, 0755), 0);
	ck_assert_int_eq(symlink(real, out), 0);
	assert_refused(-ELOOP);
	ck_assert_int_eq(unlink(out), 0);
	/* ...and trials/ in it: whatever the trials write would land there. */
	ck_assert_int_eq(mkdir(out, 0755), 0);
	ck_assert_int_eq(symlink(real, trials), 0);
	assert_refused(-ELOOP);
	ck_assert_int_eq(rmdir(real), 0);       /* nothing was made in it */
}
END_TEST

START_TEST(refuses_one_others_may_write)
{
	ck_assert_int_eq(mkdir(out, 0755), 0);
	ck_assert_int_eq(chmod(out, 0777), 0);
	assert_refused(-EPERM);
	ck_assert_int_eq(chmod(out, 0755), 0);
	ck_assert_int_eq(mkdir(trials, 0755), 0);
	ck_assert_int_eq(chmod(trials, 0775), 0);
	assert_refused(-EPERM);
}
END_TEST

START_TEST(refuses_one_another_user_owns)
{
	if (geteuid() != 0)
		return;     /* only root can give a directory away */
	ck_assert_int_eq(mkdir(out, 0755), 0);
	ck_assert_int_eq(mkdir(trials, 0755), 0);
	ck_assert_int_eq(chown(trials, 65534, 65534), 0);
	assert_refused(-EPERM);
	ck_assert_int_eq(chown(trials, 0, 0), 0);
	ck_assert_int_eq(chown(out, 65534, 65534), 0);
	assert_refused(-EPERM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("outdir");
	TCase *tc = tcase_create("outdir");
	SRunner *sr;
	int failed;

	if (!mkdtemp(base))
		return EXIT_FAILURE;
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, makes_both_then_reuses_them);
	tcase_add_test(tc, refuses_a_symlink);
	tcase_add_test(tc, refuses_one_others_may_write);
	tcase_add_test(tc, refuses_one_another_user_owns);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tb_test_sh("rm -rf '%s'", base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
