/* check_memory.c - the memory throttler: limits from usage or capacity with a floor, exact restore, hostile saved text refused, a real OOM kill told. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "cgtest.h"
#include "testhost.h"

#define P (&throttlebot_plugin)
#define MiB (1LL << 20)

extern const struct tb_throttler throttlebot_plugin;

/*
 * cgroup v1 runs on the real memory hierarchy.  cgroup v2 runs on a
 * cgroupfs-shaped tree: this machine's v2 mount does not offer the memory
 * controller (it is bound to v1), so the v2 file formats are checked there.
 */
#define V1_ROOT "/sys/fs/cgroup/memory"

struct inst {
	struct tb_test_plugin t;
	void *st;
};

static char cg[256], tree[64], datafile[256];
static pid_t child;

static void open_plugin(struct inst *in, const char *config)
{
	ck_assert_int_eq(tb_test_plugin_open(&in->t, P, config), 0);
	ck_assert_int_eq(P->init(&in->t.in.host, tb_test_plugin_config(&in->t), &in->st), 0);
}

static void close_plugin(struct inst *in)
{
	P->fini(in->st);
	tb_test_plugin_close(&in->t);
}

static long long value_of(const char *dir, const char *file)
{
	char buf[64];

	ck_assert_int_eq(tb_cg_read(dir, file, buf, sizeof(buf)), 0);
	return strtoll(buf, NULL, 10);
}

static void text_of(const char *dir, const char *file, char *buf, size_t size)
{
	ck_assert_int_eq(tb_cg_read(dir, file, buf, size), 0);
}

/* The "usage" the saved text recorded. */
static long long saved_usage(const char *saved)
{
	const char *u = strstr(saved, "\nusage\t");

	ck_assert_ptr_nonnull(u);
	return strtoll(u + 7, NULL, 10);
}

static long long page_down(long long bytes)
{
	long page = sysconf(_SC_PAGESIZE);

	return bytes / page * page;
}

/* ---- cgroup v1, real ---- */

/* A process in a fresh memory cgroup that fills mib MiB of page cache (its
 * own file, so the pages are charged to it) and then waits. */
static void setup_v1(void)
{
	if (!tb_test_is_root())
		return;
	snprintf(cg, sizeof(cg), V1_ROOT "/throttlebot-test-mem-%d", (int)getpid());
	snprintf(datafile, sizeof(datafile), "/var/tmp/throttlebot-test-mem-%d.dat", (int)getpid());
	ck_assert_int_eq(cgt_mkcg(cg), 0);
}

static void fill_cache(int mib)
{
	int ready[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		static char block[1 << 20];
		int fd;

		close(ready[0]);
		/* Wait to be moved into the cgroup: the parent writes our pid. */
		for (int i = 0; i < 100; i++) {
			char self[64], buf[4096];
			FILE *f = fopen("/proc/self/cgroup", "r");
			size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

			if (f)
				fclose(f);
			buf[n] = '\0';
			snprintf(self, sizeof(self), "throttlebot-test-mem-%d", (int)getppid());
			if (strstr(buf, self))
				break;
			usleep(20000);
		}
		memset(block, 'm', sizeof(block));
		fd = open(datafile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		for (int i = 0; fd >= 0 && i < mib; i++)
			if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
				_exit(1);
		if (fd < 0 || fsync(fd) < 0)
			_exit(1);
		close(fd);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		sleep(30);              /* bounded, in case the test dies */
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(cgt_attach(cg, child), 0);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
}

static void teardown_v1(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = 0;
	}
	if (*datafile)
		unlink(datafile);
	if (*cg)
		cgt_rmcg(cg);
}

START_TEST(v1_limit_is_a_share_of_usage)
{
	struct tb_target target = { .id = "cache", .cgroup = { [TB_CG_MEMORY] = cg } };
	char saved[TB_SAVED_MAX] = "", before[64], after[64], memsw[64];
	long long usage, want;
	struct inst in;

	if (!tb_test_is_root())
		return;
	fill_cache(64);
	open_plugin(&in, NULL);
	text_of(cg, "memory.limit_in_bytes", before, sizeof(before));
	text_of(cg, "memory.memsw.limit_in_bytes", memsw, sizeof(memsw));
	usage = value_of(cg, "memory.usage_in_bytes");
	ck_assert_int_ge(usage, 60 * MiB);
	ck_assert_int_eq(P->save(in.st, &target, saved, sizeof(saved)), 0);
	/* The usage is read when saved: about what we just read (other work
	 * in the cgroup: none, so within a few pages). */
	ck_assert_int_lt(llabs(saved_usage(saved) - usage), 1 * MiB);
	ck_assert_int_eq(P->apply(in.st, &target, saved, 0.6), 0);
	want = page_down((long long)(0.4 * (double)saved_usage(saved) + 0.5));
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), want);
	/* The process really holds less: its cache was reclaimed to fit. */
	ck_assert_int_le(value_of(cg, "memory.usage_in_bytes"), want);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	text_of(cg, "memory.limit_in_bytes", after, sizeof(after));
	ck_assert_str_eq(after, before);
	text_of(cg, "memory.memsw.limit_in_bytes", after, sizeof(after));
	ck_assert_str_eq(after, memsw);
	/* Idempotent. */
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	text_of(cg, "memory.limit_in_bytes", after, sizeof(after));
	ck_assert_str_eq(after, before);
	close_plugin(&in);
}
END_TEST

START_TEST(v1_capacity_floor_and_an_operators_limit)
{
	struct tb_target target = { .id = "cache", .cgroup = { [TB_CG_MEMORY] = cg } };
	char saved[TB_SAVED_MAX] = "", after[64];
	struct inst in;
	double amount;

	if (!tb_test_is_root())
		return;
	fill_cache(8);
	/* A capacity: (1 - k) of it, whatever the usage. */
	open_plugin(&in, "capacity = 104857600; floor = 20971520;");
	ck_assert_int_eq(P->allocation(in.st, &target, &amount), -ENODATA);
	ck_assert_int_eq(P->save(in.st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &target, saved, 0.5), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 50 * MiB);
	ck_assert_int_eq(P->allocation(in.st, &target, &amount), 0);
	ck_assert_int_eq((long long)amount, 50 * MiB);
	/* Never below the floor: 0.9 of 100 MiB would leave 10 MiB. */
	ck_assert_int_eq(P->apply(in.st, &target, saved, 0.9), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 20 * MiB);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	text_of(cg, "memory.limit_in_bytes", after, sizeof(after));
	ck_assert_str_eq(after, "9223372036854771712");

	/* An operator's limit below (1 - k) of the capacity stays: a throttle never loosens. */
	ck_assert_int_eq(tb_cg_write(cg, "memory.limit_in_bytes", "41943040"), 0);
	saved[0] = '\0';
	ck_assert_int_eq(P->save(in.st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &target, saved, 0.2), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 40 * MiB);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 40 * MiB);
	close_plugin(&in);
}
END_TEST

START_TEST(v1_allocate_above_memsw_and_back)
{
	struct tb_target target = { .id = "cache", .cgroup = { [TB_CG_MEMORY] = cg } };
	char saved[TB_SAVED_MAX] = "", how[128];
	struct inst in;

	if (!tb_test_is_root() || access(V1_ROOT "/memory.memsw.limit_in_bytes", F_OK) < 0)
		return;
	fill_cache(4);
	ck_assert_int_eq(tb_cg_write(cg, "memory.limit_in_bytes", "104857600"), 0);
	ck_assert_int_eq(tb_cg_write(cg, "memory.memsw.limit_in_bytes", "104857600"), 0);
	open_plugin(&in, NULL);
	ck_assert_int_eq(P->save(in.st, &target, saved, sizeof(saved)), 0);
	/* Above memory+swap's limit: that is raised first, or the kernel refuses. */
	ck_assert_int_eq(P->allocate(in.st, &target, saved, 150.0 * MiB), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 150 * MiB);
	ck_assert_int_eq(value_of(cg, "memory.memsw.limit_in_bytes"), 150 * MiB);
	/* The soft limit is unlimited: nothing to raise. */
	ck_assert_int_eq(P->prioritize(in.st, &target, saved, 2.0, how, sizeof(how)), 0);
	ck_assert_msg(strstr(how, "already unlimited") != NULL, "%s", how);
	ck_assert_int_eq(tb_cg_write(cg, "memory.soft_limit_in_bytes", "20971520"), 0);
	ck_assert_int_eq(P->prioritize(in.st, &target, saved, 2.0, how, sizeof(how)), 0);
	ck_assert_str_eq(how, "memory.soft_limit_in_bytes 20971520 -> 41943040");
	ck_assert_int_eq(value_of(cg, "memory.soft_limit_in_bytes"), 40 * MiB);
	/* Back down in whichever order the kernel accepts. */
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 100 * MiB);
	ck_assert_int_eq(value_of(cg, "memory.memsw.limit_in_bytes"), 100 * MiB);
	ck_assert_int_eq(value_of(cg, "memory.soft_limit_in_bytes"), 9223372036854771712LL);
	/* More than the machine has. */
	ck_assert_int_eq(P->allocate(in.st, &target, saved, 1e15), -ERANGE);
	close_plugin(&in);
}
END_TEST

/* A process that allocates and touches 128 MiB when told to, under a 32 MiB limit: killed by the kernel. */
START_TEST(v1_oom_kill_is_told)
{
	struct tb_target target = { .id = "hog", .cgroup = { [TB_CG_MEMORY] = cg } };
	char saved[TB_SAVED_MAX] = "", why[128] = "";
	int go[2], status;
	struct inst in;

	if (!tb_test_is_root())
		return;
	ck_assert_int_eq(pipe(go), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char c;
		char *p;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		p = malloc(128 << 20);
		for (size_t i = 0; p && i < (128u << 20); i += 4096)
			p[i] = 1;
		_exit(0);
	}
	close(go[0]);
	ck_assert_int_eq(cgt_attach(cg, child), 0);
	open_plugin(&in, "capacity = 67108864; hard = true;");
	ck_assert_int_eq(P->save(in.st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &target, saved, 0.5), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 32 * MiB);
	ck_assert_int_eq(P->check(in.st, &target, saved, why, sizeof(why)), 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	status = cgt_wait(child, 20);
	child = 0;
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	ck_assert_int_eq(P->check(in.st, &target, saved, why, sizeof(why)), 1);
	ck_assert_msg(!strcmp(why, "oom_kill 1 (memory.oom_control)") ||
		      !strncmp(why, "failcnt ", 8), "%s", why);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	ck_assert_int_eq(value_of(cg, "memory.limit_in_bytes"), 9223372036854771712LL);
	close_plugin(&in);
}
END_TEST

/* ---- cgroup v2, on a cgroupfs-shaped tree ---- */

static void setup_tree(void)
{
	strcpy(tree, "/tmp/throttlebot-memv2-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tree));
	ck_assert_int_eq(cgt_put(tree, "cgroup.controllers", "cpuset cpu io memory pids\n"), 0);
	ck_assert_int_eq(cgt_put(tree, "memory.high", "max\n"), 0);
	ck_assert_int_eq(cgt_put(tree, "memory.max", "max\n"), 0);
	ck_assert_int_eq(cgt_put(tree, "memory.low", "0\n"), 0);
	ck_assert_int_eq(cgt_put(tree, "memory.current", "104857600\n"), 0);
	ck_assert_int_eq(cgt_put(tree, "memory.events",
				 "low 0\nhigh 3\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"), 0);
}

static void teardown_tree(void)
{
	tb_test_sh("rm -rf %s", tree);
}

START_TEST(v2_high_then_max_when_hard)
{
	struct tb_target target = { .id = "v2", .cgroup = { [TB_CG_MEMORY] = tree } };
	char saved[TB_SAVED_MAX] = "", value[64], why[128] = "", how[128];
	struct inst in;
	double amount;

	open_plugin(&in, NULL);
	ck_assert_int_eq(P->allocation(in.st, &target, &amount), -ENODATA);
	ck_assert_int_eq(P->save(in.st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &target, saved, 0.6), 0);
	/* 0.4 of 100 MiB, page-aligned; memory.max left alone without hard. */
	ck_assert_int_eq(value_of(tree, "memory.high"), page_down(41943040));
	text_of(tree, "memory.max", value, sizeof(value));
	ck_assert_str_eq(value, "max");
	ck_assert_int_eq(P->allocation(in.st, &target, &amount), 0);
	ck_assert_int_eq((long long)amount, 41943040);
	ck_assert_int_eq(P->check(in.st, &target, saved, why, sizeof(why)), 0);
	ck_assert_int_eq(cgt_put(tree, "memory.events",
				 "low 0\nhigh 9\nmax 2\noom 2\noom_kill 2\noom_group_kill 0\n"), 0);
	ck_assert_int_eq(P->check(in.st, &target, saved, why, sizeof(why)), 1);
	ck_assert_str_eq(why, "oom_kill 2 (memory.events)");
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	text_of(tree, "memory.high", value, sizeof(value));
	ck_assert_str_eq(value, "max");
	/* Priority: memory.low from nothing starts at the usage. */
	ck_assert_int_eq(P->prioritize(in.st, &target, saved, 2.0, how, sizeof(how)), 0);
	ck_assert_str_eq(how, "memory.low 0 -> 209715200");
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	text_of(tree, "memory.low", value, sizeof(value));
	ck_assert_str_eq(value, "0");
	close_plugin(&in);

	open_plugin(&in, "hard = true; floor = 67108864;");
	ck_assert_int_eq(cgt_put(tree, "memory.high", "94371840\n"), 0);
	saved[0] = '\0';
	ck_assert_int_eq(P->save(in.st, &target, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(in.st, &target, saved, 0.6), 0);
	ck_assert_int_eq(value_of(tree, "memory.high"), 64 * MiB);      /* the floor */
	ck_assert_int_eq(value_of(tree, "memory.max"), 64 * MiB);
	ck_assert_int_eq(P->allocate(in.st, &target, saved, 80.0 * MiB), 0);
	ck_assert_int_eq(value_of(tree, "memory.high"), 80 * MiB);
	ck_assert_int_eq(value_of(tree, "memory.max"), 80 * MiB);
	ck_assert_int_eq(P->restore(in.st, saved), 0);
	text_of(tree, "memory.high", value, sizeof(value));
	ck_assert_str_eq(value, "94371840");
	text_of(tree, "memory.max", value, sizeof(value));
	ck_assert_str_eq(value, "max");
	close_plugin(&in);
}
END_TEST

START_TEST(hostile_saved_text_refused)
{
	char good[512], text[1024], value[64];
	const char *bad[] = {
		"/etc/passwd\tmax\n",
		"%s/memory.high\t1; rm -rf /\n",
		"%s/memory.high\t-5\n",
		"%s/cpu.max\tmax 100000\n",
		"%s/../x/memory.high\tmax\n",
		"%s/memory.high max\n",
		"usage\t-5\n",
		"usage\t12\nusage\t13\n",
		"oom\tmemory.stat\t1\n",
		"oom\tmemory.events\t1x\n",
		"oom\t../memory.events\t1\n",
		"limit\t5\n",
		"/tmp/a/memory.high\tmax\n",      /* a second directory, after the good line */
	};
	struct inst in;

	open_plugin(&in, NULL);
	snprintf(good, sizeof(good), "%s/memory.high\t12345678\n", tree);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char line[512];

		snprintf(line, sizeof(line), bad[i], tree);
		/* After a good line: nothing at all is written from refused text. */
		snprintf(text, sizeof(text), "%s%s", good, line);
		ck_assert_msg(P->restore(in.st, text) == -EINVAL, "accepted: %s", line);
		text_of(tree, "memory.high", value, sizeof(value));
		ck_assert_str_eq(value, "max");
	}
	ck_assert_int_eq(P->restore(in.st, ""), 0);
	ck_assert_int_eq(P->restore(in.st, good), 0);
	text_of(tree, "memory.high", value, sizeof(value));
	ck_assert_str_eq(value, "12345678");
	close_plugin(&in);
}
END_TEST

START_TEST(settings_checked)
{
	ck_assert_int_eq(tb_test_init(P, "capacity = 1000;"), -EINVAL);
	ck_assert_int_eq(tb_test_init(P, "floor = -1;"), -EINVAL);
	ck_assert_int_eq(tb_test_init(P, "hard = 3;"), -EINVAL);
	ck_assert_int_eq(tb_test_init(P, "capacity = 1073741824; floor = 0; hard = true;"), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memory");
	TCase *v1 = tcase_create("v1"), *v2 = tcase_create("v2");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(v1, setup_v1, teardown_v1);
	tcase_set_timeout(v1, 60);
	tcase_add_test(v1, v1_limit_is_a_share_of_usage);
	tcase_add_test(v1, v1_capacity_floor_and_an_operators_limit);
	tcase_add_test(v1, v1_allocate_above_memsw_and_back);
	tcase_add_test(v1, v1_oom_kill_is_told);
	tcase_add_checked_fixture(v2, setup_tree, teardown_tree);
	tcase_add_test(v2, v2_high_then_max_when_hard);
	tcase_add_test(v2, hostile_saved_text_refused);
	tcase_add_test(v2, settings_checked);
	suite_add_tcase(s, v1);
	suite_add_tcase(s, v2);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
