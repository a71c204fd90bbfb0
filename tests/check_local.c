/* check_local.c - the local orchestrator on real cgroups, processes and network namespaces. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "cgroup_paths.h"
#include "inventory.h"
#include "journal.h"
#include "testhost.h"

extern const struct tb_orchestrator throttlebot_plugin;
#define P throttlebot_plugin

/* Every cgroup these tests make is named PARENT.<pid>; the runner's cleanup
 * removes whatever a failed test left under that name. */
#define PARENT "throttlebot-check-local"
#define NETSVC "checklocalnet"
static const char *const hiers[] = { "cpu", "cpuacct", "cpuset", "blkio", "memory" };
#define NHIERS (sizeof(hiers) / sizeof(hiers[0]))

static char tmp[] = "/tmp/throttlebot-check-local-XXXXXX";

/* ---------------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	usleep((useconds_t)ms * 1000);
}

static int exists(const char *fmt, ...)
{
	char path[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return access(path, F_OK) == 0;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The pids in a cgroup directory. */
static int procs(const char *dir, pid_t *pids, int max)
{
	return tb_cg_procs(dir, pids, (size_t)max);
}

static int in_procs(const char *dir, pid_t pid)
{
	pid_t pids[256];
	int n = procs(dir, pids, 256);

	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

/* Gone, or a zombie nobody reaped yet: it runs no more. */
static int process_gone(pid_t pid)
{
	char path[64], *s, *p;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	s = slurp(path);
	if (!s)
		return 1;
	p = strrchr(s, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

/* Wait (bounded) until dir holds n processes. */
static int wait_procs(const char *dir, int n, double seconds)
{
	pid_t pids[256];
	double end = now() + seconds;
	int got;

	do {
		got = procs(dir, pids, 256);
		if (got == n)
			return got;
		sleep_ms(20);
	} while (now() < end);
	return got;
}

/* A cgroup directory of this test process's launch: PARENT.<pid>/svc in hier. */
static void dir_of(char *out, size_t size, const char *hier, pid_t owner, const char *svc)
{
	snprintf(out, size, "/sys/fs/cgroup/%s/" PARENT ".%ld%s%s", hier, (long)owner, svc ? "/" : "",
		 svc ? svc : "");
}

/* The cgroup line of /proc/PID/cgroup for a v1 hierarchy, parsed here
 * independently of the plugin's helper. */
static int proc_cgroup_path(pid_t pid, const char *hier, char *out, size_t size)
{
	char path[64], line[4096];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *p;

		if (!ctl || !(p = strchr(ctl + 1, ':')))
			continue;
		*p++ = '\0';
		p[strcspn(p, "\n")] = '\0';
		for (char *save = NULL, *w = strtok_r(ctl + 1, ",", &save); w && !found;
		     w = strtok_r(NULL, ",", &save))
			if (!strcmp(w, hier)) {
				snprintf(out, size, "/sys/fs/cgroup/%s%s", hier, strcmp(p, "/") ? p : "");
				found = 1;
			}
	}
	fclose(f);
	return found;
}

/* Remove whatever a failed test left: run in the runner, not the test. */
static void cleanup_everything(void)
{
	if (!tb_test_is_root())
		return;
	for (int pass = 0; pass < 3; pass++)
		tb_test_sh("for d in $(find /sys/fs/cgroup/*/ -maxdepth 2 -type d -path '*/" PARENT ".*' "
			   "2>/dev/null | sort -r); do for p in $(cat $d/cgroup.procs 2>/dev/null); do "
			   "kill -9 $p 2>/dev/null; done; done; sleep 0.1; "
			   "for d in $(find /sys/fs/cgroup/*/ -maxdepth 2 -type d -path '*/" PARENT ".*' "
			   "2>/dev/null | sort -r); do rmdir $d 2>/dev/null; done; "
			   "for n in /run/netns/throttlebot-*-" NETSVC "; do [ -e $n ] && "
			   "ip netns del ${n##*/} 2>/dev/null; rm -f $n; done; true");
}

static void unchecked_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	cleanup_everything();
}

static void unchecked_teardown(void)
{
	cleanup_everything();
	tb_test_sh("rm -rf '%s'", tmp);
}

#define SKIP_UNLESS_ROOT() do { \
	if (!tb_test_is_root()) { \
		fprintf(stderr, "%s: skipped, needs root and real cgroups\n", __func__); \
		return; \
	} } while (0)

/* Open, init: the instance in t, its state in *st. */
static int open_local(struct tb_test_plugin *t, void **st, const char *fmt, ...)
{
	char text[8192];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r = tb_test_plugin_open(t, &P, text);
	if (r < 0)
		return r;
	return P.init(&t->in.host, tb_test_plugin_config(t), st);
}

static const struct tb_service *service(const struct tb_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nservices; i++)
		if (!strcmp(inv->services[i].name, name))
			return &inv->services[i];
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* cgroup_paths against cgroupfs-shaped trees (no root needed).            */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(paths_pure_v2_tree)
{
	char dir[1024], mi[1024], pc[1024], want[4096], text[8192];
	struct tb_cg_mounts m;
	char *dirs[TB_CG_SLOTS];
	int v2;

	snprintf(dir, sizeof(dir), "%s/v2", tmp);
	ck_assert_int_eq(tb_test_sh("mkdir -p %s/app.slice/web.service", dir), 0);
	snprintf(text, sizeof(text), "%s/cgroup.controllers", dir);
	write_file(text, "cpuset cpu io memory pids\n");
	snprintf(mi, sizeof(mi), "%s/mountinfo", tmp);
	snprintf(text, sizeof(text),
		 "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		 "30 23 0:26 / %s rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
		 dir);
	write_file(mi, text);
	snprintf(pc, sizeof(pc), "%s/proc-cgroup", tmp);
	write_file(pc, "0::/app.slice/web.service\n");

	ck_assert_int_eq(tb_cg_mounts_read(mi, &m), 0);
	ck_assert_str_eq(tb_cg_mount_of(&m, TB_CG_IO, &v2), dir);
	ck_assert_int_eq(v2, 1);
	ck_assert_int_eq(tb_cg_paths_parse(&m, pc, dirs), 0);
	snprintf(want, sizeof(want), "%s/app.slice/web.service", dir);
	for (int c = TB_CG_CPU; c <= TB_CG_MEMORY; c++)
		ck_assert_str_eq(dirs[c], want);
	tb_cg_paths_free(dirs);
	ck_assert_int_eq(tb_cg_paths_of_cgroup(&m, "/app.slice/web.service", dirs), 0);
	ck_assert_str_eq(dirs[TB_CG_CPU], want);
	tb_cg_paths_free(dirs);
	ck_assert_int_eq(tb_cg_paths_of_cgroup(&m, "/no/such", dirs), -ENOENT);
	tb_cg_mounts_free(&m);
}
END_TEST

/* Cgroup paths from outside (a configuration, an engine) never lead out of their hierarchy. */
START_TEST(paths_stay_in_the_hierarchy)
{
	char dir[1024], mi[1024], p[2048], text[4096];
	struct tb_cg_mounts m;
	char *dirs[TB_CG_SLOTS];

	snprintf(dir, sizeof(dir), "%s/confined", tmp);
	ck_assert_int_eq(tb_test_sh("mkdir -p %s/app/web %s/outside && ln -s %s/outside %s/app/out && "
				    "ln -s %s/nowhere %s/app/dangling && echo cpu > %s/cgroup.controllers",
				    dir, tmp, tmp, dir, tmp, dir, dir), 0);
	snprintf(mi, sizeof(mi), "%s/mountinfo-confined", tmp);
	snprintf(text, sizeof(text), "30 23 0:26 / %s rw - cgroup2 cgroup2 rw\n", dir);
	write_file(mi, text);
	ck_assert_int_eq(tb_cg_mounts_read(mi, &m), 0);
	ck_assert_int_eq(tb_cg_paths_of_cgroup(&m, "/app/web", dirs), 0);
	tb_cg_paths_free(dirs);
	ck_assert_int_eq(tb_cg_paths_of_cgroup(&m, "/app/../..", dirs), -EXDEV);
	ck_assert_int_eq(tb_cg_paths_of_cgroup(&m, "/app/out", dirs), -EXDEV);
	tb_cg_mounts_free(&m);
	/* Inside, existing or not yet; outside by "..", a symlink or a dangling one. */
	ck_assert_int_eq(tb_cg_confine(dir, dir), 0);
	snprintf(p, sizeof(p), "%s/app/web/../web/new/deeper", dir);
	ck_assert_int_eq(tb_cg_confine(dir, p), 0);
	snprintf(p, sizeof(p), "%s/app/new/../../..", dir);
	ck_assert_int_eq(tb_cg_confine(dir, p), -EXDEV);
	snprintf(p, sizeof(p), "%s/app/../../confined-not", dir);
	ck_assert_int_eq(tb_cg_confine(dir, p), -EXDEV);
	snprintf(p, sizeof(p), "%s/app/out/new", dir);
	ck_assert_int_eq(tb_cg_confine(dir, p), -EXDEV);
	snprintf(p, sizeof(p), "%s/app/dangling/new", dir);
	ck_assert_int_eq(tb_cg_confine(dir, p), -EXDEV);
}
END_TEST

START_TEST(paths_hybrid_tree)
{
	char mi[1024], pc[1024], v2dir[1024], text[8192];
	struct tb_cg_mounts m;
	char *dirs[TB_CG_SLOTS];

	/* v1 cpu+cpuacct together and memory, an empty v2 mount (no
	 * controllers), no blkio or cpuset at all; a mount point with a space. */
	snprintf(v2dir, sizeof(v2dir), "%s/unified", tmp);
	ck_assert_int_eq(tb_test_sh("mkdir -p %s", v2dir), 0);
	snprintf(text, sizeof(text), "%s/cgroup.controllers", v2dir);
	write_file(text, "\n");
	snprintf(mi, sizeof(mi), "%s/mountinfo-hybrid", tmp);
	snprintf(text, sizeof(text),
		 "32 31 0:29 / /cg/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
		 "35 31 0:32 / /cg/mem\\040ory rw,relatime - cgroup cgroup rw,memory\n"
		 "40 31 0:37 / /cg/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
		 "41 31 0:38 / %s rw,relatime - cgroup2 cgroup2 rw\n", v2dir);
	write_file(mi, text);
	snprintf(pc, sizeof(pc), "%s/proc-cgroup-hybrid", tmp);
	write_file(pc, "9:name=systemd:/user.slice\n4:memory:/m/x\n1:cpu,cpuacct:/c/y\n0::/user.slice\n");

	ck_assert_int_eq(tb_cg_mounts_read(mi, &m), 0);
	ck_assert_str_eq(m.cpuacct, "/cg/cpu,cpuacct");
	ck_assert_int_eq(tb_cg_paths_parse(&m, pc, dirs), 0);
	ck_assert_str_eq(dirs[TB_CG_CPU], "/cg/cpu,cpuacct/c/y");
	ck_assert_str_eq(dirs[TB_CG_MEMORY], "/cg/mem ory/m/x");
	ck_assert_ptr_null(dirs[TB_CG_IO]);       /* not offered by the empty v2 root */
	ck_assert_ptr_null(dirs[TB_CG_CPUSET]);
	tb_cg_paths_free(dirs);
	tb_cg_mounts_free(&m);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Configuration errors.                                                   */

/* init's result, with what it printed to stderr in err. */
static int init_capturing(const char *text, char *err, size_t size)
{
	struct tb_test_plugin t;
	char path[4096];
	void *st = NULL;
	int saved = dup(2), fd, r;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", tmp);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	r = open_local(&t, &st, "%s", text);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, err, size - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	if (r == 0)
		P.fini(st);
	tb_test_plugin_close(&t);
	return r;
}

START_TEST(config_errors_name_file_and_line)
{
	char err[4096];

	ck_assert_int_eq(init_capturing("services = (\n { name = \"w\";\n  command = [\"sleep\", \"1\"];\n"
					"  pid = 1; }\n);", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":4: local: service 'w' has both 'command' and 'pid'"));

	ck_assert_int_eq(init_capturing("services = ( { name = \"w\";\n command = [\"no-such-program-tb\"]; } );",
					err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: local: service 'w': program 'no-such-program-tb' not found in PATH"));

	ck_assert_int_eq(init_capturing("services = ( { name = \"w\"; command = [\"./no/such/prog\"]; } );",
					err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "program './no/such/prog' not found"));

	ck_assert_int_eq(init_capturing("services = ( { command = [\"sleep\", \"1\"]; } );", err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "missing key 'name'"));

	/* A typo in a service's key is caught, not ignored. */
	ck_assert_int_eq(init_capturing("services = ( { name = \"w\"; command = [\"sleep\", \"1\"];\n"
					"  ready_pth = \"/tmp/x\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: unknown key 'ready_pth'"));

	ck_assert_int_eq(init_capturing("services = ( { name = \"w\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "needs one of 'command', 'pid', 'pids', 'cgroup'"));

	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; pid = 1; },\n { name = \"a\"; pid = 1; } );",
					err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: local: service 'a' is named twice"));

	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; pid = 1; cwd = \"/\"; } );",
					err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'cwd' applies to a launched service"));

	ck_assert_int_eq(init_capturing("services = ( { name = \"a/b\"; pid = 1; } );", err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"]; netns = \"x\";"
					" new_netns = true; } );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" address = \"10.1.1.1/24\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"]; } );"
					" cgroup_parent = \"a/b\";", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( \"sleep\" );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; pid = 1; } );\n"
					"log_dir = \"/no/such/dir\";", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: local: cannot write in /no/such/dir"));

	/* The ready_* keys are checked before anything starts. */
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];\n"
					" ready_tcp = \"localhost\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: local: service 'a': ready_tcp must be \"host:port\""));
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" ready_tcp = \"::1:80\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" ready_tcp = \"127.0.0.1:0\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" ready_tcp = \"127.0.0.1:80x\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" ready_tcp = \"no-such-host.invalid:80\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "ready_tcp no-such-host.invalid: "));
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];\n"
					" ready_command = [\"no-such-check-tb\"]; } );", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, ":2: local: service 'a': ready_command: program "
				     "'no-such-check-tb' not found in PATH"));
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" ready_command = []; } );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; pid = 1;"
					" ready_tcp = \"127.0.0.1:5432\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'ready_tcp' applies to a launched service"));
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" ready_path = \"\"; } );", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\"];"
					" ready_tcp = \"[::1]:5432\"; ready_command = [\"true\"];"
					" ready_path = \"/x\"; } );", err, sizeof(err)), 0);

	/* Valid: PATH lookup, attach forms; and restore-only mode. */
	ck_assert_int_eq(init_capturing("services = ( { name = \"a\"; command = [\"sleep\", \"1\"]; },"
					" { name = \"b\"; pids = [1, 2]; }, { name = \"c\"; cgroup = \"/x\"; } );",
					err, sizeof(err)), 0);
	{
		struct tb_test_plugin t;
		void *st;

		ck_assert_int_eq(tb_test_plugin_open(&t, &P, NULL), 0);
		ck_assert_int_eq(P.init(&t.in.host, NULL, &st), 0);
		ck_assert_int_eq(P.restore(st, ""), 0);
		P.fini(st);
		tb_test_plugin_close(&t);
	}
}
END_TEST

START_TEST(plan_without_launch_declares_names_only)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	void *st;

	ck_assert_int_eq(open_local(&t, &st, "services = ( { name = \"a\"; command = [\"sleep\", \"1\"]; },"
				    " { name = \"b\"; pid = 1; } );"), 0);
	ck_assert_int_eq(P.discover(st, &inv), 0);
	ck_assert_uint_eq(inv.nservices, 2);
	ck_assert_str_eq(inv.services[0].name, "a");
	ck_assert_uint_eq(inv.services[0].ntargets, 0);
	ck_assert_uint_eq(inv.services[1].ntargets, 0);
	ck_assert_int_eq(P.stop(st), 0);
	tb_inventory_free(&inv);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Launching on real cgroups.                                              */

START_TEST(launch_discover_attach_stop)
{
	struct tb_test_plugin t, ta;
	struct tb_inventory inv = { 0 }, inva = { 0 };
	const struct tb_service *sh, *sl, *byid, *bycg;
	char dir[4096], want[4096];
	pid_t kids[256], all[512];
	void *st, *sta;
	int nkids, nall = 0;

	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"%s\";\n"
		"services = (\n"
		" { name = \"shell\"; command = [\"/bin/sh\", \"-c\", \"sleep 300 & sleep 300 & wait\"]; },\n"
		" { name = \"sleeper\"; command = [\"sleep\", \"300\"]; }\n);", tmp), 0);
	ck_assert_int_eq(P.launch(st), 0);
	ck_assert_int_eq(P.discover(st, &inv), 0);
	ck_assert_uint_eq(inv.nservices, 2);
	sh = service(&inv, "shell");
	sl = service(&inv, "sleeper");
	ck_assert_ptr_nonnull(sh);
	ck_assert_ptr_nonnull(sl);
	ck_assert_uint_eq(sh->ntargets, 1);
	ck_assert_uint_eq(sl->ntargets, 1);
	ck_assert_int_gt(sh->targets[0].pid, 0);

	/* A cgroup per service in every mounted hierarchy, holding its pid;
	 * the shell's children (started after exec) inherited it. */
	for (size_t i = 0; i < NHIERS; i++) {
		if (!exists("/sys/fs/cgroup/%s/cgroup.procs", hiers[i]))
			continue;
		dir_of(dir, sizeof(dir), hiers[i], getpid(), "shell");
		ck_assert_msg(in_procs(dir, sh->targets[0].pid), "%s lacks pid %d", dir,
			      (int)sh->targets[0].pid);
		ck_assert_int_eq(wait_procs(dir, 3, 5), 3);
		dir_of(dir, sizeof(dir), hiers[i], getpid(), "sleeper");
		ck_assert(in_procs(dir, sl->targets[0].pid));
		ck_assert_int_eq(wait_procs(dir, 1, 1), 1);
	}
	dir_of(dir, sizeof(dir), "cpu", getpid(), "shell");
	nkids = procs(dir, kids, 256);
	for (int i = 0; i < nkids; i++) {
		ck_assert(proc_cgroup_path(kids[i], "blkio", want, sizeof(want)));
		dir_of(dir, sizeof(dir), "blkio", getpid(), "shell");
		ck_assert_str_eq(want, dir);
		all[nall++] = kids[i];
	}
	all[nall++] = sl->targets[0].pid;

	/* discover: the directories per controller, no network of its own. */
	dir_of(dir, sizeof(dir), "cpu", getpid(), "shell");
	ck_assert_str_eq(sh->targets[0].cgroup[TB_CG_CPU], dir);
	dir_of(dir, sizeof(dir), "cpuset", getpid(), "shell");
	ck_assert_str_eq(sh->targets[0].cgroup[TB_CG_CPUSET], dir);
	ck_assert_str_eq(slurp(strcat(dir, "/cpuset.cpus")), slurp("/sys/fs/cgroup/cpuset/cpuset.cpus"));
	dir_of(dir, sizeof(dir), "blkio", getpid(), "shell");
	ck_assert_str_eq(sh->targets[0].cgroup[TB_CG_IO], dir);
	dir_of(dir, sizeof(dir), "memory", getpid(), "sleeper");
	ck_assert_str_eq(sl->targets[0].cgroup[TB_CG_MEMORY], dir);
	ck_assert_ptr_null(sh->targets[0].netns);
	ck_assert_ptr_null(sh->targets[0].ifname);
	snprintf(want, sizeof(want), "sleeper pid %ld", (long)sl->targets[0].pid);
	ck_assert_str_eq(sl->targets[0].id, want);
	ck_assert_int_eq(P.alive(st, &sl->targets[0]), 1);
	ck_assert_int_eq(P.alive(st, &sh->targets[0]), 1);

	/* Attaching by pid and by cgroup finds what /proc/PID/cgroup says. */
	ck_assert_int_eq(open_local(&ta, &sta,
		"services = ( { name = \"byid\"; pid = %ld; },\n"
		"             { name = \"bycg\"; cgroup = \"/" PARENT ".%ld/shell\"; } );",
		(long)sl->targets[0].pid, (long)getpid()), 0);
	ck_assert_int_eq(P.launch(sta), 0);
	ck_assert_int_eq(P.discover(sta, &inva), 0);
	byid = service(&inva, "byid");
	bycg = service(&inva, "bycg");
	ck_assert_uint_eq(byid->ntargets, 1);
	ck_assert_int_eq(byid->targets[0].pid, sl->targets[0].pid);
	static const struct { int ctl; const char *hier; } map[] = {
		{ TB_CG_CPU, "cpu" }, { TB_CG_CPUSET, "cpuset" }, { TB_CG_IO, "blkio" },
		{ TB_CG_MEMORY, "memory" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		ck_assert(proc_cgroup_path(sl->targets[0].pid, map[i].hier, want, sizeof(want)));
		ck_assert_str_eq(byid->targets[0].cgroup[map[i].ctl], want);
		ck_assert_str_eq(bycg->targets[0].cgroup[map[i].ctl], sh->targets[0].cgroup[map[i].ctl]);
	}
	ck_assert(in_procs(sh->targets[0].cgroup[TB_CG_CPU], bycg->targets[0].pid));
	ck_assert_ptr_null(byid->targets[0].netns);
	ck_assert_int_eq(P.alive(sta, &byid->targets[0]), 1);
	ck_assert_int_eq(P.stop(sta), 0);      /* attached: nothing of ours to stop */
	ck_assert(!process_gone(sl->targets[0].pid));

	/* stop: processes and cgroups gone, the parent too; twice is fine. */
	ck_assert_int_eq(P.stop(st), 0);
	for (int i = 0; i < nall; i++)
		ck_assert_msg(process_gone(all[i]), "pid %d survived stop", (int)all[i]);
	for (size_t i = 0; i < NHIERS; i++)
		ck_assert(!exists("/sys/fs/cgroup/%s/" PARENT ".%ld", hiers[i], (long)getpid()));
	ck_assert_int_eq(P.alive(st, &sl->targets[0]), 0);
	ck_assert_int_eq(P.alive(sta, &byid->targets[0]), 0);
	ck_assert_int_eq(P.stop(st), 0);
	ck_assert_int_eq(access(tmp, F_OK), 0);

	tb_inventory_free(&inva);
	P.fini(sta);
	tb_test_plugin_close(&ta);
	tb_inventory_free(&inv);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* A process group that ignores SIGTERM is killed after the grace period. */
START_TEST(stop_kills_what_ignores_sigterm)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	char dir[4096];
	pid_t pids[64];
	void *st;
	double t0;
	int n;

	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
		"services = ( { name = \"stubborn\"; command = [\"/bin/sh\", \"-c\","
		" \"trap '' TERM; touch %s/stubborn; while :; do sleep 0.05; done\"];"
		" ready_path = \"%s/stubborn\"; } );", tmp, tmp), 0);
	ck_assert_int_eq(P.launch(st), 0);
	dir_of(dir, sizeof(dir), "cpu", getpid(), "stubborn");
	n = procs(dir, pids, 64);
	ck_assert_int_ge(n, 1);
	t0 = now();
	ck_assert_int_eq(P.stop(st), 0);
	ck_assert_double_ge(now() - t0, 4.5);
	ck_assert_double_lt(now() - t0, 10);
	for (int i = 0; i < n; i++)
		ck_assert(process_gone(pids[i]));
	ck_assert(!exists("%s", dir));
	tb_inventory_free(&inv);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

static int unix_listener(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return fd;
}

/* A stale socket at ready_path is removed; a live one (another run's) is
 * left alone and the launch refused. */
START_TEST(ready_path_stale_or_live)
{
	struct tb_test_plugin t;
	char sock[100], conf[2048];
	void *st;
	int fd;

	SKIP_UNLESS_ROOT();
	snprintf(sock, sizeof(sock), "%s/ready.sock", tmp);
	snprintf(conf, sizeof(conf),
		 "cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
		 "services = ( { name = \"w\"; command = [\"/bin/sh\", \"-c\", \"sleep 0.3; touch %s; exec sleep 300\"];"
		 " ready_path = \"%s\"; } );", sock, sock);

	fd = unix_listener(sock);
	ck_assert_int_eq(open_local(&t, &st, "%s", conf), 0);
	ck_assert_int_eq(P.launch(st), -EADDRINUSE);
	ck_assert(exists("%s", sock));
	ck_assert(!exists("/sys/fs/cgroup/cpu/" PARENT ".%ld", (long)getpid()));

	close(fd);                      /* now stale */
	ck_assert_int_eq(P.launch(st), 0);
	ck_assert(exists("%s", sock));     /* made anew by the service */
	ck_assert_int_eq(P.stop(st), 0);
	P.fini(st);
	tb_test_plugin_close(&t);
	unlink(sock);
}
END_TEST

/* What launch() logged and reported, from stderr. */
static char captured[8192];
static int capture_fd = -1, saved_stderr = -1;

static void capture_begin(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/launch-stderr", tmp);
	capture_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(capture_fd, 0);
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(capture_fd, 2);
}

static const char *capture_end(void)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	n = pread(capture_fd, captured, sizeof(captured) - 1, 0);
	captured[n > 0 ? n : 0] = '\0';
	close(capture_fd);
	return captured;
}

/* Launch the configured services, timing it; the log in captured. */
static int launch_timed(void *st, double *seconds)
{
	double t0 = now();
	int r;

	capture_begin();
	r = P.launch(st);
	capture_end();
	*seconds = now() - t0;
	return r;
}

/* Launch one service, its entry's keys in fmt, with the common settings,
 * and stop it again: launch()'s result, its duration in *took, its log in
 * captured.  The entry starts on the config's line 2. */
static int launch_service(double *took, const char *fmt, ...)
{
	struct tb_test_plugin t;
	char entry[4096];
	va_list ap;
	void *st;
	int r;

	va_start(ap, fmt);
	vsnprintf(entry, sizeof(entry), fmt, ap);
	va_end(ap);
	ck_assert_int_eq(open_local(&t, &st, "cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
				    "services = ( { %s } );", entry), 0);
	r = launch_timed(st, took);
	if (r == 0)
		ck_assert_int_eq(P.stop(st), 0);
	P.fini(st);
	tb_test_plugin_close(&t);
	for (size_t i = 0; i < NHIERS; i++)
		ck_assert(!exists("/sys/fs/cgroup/%s/" PARENT ".%ld", hiers[i], (long)getpid()));
	return r;
}

/* A file left at ready_path by an earlier run neither blocks the launch nor
 * makes it return before the service made its own; a symlink there is
 * removed, not what it points to; one that cannot be removed safely (a
 * symlinked directory on the way) is disregarded until made anew. */
START_TEST(ready_path_left_from_before)
{
	static const char touching[] = "name = \"w\"; command = [\"/bin/sh\", \"-c\", "
		"\"sleep 0.5; touch \\\"$0\\\"; exec sleep 300\", \"%s\"]; ready_path = \"%s\";";
	char path[256], victim[256], linkdir[256];
	double took;

	SKIP_UNLESS_ROOT();
	snprintf(path, sizeof(path), "%s/ready.flag", tmp);
	write_file(path, "an earlier run\n");
	ck_assert_int_eq(launch_service(&took, touching, path, path), 0);
	ck_assert_double_ge(took, 0.5);
	ck_assert_msg(strstr(captured, "removed ") != NULL, "%s", captured);
	ck_assert_ptr_nonnull(slurp(path));
	ck_assert_str_eq(slurp(path), "");      /* the service's, not the old one */

	/* A symlink at ready_path: the link goes, its target stays. */
	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	write_file(victim, "keep me\n");
	unlink(path);
	ck_assert_int_eq(symlink(victim, path), 0);
	ck_assert_int_eq(launch_service(&took, touching, path, path), 0);
	ck_assert_double_ge(took, 0.5);
	ck_assert_str_eq(slurp(victim), "keep me\n");

	/* Through a symlinked directory: not removed, and not taken for ready
	 * until the service touches it. */
	snprintf(linkdir, sizeof(linkdir), "%s/via", tmp);
	ck_assert_int_eq(symlink(tmp, linkdir), 0);
	snprintf(path, sizeof(path), "%s/via/ready.flag", tmp);
	ck_assert_int_eq(launch_service(&took, touching, path, path), 0);
	ck_assert_double_ge(took, 0.5);
	ck_assert_msg(strstr(captured, "was not removed") != NULL, "%s", captured);

	/* A service that never makes it anew times out, saying so. */
	ck_assert_int_eq(launch_service(&took, "name = \"w\"; command = [\"sleep\", \"300\"];\n"
					" ready_path = \"%s\"; ready_timeout = 0.5;", path), -ETIMEDOUT);
	ck_assert_msg(strstr(captured, ":3: local: service 'w' not ready within 0.5 s (ready_timeout): "
			     "ready_path") && strstr(captured, "is still the one from before launch"),
		      "%s", captured);
	unlink(linkdir);
	unlink(path);
}
END_TEST

/* A port nothing listens on now. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static int tcp_connects(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	ck_assert_int_ge(fd, 0);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return r;
}

/* ready_tcp: launch returns once the service, which listens only after a
 * while, accepts; nothing listening is a timeout naming file:line. */
START_TEST(ready_tcp_waits_for_the_listener)
{
	struct tb_test_plugin t;
	int port = free_port();
	double took;
	void *st;

	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
		"services = ( { name = \"listener\"; command = [\"/bin/sh\", \"-c\", \"sleep 0.6; exec python3 -c '"
		"import socket, time\\ns = socket.socket()\\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\\n"
		"s.bind((\\\"127.0.0.1\\\", %d))\\ns.listen(8)\\ntime.sleep(300)'\"];"
		" ready_tcp = \"127.0.0.1:%d\"; } );", port, port), 0);
	ck_assert(!tcp_connects(port));
	ck_assert_int_eq(launch_timed(st, &took), 0);
	ck_assert_double_ge(took, 0.6);
	ck_assert_double_lt(took, 5);
	ck_assert(tcp_connects(port));
	ck_assert_int_eq(P.stop(st), 0);
	P.fini(st);
	tb_test_plugin_close(&t);

	ck_assert_int_eq(launch_service(&took, "name = \"deaf\"; command = [\"sleep\", \"300\"];\n"
					" ready_tcp = \"127.0.0.1:%d\"; ready_timeout = 0.6;", port), -ETIMEDOUT);
	ck_assert_double_lt(took, 3);
	ck_assert_msg(strstr(captured, ":3: local: service 'deaf' not ready within 0.6 s (ready_timeout): "
			     "ready_tcp 127.0.0.1:") && strstr(captured, "Connection refused"), "%s", captured);
}
END_TEST

/* ready_command: executed without a shell until it exits 0, quickly at first
 * and backing off; each try is bounded, and its last words are reported. */
START_TEST(ready_command_retries_until_it_succeeds)
{
	char up[256], count[256], *text;
	double took;
	int tries = 0;

	SKIP_UNLESS_ROOT();
	/* A name a shell would split: argv is passed as it is. */
	snprintf(up, sizeof(up), "%s/up now", tmp);
	snprintf(count, sizeof(count), "%s/tries", tmp);
	ck_assert_int_eq(launch_service(&took, "name = \"slow\"; command = [\"/bin/sh\", \"-c\", "
					"\"sleep 0.8; touch \\\"$0\\\"; exec sleep 300\", \"%s\"];"
					" ready_command = [\"/bin/sh\", \"-c\", "
					"\"echo >> \\\"$1\\\"; test -e \\\"$0\\\"\", \"%s\", \"%s\"];",
					up, up, count), 0);
	ck_assert_double_ge(took, 0.8);
	ck_assert(exists("%s", up));
	text = slurp(count);
	ck_assert_ptr_nonnull(text);
	for (char *c = text; *c; c++)
		tries += *c == '\n';
	/* 0.05 s growing by half up to 0.5 s: about 8 tries in 0.8 s. */
	ck_assert_msg(tries >= 4 && tries <= 14, "%d tries", tries);

	/* Never succeeds: the reason, with its output, named at file:line. */
	ck_assert_int_eq(launch_service(&took, "name = \"db\"; command = [\"sleep\", \"300\"];\n"
					" ready_timeout = 0.5;\n ready_command = [\"/bin/sh\", \"-c\", "
					"\"echo no response; exit 2\"];"), -ETIMEDOUT);
	ck_assert_msg(strstr(captured, ":4: local: service 'db' not ready within 0.5 s (ready_timeout): "
			     "ready_command /bin/sh exited with status 2 (no response)"), "%s", captured);

	/* A try that hangs is ended at the timeout, with what it started. */
	ck_assert_int_eq(launch_service(&took, "name = \"hung\"; command = [\"sleep\", \"300\"];"
					" ready_timeout = 0.7; ready_command = [\"/bin/sh\", \"-c\", "
					"\"sleep 271 & sleep 272\"];"), -ETIMEDOUT);
	ck_assert_double_lt(took, 3);
	ck_assert_msg(strstr(captured, "took longer than"), "%s", captured);
	ck_assert_int_eq(tb_test_sh("! pgrep -f 'sleep 27[12]' >/dev/null"), 0);
}
END_TEST

/* A service that ends during the run is no longer alive. */
START_TEST(alive_notices_a_service_that_ended)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	void *st;
	int alive = 1;

	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
		"services = ( { name = \"brief\"; command = [\"sleep\", \"0.5\"]; } );"), 0);
	ck_assert_int_eq(P.launch(st), 0);
	ck_assert_int_eq(P.discover(st, &inv), 0);
	ck_assert_int_eq(P.alive(st, &inv.services[0].targets[0]), 1);
	for (int i = 0; i < 150 && alive; i++) {
		sleep_ms(20);
		alive = P.alive(st, &inv.services[0].targets[0]);
	}
	ck_assert_int_eq(alive, 0);
	ck_assert(process_gone(inv.services[0].targets[0].pid));
	ck_assert_int_eq(P.stop(st), 0);
	ck_assert(!exists("/sys/fs/cgroup/cpu/" PARENT ".%ld", (long)getpid()));
	tb_inventory_free(&inv);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

START_TEST(startup_failure_and_timeout_leave_nothing)
{
	struct tb_test_plugin t;
	char path[4096], *log;
	void *st;
	double t0;

	SKIP_UNLESS_ROOT();
	/* Exits during startup: launch fails, the log says why. */
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"%s\";\n"
		"services = ( { name = \"crasher\"; command = [\"/bin/sh\", \"-c\", \"echo boom-marker; exit 3\"];"
		" ready_path = \"%s/never\"; } );", tmp, tmp), 0);
	ck_assert_int_eq(P.launch(st), -ECHILD);
	snprintf(path, sizeof(path), "%s/throttlebot-crasher.log", tmp);
	log = slurp(path);
	ck_assert_ptr_nonnull(log);
	ck_assert_str_eq(log, "boom-marker\n");
	for (size_t i = 0; i < NHIERS; i++)
		ck_assert(!exists("/sys/fs/cgroup/%s/" PARENT ".%ld", hiers[i], (long)getpid()));
	ck_assert_int_eq(P.stop(st), 0);
	P.fini(st);
	tb_test_plugin_close(&t);

	/* Never ready: bounded by ready_timeout, and the service is ended. */
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
		"services = ( { name = \"slow\"; command = [\"sleep\", \"300\"];"
		" ready_path = \"%s/never\"; ready_timeout = 0.5; } );", tmp), 0);
	t0 = now();
	ck_assert_int_eq(P.launch(st), -ETIMEDOUT);
	ck_assert_double_lt(now() - t0, 5);
	for (size_t i = 0; i < NHIERS; i++)
		ck_assert(!exists("/sys/fs/cgroup/%s/" PARENT ".%ld", hiers[i], (long)getpid()));
	ck_assert_int_eq(tb_test_sh("! pgrep -x -f 'sleep 300' -P %ld >/dev/null", (long)getpid()), 0);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* A crash: the journal is all that is left, and restore() undoes it.      */

START_TEST(crash_then_restore_removes_everything)
{
	char jpath[4096], dir[4096], c;
	struct tb_journal *j;
	struct tb_journal_entry *e;
	struct tb_test_plugin t;
	pid_t crasher, left[16];
	int pfd[2], n, nleft;
	void *st;

	SKIP_UNLESS_ROOT();
	snprintf(jpath, sizeof(jpath), "%s/journal", tmp);
	snprintf(dir, sizeof(dir), "%s/lock", tmp);
	setenv("THROTTLEBOT_LOCK", dir, 1);     /* ours, not a parallel test's */
	ck_assert_int_eq(pipe(pfd), 0);
	crasher = fork();
	ck_assert_int_ge(crasher, 0);
	if (crasher == 0) {
		close(pfd[0]);
		alarm(60);
		if (open_local(&t, &st, "cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
			       "services = ( { name = \"victim\"; command = [\"/bin/sh\", \"-c\","
			       " \"sleep 300 & sleep 300 & wait\"]; } );") < 0)
			_exit(1);
		P.fini(st);
		if (tb_journal_open(jpath, 0, &j) < 0)
			_exit(2);
		tb_instance_bind(&t.in, j);
		if (P.init(&t.in.host, tb_test_plugin_config(&t), &st) < 0 || P.launch(st) < 0)
			_exit(3);
		if (write(pfd[1], "x", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	close(pfd[0]);

	dir_of(dir, sizeof(dir), "cpu", crasher, "victim");
	ck_assert_int_eq(wait_procs(dir, 3, 5), 3);
	ck_assert_int_eq(kill(crasher, SIGKILL), 0);
	ck_assert_int_eq(waitpid(crasher, NULL, 0), crasher);
	/* The shell dies with its parent (PR_SET_PDEATHSIG); the two sleeps it
	 * started are orphans still in the cgroup: only restore ends them. */
	ck_assert_int_eq(wait_procs(dir, 2, 5), 2);
	nleft = procs(dir, left, 16);

	ck_assert_int_eq(tb_journal_open(jpath, 1, &j), 0);
	n = tb_journal_pending(j, &e);
	ck_assert_int_eq(n, 2);          /* the parent cgroups, the service */
	ck_assert_int_eq(tb_test_plugin_open(&t, &P, NULL), 0);
	ck_assert_int_eq(P.init(&t.in.host, NULL, &st), 0);
	for (int i = 0; i < n; i++) {
		ck_assert_str_eq(e[i].plugin, "local");
		ck_assert_ptr_nonnull(strstr(e[i].saved, "cgroup\t/sys/fs/cgroup/cpu/" PARENT "."));
		ck_assert_int_eq(P.restore(st, e[i].saved), 0);
		ck_assert_int_eq(P.restore(st, e[i].saved), 0);   /* idempotent */
	}
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(tb_journal_done(j, e[i].id), 0);
	free(e);
	tb_journal_close(j);
	for (int i = 0; i < nleft; i++)
		ck_assert(process_gone(left[i]));
	for (size_t i = 0; i < NHIERS; i++)
		ck_assert(!exists("/sys/fs/cgroup/%s/" PARENT ".%ld", hiers[i], (long)crasher));
	/* A line that is not ours is refused, the hierarchy top above all. */
	ck_assert_int_eq(P.restore(st, "cgroup\t/sys/fs/cgroup/cpu\n"), -EINVAL);
	ck_assert_int_eq(P.restore(st, "netns\t/run/netns/other\n"), -EINVAL);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* The v2 hierarchy is real here, if without controllers: restore() ends
 * the processes of a v2 cgroup and its children and removes them. */
START_TEST(restore_on_a_real_v2_hierarchy)
{
	struct tb_test_plugin t;
	char top[256], sub[300], saved[512];
	pid_t kids[2];
	void *st;

	SKIP_UNLESS_ROOT();
	if (!exists("/sys/fs/cgroup/unified/cgroup.controllers")) {
		fprintf(stderr, "%s: skipped, no cgroup v2 mount at /sys/fs/cgroup/unified\n", __func__);
		return;
	}
	snprintf(top, sizeof(top), "/sys/fs/cgroup/unified/" PARENT ".%ld", (long)getpid());
	snprintf(sub, sizeof(sub), "%s/svc", top);
	ck_assert_int_eq(mkdir(top, 0755), 0);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			if (tb_cg_write(sub, "cgroup.procs", "0") < 0)
				_exit(1);
			execlp("sleep", "sleep", "300", (char *)NULL);
			_exit(127);
		}
	}
	ck_assert_int_eq(wait_procs(sub, 2, 5), 2);
	ck_assert_int_eq(tb_test_plugin_open(&t, &P, NULL), 0);
	ck_assert_int_eq(P.init(&t.in.host, NULL, &st), 0);
	snprintf(saved, sizeof(saved), "cgroup\t%s\n", top);
	ck_assert_int_eq(P.restore(st, saved), 0);
	for (int i = 0; i < 2; i++) {
		int status;

		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	ck_assert(!exists("%s", top));
	ck_assert_int_eq(P.restore(st, saved), 0);
	ck_assert_int_eq(P.restore(st, "cgroup\t/sys/fs/cgroup/unified\n"), -EINVAL);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* A network namespace of its own.                                         */

static long rx_packets_inside(const char *ns, const char *ifname)
{
	char cmd[512];
	long v = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ip netns exec %s cat /proc/net/dev", strrchr(ns, '/') + 1);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	for (char line[512]; fgets(line, sizeof(line), p);) {
		char *colon = strchr(line, ':'), *name = line;

		if (!colon)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		if (!strcmp(name, ifname))
			sscanf(colon + 1, "%*d %ld", &v);
	}
	pclose(p);
	return v;
}

START_TEST(new_netns_service_has_its_own_interface)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	const struct tb_service *s;
	char path[4096], ns[256], hostif[32], *text;
	long before, after;
	void *st;

	SKIP_UNLESS_ROOT();
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"%s\";\n"
		"services = ( { name = \"" NETSVC "\"; new_netns = true; ready_path = \"%s/addr\";\n"
		"  address = \"10.231.77.2/24\"; host_address = \"10.231.77.1/24\";\n"
		/* The check runs in the service's namespace: only there is .2 to be seen. */
		"  ready_command = [\"/bin/sh\", \"-c\", \"ip -o -4 addr show | grep -q 10.231.77.2/24\"];"
		" ready_timeout = 5;\n"
		"  command = [\"/bin/sh\", \"-c\", \"cat /proc/net/dev > %s/netdev;"
		" ip -o -4 addr show > %s/addr.tmp; mv %s/addr.tmp %s/addr; exec sleep 300\"]; } );",
		tmp, tmp, tmp, tmp, tmp, tmp), 0);
	ck_assert_int_eq(P.launch(st), 0);
	snprintf(ns, sizeof(ns), "/run/netns/throttlebot-%ld-" NETSVC, (long)getpid());
	snprintf(hostif, sizeof(hostif), "tbv%lds0", (long)getpid() % 10000000);
	ck_assert(exists("%s", ns));
	ck_assert(exists("/sys/class/net/%s", hostif));

	/* What the service itself saw: its loopback and eth0, nothing of the host's. */
	snprintf(path, sizeof(path), "%s/netdev", tmp);
	text = slurp(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "eth0:"));
	ck_assert_ptr_nonnull(strstr(text, "lo:"));
	ck_assert_ptr_null(strstr(text, hostif));
	snprintf(path, sizeof(path), "%s/addr", tmp);
	text = slurp(path);
	ck_assert_ptr_nonnull(strstr(text, "eth0"));
	ck_assert_ptr_nonnull(strstr(text, "10.231.77.2/24"));

	ck_assert_int_eq(P.discover(st, &inv), 0);
	s = service(&inv, NETSVC);
	ck_assert_uint_eq(s->ntargets, 1);
	ck_assert_str_eq(s->targets[0].netns, ns);
	ck_assert_str_eq(s->targets[0].ifname, "eth0");

	/* Real traffic crosses the pair: datagrams sent from the host arrive. */
	before = rx_packets_inside(ns, "eth0");
	ck_assert_int_ge(before, 0);
	{
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(inet_pton(AF_INET, "10.231.77.2", &to.sin_addr), 1);
		for (int i = 0; i < 10; i++)
			ck_assert_int_eq(sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
		close(fd);
	}
	after = rx_packets_inside(ns, "eth0");
	for (int i = 0; i < 30 && after - before < 10; i++) {
		sleep_ms(100);
		after = rx_packets_inside(ns, "eth0");
	}
	ck_assert_int_ge(after - before, 10);

	ck_assert_int_eq(P.stop(st), 0);
	ck_assert(!exists("%s", ns));
	for (int i = 0; i < 100 && exists("/sys/class/net/%s", hostif); i++)
		sleep_ms(20);
	ck_assert(!exists("/sys/class/net/%s", hostif));
	tb_inventory_free(&inv);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* An existing named namespace is joined; a process attached by pid in
 * another namespace is found there, with its interface. */
START_TEST(joins_named_netns_and_finds_attached_ones)
{
	struct tb_test_plugin t, ta;
	struct tb_inventory inv = { 0 }, inva = { 0 };
	const struct tb_service *s;
	char name[128], path[256], nsfile[256], peer[32];
	pid_t outsider;
	void *st, *sta;

	SKIP_UNLESS_ROOT();
	snprintf(name, sizeof(name), "throttlebot-join%ld-" NETSVC, (long)getpid());
	snprintf(peer, sizeof(peer), "tbchk%ld", (long)getpid() % 1000000);
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	ck_assert_int_eq(tb_test_sh("ip netns add %s && ip link add %s type veth peer name eth7 netns %s",
				    name, peer, name), 0);

	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"/dev/null\";\n"
		"services = ( { name = \"inside\"; netns = \"%s\"; command = [\"sleep\", \"300\"]; } );",
		name), 0);
	ck_assert_int_eq(P.launch(st), 0);
	ck_assert_int_eq(P.discover(st, &inv), 0);
	s = service(&inv, "inside");
	snprintf(nsfile, sizeof(nsfile), "/proc/%ld/ns/net", (long)s->targets[0].pid);
	ck_assert(same_file(nsfile, path));
	ck_assert_str_eq(s->targets[0].netns, path);
	ck_assert_str_eq(s->targets[0].ifname, "eth7");

	/* Attach: a process started in the namespace by other means. */
	outsider = fork();
	ck_assert_int_ge(outsider, 0);
	if (outsider == 0) {
		execlp("ip", "ip", "netns", "exec", name, "sleep", "300", (char *)NULL);
		_exit(127);
	}
	snprintf(nsfile, sizeof(nsfile), "/proc/%ld/ns/net", (long)outsider);
	for (int i = 0; i < 100 && !same_file(nsfile, path); i++)
		sleep_ms(20);
	ck_assert(same_file(nsfile, path));
	ck_assert_int_eq(open_local(&ta, &sta, "services = ( { name = \"o\"; pid = %ld; } );",
				    (long)outsider), 0);
	ck_assert_int_eq(P.launch(sta), 0);
	ck_assert_int_eq(P.discover(sta, &inva), 0);
	s = service(&inva, "o");
	ck_assert_str_eq(s->targets[0].netns, nsfile);
	ck_assert_str_eq(s->targets[0].ifname, "eth7");
	kill(outsider, SIGKILL);
	waitpid(outsider, NULL, 0);
	ck_assert_int_eq(P.alive(sta, &s->targets[0]), 0);

	ck_assert_int_eq(P.stop(st), 0);
	ck_assert(exists("%s", path));          /* not ours: left in place */
	ck_assert_int_eq(tb_test_sh("ip netns del %s", name), 0);
	tb_inventory_free(&inva);
	P.fini(sta);
	tb_test_plugin_close(&ta);
	tb_inventory_free(&inv);
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The quickstart's application, launched by the orchestrator.             */

static double cpuacct_seconds(const char *dir)
{
	char path[4096], *text;

	snprintf(path, sizeof(path), "%s/cpuacct.usage", dir);
	text = slurp(path);
	ck_assert_ptr_nonnull(text);
	return (double)strtoull(text, NULL, 10) / 1e9;
}

START_TEST(spinwork_worker_does_the_work)
{
	struct tb_test_plugin t;
	char spinwork[4096], sock[4096], worker[4096], cruncher[4096];
	double w0, c0, t0, wall, w1, c1;
	void *st;

	SKIP_UNLESS_ROOT();
	snprintf(spinwork, sizeof(spinwork), "%s/apps/spinwork", BUILDDIR);
	if (access(spinwork, X_OK) < 0 || access("/sys/fs/cgroup/cpuacct/cpuacct.usage", F_OK) < 0) {
		fprintf(stderr, "%s: skipped, needs %s and a v1 cpuacct hierarchy\n", __func__, spinwork);
		return;
	}
	snprintf(sock, sizeof(sock), "%s/worker.sock", tmp);
	ck_assert_int_eq(open_local(&t, &st,
		"cgroup_parent = \"" PARENT "\"; log_dir = \"%s\";\n"
		"services = ( { name = \"worker\"; command = [\"%s\", \"server\", \"%s\", \"--max-seconds\", \"60\"];"
		" ready_path = \"%s\"; },\n"
		" { name = \"cruncher\"; command = [\"%s\", \"spin\", \"--max-seconds\", \"60\"]; } );",
		tmp, spinwork, sock, sock, spinwork), 0);
	ck_assert_int_eq(P.launch(st), 0);
	dir_of(worker, sizeof(worker), "cpuacct", getpid(), "worker");
	dir_of(cruncher, sizeof(cruncher), "cpuacct", getpid(), "cruncher");

	/* Idle, the worker uses next to nothing; serving 600 units (about
	 * 0.6 s of one core) its cgroup is charged for them.  The spinner
	 * burns CPU all along, off the workload's path.  Bounds are loose: the
	 * machine may be busy with other work. */
	w0 = cpuacct_seconds(worker);
	c0 = cpuacct_seconds(cruncher);
	sleep_ms(500);
	w1 = cpuacct_seconds(worker);
	c1 = cpuacct_seconds(cruncher);
	ck_assert_double_lt(w1 - w0, 0.05);
	ck_assert_double_gt(c1 - c0, 0.01);
	w0 = w1;
	t0 = now();
	ck_assert_int_eq(tb_test_sh("'%s' client '%s' 60 10", spinwork, sock), 0);
	wall = now() - t0;
	w1 = cpuacct_seconds(worker);
	fprintf(stderr, "spinwork: 600 units in %.3f s wall; the worker's cgroup used %.3f s CPU\n",
		wall, w1 - w0);
	ck_assert_double_ge(w1 - w0, 0.3);
	ck_assert_double_lt(w1 - w0, 3);
	ck_assert_double_ge(cpuacct_seconds(cruncher), c1);
	ck_assert_double_lt(wall, 30);

	ck_assert_int_eq(P.stop(st), 0);
	ck_assert(!exists("%s", sock));          /* the server left on SIGTERM */
	ck_assert(!exists("%s", worker));
	P.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("local");
	TCase *cfg = tcase_create("config and paths"), *real = tcase_create("real processes");
	SRunner *sr;
	int failed;

	if (!tb_test_is_root())
		fprintf(stderr, "not root: the real-process cases are skipped\n");
	tcase_add_unchecked_fixture(cfg, unchecked_setup, NULL);
	tcase_add_test(cfg, paths_pure_v2_tree);
	tcase_add_test(cfg, paths_stay_in_the_hierarchy);
	tcase_add_test(cfg, paths_hybrid_tree);
	tcase_add_test(cfg, config_errors_name_file_and_line);
	tcase_add_test(cfg, plan_without_launch_declares_names_only);
	tcase_add_unchecked_fixture(real, NULL, unchecked_teardown);
	tcase_set_timeout(real, 40);
	tcase_add_test(real, launch_discover_attach_stop);
	tcase_add_test(real, stop_kills_what_ignores_sigterm);
	tcase_add_test(real, startup_failure_and_timeout_leave_nothing);
	tcase_add_test(real, alive_notices_a_service_that_ended);
	tcase_add_test(real, ready_path_stale_or_live);
	tcase_add_test(real, ready_path_left_from_before);
	tcase_add_test(real, ready_tcp_waits_for_the_listener);
	tcase_add_test(real, ready_command_retries_until_it_succeeds);
	tcase_add_test(real, crash_then_restore_removes_everything);
	tcase_add_test(real, restore_on_a_real_v2_hierarchy);
	tcase_add_test(real, new_netns_service_has_its_own_interface);
	tcase_add_test(real, joins_named_netns_and_finds_attached_ones);
	tcase_add_test(real, spinwork_worker_does_the_work);
	suite_add_tcase(s, cfg);
	suite_add_tcase(s, real);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
