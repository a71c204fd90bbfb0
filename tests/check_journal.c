/* check_journal.c - the journal survives a crash, refuses a second run, and restore replays it once, newest first. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "journal.h"
#include "restore.h"
#include "testhost.h"

static char dir[] = "/tmp/throttlebot-journal-XXXXXX";
static char path[4200], cpu_quota[4200];

static void setup(void)
{
	strcpy(dir, "/tmp/throttlebot-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/journal", dir);
	snprintf(cpu_quota, sizeof(cpu_quota), "%s/plugins/throttlers/.libs/cpu_quota.so", BUILDDIR);
}

static void teardown(void)
{
	tb_test_sh("rm -rf '%s'", dir);
}

static void write_file(const char *name, const char *text)
{
	char p[4300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *read_file(const char *name)
{
	static char buf[4096];
	char p[4300];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A "cgroup file" the cpu_quota plugin's restore writes back. */
static long add_change(struct tb_journal *j, const char *file, const char *previous)
{
	char saved[4400];

	snprintf(saved, sizeof(saved), "%s/%s\t%s\n", dir, file, previous);
	return tb_journal_add(j, "throttler", "cpu_quota", cpu_quota, file, saved);
}

START_TEST(pending_entries_survive_and_block_a_new_run)
{
	struct tb_journal *j, *again;
	struct tb_journal_entry *pending;
	long a, b, c;

	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	a = add_change(j, "a", "-1");
	b = add_change(j, "b", "50000");
	c = add_change(j, "c", "max 100000");
	ck_assert(a > 0 && b > a && c > b);
	ck_assert_int_eq(tb_journal_done(j, b), 0);
	/* While we hold it, nobody else may. */
	ck_assert_int_eq(tb_journal_open(path, 1, &again), -EBUSY);
	tb_journal_close(j);
	/* The file stays: changes are pending; a new run is refused. */
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(tb_journal_open(path, 0, &again), -EEXIST);
	ck_assert_int_eq(tb_journal_open(path, 1, &again), 0);
	ck_assert_int_eq(tb_journal_pending(again, &pending), 2);
	ck_assert_int_eq(pending[0].id, c);      /* newest first */
	ck_assert_int_eq(pending[1].id, a);
	ck_assert_str_eq(pending[1].saved + strlen(pending[1].saved) - 3, "-1\n");
	free(pending);
	tb_journal_close(again);
}
END_TEST

START_TEST(restore_after_kill_is_exact_and_idempotent)
{
	pid_t pid;
	int status;

	write_file("cpu.cfs_quota_us", "20000\n");      /* "throttled" values */
	write_file("cpu.max", "10000 100000\n");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct tb_journal *j;

		if (tb_journal_open(path, 0, &j) < 0 ||
		    add_change(j, "cpu.cfs_quota_us", "-1") < 0 ||
		    add_change(j, "cpu.max", "max 100000") < 0)
			_exit(1);
		kill(getpid(), SIGKILL);                  /* die holding the lock */
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_int_eq(tb_restore_journal(path), 0);
	ck_assert_str_eq(read_file("cpu.cfs_quota_us"), "-1");
	ck_assert_str_eq(read_file("cpu.max"), "max 100000");
	ck_assert_int_eq(access(path, F_OK), -1);        /* nothing left: journal removed */
	/* Again: nothing to do, nothing changes. */
	write_file("cpu.max", "sentinel");
	ck_assert_int_eq(tb_restore_journal(path), 0);
	ck_assert_str_eq(read_file("cpu.max"), "sentinel");
}
END_TEST

START_TEST(a_torn_last_line_is_skipped)
{
	struct tb_journal *j;
	int fd;

	write_file("cpu.cfs_quota_us", "20000");
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert(add_change(j, "cpu.cfs_quota_us", "-1") > 0);
	tb_journal_close(j);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"op\":\"apply\",\"id\":7,\"ki", 24), 24);
	close(fd);
	ck_assert_int_eq(tb_restore_journal(path), 0);
	ck_assert_str_eq(read_file("cpu.cfs_quota_us"), "-1");
}
END_TEST

START_TEST(a_failed_restore_stays_in_the_journal)
{
	struct tb_journal *j;
	char saved[4400];

	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	snprintf(saved, sizeof(saved), "%s/no-such-dir/cpu.max\tmax 100000\n", dir);
	/* ENOENT means "gone with its cgroup": fine.  A directory is not writable: kept. */
	ck_assert(tb_journal_add(j, "throttler", "cpu_quota", cpu_quota, "x", saved) > 0);
	snprintf(saved, sizeof(saved), "%s\tmax 100000\n", dir);
	ck_assert(tb_journal_add(j, "throttler", "cpu_quota", cpu_quota, "y", saved) > 0);
	tb_journal_close(j);
	ck_assert_int_eq(tb_restore_journal(path), 1);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), -EEXIST);
}
END_TEST

START_TEST(restore_refuses_another_plugin_at_the_path)
{
	struct tb_journal *j;
	char other[4200];

	/* fake_ok is a throttler too, whose restore would "succeed". */
	snprintf(other, sizeof(other), "%s/tests/.libs/fake_ok.so", BUILDDIR);
	write_file("cpu.cfs_quota_us", "50000");
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert(add_change(j, "cpu.cfs_quota_us", "-1") > 0);
	ck_assert(tb_journal_add(j, "throttler", "cpu_quota", other, "x", "anything") > 0);
	tb_journal_close(j);
	ck_assert_int_eq(tb_restore_journal(path), 1);
	ck_assert_str_eq(read_file("cpu.cfs_quota_us"), "-1");    /* the rightful entry is undone */
	ck_assert_int_eq(tb_journal_open(path, 0, &j), -EEXIST);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pending_entries_survive_and_block_a_new_run);
	tcase_add_test(tc, restore_after_kill_is_exact_and_idempotent);
	tcase_add_test(tc, a_torn_last_line_is_skipped);
	tcase_add_test(tc, a_failed_restore_stays_in_the_journal);
	tcase_add_test(tc, restore_refuses_another_plugin_at_the_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
