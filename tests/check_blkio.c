/* check_blkio.c - the blkio throttler on cgroupfs-shaped trees (v1, v2), a fake sysfs, and real v1 blkio with dd. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "blockdev.h"
#include "cgroup_file.h"
#include "cgtest.h"
#include "testhost.h"

extern const struct tb_throttler throttlebot_plugin;
static const struct tb_throttler *const P = &throttlebot_plugin;

#define V1_ROOT "/sys/fs/cgroup/blkio"
#define MiB (1024.0 * 1024.0)

static const char *const v1_files[] = {
	"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device", NULL,
};

/* Set before Check forks each test, so the parent's teardown knows them. */
static char fake[256];      /* cgroupfs- and sysfs-shaped trees */
static char data[256];      /* a directory on a real disk, for dd */
static char real_cg[256];

static void fixture_setup(void)
{
	char t1[] = "/tmp/throttlebot-test-blkio-XXXXXX";
	char t2[] = "/var/tmp/throttlebot-test-blkio-XXXXXX";

	if (!mkdtemp(t1) || !mkdtemp(t2)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(fake, sizeof(fake), "%s", t1);
	snprintf(data, sizeof(data), "%s", t2);
	snprintf(real_cg, sizeof(real_cg), V1_ROOT "/throttlebot-test-blkio-%d", (int)getpid());
}

static void fixture_teardown(void)
{
	cgt_rmcg(real_cg);
	if (data[0])
		tb_test_sh("losetup -n -O NAME -j '%s/loop.img' | xargs -r -n1 losetup -d", data);
	if (fake[0])
		tb_test_sh("rm -rf '%s'", fake);
	if (data[0])
		tb_test_sh("rm -rf '%s'", data);
}

struct inst {
	struct tb_test_plugin t;
	void *st;
};

static void inst_open(struct inst *in, const char *config)
{
	ck_assert_int_eq(tb_test_plugin_open(&in->t, P, config), 0);
	ck_assert_int_eq(P->init(&in->t.in.host, tb_test_plugin_config(&in->t), &in->st), 0);
}

static void inst_close(struct inst *in)
{
	P->fini(in->st);
	tb_test_plugin_close(&in->t);
}

/* init() with config must fail with -EINVAL. */
static void init_fails(const char *config)
{
	ck_assert_msg(tb_test_init(P, config) == -EINVAL, "init accepted: %s", config);
}

static const char *content(const char *dir, const char *file)
{
	static char buf[8192];
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ck_assert_int_ge(cgt_slurp(path, buf, sizeof(buf)), 0);
	return buf;
}

static struct tb_target target(const char *dir)
{
	struct tb_target t = { .id = "test" };

	t.cgroup[TB_CG_IO] = dir;
	return t;
}

/* Some whole disk of this machine, "MAJ:MIN", for settings that need one. */
static void some_disk(char *out, size_t size)
{
	DIR *d = opendir("/sys/dev/block");
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	out[0] = '\0';
	while ((e = readdir(d)) && !out[0]) {
		char path[512];

		snprintf(path, sizeof(path), "/sys/dev/block/%s/partition", e->d_name);
		if (e->d_name[0] != '.' && access(path, F_OK) < 0)
			snprintf(out, size, "%.20s", e->d_name);
	}
	closedir(d);
	ck_assert_msg(out[0], "no block device on this machine");
}

/*
 * cgroupfs replaces a file's value on every write; a regular file keeps the
 * old tail past a shorter write.  So the fake trees empty the files the
 * plugin writes before each apply or restore (neither reads them back).
 */
static void blank(const char *dir)
{
	if (tb_cg_is_v2(dir)) {
		ck_assert_int_eq(cgt_put(dir, "io.max", ""), 0);
		return;
	}
	for (int i = 0; v1_files[i]; i++)
		ck_assert_int_eq(cgt_put(dir, v1_files[i], ""), 0);
}

static int fake_apply(struct inst *in, const struct tb_target *t, const char *saved, double stress)
{
	blank(t->cgroup[TB_CG_IO]);
	return P->apply(in->st, t, saved, stress);
}

static int fake_restore(struct inst *in, const struct tb_target *t, const char *saved)
{
	blank(t->cgroup[TB_CG_IO]);
	return P->restore(in->st, saved);
}

/* A fresh directory fake/name for one test's tree. */
static const char *subdir(const char *name)
{
	static char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", fake, name);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	return dir;
}

/* --- whole-disk resolution against a sysfs-shaped tree -------------------- */

START_TEST(blockdev_sysfs)
{
	char sys[300], disk[400], part[512], node[512], expect[512], path[512];
	struct tb_blockdev dev;
	struct stat st;

	snprintf(sys, sizeof(sys), "%s/sys", fake);
	snprintf(disk, sizeof(disk), "%s/devices/virtual/block/sdz", sys);
	snprintf(part, sizeof(part), "%s/sdz1", disk);
	ck_assert_int_eq(tb_test_sh("mkdir -p '%s' '%s/dev/block'", part, sys), 0);
	ck_assert_int_eq(cgt_put(disk, "dev", "8:0\n"), 0);
	ck_assert_int_eq(cgt_put(disk, "uevent", "MAJOR=8\nMINOR=0\nDEVNAME=sdz\nDEVTYPE=disk\n"), 0);
	ck_assert_int_eq(cgt_put(part, "dev", "8:1\n"), 0);
	ck_assert_int_eq(cgt_put(part, "partition", "1\n"), 0);
	ck_assert_int_eq(tb_test_sh("ln -s ../../devices/virtual/block/sdz '%s/dev/block/8:0' && "
				    "ln -s ../../devices/virtual/block/sdz/sdz1 '%s/dev/block/8:1'",
				    sys, sys), 0);

	ck_assert_int_eq(tb_blockdev_parse("8:1", &dev), 0);
	ck_assert_uint_eq(dev.major, 8);
	ck_assert_uint_eq(dev.minor, 1);
	ck_assert_int_eq(tb_blockdev_whole(sys, &dev), 0);      /* partition -> disk */
	ck_assert_uint_eq(dev.major, 8);
	ck_assert_uint_eq(dev.minor, 0);
	ck_assert_int_eq(tb_blockdev_whole(sys, &dev), 0);      /* disk stays */
	ck_assert_uint_eq(dev.minor, 0);
	ck_assert_int_eq(tb_blockdev_node(sys, &dev, node, sizeof(node)),
			 stat("/dev/sdz", &st) == 0 ? 0 : -ENOENT);
	ck_assert_int_eq(tb_blockdev_parse("9:9", &dev), 0);
	ck_assert_int_eq(tb_blockdev_whole(sys, &dev), -ENODEV);
	ck_assert_int_eq(tb_blockdev_parse("8", &dev), -EINVAL);
	ck_assert_int_eq(tb_blockdev_parse("a:b", &dev), -EINVAL);
	ck_assert_int_eq(tb_blockdev_parse("8:1x", &dev), -EINVAL);
	ck_assert_int_eq(tb_blockdev_parse("8:", &dev), -EINVAL);

	/* The real sysfs: "/" sits on a disk, or on something that is none. */
	if (tb_blockdev_of_path(NULL, "/", &dev) == 0) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", dev.major, dev.minor);
		ck_assert_int_ne(access(path, F_OK), 0);
		if (tb_blockdev_node(NULL, &dev, node, sizeof(node)) == 0) {
			ck_assert_int_eq(stat(node, &st), 0);
			ck_assert_int_eq(tb_blockdev_of_path(NULL, node, &dev), 0);
			snprintf(expect, sizeof(expect), "%u:%u", dev.major, dev.minor);
			snprintf(path, sizeof(path), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
			ck_assert_str_eq(path, expect);
		}
	}
	ck_assert_int_eq(tb_blockdev_of_path(NULL, "/proc", &dev), -ENODEV);
	ck_assert_int_eq(tb_blockdev_of_path(NULL, "/nonexistent/throttlebot", &dev), -ENOENT);
}
END_TEST

/* --- cgroupfs-shaped trees ------------------------------------------------ */

START_TEST(v2_io_max)
{
	char dev[32], config[256], saved[TB_SAVED_MAX], expect[1024], other[64];
	const char *dir = subdir("v2");
	struct tb_target t = target(dir);
	struct inst a;
	double cap = 0;

	some_disk(dev, sizeof(dev));
	ck_assert_int_eq(cgt_put(dir, "cgroup.controllers", "cpuset cpu io memory pids\n"), 0);
	/* Another device's limits, never to be touched. */
	snprintf(other, sizeof(other), "%s", strcmp(dev, "8:16") ? "8:16" : "8:32");

	/* No limit on the device yet: restore writes "max" for what apply set. */
	snprintf(config, sizeof(config), "device = \"%s\"; capacity = 8388608;", dev);
	inst_open(&a, config);
	ck_assert_int_eq(P->probe(a.st, &t, &cap), 0);
	ck_assert_double_eq(cap, 8388608);
	snprintf(expect, sizeof(expect), "%s rbps=1 wbps=2 riops=3 wiops=4\n", other);
	ck_assert_int_eq(cgt_put(dir, "io.max", expect), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	snprintf(expect, sizeof(expect), "%s/io.max\t%s rbps=max wbps=max\n", dir, dev);
	ck_assert_str_eq(saved, expect);
	ck_assert_int_eq(fake_apply(&a, &t, saved, 0.5), 0);
	snprintf(expect, sizeof(expect), "%s rbps=4194304 wbps=4194304", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(fake_apply(&a, &t, saved, 0.75), 0);
	snprintf(expect, sizeof(expect), "%s rbps=2097152 wbps=2097152", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(fake_restore(&a, &t, saved), 0);
	snprintf(expect, sizeof(expect), "%s rbps=max wbps=max", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(fake_restore(&a, &t, saved), 0);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(P->apply(a.st, &t, saved, 1.0), -EINVAL);
	inst_close(&a);

	/* An operator's limits on the device: only the key we set comes back. */
	snprintf(config, sizeof(config), "device = \"%s\"; direction = \"write\"; capacity = 8388608;",
		 dev);
	inst_open(&a, config);
	snprintf(expect, sizeof(expect), "%s rbps=1 wbps=2 riops=3 wiops=4\n"
		 "%s rbps=max wbps=1048576 riops=max wiops=100\n", other, dev);
	ck_assert_int_eq(cgt_put(dir, "io.max", expect), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	snprintf(expect, sizeof(expect), "%s/io.max\t%s wbps=1048576\n", dir, dev);
	ck_assert_str_eq(saved, expect);
	ck_assert_int_eq(fake_apply(&a, &t, saved, 0.75), 0);
	snprintf(expect, sizeof(expect), "%s wbps=2097152", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(fake_restore(&a, &t, saved), 0);
	snprintf(expect, sizeof(expect), "%s wbps=1048576", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	inst_close(&a);

	/* IO/s, reads only; a limit never rounds down to 0 ("no limit"). */
	snprintf(config, sizeof(config), "device = \"%s\"; direction = \"read\"; limit = \"iops\"; "
		 "capacity = 1000;", dev);
	inst_open(&a, config);
	ck_assert_int_eq(cgt_put(dir, "io.max", ""), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(fake_apply(&a, &t, saved, 0.5), 0);
	snprintf(expect, sizeof(expect), "%s riops=500", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(fake_apply(&a, &t, saved, 0.9999), 0);
	snprintf(expect, sizeof(expect), "%s riops=1", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(fake_restore(&a, &t, saved), 0);
	snprintf(expect, sizeof(expect), "%s riops=max", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);

	/* A v2 cgroup whose parent did not enable the io controller. */
	snprintf(expect, sizeof(expect), "%s/io.max", dir);
	ck_assert_int_eq(unlink(expect), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), -ENOENT);
	inst_close(&a);
}
END_TEST

/* allocation, allocate and prioritize on a v2 tree (this host's v2 mount has
 * no io controller); a fake io.weight keeps only the last line written. */
START_TEST(v2_allocations)
{
	char dev[32], config[256], saved[TB_SAVED_MAX], expect[1024], how[128];
	const char *dir = subdir("v2alloc");
	struct tb_target t = target(dir);
	struct inst a;
	double n = 0;

	some_disk(dev, sizeof(dev));
	ck_assert_int_eq(cgt_put(dir, "cgroup.controllers", "cpuset cpu io memory pids\n"), 0);
	ck_assert_int_eq(cgt_put(dir, "io.max", ""), 0);
	ck_assert_int_eq(cgt_put(dir, "io.weight", "default 100\n"), 0);
	snprintf(config, sizeof(config), "device = \"%s\"; capacity = 8388608;", dev);
	inst_open(&a, config);
	ck_assert_int_eq(P->allocation(a.st, &t, &n), -ENODATA);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	snprintf(expect, sizeof(expect), "%s/io.max\t%s rbps=max wbps=max\n%s/io.weight\tdefault 100\n",
		 dir, dev, dir);
	ck_assert_str_eq(saved, expect);
	blank(dir);
	ck_assert_int_eq(P->allocate(a.st, &t, saved, 2097152), 0);
	snprintf(expect, sizeof(expect), "%s rbps=2097152 wbps=2097152", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);
	ck_assert_int_eq(P->allocation(a.st, &t, &n), 0);
	ck_assert_double_eq(n, 2097152);
	ck_assert_int_eq(P->allocate(a.st, &t, saved, 8388609), -ERANGE);
	ck_assert_int_eq(P->allocate(a.st, &t, saved, 0.5), -ERANGE);
	ck_assert_int_eq(P->prioritize(a.st, &t, saved, 10, how, sizeof(how)), 0);
	ck_assert_str_eq(how, "io.weight default 100 -> 1000");
	ck_assert_str_eq(content(dir, "io.weight"), "default 1000");
	ck_assert_int_eq(fake_restore(&a, &t, saved), 0);
	ck_assert_str_eq(content(dir, "io.weight"), "default 100");
	snprintf(expect, sizeof(expect), "%s rbps=max wbps=max", dev);
	ck_assert_str_eq(content(dir, "io.max"), expect);

	/* The disk's own weight is what counts for it: that one is raised. */
	snprintf(expect, sizeof(expect), "default 100\n%s 200\n", dev);
	ck_assert_int_eq(cgt_put(dir, "io.weight", expect), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->prioritize(a.st, &t, saved, 3, how, sizeof(how)), 0);
	snprintf(expect, sizeof(expect), "io.weight %s 200 -> 600", dev);
	ck_assert_str_eq(how, expect);
	snprintf(expect, sizeof(expect), "%s 600", dev);
	ck_assert_str_eq(content(dir, "io.weight"), expect);
	ck_assert_int_eq(fake_restore(&a, &t, saved), 0);
	snprintf(expect, sizeof(expect), "%s 200", dev);
	ck_assert_str_eq(content(dir, "io.weight"), expect);
	/* At the highest already; and a kernel without io.weight. */
	ck_assert_int_eq(cgt_put(dir, "io.weight", "default 10000\n"), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->prioritize(a.st, &t, saved, 2, how, sizeof(how)), -ERANGE);
	snprintf(expect, sizeof(expect), "%s/io.weight", dir);
	ck_assert_int_eq(unlink(expect), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_ptr_null(strstr(saved, "io.weight"));
	ck_assert_int_eq(P->prioritize(a.st, &t, saved, 2, how, sizeof(how)), -EOPNOTSUPP);
	/* A weight of a shape restore() would refuse is not saved: the
	 * throttle still works, only prioritize() has nothing to raise. */
	ck_assert_int_eq(cgt_put(dir, "io.weight", "default 1x\n"), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_ptr_null(strstr(saved, "io.weight"));
	/* A weight line of the wrong shape is refused, and nothing written. */
	ck_assert_int_eq(cgt_put(dir, "io.weight", "default 100\n"), 0);
	snprintf(saved, sizeof(saved), "%s/io.weight\tdefault 1 2\n", dir);
	ck_assert_int_eq(P->restore(a.st, saved), -EINVAL);
	ck_assert_str_eq(content(dir, "io.weight"), "default 100\n");
	inst_close(&a);
}
END_TEST

START_TEST(v1_files_fake)
{
	char dev[32], config[256], saved[TB_SAVED_MAX], expect[1024], line[128];
	const char *dir = subdir("v1");
	struct tb_target t = target(dir);
	struct inst a, fresh;

	some_disk(dev, sizeof(dev));
	snprintf(config, sizeof(config), "device = \"%s\"; capacity = 8388608;", dev);
	inst_open(&a, config);
	ck_assert_int_eq(cgt_put(dir, "blkio.throttle.read_bps_device", ""), 0);
	snprintf(line, sizeof(line), "8:16 100\n%s 5000\n", dev);
	ck_assert_int_eq(cgt_put(dir, "blkio.throttle.write_bps_device", line), 0);
	ck_assert_int_eq(cgt_put(dir, "blkio.throttle.read_iops_device", ""), 0);
	ck_assert_int_eq(cgt_put(dir, "blkio.throttle.write_iops_device", ""), 0);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	snprintf(expect, sizeof(expect),
		 "%s/blkio.throttle.read_bps_device\t%s 0\n"
		 "%s/blkio.throttle.write_bps_device\t%s 5000\n", dir, dev, dir, dev);
	ck_assert_str_eq(saved, expect);
	ck_assert_int_eq(fake_apply(&a, &t, saved, 0.5), 0);
	snprintf(expect, sizeof(expect), "%s 4194304", dev);
	ck_assert_str_eq(content(dir, "blkio.throttle.read_bps_device"), expect);
	ck_assert_str_eq(content(dir, "blkio.throttle.write_bps_device"), expect);
	ck_assert_str_eq(content(dir, "blkio.throttle.read_iops_device"), "");
	ck_assert_str_eq(content(dir, "blkio.throttle.write_iops_device"), "");
	inst_close(&a);

	/* After a crash: a fresh instance without settings restores. */
	ck_assert_int_eq(tb_test_plugin_open(&fresh.t, P, NULL), 0);
	ck_assert_int_eq(P->init(&fresh.t.in.host, NULL, &fresh.st), 0);
	ck_assert_int_eq(fake_restore(&fresh, &t, saved), 0);
	snprintf(expect, sizeof(expect), "%s 0", dev);
	ck_assert_str_eq(content(dir, "blkio.throttle.read_bps_device"), expect);
	snprintf(expect, sizeof(expect), "%s 5000", dev);
	ck_assert_str_eq(content(dir, "blkio.throttle.write_bps_device"), expect);
	/* A restore-only instance cannot throttle. */
	ck_assert_int_lt(P->save(fresh.st, &t, saved, sizeof(saved)), 0);
	inst_close(&fresh);
}
END_TEST

START_TEST(restore_gone)
{
	char dev[32], config[256], saved[TB_SAVED_MAX];
	const char *dir = subdir("gone");
	struct tb_target t;
	struct inst a;

	some_disk(dev, sizeof(dev));
	for (int i = 0; v1_files[i]; i++)
		ck_assert_int_eq(cgt_put(dir, v1_files[i], ""), 0);
	t = target(dir);
	snprintf(config, sizeof(config), "device = \"%s\"; capacity = 1000000;", dev);
	inst_open(&a, config);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(tb_test_sh("rm -rf '%s'", dir), 0);
	ck_assert_int_eq(P->restore(a.st, saved), 0);
	ck_assert_int_eq(P->restore(a.st, "garbage without a tab"), -EINVAL);
	t.cgroup[TB_CG_IO] = NULL;
	ck_assert_int_lt(P->save(a.st, &t, saved, sizeof(saved)), 0);
	inst_close(&a);
}
END_TEST

START_TEST(bad_settings)
{
	char dev[32], config[512];

	some_disk(dev, sizeof(dev));
	init_fails("direction = \"sideways\";");
	init_fails("limit = \"kbps\";");
	init_fails("capacity = 0;");
	init_fails("probe_seconds = 100;");
	init_fails("device = \"/nonexistent/throttlebot\";");
	init_fails("path = \"/proc\";");
	snprintf(config, sizeof(config), "device = \"%s\"; path = \"/\";", dev);
	init_fails(config);
}
END_TEST

/* --- real v1 blkio, with dd ----------------------------------------------- */

/* Run dd with args in cg; its elapsed wall time, or < 0. */
static double dd_in(const char *cg, char *const args[])
{
	char *argv[16] = { "dd" };
	double t0 = cgt_now();
	int status, i;
	pid_t pid;

	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (cg && cgt_attach(cg, getpid()) < 0)
			_exit(126);
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(126);
		execvp("dd", argv);
		_exit(127);
	}
	status = cgt_wait(pid, 20);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "dd failed (%d)", status);
	return cgt_now() - t0;
}

static long long file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (long long)st.st_size;
}

/* The four v1 throttle files, concatenated byte for byte. */
static void snapshot(const char *cg, char *out, size_t size)
{
	size_t used = 0;

	for (int i = 0; v1_files[i]; i++) {
		const char *c = content(cg, v1_files[i]);

		used += (size_t)snprintf(out + used, size - used, "[%s]%s", v1_files[i], c);
		ck_assert_uint_lt(used, size);
	}
}

static void disk_of_data(char *dev, size_t size)
{
	struct tb_blockdev d;

	ck_assert_int_eq(tb_blockdev_of_path(NULL, data, &d), 0);
	snprintf(dev, size, "%u:%u", d.major, d.minor);
}

START_TEST(real_probe)
{
	char config[512], dev[32];
	struct tb_target t = target(V1_ROOT);
	struct inst a;
	double cap = 0, again = 0, t0;
	char img[300], loop[64];
	DIR *d;
	FILE *f;
	struct dirent *e;
	int entries = 0;

	disk_of_data(dev, sizeof(dev));
	/* Reads of the disk itself. */
	snprintf(config, sizeof(config), "path = \"%s\"; probe_seconds = 0.3;", data);
	inst_open(&a, config);
	ck_assert_int_eq(P->probe(a.st, &t, &cap), 0);
	t0 = cgt_now();
	ck_assert_int_eq(P->probe(a.st, &t, &again), 0);
	ck_assert_double_lt(cgt_now() - t0, 0.05);      /* measured once */
	ck_assert_double_eq(again, cap);
	fprintf(stderr, "blkio: %s measured at %.1f MiB/s (reads, or writes where reads are denied)\n",
		dev, cap / MiB);
	ck_assert_double_gt(cap, 1 * MiB);
	inst_close(&a);

	/* Writes where the service writes, leaving nothing behind. */
	snprintf(config, sizeof(config), "path = \"%s\"; direction = \"write\"; probe_seconds = 0.3;",
		 data);
	inst_open(&a, config);
	ck_assert_int_eq(P->probe(a.st, &t, &cap), 0);
	fprintf(stderr, "blkio: %s measured at %.1f MiB/s (writes)\n", dev, cap / MiB);
	ck_assert_double_gt(cap, 1 * MiB);
	inst_close(&a);
	d = opendir(data);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		entries += e->d_name[0] != '.' || strncmp(e->d_name, ".throttlebot", 12) == 0;
	closedir(d);
	ck_assert_int_eq(entries, 0);

	/* Direct reads of a disk this test may open: a loop device. */
	snprintf(img, sizeof(img), "%s/loop.img", data);
	ck_assert_int_eq(tb_test_sh("truncate -s 64M '%s'", img), 0);
	snprintf(config, sizeof(config), "losetup -f --show '%s'", img);
	f = popen(config, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(loop, sizeof(loop), f));
	ck_assert_int_eq(pclose(f), 0);
	loop[strcspn(loop, "\n")] = '\0';
	snprintf(config, sizeof(config), "device = \"%s\"; probe_seconds = 0.3;", loop);
	inst_open(&a, config);
	ck_assert_int_eq(P->probe(a.st, &t, &cap), 0);
	fprintf(stderr, "blkio: %s measured at %.1f MiB/s (direct reads)\n", loop, cap / MiB);
	ck_assert_double_gt(cap, 1 * MiB);
	inst_close(&a);
	ck_assert_int_eq(tb_test_sh("losetup -d '%s'", loop), 0);
	ck_assert_int_eq(unlink(img), 0);

	/* IO/s. */
	snprintf(config, sizeof(config), "path = \"%s\"; limit = \"iops\"; probe_seconds = 0.3;",
		 data);
	inst_open(&a, config);
	ck_assert_int_eq(P->probe(a.st, &t, &cap), 0);
	fprintf(stderr, "blkio: %s measured at %.0f IO/s\n", dev, cap);
	ck_assert_double_gt(cap, 50);
	inst_close(&a);
}
END_TEST

START_TEST(real_write_limit)
{
	char config[512], dev[32], line[64], before[4096], after[4096], out[512];
	char count[] = "count=12";
	char *args[] = { "if=/dev/zero", NULL, "bs=1M", count, "oflag=direct", NULL };
	struct tb_target t = target(real_cg);
	char saved[TB_SAVED_MAX];
	struct inst a;
	double secs, rate;

	disk_of_data(dev, sizeof(dev));
	ck_assert_int_eq(cgt_mkcg(real_cg), 0);
	/* The operator's own limit (100 MiB/s) must come back exactly. */
	snprintf(line, sizeof(line), "%s 104857600", dev);
	ck_assert_int_eq(tb_cg_write(real_cg, "blkio.throttle.write_bps_device", line), 0);
	snapshot(real_cg, before, sizeof(before));

	snprintf(config, sizeof(config), "path = \"%s\"; direction = \"write\"; capacity = 8388608;",
		 data);
	inst_open(&a, config);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(a.st, &t, saved, 0.5), 0);
	snprintf(line, sizeof(line), "%s 4194304\n", dev);
	ck_assert_str_eq(content(real_cg, "blkio.throttle.write_bps_device"), line);

	snprintf(out, sizeof(out), "of=%s/w", data);
	args[1] = out;
	secs = dd_in(real_cg, args);
	rate = (double)file_size(out + 3) / secs;
	fprintf(stderr, "blkio: dd wrote 12 MiB in %.2f s = %.2f MiB/s under a 4 MiB/s limit\n",
		secs, rate / MiB);
	ck_assert_double_ge(rate, 4 * MiB * 0.85);
	ck_assert_double_le(rate, 4 * MiB * 1.15);

	ck_assert_int_eq(P->restore(a.st, saved), 0);
	snapshot(real_cg, after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(P->restore(a.st, saved), 0);
	snapshot(real_cg, after, sizeof(after));
	ck_assert_str_eq(after, before);
	inst_close(&a);
}
END_TEST

START_TEST(real_both_limit)
{
	char config[512], dev[32], before[4096], after[4096], out[512], in[512];
	char *wargs[] = { "if=/dev/zero", out, "bs=1M", "count=8", "oflag=direct", NULL };
	char *rargs[] = { in, "of=/dev/null", "bs=1M", "iflag=direct", NULL };
	struct tb_target t = target(real_cg);
	char saved[TB_SAVED_MAX];
	struct inst a;
	double secs, rate;

	disk_of_data(dev, sizeof(dev));
	ck_assert_int_eq(cgt_mkcg(real_cg), 0);
	snapshot(real_cg, before, sizeof(before));      /* no limits at all */
	snprintf(out, sizeof(out), "of=%s/rw", data);
	snprintf(in, sizeof(in), "if=%s/rw", data);

	snprintf(config, sizeof(config), "path = \"%s\"; capacity = 8388608;", data);
	inst_open(&a, config);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(a.st, &t, saved, 0.5), 0);
	secs = dd_in(real_cg, wargs);
	rate = (double)file_size(out + 3) / secs;
	fprintf(stderr, "blkio: dd wrote 8 MiB at %.2f MiB/s under a 4 MiB/s limit\n", rate / MiB);
	ck_assert_double_ge(rate, 4 * MiB * 0.85);
	ck_assert_double_le(rate, 4 * MiB * 1.15);
	secs = dd_in(real_cg, rargs);
	rate = (double)file_size(in + 3) / secs;
	fprintf(stderr, "blkio: dd read 8 MiB at %.2f MiB/s under a 4 MiB/s limit\n", rate / MiB);
	ck_assert_double_ge(rate, 4 * MiB * 0.85);
	ck_assert_double_le(rate, 4 * MiB * 1.15);

	ck_assert_int_eq(P->restore(a.st, saved), 0);
	snapshot(real_cg, after, sizeof(after));
	ck_assert_str_eq(after, before);
	/* Unthrottled again: the same read is much faster. */
	secs = dd_in(real_cg, rargs);
	fprintf(stderr, "blkio: after restore, dd read 8 MiB at %.2f MiB/s\n",
		8 * MiB / secs / MiB);
	ck_assert_double_lt(secs, 1.0);
	inst_close(&a);
}
END_TEST

START_TEST(real_iops_limit)
{
	char config[512], before[4096], after[4096], out[512];
	char *prep[] = { "if=/dev/zero", out, "bs=16k", "count=400", "oflag=direct", NULL };
	char *wargs[] = { "if=/dev/zero", out, "bs=16k", "count=300", "oflag=direct",
			  "conv=notrunc", NULL };
	struct tb_target t = target(real_cg);
	char saved[TB_SAVED_MAX];
	struct inst a;
	double secs, iops;

	ck_assert_int_eq(cgt_mkcg(real_cg), 0);
	snapshot(real_cg, before, sizeof(before));
	snprintf(out, sizeof(out), "of=%s/iops", data);
	dd_in(NULL, prep);      /* allocate first: overwrites are one write each */

	snprintf(config, sizeof(config), "path = \"%s\"; direction = \"write\"; limit = \"iops\"; "
		 "capacity = 400;", data);
	inst_open(&a, config);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_int_eq(P->apply(a.st, &t, saved, 0.5), 0);
	secs = dd_in(real_cg, wargs);
	iops = 300 / secs;
	fprintf(stderr, "blkio: dd made 300 16 KiB writes at %.0f IO/s under a 200 IO/s limit\n",
		iops);
	ck_assert_double_ge(iops, 200 * 0.85);
	ck_assert_double_le(iops, 200 * 1.15);
	ck_assert_int_eq(P->restore(a.st, saved), 0);
	snapshot(real_cg, after, sizeof(after));
	ck_assert_str_eq(after, before);
	inst_close(&a);
}
END_TEST

/* A loop device over a file in data: a disk whose scheduler a test may set. */
static void make_loop(const char *name, char *loop, size_t size)
{
	char img[300], cmd[400];
	FILE *f;

	snprintf(img, sizeof(img), "%s/%s", data, name);
	ck_assert_int_eq(tb_test_sh("truncate -s 16M '%s'", img), 0);
	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s'", img);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(loop, (int)size, f));
	ck_assert_int_eq(pclose(f), 0);
	loop[strcspn(loop, "\n")] = '\0';
}

/*
 * On a real v1 cgroup and a loop device: allocate() sets the limit that
 * allocation() reads back and a reader gets more once it is raised;
 * prioritize() raises blkio.bfq.weight only while the disk runs BFQ;
 * restore puts every file back exactly.
 */
START_TEST(real_allocate_and_prioritize)
{
	char loop[64], config[512], before[4096], after[4096], sched[300], in[512], how[128];
	char weight[64], saved[TB_SAVED_MAX];
	char *rargs[] = { in, "of=/dev/null", "bs=64k", "count=32", "iflag=direct", NULL };
	struct tb_target t = target(real_cg);
	struct inst a;
	double n = 0, slow, fast;

	make_loop("alloc.img", loop, sizeof(loop));
	ck_assert_int_eq(cgt_mkcg(real_cg), 0);
	ck_assert_int_eq(tb_cg_write(real_cg, "blkio.bfq.weight", "150"), 0);
	snapshot(real_cg, before, sizeof(before));
	snprintf(config, sizeof(config), "device = \"%s\"; direction = \"read\"; capacity = 8388608;",
		 loop);
	inst_open(&a, config);
	ck_assert_int_eq(P->allocation(a.st, &t, &n), -ENODATA);
	ck_assert_int_eq(P->save(a.st, &t, saved, sizeof(saved)), 0);
	ck_assert_ptr_nonnull(strstr(saved, "/blkio.bfq.weight\t150\n"));
	snprintf(in, sizeof(in), "if=%s", loop);
	ck_assert_int_eq(P->allocate(a.st, &t, saved, 1048576), 0);
	ck_assert_int_eq(P->allocation(a.st, &t, &n), 0);
	ck_assert_double_eq(n, 1048576);
	slow = dd_in(real_cg, rargs);              /* 2 MiB at 1 MiB/s */
	ck_assert_int_eq(P->allocate(a.st, &t, saved, 8388608), 0);
	ck_assert_int_eq(P->allocation(a.st, &t, &n), 0);
	ck_assert_double_eq(n, 8388608);
	fast = dd_in(real_cg, rargs);              /* at 8 MiB/s */
	fprintf(stderr, "blkio: dd read 2 MiB of %s in %.2f s at 1 MiB/s, %.2f s at 8 MiB/s\n",
		loop, slow, fast);
	ck_assert_double_gt(slow, 1.5);
	ck_assert_double_lt(fast, slow / 2);
	ck_assert_int_eq(P->allocate(a.st, &t, saved, 8388609), -ERANGE);

	/* The loop device starts without a scheduler: the weight would count for nothing. */
	snprintf(sched, sizeof(sched), "/sys/block/%s/queue", strrchr(loop, '/') + 1);
	ck_assert_int_eq(tb_cg_write(sched, "scheduler", "none"), 0);
	ck_assert_int_eq(P->prioritize(a.st, &t, saved, 2, how, sizeof(how)), -EOPNOTSUPP);
	if (tb_cg_write(sched, "scheduler", "bfq") == 0) {
		ck_assert_int_eq(P->prioritize(a.st, &t, saved, 2, how, sizeof(how)), 0);
		ck_assert_str_eq(how, "blkio.bfq.weight 150 -> 300");
		ck_assert_int_eq(tb_cg_read(real_cg, "blkio.bfq.weight", weight, sizeof(weight)), 0);
		ck_assert_str_eq(weight, "300");
	} else {
		fprintf(stderr, "blkio: no BFQ for %s: the weight is not raised here\n", loop);
	}
	ck_assert_int_eq(P->restore(a.st, saved), 0);
	ck_assert_int_eq(P->restore(a.st, saved), 0);
	snapshot(real_cg, after, sizeof(after));
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(tb_cg_read(real_cg, "blkio.bfq.weight", weight, sizeof(weight)), 0);
	ck_assert_str_eq(weight, "150");
	inst_close(&a);
	cgt_rmcg(real_cg);
	ck_assert_int_eq(tb_test_sh("losetup -d '%s'", loop), 0);
}
END_TEST

static int real_possible(void)
{
	struct tb_blockdev d;
	char t[] = "/var/tmp/throttlebot-test-blkio-XXXXXX";
	int ok;

	if (!tb_test_is_root() || access(V1_ROOT "/blkio.throttle.write_bps_device", W_OK) < 0)
		return 0;
	if (!mkdtemp(t))
		return 0;
	ok = tb_blockdev_of_path(NULL, t, &d) == 0;
	rmdir(t);
	return ok;
}

static Suite *suite(void)
{
	Suite *s = suite_create("blkio");
	TCase *fake_tc = tcase_create("fake");
	TCase *real_tc = tcase_create("real");

	tcase_add_unchecked_fixture(fake_tc, fixture_setup, fixture_teardown);
	tcase_add_test(fake_tc, blockdev_sysfs);
	tcase_add_test(fake_tc, v2_io_max);
	tcase_add_test(fake_tc, v2_allocations);
	tcase_add_test(fake_tc, v1_files_fake);
	tcase_add_test(fake_tc, restore_gone);
	tcase_add_test(fake_tc, bad_settings);
	suite_add_tcase(s, fake_tc);
	if (real_possible()) {
		tcase_add_unchecked_fixture(real_tc, fixture_setup, fixture_teardown);
		tcase_set_timeout(real_tc, 30);
		tcase_add_test(real_tc, real_probe);
		tcase_add_test(real_tc, real_write_limit);
		tcase_add_test(real_tc, real_both_limit);
		tcase_add_test(real_tc, real_iops_limit);
		tcase_add_test(real_tc, real_allocate_and_prioritize);
		suite_add_tcase(s, real_tc);
	} else {
		fprintf(stderr, "SKIP real blkio tests: need root, v1 blkio at " V1_ROOT
			" and /var/tmp on a block device\n");
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
