/* check_cgroup_files.c - kept cgroup files: exact values, one descriptor per file, reopened when the cgroup is recreated, closed at the end; saved state checked before it is written back. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "cgtest.h"

#define CPU_ROOT "/sys/fs/cgroup/cpu"
#define CPUSET_ROOT "/sys/fs/cgroup/cpuset"

static char cg[256], cgset[256], tree[64];
static struct tb_cg_files *files;

static int is_root(void)
{
	return geteuid() == 0;
}

/* Descriptors this process has open, counted from outside the set. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;       /* opendir's own */
}

/* dir/file as a fresh open() sees it, trailing newline dropped. */
static const char *outside(const char *dir, const char *file)
{
	static char buf[4096];
	char path[4096];
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	n = cgt_slurp(path, buf, sizeof(buf));
	ck_assert_msg(n >= 0, "%s: %s", path, strerror((int)-n));
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static void setup_tree(void)
{
	strcpy(tree, "/tmp/throttlebot-cgfiles-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	files = tb_cg_files_new();
	ck_assert_ptr_nonnull(files);
}

static void teardown_tree(void)
{
	char path[128];

	tb_cg_files_free(files);
	files = NULL;
	for (const char *const *f = (const char *const[]){ "cpu.max", "cgroup.controllers",
							   "cpu.max.new", "passwd", NULL }; *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", tree, *f);
		unlink(path);
	}
	rmdir(tree);
}

/* A regular file is never kept: a file renamed over it is the one written,
 * and a shorter value leaves no tail. */
START_TEST(cpulist_count)
{
	char big[64];

	ck_assert_int_eq(tb_cpulist_count("0-3,6\n"), 5);
	ck_assert_int_eq(tb_cpulist_count("7"), 1);
	ck_assert_int_eq(tb_cpulist_count(""), 0);
	/* A sign, a reversed range, trailing garbage: not a cpuset list. */
	ck_assert_int_eq(tb_cpulist_count("-5-3"), -EINVAL);
	ck_assert_int_eq(tb_cpulist_count("0--3"), -EINVAL);
	ck_assert_int_eq(tb_cpulist_count("+1"), -EINVAL);
	ck_assert_int_eq(tb_cpulist_count("3-1"), -EINVAL);
	ck_assert_int_eq(tb_cpulist_count("0-3,x"), -EINVAL);
	/* Numbers past int, and totals past it: refused, not wrapped around. */
	ck_assert_int_eq(tb_cpulist_count("0-4294967296"), -EINVAL);
	ck_assert_int_eq(tb_cpulist_count("0-99999999999999999999999"), -EINVAL);
	snprintf(big, sizeof(big), "0-%d,0-%d", TB_CPU_LIMIT - 1, TB_CPU_LIMIT - 1);
	ck_assert_int_eq(tb_cpulist_count(big), -EINVAL);
	snprintf(big, sizeof(big), "0-%d", TB_CPU_LIMIT - 1);
	ck_assert_int_eq(tb_cpulist_count(big), TB_CPU_LIMIT);
}
END_TEST

START_TEST(tree_files_follow_the_name)
{
	char buf[64], other[128], path[128], saved[256];
	int fds = open_fds();

	ck_assert_int_eq(cgt_put(tree, "cpu.max", "max 100000\n"), 0);
	ck_assert_int_eq(tb_cg_files_read(files, tree, "cpu.max", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "max 100000");
	ck_assert_int_eq(tb_cg_files_write(files, tree, "cpu.max", "50000 100000"), 0);
	ck_assert_str_eq(outside(tree, "cpu.max"), "50000 100000");
	ck_assert_int_eq(tb_cg_files_write(files, tree, "cpu.max", "1 2"), 0);
	ck_assert_str_eq(outside(tree, "cpu.max"), "1 2");
	ck_assert_int_eq(open_fds(), fds);
	ck_assert_int_eq(cgt_put(tree, "cpu.max.new", "max 200000\n"), 0);
	snprintf(other, sizeof(other), "%s/cpu.max.new", tree);
	snprintf(path, sizeof(path), "%s/cpu.max", tree);
	ck_assert_int_eq(rename(other, path), 0);
	ck_assert_int_eq(tb_cg_files_read(files, tree, "cpu.max", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "max 200000");
	ck_assert_int_eq(tb_saved_restore_files(files, "/nonexistent-throttlebot/cpu.max\tmax 100000\n"), -ENOENT);
	snprintf(saved, sizeof(saved), "%s/cpu.max\tmax 300000\n", tree);
	ck_assert_int_eq(tb_saved_restore_files(files, saved), 0);
	ck_assert_str_eq(outside(tree, "cpu.max"), "max 300000");
}
END_TEST

/* Saved state comes back from the journal and root writes it: only plain
 * absolute paths of the control files throttlers save, with values of
 * their shape.  A cgroup path carrying a newline must not make a line of
 * its own. */
START_TEST(saved_state_is_checked)
{
	static const char *const good[][2] = {
		{ "/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us", "-1" },
		{ "/x/cpu.cfs_quota_us", "50000" },
		{ "/x/cpu.max", "max 100000" },
		{ "/x/cpu.max", "50000 100000" },
		{ "/x/cpuset.cpus", "0-3,6" },
		{ "/x/cpuset.cpus", "" },
		{ "/x/io.max", "254:0 rbps=max wbps=2097152" },
		{ "/x/blkio.throttle.write_iops_device", "254:0 0" },
		{ "/x/cpu.shares", "1024" },
		{ "/x/cpu.weight", "100" },
		{ "/x/blkio.bfq.weight", "100" },
		{ "/x/io.weight", "default 100" },
		{ "/x/io.weight", "254:0 300" },
	};
	static const char *const bad[][2] = {
		{ "x/cpu.max", "max 100000" },
		{ "/x/../etc/cpu.max", "max 100000" },
		{ "/x/./cpu.max", "max 100000" },
		{ "/x//cpu.max", "max 100000" },
		{ "/x\n/cpu.max", "max 100000" },
		{ "/x\t/cpu.max", "max 100000" },
		{ "/etc/passwd", "root::0:0::/:/bin/sh" },
		{ "/x/cpu.max", "max 100000\n" },
		{ "/x/cpu.max", "max" },
		{ "/x/cpu.max", "1 2 3" },
		{ "/x/cpu.cfs_quota_us", "" },
		{ "/x/cpu.cfs_quota_us", "1; reboot" },
		{ "/x/io.max", "254:0 rbps=1 foo=2" },
		{ "/x/blkio.throttle.read_bps_device", "254:0" },
		{ "/x/cpuset.cpus", "0-3\n/etc/passwd" },
		{ "/x/cpu.shares", "-1" },
		{ "/x/cpu.weight", "100 200" },
		{ "/x/io.weight", "default 100\n254:0 300" },
		{ "/x/io.weight", "100" },
	};
	char saved[512], path[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		ck_assert_msg(tb_saved_check(good[i][0], good[i][1]) == 0, "refused %s = %s",
			      good[i][0], good[i][1]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(tb_saved_check(bad[i][0], bad[i][1]) == -EINVAL, "took %s = %s",
			      bad[i][0], bad[i][1]);
	saved[0] = '\0';
	ck_assert_int_eq(tb_saved_add(saved, sizeof(saved), "/sys/fs/cgroup/cpu/a\n/etc/shadow\tx\n/b",
				      "cpu.max", "max 100000"), -EINVAL);
	ck_assert_str_eq(saved, "");
	/* A crafted string: only the well-formed line is written. */
	ck_assert_int_eq(cgt_put(tree, "passwd", "root:x:0:0"), 0);
	ck_assert_int_eq(cgt_put(tree, "cpu.max", "1000 100000"), 0);
	snprintf(saved, sizeof(saved), "%s/x\n%s/passwd\tpwned\n%s/cpu.max\tmax 100000\n", tree, tree,
		 tree);
	ck_assert_int_eq(tb_saved_restore_files(files, saved), -EINVAL);
	ck_assert_str_eq(outside(tree, "passwd"), "root:x:0:0");
	ck_assert_str_eq(outside(tree, "cpu.max"), "max 100000");
	/* Nor through a symbolic link named like a control file. */
	snprintf(path, sizeof(path), "%s/cpu.max", tree);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink("passwd", path), 0);
	snprintf(saved, sizeof(saved), "%s/cpu.max\tmax 100000\n", tree);
	ck_assert_int_eq(tb_saved_restore_files(files, saved), -ELOOP);
	ck_assert_int_eq(tb_saved_restore(saved), -ELOOP);
	ck_assert_str_eq(outside(tree, "passwd"), "root:x:0:0");
}
END_TEST

/* Restore's lines, read one at a time without writing anything. */
START_TEST(saved_lines_are_split_and_checked)
{
	const char *text = "/a/cpu.max\tmax 100000\n\n/a/passwd\tx\nno tab\n/a/cpu.cfs_quota_us\t-1";
	const char *at = text;
	char path[TB_SAVED_LINE_MAX], value[TB_SAVED_LINE_MAX], *huge;

	ck_assert_int_eq(tb_saved_next(&at, path, value), 1);
	ck_assert_str_eq(path, "/a/cpu.max");
	ck_assert_str_eq(value, "max 100000");
	ck_assert_int_eq(tb_saved_next(&at, path, value), -EINVAL);   /* empty line */
	ck_assert_int_eq(tb_saved_next(&at, path, value), -EINVAL);   /* not a control file */
	ck_assert_int_eq(tb_saved_next(&at, path, value), -EINVAL);   /* no tab */
	ck_assert_int_eq(tb_saved_next(&at, path, value), 1);         /* last, no newline */
	ck_assert_str_eq(value, "-1");
	ck_assert_int_eq(tb_saved_next(&at, path, value), 0);
	ck_assert_int_eq(tb_saved_next(&at, path, value), 0);
	/* A path longer than the buffers is refused, not copied. */
	huge = malloc(2 * TB_SAVED_LINE_MAX);
	ck_assert_ptr_nonnull(huge);
	memset(huge, 'a', 2 * TB_SAVED_LINE_MAX);
	huge[0] = '/';
	strcpy(huge + TB_SAVED_LINE_MAX + 10, "\t1");
	at = huge;
	ck_assert_int_eq(tb_saved_next(&at, path, value), -EINVAL);
	ck_assert_int_eq(tb_saved_next(&at, path, value), 0);
	free(huge);
}
END_TEST

/* A tree's shape is asked each time: it is not a mount that cannot change. */
START_TEST(tree_version_asked_each_time)
{
	char path[128];

	ck_assert_int_eq(tb_cg_files_is_v2(files, tree), 0);
	ck_assert_int_eq(cgt_put(tree, "cgroup.controllers", "cpu io\n"), 0);
	ck_assert_int_eq(tb_cg_files_is_v2(files, tree), 1);
	snprintf(path, sizeof(path), "%s/cgroup.controllers", tree);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(tb_cg_files_is_v2(files, tree), 0);
	ck_assert_int_eq(tb_cg_files_is_v2(NULL, tree), 0);
}
END_TEST

/* ---- real cgroups (root) ---- */

static void setup_real(void)
{
	files = tb_cg_files_new();
	ck_assert_ptr_nonnull(files);
	if (!is_root())
		return;
	ck_assert_int_eq(cgt_mkcg(cg), 0);
}

static void teardown_real(void)
{
	char child[300];

	tb_cg_files_free(files);
	files = NULL;
	if (!is_root())
		return;
	for (int i = 0; i < TB_CG_FILES_MAX + 8; i++) {
		snprintf(child, sizeof(child), "%s/c%d", cg, i);
		cgt_rmcg(child);
	}
	cgt_rmcg(cg);
	cgt_rmcg(cgset);
}

/* One descriptor per file, whatever the number of reads and writes, exact
 * values seen from outside, and every descriptor closed by free. */
START_TEST(real_one_descriptor_per_file)
{
	char buf[64];
	int fds;

	if (!is_root())
		return;
	fds = open_fds();
	ck_assert_int_eq(tb_cg_files_is_v2(files, cg), 0);
	ck_assert_int_eq(tb_cg_files_is_v2(files, "/sys/fs/cgroup/unified"),
			 access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0);
	for (int i = 0; i < 200; i++) {
		char value[32];

		snprintf(value, sizeof(value), "%d", 1000 + i * 100);
		ck_assert_int_eq(tb_cg_files_write(files, cg, "cpu.cfs_quota_us", value), 0);
		ck_assert_int_eq(tb_cg_files_read(files, cg, "cpu.cfs_quota_us", buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, value);
		ck_assert_str_eq(outside(cg, "cpu.cfs_quota_us"), value);
	}
	ck_assert_int_eq(tb_cg_files_read(files, cg, "cpu.cfs_period_us", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, outside(cg, "cpu.cfs_period_us"));
	ck_assert_int_eq(open_fds(), fds + 2);
	/* The kernel's answer to a bad value is the caller's, and the file stays kept. */
	ck_assert_int_eq(tb_cg_files_write(files, cg, "cpu.cfs_quota_us", "10"), -EINVAL);
	ck_assert_int_eq(tb_cg_files_write(files, cg, "cpu.cfs_quota_us", "-1"), 0);
	ck_assert_str_eq(outside(cg, "cpu.cfs_quota_us"), "-1");
	ck_assert_int_eq(open_fds(), fds + 2);
	tb_cg_files_free(files);
	files = NULL;
	ck_assert_int_eq(open_fds(), fds);
}
END_TEST

/* A cgroup removed and made again under the same path: the kept file answers
 * ENODEV, is reopened, and the new cgroup gets the value.  Gone for good:
 * -ENOENT, as without kept files. */
START_TEST(real_recreated_cgroup)
{
	char saved[512], buf[64];

	if (!is_root())
		return;
	ck_assert_int_eq(tb_cg_files_write(files, cg, "cpu.cfs_quota_us", "50000"), 0);
	ck_assert_int_eq(tb_cg_files_is_v2(files, cg), 0);
	ck_assert_int_eq(rmdir(cg), 0);
	ck_assert_int_eq(tb_cg_files_write(files, cg, "cpu.cfs_quota_us", "60000"), -ENOENT);
	ck_assert_int_eq(tb_cg_files_read(files, cg, "cpu.cfs_quota_us", buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(mkdir(cg, 0755), 0);
	ck_assert_int_eq(tb_cg_files_write(files, cg, "cpu.cfs_quota_us", "70000"), 0);
	ck_assert_str_eq(outside(cg, "cpu.cfs_quota_us"), "70000");
	/* Recreated between two uses of a kept file, with nothing failing in between. */
	ck_assert_int_eq(rmdir(cg), 0);
	ck_assert_int_eq(mkdir(cg, 0755), 0);
	ck_assert_int_eq(tb_cg_files_read(files, cg, "cpu.cfs_quota_us", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "-1");
	ck_assert_int_eq(rmdir(cg), 0);
	ck_assert_int_eq(mkdir(cg, 0755), 0);
	saved[0] = '\0';
	ck_assert_int_eq(tb_saved_add(saved, sizeof(saved), cg, "cpu.cfs_quota_us", "80000"), 0);
	ck_assert_int_eq(tb_saved_restore_files(files, saved), 0);
	ck_assert_str_eq(outside(cg, "cpu.cfs_quota_us"), "80000");
	ck_assert_int_eq(tb_cg_files_is_v2(files, cg), 0);
}
END_TEST

/* More files than a set keeps: the oldest are closed, every value is right. */
START_TEST(real_more_files_than_kept)
{
	int n = TB_CG_FILES_MAX + 8, fds;
	char child[300], value[32], buf[64];

	if (!is_root())
		return;
	for (int i = 0; i < n; i++) {
		snprintf(child, sizeof(child), "%s/c%d", cg, i);
		ck_assert_int_eq(mkdir(child, 0755), 0);
	}
	fds = open_fds();
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < n; i++) {
			snprintf(child, sizeof(child), "%s/c%d", cg, i);
			snprintf(value, sizeof(value), "%d", 10000 + 1000 * i + round);
			ck_assert_int_eq(tb_cg_files_write(files, child, "cpu.cfs_quota_us", value), 0);
		}
	ck_assert_int_le(open_fds(), fds + TB_CG_FILES_MAX);
	for (int i = 0; i < n; i++) {
		snprintf(child, sizeof(child), "%s/c%d", cg, i);
		snprintf(value, sizeof(value), "%d", 10000 + 1000 * i + 1);
		ck_assert_str_eq(outside(child, "cpu.cfs_quota_us"), value);
		ck_assert_int_eq(tb_cg_files_read(files, child, "cpu.cfs_quota_us", buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, value);
	}
	tb_cg_files_free(files);
	files = NULL;
	ck_assert_int_eq(open_fds(), fds);
}
END_TEST

/* A read-only file (v1 cpuset.effective_cpus) is read; writing it is refused
 * by the kernel, not by the set. */
START_TEST(real_read_only_file)
{
	char buf[256], mems[256];

	if (!is_root() || access(CPUSET_ROOT "/cpuset.effective_cpus", F_OK) < 0)
		return;
	ck_assert_int_eq(cgt_mkcg(cgset), 0);
	snprintf(mems, sizeof(mems), "%s", outside(CPUSET_ROOT, "cpuset.mems"));
	ck_assert_int_eq(tb_cg_files_write(files, cgset, "cpuset.mems", mems), 0);
	ck_assert_int_eq(tb_cg_files_write(files, cgset, "cpuset.cpus", "0"), 0);
	ck_assert_int_eq(tb_cg_files_read(files, cgset, "cpuset.effective_cpus", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0");
	ck_assert_int_lt(tb_cg_files_write(files, cgset, "cpuset.effective_cpus", "0"), 0);
	ck_assert_int_eq(tb_cg_files_write(files, cgset, "cpuset.cpus", "\n"), 0);
	ck_assert_str_eq(outside(cgset, "cpuset.cpus"), "");
	ck_assert_int_eq(tb_cg_files_read(files, cgset, "cpuset.effective_cpus", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cgroup_files");
	TCase *trees = tcase_create("trees"), *real = tcase_create("real cgroup v1");
	SRunner *sr;
	int failed;

	if (!is_root())
		fprintf(stderr, "not root: the real-cgroup cases are skipped\n");
	/* Named in the parent, so the parent can remove them whatever a test did. */
	snprintf(cg, sizeof(cg), CPU_ROOT "/throttlebot-files-%d", (int)getpid());
	snprintf(cgset, sizeof(cgset), CPUSET_ROOT "/throttlebot-files-%d", (int)getpid());
	tcase_add_checked_fixture(trees, setup_tree, teardown_tree);
	tcase_add_test(trees, cpulist_count);
	tcase_add_test(trees, tree_files_follow_the_name);
	tcase_add_test(trees, tree_version_asked_each_time);
	tcase_add_test(trees, saved_state_is_checked);
	tcase_add_test(trees, saved_lines_are_split_and_checked);
	tcase_add_checked_fixture(real, setup_real, teardown_real);
	tcase_set_timeout(real, 30);
	tcase_add_test(real, real_one_descriptor_per_file);
	tcase_add_test(real, real_recreated_cgroup);
	tcase_add_test(real, real_more_files_than_kept);
	tcase_add_test(real, real_read_only_file);
	suite_add_tcase(s, trees);
	suite_add_tcase(s, real);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (is_root()) {
		char child[300];

		for (int i = 0; i < TB_CG_FILES_MAX + 8; i++) {
			snprintf(child, sizeof(child), "%s/c%d", cg, i);
			cgt_rmcg(child);
		}
		cgt_rmcg(cg);
		cgt_rmcg(cgset);
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
