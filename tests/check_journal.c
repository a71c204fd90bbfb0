/* check_journal.c - the journal survives a crash, refuses a second run, detects torn and damaged records, and restore replays it once, newest first. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "journal.h"
#include "restore.h"
#include "testhost.h"

static char dir[] = "/tmp/throttlebot-journal-XXXXXX";
static char path[4200], lock[4200], cpu_quota[4200];

static void setup(void)
{
	strcpy(dir, "/tmp/throttlebot-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/journal", dir);
	snprintf(lock, sizeof(lock), "%s/run/lock", dir);
	setenv("THROTTLEBOT_LOCK", lock, 1);
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

static void append_raw(const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* tb_restore_check's report, and what it returned. */
static int check_output(char *out, size_t size)
{
	char p[4300];
	int fd, keep, r;
	ssize_t n;

	snprintf(p, sizeof(p), "%s/check.out", dir);
	fflush(stdout);
	keep = dup(1);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert(keep >= 0 && fd >= 0);
	dup2(fd, 1);
	r = tb_restore_check(path);
	fflush(stdout);
	dup2(keep, 1);
	close(keep);
	n = pread(fd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return r;
}

START_TEST(crc32_is_the_standard_one)
{
	ck_assert_uint_eq(tb_crc32("123456789", 9), 0xcbf43926u);
	ck_assert_uint_eq(tb_crc32("", 0), 0);
}
END_TEST

START_TEST(every_record_carries_version_length_and_checksum)
{
	struct tb_journal *j;
	json_t *line, *rec;
	const char *text;
	json_int_t v, len, crc;
	char *content, *nl;

	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert(add_change(j, "a", "-1") > 0);
	tb_journal_close(j);
	content = read_file("run/journal");
	nl = strchr(content, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl + 1, "");            /* one line, whole */
	line = json_loadb(content, (size_t)(nl - content), 0, NULL);
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(json_unpack(line, "{s:I, s:I, s:I, s:s}", "v", &v, "len", &len, "crc32",
				     &crc, "record", &text), 0);
	ck_assert_int_eq(v, TB_JOURNAL_VERSION);
	ck_assert_int_eq(len, (json_int_t)strlen(text));
	ck_assert_int_eq(crc, (json_int_t)tb_crc32(text, strlen(text)));
	rec = json_loads(text, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "op")), "apply");
	ck_assert_str_eq(json_string_value(json_object_get(rec, "plugin")), "cpu_quota");
	json_decref(rec);
	json_decref(line);
}
END_TEST

START_TEST(a_torn_last_line_blocks_new_runs_until_restore)
{
	static const char torn[] = "{\"v\":2,\"len\":180,\"crc32\":12,\"record\":\"{\\\"id\\\":7,\\\"ki";
	struct tb_journal *j;
	char out[8192];

	write_file("cpu.cfs_quota_us", "20000");
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert(add_change(j, "cpu.cfs_quota_us", "-1") > 0);
	tb_journal_close(j);
	append_raw(torn, strlen(torn));
	/* Not appended to, not even read past as "only pending": damaged. */
	ck_assert_int_eq(tb_journal_open(path, 0, &j), -EBADMSG);
	ck_assert_int_eq(check_output(out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "1 pending change, 1 record that could not be read"));
	ck_assert_ptr_nonnull(strstr(out, "journal:2: torn last record"));
	ck_assert_ptr_nonnull(strstr(out, "pending 1: throttler cpu_quota, target cpu.cfs_quota_us"));
	/* The torn record was never applied: restore undoes the complete one
	 * and then has nothing left to keep. */
	ck_assert_int_eq(tb_restore_journal(path), 0);
	ck_assert_str_eq(read_file("cpu.cfs_quota_us"), "-1");
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	tb_journal_close(j);
}
END_TEST

START_TEST(an_unreadable_record_is_never_deleted)
{
	struct tb_journal *j;
	char *content, *digit;
	int fd;

	write_file("a", "20000");
	write_file("cpu.cfs_quota_us", "20000");
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert(add_change(j, "a/cpu.cfs_quota_us", "-1") > 0);
	ck_assert(add_change(j, "cpu.cfs_quota_us", "-1") > 0);
	tb_journal_close(j);
	/* One bit of the first record's value changes: still JSON, wrong checksum. */
	content = read_file("run/journal");
	digit = strstr(content, "\\t-1");
	ck_assert_ptr_nonnull(digit);
	ck_assert(digit < strchr(content, '\n'));
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, "3", 1, digit + 3 - content), 1);
	close(fd);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), -EBADMSG);
	/* What can be read is restored; the rest is kept, and said. */
	ck_assert_int_eq(tb_restore_journal(path), 1);
	ck_assert_str_eq(read_file("cpu.cfs_quota_us"), "-1");
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(tb_restore_journal(path), 1);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), -EBADMSG);
}
END_TEST

/* The disk fills in the middle of a record: it is cut back off, and the
 * next record starts on a line of its own. */
START_TEST(a_record_that_fails_to_write_leaves_no_torn_line)
{
	struct tb_journal *j;
	struct tb_journal_entry *pending;
	const struct tb_journal_damage *d;
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit was, small;
		struct stat st;
		long a, b, c;

		signal(SIGXFSZ, SIG_IGN);
		if (tb_journal_open(path, 0, &j) < 0 || (a = add_change(j, "a", "-1")) <= 0 ||
		    stat(path, &st) < 0 || getrlimit(RLIMIT_FSIZE, &was) < 0)
			_exit(1);
		small = was;
		small.rlim_cur = (rlim_t)st.st_size + 40;
		setrlimit(RLIMIT_FSIZE, &small);
		b = add_change(j, "b", "-1");
		setrlimit(RLIMIT_FSIZE, &was);
		c = add_change(j, "c", "-1");
		_exit(b == -EFBIG && c > a ? 0 : 2);      /* dies without closing */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(tb_journal_inspect(path, &j), 0);
	ck_assert_uint_eq(tb_journal_damaged(j, &d), 0);
	ck_assert_int_eq(tb_journal_pending(j, &pending), 2);
	ck_assert_str_eq(pending[0].target, "c");
	ck_assert_str_eq(pending[1].target, "a");
	free(pending);
	tb_journal_close(j);
}
END_TEST

START_TEST(one_run_per_host_whatever_its_journal)
{
	struct tb_journal *j, *other;
	char second[4300];

	snprintf(second, sizeof(second), "%s/elsewhere", dir);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert_int_eq(tb_journal_open(second, 0, &other), -EBUSY);
	ck_assert_int_eq(tb_journal_open(second, 1, &other), -EBUSY);
	tb_journal_close(j);
	/* The journal goes with nothing pending; the lock stays for the next run. */
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(access(lock, F_OK), 0);
	ck_assert_int_eq(tb_journal_open(second, 0, &other), 0);
	tb_journal_close(other);
}
END_TEST

/* Runs that come and go as fast as they can: never two at once, even
 * while the journal is removed and created again (bounded: 2 s). */
START_TEST(the_lock_never_has_two_holders)
{
	char marker[4300];
	pid_t pids[3];
	int status, bad = 0;

	snprintf(marker, sizeof(marker), "%s/holder", dir);
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct timespec t0, t;
			int held = 0, tries = 0;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			do {
				struct tb_journal *j;

				if (tb_journal_open(path, 0, &j) == 0) {
					int fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0600);

					if (fd < 0)
						_exit(3);     /* someone else holds it too */
					close(fd);
					held++;
					usleep(100);
					unlink(marker);
					tb_journal_close(j);
				}
				clock_gettime(CLOCK_MONOTONIC, &t);
			} while (t.tv_sec - t0.tv_sec < 2 && ++tries < 200000);
			_exit(held > 0 ? 0 : 4);
		}
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		bad += !WIFEXITED(status) || WEXITSTATUS(status) == 3;
	}
	ck_assert_int_eq(bad, 0);
}
END_TEST

static void write_record(FILE *f, const char *record)
{
	json_t *line = json_pack("{s:i, s:I, s:I, s:s}", "v", TB_JOURNAL_VERSION, "len",
				 (json_int_t)strlen(record), "crc32",
				 (json_int_t)tb_crc32(record, strlen(record)), "record", record);
	char *text = json_dumps(line, JSON_COMPACT);

	fprintf(f, "%s\n", text);
	free(text);
	json_decref(line);
}

START_TEST(ids_at_the_top_of_the_range)
{
	struct tb_journal *j;
	FILE *f;

	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	tb_journal_close(j);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	write_record(f, "{\"id\":9223372036854775806,\"kind\":\"throttler\",\"op\":\"apply\","
			"\"path\":\"\",\"plugin\":\"cpu_quota\",\"saved\":\"\",\"target\":\"t\"}");
	write_record(f, "{\"id\":9223372036854775807,\"op\":\"done\"}");
	fclose(f);
	/* Pending: restore may not add past the top. */
	ck_assert_int_eq(tb_journal_open(path, 1, &j), 0);
	ck_assert_int_eq(tb_journal_add(j, "throttler", "x", "", "t", ""), -EOVERFLOW);
	ck_assert_int_eq(tb_journal_done(j, INT64_MAX - 1), 0);
	tb_journal_close(j);
	/* Everything done: the next run starts again at 1. */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	write_record(f, "{\"id\":9223372036854775807,\"op\":\"done\"}");
	fclose(f);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert_int_eq(tb_journal_add(j, "throttler", "x", "", "t", ""), 1);
	tb_journal_close(j);
}
END_TEST

START_TEST(check_reports_and_changes_nothing)
{
	struct tb_journal *j;
	struct stat before, after;
	char out[8192], *was;

	ck_assert_int_eq(check_output(out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "no journal: nothing is pending"));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert(add_change(j, "a", "max 100000") > 0);
	ck_assert(add_change(j, "b", "-1") > 0);
	ck_assert_int_eq(tb_journal_done(j, 2), 0);
	tb_journal_close(j);
	was = strdup(read_file("run/journal"));
	ck_assert_int_eq(stat(path, &before), 0);
	ck_assert_int_eq(check_output(out, sizeof(out)), 1);
	ck_assert_ptr_nonnull(strstr(out, "1 pending change, 0 records that could not be read"));
	ck_assert_ptr_nonnull(strstr(out, "pending 1: throttler cpu_quota, target a, saved \""));
	ck_assert_ptr_nonnull(strstr(out, "/a\\tmax 100000\\n\"\n"));
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_str_eq(read_file("run/journal"), was);
	ck_assert(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
		  before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
	free(was);
}
END_TEST

/* A cgroup path carrying a newline would make its own line of the saved
 * state: restore, as root, must not write it. */
START_TEST(an_injected_saved_line_is_not_written)
{
	struct tb_journal *j;
	char saved[4400];

	write_file("passwd", "root:x:0:0");
	write_file("cpu.max", "20000 100000");
	snprintf(saved, sizeof(saved), "%s/x\n%s/passwd\tpwned\n%s/cpu.max\tmax 100000\n", dir, dir,
		 dir);
	ck_assert_int_eq(tb_journal_open(path, 0, &j), 0);
	ck_assert(tb_journal_add(j, "throttler", "cpu_quota", cpu_quota, "t", saved) > 0);
	tb_journal_close(j);
	ck_assert_int_eq(tb_restore_journal(path), 1);
	ck_assert_str_eq(read_file("passwd"), "root:x:0:0");
	ck_assert_str_eq(read_file("cpu.max"), "max 100000");    /* the good line still is */
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
	tcase_add_test(tc, crc32_is_the_standard_one);
	tcase_add_test(tc, every_record_carries_version_length_and_checksum);
	tcase_add_test(tc, a_torn_last_line_blocks_new_runs_until_restore);
	tcase_add_test(tc, an_unreadable_record_is_never_deleted);
	tcase_add_test(tc, a_record_that_fails_to_write_leaves_no_torn_line);
	tcase_add_test(tc, one_run_per_host_whatever_its_journal);
	tcase_add_test(tc, the_lock_never_has_two_holders);
	tcase_add_test(tc, ids_at_the_top_of_the_range);
	tcase_add_test(tc, check_reports_and_changes_nothing);
	tcase_add_test(tc, an_injected_saved_line_is_not_written);
	tcase_add_test(tc, a_failed_restore_stays_in_the_journal);
	tcase_add_test(tc, restore_refuses_another_plugin_at_the_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
