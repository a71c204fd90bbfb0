/* check_docker.c - the docker orchestrator: recorded Engine API answers, then a real engine with real containers. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "inventory.h"
#include "testhost.h"
#include "docker_api.h"
#include "docker_parse.h"
#include "docker_record.h"
#include "fake_engine.h"

#ifndef TB_DOCKER_FIXTURES
#define TB_DOCKER_FIXTURES "tests/fixtures/docker"
#endif

extern const struct tb_orchestrator throttlebot_plugin;

#define WEB1 "59bb56b844ac8e72313d811bb482bef04680a6996531e62f748fa357ba651b84"
#define WEB2 "f7c77939cd3ab7f4a9d8385323c9cff6f2623732fbaffdce13abd0cf93fe1ce4"
#define DB1 "e93cbe3be79de381cd43cdc6e9d213eb3c98d068564dbc334e85a307448dc2c8"
#define UNREADABLE "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PARENT "8bf506b1db181ecf98ecf53f959a8cc5cf004ca8774485bf77c61a986d5406a5"

static json_t *fixture(const char *name)
{
	char path[1024];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", TB_DOCKER_FIXTURES, name);
	j = json_load_file(path, 0, &e);
	ck_assert_msg(j != NULL, "%s:%d: %s", path, e.line, e.text);
	return j;
}

static char *fixture_text(const char *name)
{
	char path[1024];
	static char buf[16384];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", TB_DOCKER_FIXTURES, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Unit: parsing recorded answers (Docker 20.10, API 1.41, on this machine;
 * the systemd-driver and cgroup v2 answers are the same recordings with the
 * fields those setups change, since neither can run here). */

START_TEST(endpoint)
{
	struct dk_endpoint ep;
	char err[256];

	ck_assert_int_eq(dk_parse_endpoint("unix:///var/run/docker.sock", &ep, err, sizeof(err)), 0);
	ck_assert_str_eq(ep.socket, "/var/run/docker.sock");
	ck_assert_str_eq(ep.base, "http://localhost");
	ck_assert_str_eq(ep.display, "unix:///var/run/docker.sock");
	ck_assert_int_eq(dk_parse_endpoint("/run/user/0/docker.sock", &ep, err, sizeof(err)), 0);
	ck_assert_str_eq(ep.socket, "/run/user/0/docker.sock");
	ck_assert_int_eq(dk_parse_endpoint("tcp://10.0.0.2:2375", &ep, err, sizeof(err)), 0);
	ck_assert_str_eq(ep.socket, "");
	ck_assert_str_eq(ep.base, "http://10.0.0.2:2375");
	ck_assert_int_eq(dk_parse_endpoint("tcp://10.0.0.2:2375/", &ep, err, sizeof(err)), 0);
	ck_assert_int_eq(dk_parse_endpoint("tcp://", &ep, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(dk_parse_endpoint("tcp://h:1/x", &ep, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(dk_parse_endpoint("unix://relative", &ep, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(dk_parse_endpoint("ssh://user@host", &ep, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "ssh://user@host") != NULL, "%s", err);
}
END_TEST

START_TEST(negotiate)
{
	json_t *v = fixture("version.json");
	int major, minor;
	char err[256];

	ck_assert_int_eq(dk_negotiate(v, &major, &minor, err, sizeof(err)), 0);
	ck_assert_int_eq(major, 1);
	ck_assert_int_eq(minor, 41);
	/* An older engine is spoken to in its own version. */
	json_object_set_new(v, "ApiVersion", json_string("1.30"));
	ck_assert_int_eq(dk_negotiate(v, &major, &minor, err, sizeof(err)), 0);
	ck_assert_int_eq(minor, 30);
	/* A newer one that refuses old clients (Engine 29: 1.44 at least). */
	json_object_set_new(v, "ApiVersion", json_string("1.52"));
	json_object_set_new(v, "MinAPIVersion", json_string("1.44"));
	ck_assert_int_eq(dk_negotiate(v, &major, &minor, err, sizeof(err)), 0);
	ck_assert_int_eq(minor, 44);
	json_object_set_new(v, "ApiVersion", json_string("1.12"));
	json_object_set_new(v, "MinAPIVersion", json_string("1.12"));
	ck_assert_int_eq(dk_negotiate(v, &major, &minor, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "1.12") != NULL, "%s", err);
	json_object_del(v, "ApiVersion");
	ck_assert_int_eq(dk_negotiate(v, &major, &minor, err, sizeof(err)), -EPROTO);
	json_decref(v);
}
END_TEST

static struct dk_engine engine(const char *file)
{
	json_t *info = fixture(file);
	struct dk_engine e;
	char err[256];

	ck_assert_int_eq(dk_parse_info(info, &e, err, sizeof(err)), 0);
	json_decref(info);
	return e;
}

START_TEST(info_fields)
{
	struct dk_engine e;
	json_t *info;
	char err[256];

	e = engine("info-cgroupfs-v1.json");
	ck_assert(!e.systemd && !e.v2);
	e = engine("info-systemd-v1.json");
	ck_assert(e.systemd && !e.v2);
	e = engine("info-systemd-v2.json");
	ck_assert(e.systemd && e.v2);
	e = engine("info-cgroupfs-v2.json");
	ck_assert(!e.systemd && e.v2);
	/* Before API 1.41 there is no CgroupVersion: v1. */
	info = fixture("info-systemd-v2.json");
	json_object_del(info, "CgroupVersion");
	ck_assert_int_eq(dk_parse_info(info, &e, err, sizeof(err)), 0);
	ck_assert(e.systemd && !e.v2);
	/* Rootless engines may have no driver: only /proc/PID/cgroup knows. */
	json_object_set_new(info, "CgroupDriver", json_string("none"));
	ck_assert_int_eq(dk_parse_info(info, &e, err, sizeof(err)), 0);
	ck_assert(e.no_driver);
	json_object_set_new(info, "CgroupDriver", json_string("bogus"));
	ck_assert_int_eq(dk_parse_info(info, &e, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "\"bogus\"") != NULL, "%s", err);
	json_decref(info);
}
END_TEST

START_TEST(error_message)
{
	json_t *j = fixture("error-no-such-container.json");

	ck_assert_str_eq(dk_error_message(j), "No such container: nosuch");
	json_decref(j);
}
END_TEST

START_TEST(filters)
{
	const char *labels[] = { "tier=front", "owner" };
	struct dk_selector sel = { .project = "frontend-storage", .labels = labels, .nlabels = 2,
				   .service_label = "app.service" };
	struct dk_selector none = { 0 };
	char *text = dk_list_filters(&sel), what[512];

	ck_assert_str_eq(text, "{\"label\":[\"com.docker.compose.project=frontend-storage\","
			 "\"tier=front\",\"owner\",\"app.service\"],\"status\":[\"running\"]}");
	free(text);
	text = dk_list_filters(&none);
	ck_assert_str_eq(text, "{\"status\":[\"running\"]}");
	free(text);
	dk_describe_selector(&sel, what, sizeof(what));
	ck_assert_str_eq(what, "project \"frontend-storage\", labels [tier=front, owner], "
			 "service_label \"app.service\"");
}
END_TEST

START_TEST(select_project)
{
	json_t *list = fixture("containers-tbtest.json");
	struct dk_selector sel = { .project = "tbtest" };
	struct dk_container *v;

	/* Replicas web_1 and web_2 are one service with two targets. */
	ck_assert_int_eq(dk_select(list, &sel, &v), 3);
	ck_assert_str_eq(v[0].service, "db");
	ck_assert_str_eq(v[0].name, "tbtest_db_1");
	ck_assert_str_eq(v[0].id, DB1);
	ck_assert_str_eq(v[1].service, "web");
	ck_assert_str_eq(v[1].name, "tbtest_web_1");
	ck_assert_str_eq(v[1].id, WEB1);
	ck_assert_str_eq(v[2].service, "web");
	ck_assert_str_eq(v[2].name, "tbtest_web_2");
	free(v);
	json_decref(list);
}
END_TEST

START_TEST(select_names)
{
	json_t *list = fixture("containers-tbtest.json");
	const char *pat[] = { "tbtest_web_*" };
	struct dk_selector sel = { .patterns = pat, .npatterns = 1 };
	struct dk_container *v;

	/* Without a project, each container is its own service. */
	ck_assert_int_eq(dk_select(list, &sel, &v), 2);
	ck_assert_str_eq(v[0].service, "tbtest_web_1");
	ck_assert_str_eq(v[1].service, "tbtest_web_2");
	free(v);
	sel.project = "tbtest";
	ck_assert_int_eq(dk_select(list, &sel, &v), 2);
	ck_assert_str_eq(v[0].service, "web");
	free(v);
	/* A service label that db lacks (the engine's filter leaves it out). */
	sel = (struct dk_selector){ .service_label = "com.docker.compose.container-number" };
	ck_assert_int_eq(dk_select(list, &sel, &v), 2);
	ck_assert_str_eq(v[0].service, "1");
	ck_assert_str_eq(v[0].name, "tbtest_web_1");
	ck_assert_str_eq(v[1].service, "2");
	free(v);
	pat[0] = "nosuch*";
	sel = (struct dk_selector){ .patterns = pat, .npatterns = 1 };
	ck_assert_int_eq(dk_select(list, &sel, &v), 0);
	free(v);
	ck_assert_int_eq(dk_select(json_object_get(list, "x"), &sel, &v), -EPROTO);
	json_decref(list);
}
END_TEST

START_TEST(select_refuses_bad_ids)
{
	static const char *const bad[] = {
		"../../../etc", WEB1 "0", "59BB56B844AC8E72313D811BB482BEF04680A6996531E62F748FA357BA651B84",
		"59bb56b844ac", "59bb56b844ac8e72313d811bb482bef04680a6996531e62f748fa357ba651b8/",
	};
	json_t *list = fixture("containers-tbtest.json");
	struct dk_selector sel = { .project = "tbtest" };
	struct dk_container *v;
	size_t i;
	json_t *e;

	ck_assert(dk_valid_id(WEB1));
	/* The id ends up in request paths and in cgroup directory names. */
	for (size_t b = 0; b < sizeof(bad) / sizeof(*bad); b++) {
		ck_assert(!dk_valid_id(bad[b]));
		json_array_foreach(list, i, e)
			json_object_set_new(e, "Id", json_string(bad[b]));
		ck_assert_int_eq(dk_select(list, &sel, &v), -EBADMSG);
	}
	json_decref(list);
}
END_TEST

static struct dk_container inspect(const char *file, const char *id)
{
	json_t *j = fixture(file);
	struct dk_container c = { 0 };
	char err[256];

	snprintf(c.id, sizeof(c.id), "%s", id);
	ck_assert_int_eq(dk_parse_inspect(j, &c, err, sizeof(err)), 0);
	json_decref(j);
	return c;
}

START_TEST(inspect_fields)
{
	struct dk_container c = inspect("inspect-web_1.json", WEB1);

	ck_assert(c.running);
	ck_assert_int_eq(c.pid, 7706);
	ck_assert(!c.host_network && !c.no_network);
	ck_assert_str_eq(c.cgroup_parent, "");
	c = inspect("inspect-web_2-exited.json", WEB2);
	ck_assert(!c.running);
	ck_assert_int_eq(c.pid, 0);
	c = inspect("inspect-parent-hostnet.json", PARENT);
	ck_assert(c.running && c.host_network);
	ck_assert_int_eq(c.pid, 8274);
	ck_assert_str_eq(c.cgroup_parent, "/throttlebot-parent");
}
END_TEST

static void expect_dir(const struct dk_engine *e, const struct dk_container *c,
		       const char *hierarchy, const char *want)
{
	char dir[1024];

	ck_assert_int_eq(dk_cgroup_dir(e, hierarchy, c, dir, sizeof(dir)), 0);
	ck_assert_str_eq(dir, want);
}

START_TEST(cgroup_cgroupfs_v1)
{
	struct dk_engine e = engine("info-cgroupfs-v1.json");
	struct dk_container c = inspect("inspect-web_1.json", WEB1);

	expect_dir(&e, &c, "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu/docker/" WEB1);
	expect_dir(&e, &c, "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/cpuset/docker/" WEB1);
	expect_dir(&e, &c, "/sys/fs/cgroup/blkio", "/sys/fs/cgroup/blkio/docker/" WEB1);
	expect_dir(&e, &c, "/sys/fs/cgroup/memory", "/sys/fs/cgroup/memory/docker/" WEB1);
	c = inspect("inspect-parent-hostnet.json", PARENT);
	expect_dir(&e, &c, "/sys/fs/cgroup/blkio", "/sys/fs/cgroup/blkio/throttlebot-parent/" PARENT);
}
END_TEST

START_TEST(cgroup_systemd_v1)
{
	struct dk_engine e = engine("info-systemd-v1.json");
	struct dk_container c = inspect("inspect-web_1.json", WEB1);
	char dir[256];

	expect_dir(&e, &c, "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu/system.slice/docker-" WEB1 ".scope");
	expect_dir(&e, &c, "/sys/fs/cgroup/blkio",
		   "/sys/fs/cgroup/blkio/system.slice/docker-" WEB1 ".scope");
	c = inspect("inspect-db_1-slice.json", DB1);
	expect_dir(&e, &c, "/sys/fs/cgroup/cpuset",
		   "/sys/fs/cgroup/cpuset/tb.slice/tb-app.slice/docker-" DB1 ".scope");
	/* The systemd driver only takes slice names. */
	c = inspect("inspect-parent-hostnet.json", PARENT);
	ck_assert_int_eq(dk_cgroup_dir(&e, "/sys/fs/cgroup/cpu", &c, dir, sizeof(dir)), -EINVAL);
	strcpy(c.cgroup_parent, "a--b.slice");
	ck_assert_int_eq(dk_cgroup_dir(&e, "/sys/fs/cgroup/cpu", &c, dir, sizeof(dir)), -EINVAL);
	strcpy(c.cgroup_parent, "-.slice");
	expect_dir(&e, &c, "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu/docker-" PARENT ".scope");
	e.no_driver = 1;
	ck_assert_int_eq(dk_cgroup_dir(&e, "/sys/fs/cgroup/cpu", &c, dir, sizeof(dir)), -ENOENT);
}
END_TEST

START_TEST(cgroup_v2)
{
	struct dk_engine e = engine("info-systemd-v2.json");
	struct dk_container c = inspect("inspect-web_1-v2.json", WEB1);

	/* One directory, in the one hierarchy, for every controller. */
	expect_dir(&e, &c, "/sys/fs/cgroup", "/sys/fs/cgroup/system.slice/docker-" WEB1 ".scope");
	e = engine("info-cgroupfs-v2.json");
	expect_dir(&e, &c, "/sys/fs/cgroup", "/sys/fs/cgroup/docker/" WEB1);
}
END_TEST

START_TEST(net_dev)
{
	const char *text = fixture_text("proc-net-dev-web_1.txt");

	ck_assert(dk_net_has_iface(text, "eth0"));
	ck_assert(dk_net_has_iface(text, "lo"));
	ck_assert(!dk_net_has_iface(text, "eth"));
	ck_assert(!dk_net_has_iface(text, "eth1"));
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The plugin through the host: settings, and errors without a daemon.       */

static int plugin_init(struct tb_test_plugin *t, const char *conf, void **st)
{
	int r;

	ck_assert_int_eq(tb_test_plugin_open(t, &throttlebot_plugin, conf), 0);
	t->in.host.log = tb_test_capture_log;
	tb_test_last_log[0] = '\0';
	r = throttlebot_plugin.init(&t->in.host, tb_test_plugin_config(t), st);
	return r;
}

START_TEST(settings)
{
	struct tb_test_plugin t;
	void *st = NULL;

	ck_assert_int_eq(plugin_init(&t, NULL, &st), 0);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	/* Naming no containers at all is refused. */
	ck_assert_int_eq(plugin_init(&t, "timeout = 5;", &st), -EINVAL);
	tb_test_plugin_close(&t);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; host = \"ftp://x\";", &st), -EINVAL);
	tb_test_plugin_close(&t);
	ck_assert_int_eq(plugin_init(&t, "labels = [\"=v\"];", &st), -EINVAL);
	tb_test_plugin_close(&t);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; timeout = 0;", &st), -EINVAL);
	tb_test_plugin_close(&t);
	/* The Docker CLI's TLS environment, its files missing: said at once. */
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", "/nonexistent/throttlebot-certs", 1);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; host = \"tcp://127.0.0.1:2376\";", &st),
			 -EINVAL);
	ck_assert_msg(strstr(tb_test_last_log, "/nonexistent/throttlebot-certs/ca.pem") &&
		      strstr(tb_test_last_log, "DOCKER_CERT_PATH"), "%s", tb_test_last_log);
	tb_test_plugin_close(&t);
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	/* Plain HTTP over TCP: refused unless insecure = true, which warns.
	 * (Configuration errors go to the host's log, not to tb_test_capture_log.) */
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; host = \"tcp://127.0.0.1:2375\";", &st),
			 -EINVAL);
	tb_test_plugin_close(&t);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; host = \"tcp://127.0.0.1:2375\"; "
				     "insecure = true;", &st), 0);
	ck_assert_msg(strstr(tb_test_last_log, "not authenticated") != NULL, "%s", tb_test_last_log);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	/* TLS settings that cannot work. */
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; tls_ca = \"/etc/hostname\";", &st),
			 -EINVAL);
	tb_test_plugin_close(&t);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; host = \"tcp://127.0.0.1:2376\"; "
				     "tls_cert = \"/etc/hostname\";", &st), -EINVAL);
	tb_test_plugin_close(&t);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; host = \"tcp://127.0.0.1:2376\"; "
				     "tls_ca = \"/nonexistent/ca.pem\";", &st), -EINVAL);
	tb_test_plugin_close(&t);
	/* DOCKER_HOST is used when there is no host setting. */
	setenv("DOCKER_HOST", "ssh://somewhere", 1);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\";", &st), -EINVAL);
	ck_assert_msg(strstr(tb_test_last_log, "ssh://somewhere") && strstr(tb_test_last_log, "DOCKER_HOST"), "%s",
		      tb_test_last_log);
	tb_test_plugin_close(&t);
	unsetenv("DOCKER_HOST");
	ck_assert_int_eq(plugin_init(&t, "containers = [\"web*\"]; labels = [\"a=b\", \"c\"]; "
				     "service_label = \"s\"; timeout = 2.5; "
				     "host = \"tcp://127.0.0.1:2375\"; insecure = true;", &st), 0);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

START_TEST(unreachable)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	void *st = NULL;

	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; "
				     "host = \"unix:///nonexistent/throttlebot/docker.sock\";", &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -ECONNREFUSED);
	ck_assert_msg(strstr(tb_test_last_log, "cannot reach the Docker daemon at "
			     "unix:///nonexistent/throttlebot/docker.sock: No such file or directory"),
		      "%s", tb_test_last_log);
	ck_assert_int_eq((int)inv.nservices, 0);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The plugin against a stand-in daemon serving the recorded answers: the     */
/* systemd driver, cgroup v2 and HTTP failures cannot be had from the engine  */
/* that runs here.  The containers' pid is this test's own process, so the   */
/* cgroup directories found must really hold it.                              */

static char *with_pid(const char *file, pid_t pid)
{
	json_t *j = fixture(file);
	char *s;

	json_object_set_new(json_object_get(j, "State"), "Pid", json_integer(pid));
	s = json_dumps(j, 0);
	json_decref(j);
	return s;
}

static char *dump(const char *file)
{
	json_t *j = fixture(file);
	char *s = json_dumps(j, 0);

	json_decref(j);
	return s;
}

static char *version_body(const char *api)
{
	json_t *j = fixture("version.json");
	char *s;

	json_object_set_new(j, "ApiVersion", json_string(api));
	s = json_dumps(j, 0);
	json_decref(j);
	return s;
}

static int procs_has(const char *dir, pid_t pid);

/* The stand-in daemons' sockets: made and removed by main(), since Check
 * ends a failed test's process at once. */
static char sockdir[] = "/tmp/throttlebot-test-docker-XXXXXX";

/* An engine's answers for project tbtest (web_1, web_2, db_1), every
 * container's process being pid; API version api, negotiated down to 1.41. */
struct project_answers {
	char *body[6];
	struct fake_route routes[6];
};

static void project_answers(struct project_answers *a, const char *api, int v2, pid_t pid)
{
	static const char *const paths[] = {
		"/version", "/v1.41/info", "/v1.41/containers/json",
		"/v1.41/containers/" WEB1 "/json", "/v1.41/containers/" WEB2 "/json",
		"/v1.41/containers/" DB1 "/json",
	};

	a->body[0] = version_body(api);
	a->body[1] = dump(v2 ? "info-systemd-v2.json" : "info-cgroupfs-v1.json");
	a->body[2] = dump("containers-tbtest.json");
	a->body[3] = with_pid(v2 ? "inspect-web_1-v2.json" : "inspect-web_1.json", pid);
	a->body[4] = with_pid("inspect-web_2.json", pid);
	a->body[5] = with_pid("inspect-db_1.json", pid);
	for (int i = 0; i < 6; i++)
		a->routes[i] = (struct fake_route){ paths[i], 200, a->body[i] };
}

static void project_answers_free(struct project_answers *a)
{
	for (int i = 0; i < 6; i++)
		free(a->body[i]);
}

START_TEST(fake_discover)
{
	/* 0: cgroupfs driver, v1, unix socket; 1: systemd driver, v2, TCP. */
	int v2 = _i == 1;
	pid_t me = getpid();
	struct project_answers a;
	struct fake_engine fe;
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	char conf[512], netns[64];
	const struct tb_service *web;
	void *st;

	project_answers(&a, "1.43", v2, me);
	ck_assert_int_eq(fake_engine_start(&fe, v2 ? NULL : sockdir, a.routes, 6), 0);
	snprintf(conf, sizeof(conf), "project = \"tbtest\"; host = \"%s\"; insecure = true;", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), 0);
	/* Negotiated down to ours, filtered by the engine. */
	ck_assert_str_eq(fake_engine_request(&fe, 0), "/version");
	ck_assert_str_eq(fake_engine_request(&fe, 1), "/v1.41/info");
	ck_assert_str_eq(fake_engine_request(&fe, 2), "/v1.41/containers/json?filters="
			 "%7B%22label%22%3A%5B%22com.docker.compose.project%3Dtbtest%22%5D%2C"
			 "%22status%22%3A%5B%22running%22%5D%7D");
	ck_assert_int_eq((int)inv.nservices, 2);
	ck_assert_str_eq(inv.services[0].name, "db");
	web = &inv.services[1];
	ck_assert_str_eq(web->name, "web");
	ck_assert_int_eq((int)web->ntargets, 2);
	ck_assert_str_eq(web->targets[0].id, "59bb56b844ac (tbtest_web_1)");
	ck_assert_str_eq(web->targets[1].id, "f7c77939cd3a (tbtest_web_2)");
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)me);
	ck_assert_int_eq(web->targets[0].pid, me);
	ck_assert_str_eq(web->targets[0].netns, netns);
	/* The driver's directories do not exist for these ids: the process's
	 * own /proc/PID/cgroup must have led to the cgroups holding it (v1 ones
	 * on a hybrid host, whatever the fake engine says). */
	ck_assert(web->targets[0].cgroup[TB_CG_CPU] != NULL);
	for (int c = TB_CG_CPU; c <= TB_CG_MEMORY; c++) {
		const char *dir = web->targets[0].cgroup[c];

		ck_assert_msg(!dir || procs_has(dir, me), "%s/cgroup.procs lacks %d", dir, (int)me);
	}
	/* Same pid, still running. */
	ck_assert_int_eq(throttlebot_plugin.alive(st, &web->targets[1]), 1);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&fe);
	project_answers_free(&a);
}
END_TEST

/* Two engines: this machine's, and another node's whose containers go to
 * that node's agent: no cgroups or namespace of this machine named. */
START_TEST(fake_engines)
{
	pid_t me = getpid();
	struct project_answers a;
	struct fake_engine local, remote;
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	const struct tb_service *web;
	char conf[1024];
	void *st;

	project_answers(&a, "1.41", 0, me);
	ck_assert_int_eq(fake_engine_start(&local, sockdir, a.routes, 6), 0);
	ck_assert_int_eq(fake_engine_start(&remote, NULL, a.routes, 6), 0);
	snprintf(conf, sizeof(conf), "project = \"tbtest\"; engines = ( { host = \"%s\"; }, "
		 "{ host = \"%s\"; node = \"n2\"; insecure = true; } );", local.host, remote.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), 0);
	web = &inv.services[1];
	ck_assert_str_eq(web->name, "web");
	ck_assert_int_eq((int)web->ntargets, 4);
	ck_assert_ptr_null(web->targets[0].node);
	ck_assert_ptr_nonnull(web->targets[0].cgroup[TB_CG_CPU]);
	ck_assert_str_eq(web->targets[2].node, "n2");
	ck_assert_str_eq(web->targets[2].key, WEB1);
	ck_assert_str_eq(web->targets[2].id, "59bb56b844ac (tbtest_web_1 on n2)");
	ck_assert_int_eq(web->targets[2].pid, 0);
	for (int c = 0; c < TB_CG_SLOTS; c++)
		ck_assert_ptr_null(web->targets[2].cgroup[c]);
	ck_assert_ptr_null(web->targets[2].netns);
	/* Each target is asked of its own engine. */
	ck_assert_int_eq(throttlebot_plugin.alive(st, &web->targets[2]), 1);
	ck_assert_int_eq(remote.nrequests, 7);
	ck_assert_str_eq(fake_engine_request(&remote, 6), "/v1.41/containers/" WEB1 "/json");
	fake_engine_stop(&remote);
	ck_assert_int_lt(throttlebot_plugin.alive(st, &web->targets[2]), 0);   /* could not tell */
	ck_assert_int_eq(throttlebot_plugin.alive(st, &web->targets[0]), 1);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&local);
	project_answers_free(&a);
}
END_TEST

START_TEST(engines_settings)
{
	static const char *const bad[] = {
		"engines = ();",
		"host = \"unix:///x\"; engines = ( { host = \"unix:///x\"; } );",
		"engines = ( { host = \"unix:///x\"; node = \"n1\"; } );",
		"engines = ( { host = \"tcp://10.0.0.2:2376\"; node = \"n2\"; } );",
		"engines = ( { host = \"tcp://10.0.0.2:2376\"; node = \"n2\"; insecure = true; }, "
		"{ host = \"tcp://10.0.0.3:2376\"; node = \"n2\"; insecure = true; } );",
		"engines = ( { host = \"unix:///x\"; colour = 1; } );",
		"engines = ( \"tcp://10.0.0.2:2376\" );",
	};
	struct tb_test_plugin t;
	char conf[512];
	void *st = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(conf, sizeof(conf), "project = \"p\"; %s", bad[i]);
		ck_assert_msg(plugin_init(&t, conf, &st) < 0, "accepted: %s", bad[i]);
		tb_test_plugin_close(&t);
	}
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; engines = ( { host = \"unix:///x\"; }, "
				     "{ host = \"tcp://10.0.0.2:2376\"; node = \"n2\"; insecure = true; } );",
				     &st), 0);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* An engine (or whoever answers on its socket) names a CgroupParent that
 * climbs out of the cgroup hierarchy into a directory it prepared. */
START_TEST(fake_cgroup_parent_escapes)
{
	int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
	char *version = version_body("1.41"), *list = dump("containers-tbtest.json");
	char *info = dump(v2 ? "info-cgroupfs-v2.json" : "info-cgroupfs-v1.json");
	char parent[256], conf[512], *web1;
	json_t *j = fixture("inspect-web_1.json");
	struct fake_engine fe;
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	void *st;

	snprintf(parent, sizeof(parent), "../../../../../../../..%s", sockdir);
	ck_assert_int_eq(tb_test_sh("mkdir -p '%s/%s'", sockdir, WEB1), 0);
	json_object_set_new(json_object_get(j, "State"), "Pid", json_integer(getpid()));
	json_object_set_new(json_object_get(j, "HostConfig"), "CgroupParent", json_string(parent));
	web1 = json_dumps(j, 0);
	json_decref(j);
	{
		const struct fake_route routes[] = {
			{ "/version", 200, version },
			{ "/v1.41/info", 200, info },
			{ "/v1.41/containers/json", 200, list },
			{ "/v1.41/containers/" WEB1 "/json", 200, web1 },
		};

		ck_assert_int_eq(fake_engine_start(&fe, sockdir, routes, 4), 0);
		snprintf(conf, sizeof(conf), "containers = [\"tbtest_web_1\"]; host = \"%s\";", fe.host);
		ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
		ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -EXDEV);
		ck_assert_msg(strstr(tb_test_last_log, "refused: its cgroup") && strstr(tb_test_last_log, "is outside"),
			      "%s", tb_test_last_log);
		ck_assert_int_eq((int)inv.nservices, 0);
		throttlebot_plugin.fini(st);
		tb_test_plugin_close(&t);
		fake_engine_stop(&fe);
	}
	tb_test_sh("rm -rf '%s/%s'", sockdir, WEB1);
	free(version); free(list); free(info); free(web1);
}
END_TEST

START_TEST(fake_errors)
{
	char *version = version_body("1.41"), *old = version_body("1.12");
	char *web1 = with_pid("inspect-web_1.json", getpid());
	char *db1 = with_pid("inspect-db_1.json", getpid() + 1);
	char *list = dump("containers-tbtest.json");
	char *info = dump("info-cgroupfs-v1.json");
	const struct fake_route broken[] = {
		{ "/version", 200, version },
		{ "/v1.41/info", 500, "{\"message\":\"boom: the daemon is shutting down\"}" },
	};
	const struct fake_route garbled[] = { { "/version", 200, "<html>" } };
	const struct fake_route ancient[] = { { "/version", 200, old } };
	const struct fake_route ok[] = {
		{ "/version", 200, version },
		{ "/v1.41/info", 200, info },
		{ "/v1.41/containers/json", 200, list },
		{ "/v1.41/containers/" WEB1 "/json", 200, web1 },
		/* Targets of an earlier discover are asked for by their key. */
		{ "/v1.41/containers/" DB1 "/json", 200, db1 },
		{ "/v1.41/containers/" WEB2 "/json", 404,
		  "{\"message\":\"No such container: " WEB2 "\"}" },
		{ "/v1.41/containers/" UNREADABLE "/json", 200, "{\"State\": {}}" },
	};
	struct tb_target gone = { .id = "f7c77939cd3a (tbtest_web_2)", .pid = getpid(), .key = WEB2 };
	struct tb_target restarted = { .id = "e93cbe3be79d (tbtest_db_1)", .pid = getpid(),
				       .key = DB1 };
	/* Could not tell: inspect data without a pid, a key that is no container id. */
	struct tb_target unreadable = { .id = "0123456789ab (tbtest_x_1)", .pid = getpid(),
					.key = UNREADABLE };
	struct tb_target foreign = { .id = "pid 1", .pid = 1 };
	struct tb_target renamed = { .id = "front-end replica", .pid = getpid(), .key = WEB1 };
	static const char *const bad_keys[] = {
		"59bb56b844ac", "../../../../etc", WEB1 "0", "59bb56b844ac (tbtest_web_1)",
		"59BB56B844AC8E72313D811BB482BEF04680A6996531E62F748FA357BA651B84",
	};
	struct fake_engine fe;
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	char conf[512];
	void *st;

	ck_assert_int_eq(fake_engine_start(&fe, NULL, broken, 2), 0);
	snprintf(conf, sizeof(conf), "project = \"tbtest\"; host = \"%s\"; insecure = true;", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -EIO);
	ck_assert_msg(strstr(tb_test_last_log, "GET /v1.41/info") && strstr(tb_test_last_log, "HTTP 500: boom: "
			     "the daemon is shutting down"), "%s", tb_test_last_log);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&fe);

	ck_assert_int_eq(fake_engine_start(&fe, sockdir, garbled, 1), 0);
	snprintf(conf, sizeof(conf), "project = \"tbtest\"; host = \"%s\";", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -EPROTO);
	ck_assert_msg(strstr(tb_test_last_log, "bad JSON") != NULL, "%s", tb_test_last_log);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&fe);

	ck_assert_int_eq(fake_engine_start(&fe, sockdir, ancient, 1), 0);
	snprintf(conf, sizeof(conf), "project = \"tbtest\"; host = \"%s\";", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -EPROTO);
	ck_assert_msg(strstr(tb_test_last_log, "API 1.12") != NULL, "%s", tb_test_last_log);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&fe);

	/* alive() on targets of an earlier run, known only by their id. */
	ck_assert_int_eq(fake_engine_start(&fe, sockdir, ok, 7), 0);
	snprintf(conf, sizeof(conf), "containers = [\"tbtest_web_1\"]; host = \"%s\";", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), 0);
	ck_assert_int_eq((int)inv.nservices, 1);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &inv.services[0].targets[0]), 1);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &gone), 0);
	ck_assert_msg(strstr(tb_test_last_log, "gone") != NULL, "%s", tb_test_last_log);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &restarted), 0);
	ck_assert_msg(strstr(tb_test_last_log, "restarted") != NULL, "%s", tb_test_last_log);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &unreadable), -EPROTO);
	ck_assert_msg(strstr(tb_test_last_log, "no State.Pid") != NULL, "%s", tb_test_last_log);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &foreign), -EINVAL);
	/* The display id is for people: the key alone finds the container. */
	ck_assert_str_eq(inv.services[0].targets[0].key, WEB1);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &renamed), 1);
	/* A key that is not a full container id is never put in a request. */
	for (size_t b = 0; b < sizeof(bad_keys) / sizeof(*bad_keys); b++) {
		int before = fe.nrequests;

		renamed.key = bad_keys[b];
		ck_assert_int_eq(throttlebot_plugin.alive(st, &renamed), -EINVAL);
		ck_assert_msg(strstr(tb_test_last_log, "refused") != NULL, "%s", tb_test_last_log);
		ck_assert_int_eq(throttlebot_plugin.revive(st, &renamed), -EINVAL);
		ck_assert_int_eq(fe.nrequests, before);
	}
	/* The engine gone: a pid to look at locally tells, no pid cannot. */
	fake_engine_stop(&fe);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &gone), 0);
	gone.pid = 0;
	ck_assert_int_lt(throttlebot_plugin.alive(st, &gone), 0);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	free(version); free(old); free(web1); free(db1); free(list); free(info);
}
END_TEST

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* web_1's inspect answer, its pid ours, with a HEALTHCHECK's state. */
static char *with_health(const char *status, const char *output)
{
	json_t *j = fixture("inspect-web_1.json");
	char *s;

	json_object_set_new(json_object_get(j, "State"), "Pid", json_integer(getpid()));
	json_object_set_new(json_object_get(j, "State"), "Health",
			    json_pack("{s:s, s:i, s:[{s:i, s:s}]}", "Status", status, "FailingStreak", 0,
				      "Log", "ExitCode", 1, "Output", output));
	s = json_dumps(j, 0);
	json_decref(j);
	return s;
}

/* A container with a HEALTHCHECK: discovered once healthy (at the start and
 * again after a restart), refused when unhealthy or never healthy. */
START_TEST(fake_health)
{
	char *version = version_body("1.41"), *list = dump("containers-tbtest.json");
	char *info = dump("info-cgroupfs-v1.json");
	char *starting = with_health("starting", "no response\n"), *healthy = with_health("healthy", "ok");
	char *unhealthy = with_health("unhealthy", "127.0.0.1:5432 - no response\n");
	const char *const comes_up[] = { starting, healthy, starting, starting, healthy };
	struct fake_route routes[] = {
		{ "/version", 200, version },
		{ "/v1.41/info", 200, info },
		{ "/v1.41/containers/json", 200, list },
		{ "/v1.41/containers/" WEB1 "/json", 200, starting },
	};
	struct fake_engine fe;
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	struct dk_container c = { .id = WEB1 };
	char conf[512], err[256];
	double t0;
	void *st;
	json_t *j;

	/* Starting, starting, healthy: three questions, some time between. */
	ck_assert_int_eq(fake_engine_start(&fe, sockdir, routes, 4), 0);
	fake_engine_then(&fe, 3, comes_up, 5);
	snprintf(conf, sizeof(conf), "containers = [\"tbtest_web_1\"]; host = \"%s\";", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	t0 = now();
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), 0);
	ck_assert_double_ge(now() - t0, 0.2);
	ck_assert_uint_eq(fake_engine_hits(&fe, 3), 3);
	ck_assert_int_eq((int)inv.nservices, 1);
	tb_inventory_free(&inv);
	/* Found again after a restart: it waits again. */
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), 0);
	ck_assert_uint_eq(fake_engine_hits(&fe, 3), 6);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&fe);

	/* Unhealthy: refused at once, saying what its check said. */
	routes[3].body = unhealthy;
	ck_assert_int_eq(fake_engine_start(&fe, sockdir, routes, 4), 0);
	snprintf(conf, sizeof(conf), "containers = [\"tbtest_web_1\"]; host = \"%s\";", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -EIO);
	ck_assert_msg(strstr(tb_test_last_log, "container tbtest_web_1 (service tbtest_web_1) is unhealthy: "
			     "127.0.0.1:5432 - no response: "), "%s", tb_test_last_log);
	ck_assert_uint_eq(fake_engine_hits(&fe, 3), 1);
	ck_assert_int_eq((int)inv.nservices, 0);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&fe);

	/* Never healthy: bounded by health_timeout. */
	routes[3].body = starting;
	ck_assert_int_eq(fake_engine_start(&fe, sockdir, routes, 4), 0);
	snprintf(conf, sizeof(conf), "containers = [\"tbtest_web_1\"]; health_timeout = 0.5; "
		 "host = \"%s\";", fe.host);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	t0 = now();
	ck_assert_int_eq(throttlebot_plugin.discover(st, &inv), -ETIMEDOUT);
	ck_assert_double_ge(now() - t0, 0.5);
	ck_assert_double_lt(now() - t0, 3);
	ck_assert_msg(strstr(tb_test_last_log, "not healthy within 0.5 s (health_timeout): still starting; "
			     "last check said: no response"), "%s", tb_test_last_log);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	fake_engine_stop(&fe);
	ck_assert_int_eq(plugin_init(&t, "project = \"p\"; health_timeout = 0;", &st), -EINVAL);
	tb_test_plugin_close(&t);

	/* A check turned off is no check; a status we do not know is refused. */
	j = json_pack("{s:{s:i, s:b, s:{s:s}}}", "State", "Pid", 7, "Running", 1, "Health", "Status", "none");
	ck_assert_int_eq(dk_parse_inspect(j, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.health, "");
	json_object_set_new(json_object_get(json_object_get(j, "State"), "Health"), "Status",
			    json_string("sick"));
	ck_assert_int_eq(dk_parse_inspect(j, &c, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "unknown State.Health.Status \"sick\""), "%s", err);
	json_decref(j);
	free(version); free(list); free(info); free(starting); free(healthy); free(unhealthy);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Throttling through the Engine API (a node without an agent): the stand-in  */
/* merges each update into the container's HostConfig as the Engine does and */
/* serves it back, so what is asserted is what an inspect would show.         */

struct remote_engine {
	char *body[4];
	struct fake_route routes[4];
	struct fake_engine fe;
	struct tb_test_plugin t;
	struct tb_inventory inv;
	void *st;
	const struct tb_target *web1;
	json_t *before;                  /* web_1's HostConfig as it was */
};

/* web_1 on node n2, reached at the stand-in engine over TCP; hc (JSON)
 * merged into its HostConfig.  NCPU is 2. */
static void remote_engine(struct remote_engine *r, const char *hc)
{
	json_t *j = fixture("inspect-web_1.json"), *extra = json_loads(hc, 0, NULL);
	const char *paths[] = { "/version", "/v1.41/info", "/v1.41/containers/json",
				"/v1.41/containers/" WEB1 "/json" };
	char conf[512];

	ck_assert_ptr_nonnull(extra);
	json_object_set_new(json_object_get(j, "State"), "Pid", json_integer(getpid()));
	json_object_update(json_object_get(j, "HostConfig"), extra);
	json_decref(extra);
	r->before = json_deep_copy(json_object_get(j, "HostConfig"));
	r->body[0] = version_body("1.41");
	r->body[1] = dump("info-cgroupfs-v1.json");
	r->body[2] = dump("containers-tbtest.json");
	r->body[3] = json_dumps(j, 0);
	json_decref(j);
	for (int i = 0; i < 4; i++)
		r->routes[i] = (struct fake_route){ paths[i], 200, r->body[i] };
	ck_assert_int_eq(fake_engine_start(&r->fe, NULL, r->routes, 4), 0);
	snprintf(conf, sizeof(conf), "containers = [\"tbtest_web_1\"]; engines = ( { host = \"%s\"; "
		 "node = \"n2\"; insecure = true; } );", r->fe.host);
	ck_assert_int_eq(plugin_init(&r->t, conf, &r->st), 0);
	memset(&r->inv, 0, sizeof(r->inv));
	ck_assert_int_eq(throttlebot_plugin.discover(r->st, &r->inv), 0);
	r->web1 = &r->inv.services[0].targets[0];
	ck_assert_str_eq(r->web1->node, "n2");
	ck_assert_int_eq(r->web1->pid, 0);
}

static void remote_engine_free(struct remote_engine *r)
{
	tb_inventory_free(&r->inv);
	throttlebot_plugin.fini(r->st);
	tb_test_plugin_close(&r->t);
	fake_engine_stop(&r->fe);
	for (int i = 0; i < 4; i++)
		free(r->body[i]);
	json_decref(r->before);
}

/* web_1's HostConfig as the stand-in engine has it now. */
static const json_t *host_config_now(struct remote_engine *r)
{
	return r->fe.updated[3] ? json_object_get(r->fe.updated[3], "HostConfig") : r->before;
}

static long long hc_int(struct remote_engine *r, const char *key)
{
	return json_integer_value(json_object_get(host_config_now(r), key));
}

/* Apply at stress, then restore; the update bodies sent, in order, are
 * checked against want_apply and want_restore. */
static void engine_cycle(struct remote_engine *r, const char *throttler, double stress,
			 const char *want_apply, const char *want_restore, char *saved, size_t size)
{
	ck_assert_int_eq(throttlebot_plugin.throttle_save(r->st, r->web1, throttler, saved, size), 0);
	ck_assert_int_eq(r->fe.nupdates, 0);
	ck_assert_int_eq(throttlebot_plugin.throttle_apply(r->st, r->web1, saved, stress), 0);
	ck_assert_int_eq(r->fe.nupdates, 1);
	ck_assert_str_eq(fake_engine_update(&r->fe, 0), want_apply);
	/* From the saved settings: applied again, the same, not compounded. */
	ck_assert_int_eq(throttlebot_plugin.throttle_apply(r->st, r->web1, saved, stress), 0);
	ck_assert_str_eq(fake_engine_update(&r->fe, 1), want_apply);
	ck_assert_int_eq(throttlebot_plugin.throttle_restore(r->st, saved), 0);
	ck_assert_int_eq(r->fe.nupdates, 3);
	ck_assert_str_eq(fake_engine_update(&r->fe, 2), want_restore);
}

START_TEST(engine_cpu_quota)
{
	struct remote_engine r;
	char saved[TB_SAVED_MAX];
	json_t *want;

	/* No limit: stress 0.5 leaves half of NCPU (2) cores at the default period. */
	remote_engine(&r, "{}");
	engine_cycle(&r, "cpu_quota", 0.5, "{\"CpuQuota\":100000}", "{\"CpuQuota\":-1}", saved,
		     sizeof(saved));
	ck_assert_msg(!strncmp(saved, "engine 1\nurl http://127.0.0.1:", 30), "%s", saved);
	ck_assert_msg(strstr(saved, "\ncontainer " WEB1 "\nthrottler cpu_quota\ncpu_period 0\n"
			     "cpu_quota 0\nnano_cpus 0\ncores 2\n"), "%s", saved);
	/* An update takes 0 for "as it is": no quota comes back as -1, which
	 * the Engine takes as none; the rest exactly as before. */
	want = json_deep_copy(r.before);
	json_object_set_new(want, "CpuQuota", json_integer(-1));
	ck_assert(json_equal(want, (json_t *)host_config_now(&r)));
	json_decref(want);
	remote_engine_free(&r);

	/* A quota of its own (1.5 cores per 50 ms): 0.2 of it taken, then exactly it again. */
	remote_engine(&r, "{\"CpuPeriod\": 50000, \"CpuQuota\": 75000}");
	engine_cycle(&r, "cpu_quota", 0.2, "{\"CpuQuota\":60000}",
		     "{\"CpuPeriod\":50000,\"CpuQuota\":75000}", saved, sizeof(saved));
	ck_assert(json_equal(r.before, (json_t *)host_config_now(&r)));
	remote_engine_free(&r);

	/* A cpuset of one CPU and no quota: half of that one. */
	remote_engine(&r, "{\"CpusetCpus\": \"1\"}");
	engine_cycle(&r, "cpu_quota", 0.5, "{\"CpuQuota\":50000}", "{\"CpuQuota\":-1}", saved,
		     sizeof(saved));
	remote_engine_free(&r);
}
END_TEST

/* --cpus (NanoCpus): the Engine refuses a quota beside it, so it is
 * throttled and put back through NanoCpus itself. */
START_TEST(engine_nano_cpus)
{
	struct remote_engine r;
	char saved[TB_SAVED_MAX];

	remote_engine(&r, "{\"NanoCpus\": 1500000000}");
	ck_assert_int_eq(throttlebot_plugin.throttle_save(r.st, r.web1, "cpu_quota", saved,
							  sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.throttle_apply(r.st, r.web1, saved, 0.6), 0);
	ck_assert_str_eq(fake_engine_update(&r.fe, 0), "{\"NanoCpus\":600000000}");
	ck_assert_int_eq(hc_int(&r, "NanoCpus"), 600000000);
	ck_assert_int_eq(hc_int(&r, "CpuQuota"), 0);
	/* Never below the Engine's least, 0.01 CPU. */
	ck_assert_int_eq(throttlebot_plugin.throttle_apply(r.st, r.web1, saved, 0.99999), 0);
	ck_assert_int_eq(hc_int(&r, "NanoCpus"), 10000000);
	ck_assert_int_eq(throttlebot_plugin.throttle_restore(r.st, saved), 0);
	ck_assert_str_eq(fake_engine_update(&r.fe, 2), "{\"NanoCpus\":1500000000}");
	ck_assert(json_equal(r.before, (json_t *)host_config_now(&r)));
	remote_engine_free(&r);
}
END_TEST

START_TEST(engine_cpuset)
{
	struct remote_engine r;
	char saved[TB_SAVED_MAX];

	/* Every CPU (""): half of NCPU's, then all of them named, since the
	 * Engine ignores an empty CpusetCpus. */
	remote_engine(&r, "{}");
	engine_cycle(&r, "cpuset", 0.5, "{\"CpusetCpus\":\"0\"}", "{\"CpusetCpus\":\"0-1\"}", saved,
		     sizeof(saved));
	ck_assert_msg(strstr(saved, "\nthrottler cpuset\ncpuset_cpus\nncpu 2\n"), "%s", saved);
	remote_engine_free(&r);
	/* A cpuset of its own: the lowest-numbered kept, then exactly it again. */
	remote_engine(&r, "{\"CpusetCpus\": \"1-3,5\"}");
	engine_cycle(&r, "cpuset", 0.5, "{\"CpusetCpus\":\"1-2\"}", "{\"CpusetCpus\":\"1-3,5\"}",
		     saved, sizeof(saved));
	ck_assert(json_equal(r.before, (json_t *)host_config_now(&r)));
	remote_engine_free(&r);
}
END_TEST

START_TEST(engine_refused)
{
	struct remote_engine r;
	char saved[TB_SAVED_MAX] = "";

	remote_engine(&r, "{}");
	/* The update took only BlkioWeight until 2026 engines: not pretended. */
	ck_assert_int_eq(throttlebot_plugin.throttle_save(r.st, r.web1, "blkio", saved, sizeof(saved)),
			 -EOPNOTSUPP);
	ck_assert_msg(strstr(tb_test_last_log, "BlkioWeight") && strstr(tb_test_last_log, "per-device"),
		      "%s", tb_test_last_log);
	ck_assert_int_eq(throttlebot_plugin.throttle_save(r.st, r.web1, "tc", saved, sizeof(saved)),
			 -EOPNOTSUPP);
	ck_assert_int_eq(r.fe.nupdates, 0);
	/* An engine that answers OK and changes nothing is caught. */
	ck_assert_int_eq(throttlebot_plugin.throttle_save(r.st, r.web1, "cpu_quota", saved,
							  sizeof(saved)), 0);
	r.fe.ignore_updates = 1;
	ck_assert_int_eq(throttlebot_plugin.throttle_apply(r.st, r.web1, saved, 0.5), -EIO);
	ck_assert_msg(strstr(tb_test_last_log, "HostConfig.CpuQuota is 0: the engine did not apply it"),
		      "%s", tb_test_last_log);
	/* Saved text of another container is not applied to this one. */
	ck_assert_ptr_nonnull(strstr(saved, WEB1));
	strstr(saved, WEB1)[0] = 'f';
	ck_assert_int_lt(throttlebot_plugin.throttle_apply(r.st, r.web1, saved, 0.5), 0);
	ck_assert_int_eq(r.fe.nupdates, 1);
	remote_engine_free(&r);
}
END_TEST

/* After a crash: an instance made with no configuration restores from the
 * saved text alone; a container gone since is nothing to undo. */
START_TEST(engine_restore_alone)
{
	struct remote_engine r;
	struct tb_test_plugin t;
	char saved[TB_SAVED_MAX];
	void *st;

	remote_engine(&r, "{\"CpuPeriod\": 20000, \"CpuQuota\": 30000}");
	ck_assert_int_eq(throttlebot_plugin.throttle_save(r.st, r.web1, "cpu_quota", saved,
							  sizeof(saved)), 0);
	ck_assert_int_eq(throttlebot_plugin.throttle_apply(r.st, r.web1, saved, 0.5), 0);
	ck_assert_int_eq(hc_int(&r, "CpuQuota"), 15000);
	ck_assert_int_eq(plugin_init(&t, NULL, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.throttle_restore(st, saved), 0);
	ck_assert(json_equal(r.before, (json_t *)host_config_now(&r)));
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	r.routes[3].status = 404;
	r.fe.updated[3] = (json_decref(r.fe.updated[3]), NULL);
	ck_assert_int_eq(plugin_init(&t, NULL, &st), 0);
	ck_assert_int_eq(throttlebot_plugin.throttle_restore(st, saved), -ENOENT);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	remote_engine_free(&r);
}
END_TEST

/* The journal is a file: its text is checked before anything is sent. */
START_TEST(engine_hostile_record)
{
	const char *quota = "container " WEB1 "\nthrottler cpu_quota\ncpu_period 0\ncpu_quota 0\n"
			    "nano_cpus 0\ncores 2\n";
	const char *bad[][2] = {
		{ "engine 2\nurl %1$s\n%2$s", "version" },
		{ "engine 1\nurl %1$s\ncontainer ../../../etc/x\nthrottler cpu_quota\ncpu_period 0\n"
		  "cpu_quota 0\nnano_cpus 0\ncores 2\n", "64-hex" },
		{ "engine 1\nurl %1$s\ncontainer 59BB56B844AC8E72313D811BB482BEF04680A6996531E62F748FA357BA651B84\n"
		  "throttler cpu_quota\ncpu_period 0\ncpu_quota 0\nnano_cpus 0\ncores 2\n", "64-hex" },
		{ "engine 1\nurl %1$s\x01\n%2$s", "control" },
		{ "engine 1\nurl %1$s\ntls_ca /etc/ssl/ca.pem\n%2$s", "not https" },
		{ "engine 1\nurl http://evil@127.0.0.1:1\n%2$s", "bad engine url" },
		{ "engine 1\nurl unix:///run/../tmp/docker.sock\n%2$s", "bad engine url" },
		{ "engine 1\nurl ftp://127.0.0.1:1\n%2$s", "bad engine url" },
		{ "engine 1\nurl https://127.0.0.1:1\n%2$s", "out of place" },
		{ "engine 1\nurl %1$s\nurl %1$s\n%2$s", "twice" },
		{ "engine 1\nurl %1$s\nexec /bin/sh\n%2$s", "unknown key" },
		{ "engine 1\nurl %1$s\n%2$stls_verify 1\n", "out of place" },
		{ "engine 1\nurl %1$s\ncontainer " WEB1 "\nthrottler cpu_quota\ncpu_period 0\ncpu_quota 500\n"
		  "nano_cpus 0\ncores 2\n", "cpu_quota" },
		{ "engine 1\nurl %1$s\ncontainer " WEB1 "\nthrottler cpu_quota\ncpu_period 0\n"
		  "cpu_quota 20000\nnano_cpus 1000000000\ncores 2\n", "nano_cpus with" },
		{ "engine 1\nurl %1$s\ncontainer " WEB1 "\nthrottler cpu_quota\ncpu_period 0\ncpu_quota 0\n"
		  "nano_cpus 0\ncores 0\n", "cores" },
		{ "engine 1\nurl %1$s\ncontainer " WEB1 "\nthrottler cpu_quota\ncpu_period 0\ncpu_quota 0\n"
		  "nano_cpus 0\ncores 2", "newline" },
		{ "engine 1\nurl %1$s\ncontainer " WEB1 "\nthrottler cpuset\ncpuset_cpus 0-3;reboot\nncpu 4\n",
		  "cpuset_cpus" },
		{ "engine 1\nurl %1$s\ncontainer " WEB1 "\nthrottler blkio\n", "throttler" },
		{ "engine 1\nurl %1$s\ncontainer " WEB1 "\nthrottler cpuset\ncpuset_cpus 0\nncpu 4\n"
		  "cores 2\n", "out of place" },
	};
	struct remote_engine r;
	struct tb_test_plugin t;
	struct dk_record rec;
	char url[200], text[2048], err[256];
	void *st;

	remote_engine(&r, "{}");
	snprintf(url, sizeof(url), "http://%.180s", r.fe.host + strlen("tcp://"));
	snprintf(text, sizeof(text), "engine 1\nurl %s\n%s", url, quota);
	ck_assert_int_eq(dk_record_parse(text, &rec, err, sizeof(err)), 0);
	ck_assert_int_eq(plugin_init(&t, NULL, &st), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int before = r.fe.nrequests;

		snprintf(text, sizeof(text), bad[i][0], url, quota);
		ck_assert_int_eq(dk_record_parse(text, &rec, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, bad[i][1]), "case %zu: %s", i, err);
		ck_assert_int_eq(throttlebot_plugin.throttle_restore(st, text), -EINVAL);
		ck_assert_msg(strstr(tb_test_last_log, "refused a saved engine throttle"), "%s",
			      tb_test_last_log);
		ck_assert_int_eq(r.fe.nrequests, before);
	}
	/* What restore would refuse is never saved. */
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.url, sizeof(rec.url), "%s", url);
	snprintf(rec.id, sizeof(rec.id), "abc");
	rec.knob = DK_CPU_QUOTA;
	rec.cores = 2;
	ck_assert_int_eq(dk_record_format(&rec, text, sizeof(text), err, sizeof(err)), -EINVAL);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	remote_engine_free(&r);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* TLS: the stand-in daemon behind socat's TLS, with certificates made here  */
/* by openssl (a CA, the daemon's, ours; another CA; a certificate for       */
/* another host name).  Nothing is mocked in the TLS itself.                 */

static int make_certs(const char *dir)
{
	return tb_test_sh(
		"set -e; mkdir -p '%1$s/env'; cd '%1$s'; "
		"ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		"-days 1 -subj /CN=$1 -keyout $1-key.pem -out $1.pem 2>/dev/null; }; "
		"leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=$1 "
		"-keyout $1-key.pem -out $1.csr 2>/dev/null; printf '%%s\\n' \"$3\" > $1.ext; "
		"openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2-key.pem -CAcreateserial -days 1 "
		"-extfile $1.ext -out $1.pem 2>/dev/null; }; "
		"ca ca; ca otherca; "
		"leaf server ca 'subjectAltName=IP:127.0.0.1'; "
		"leaf wronghost ca 'subjectAltName=DNS:wronghost.invalid'; "
		"leaf client ca 'extendedKeyUsage=clientAuth'; "
		"cp ca.pem env/ca.pem; cp client.pem env/cert.pem; cp client-key.pem env/key.pem", dir);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* socat: TLS on 127.0.0.1:port with the server certificate named, asking for
 * a client certificate from our CA, to the stand-in daemon's socket.  It dies
 * with this process.  Its pid once it accepts connections (5 s at most). */
static pid_t tls_proxy(const char *dir, const char *server, int port, const char *sock)
{
	char listen[1024], to[256];
	pid_t pid;

	snprintf(listen, sizeof(listen), "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork,"
		 "cert=%s/%s.pem,key=%s/%s-key.pem,cafile=%s/ca.pem,verify=1", port, dir, server,
		 dir, server, dir);
	snprintf(to, sizeof(to), "UNIX-CONNECT:%s", sock);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("socat", "socat", listen, to, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	for (int i = 0; i < 100; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int up = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

		if (fd >= 0)
			close(fd);
		if (up)
			return pid;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_abort_msg("socat did not listen on 127.0.0.1:%d", port);
	return -1;
}

static void stop_proxy(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* Discover through TLS with extra settings; the result, and the services
 * found (none, when refused: nothing to throttle). */
static int tls_discover(int port, const char *extra, int *nservices)
{
	struct tb_test_plugin t;
	struct tb_inventory inv = { 0 };
	char conf[2048];
	void *st;
	int r;

	snprintf(conf, sizeof(conf), "project = \"tbtest\"; host = \"tcp://127.0.0.1:%d\"; %s",
		 port, extra);
	ck_assert_int_eq(plugin_init(&t, conf, &st), 0);
	r = throttlebot_plugin.discover(st, &inv);
	*nservices = (int)inv.nservices;
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	return r;
}

START_TEST(fake_tls)
{
	struct project_answers a;
	char dir[200], ours[1024], env[1024];
	int port = free_port(), other = free_port(), n;
	struct fake_engine fe;
	pid_t proxy, wrong;

	snprintf(dir, sizeof(dir), "%s/certs", sockdir);
	ck_assert_msg(make_certs(dir) == 0, "openssl could not make the test certificates");
	project_answers(&a, "1.41", 0, getpid());
	ck_assert_int_eq(fake_engine_start(&fe, sockdir, a.routes, 6), 0);
	proxy = tls_proxy(dir, "server", port, fe.sock);
	wrong = tls_proxy(dir, "wronghost", other, fe.sock);
	snprintf(ours, sizeof(ours), "tls_ca = \"%1$s/ca.pem\"; tls_cert = \"%1$s/client.pem\"; "
		 "tls_key = \"%1$s/client-key.pem\";", dir);

	/* The right CA and client certificate: the containers are found. */
	ck_assert_int_eq(tls_discover(port, ours, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(fake_engine_request(&fe, 0), "/version");
	/* The same from the Docker CLI's environment. */
	snprintf(env, sizeof(env), "%s/env", dir);
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", env, 1);
	ck_assert_int_eq(tls_discover(port, "", &n), 0);
	ck_assert_int_eq(n, 2);
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	fe.nrequests = 0;

	/* No client certificate: the daemon refuses us. */
	snprintf(env, sizeof(env), "tls_ca = \"%s/ca.pem\";", dir);
	ck_assert_int_eq(tls_discover(port, env, &n), -EKEYREJECTED);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(strstr(tb_test_last_log, "TLS with the Docker daemon at tcp://127.0.0.1:") &&
		      strstr(tb_test_last_log, "failed"), "%s", tb_test_last_log);
	/* Another CA: we refuse the daemon. */
	snprintf(env, sizeof(env), "tls_ca = \"%1$s/otherca.pem\"; tls_cert = \"%1$s/client.pem\"; "
		 "tls_key = \"%1$s/client-key.pem\";", dir);
	ck_assert_int_eq(tls_discover(port, env, &n), -EKEYREJECTED);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(strstr(tb_test_last_log, "certificate"), "%s", tb_test_last_log);
	/* A certificate for another name: refused as well. */
	ck_assert_int_eq(tls_discover(other, ours, &n), -EKEYREJECTED);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(strstr(tb_test_last_log, "127.0.0.1") && strstr(tb_test_last_log, "name"), "%s", tb_test_last_log);
	/* None of them got a request through to the daemon. */
	ck_assert_int_eq(fe.nrequests, 0);
	/* tls_verify = false takes any daemon, saying so. */
	ck_assert_int_eq(tls_discover(other, "tls_verify = false;", &n), -EKEYREJECTED);
	snprintf(env, sizeof(env), "tls_verify = false; tls_cert = \"%1$s/client.pem\"; "
		 "tls_key = \"%1$s/client-key.pem\";", dir);
	ck_assert_int_eq(tls_discover(other, env, &n), 0);
	ck_assert_int_eq(n, 2);

	stop_proxy(proxy);
	stop_proxy(wrong);
	fake_engine_stop(&fe);
	project_answers_free(&a);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Integration: a real engine, an image built offline, real containers.     */

#define IMAGE "throttlebot-test/busybox:latest"
static char project[64];
static int started_dockerd;       /* pid of the dockerd we started, 0 if none */
static int made_image;
static pid_t main_pid;            /* Check forks each test: only main cleans up */

static void teardown_engine(void)
{
	if (!project[0] || getpid() != main_pid)
		return;
	tb_test_sh("ids=$(docker ps -aq --filter label=com.docker.compose.project=%s); "
		   "[ -z \"$ids\" ] || docker rm -f $ids >/dev/null 2>&1", project);
	if (made_image)
		tb_test_sh("docker rmi -f %s >/dev/null 2>&1", IMAGE);
	if (started_dockerd > 0) {
		kill(started_dockerd, SIGTERM);
		tb_test_sh("for i in $(seq 1 40); do kill -0 %d 2>/dev/null || exit 0; sleep 0.25; done;"
			   " kill -9 %d 2>/dev/null", started_dockerd, started_dockerd);
		unlink("/tmp/throttlebot-dockerd.log");
	}
	project[0] = '\0';
}

static int made_sockdir;

static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	teardown_engine();
	if (made_sockdir)
		tb_test_sh("rm -rf '%s'", sockdir);
	made_sockdir = 0;
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int start_engine(void)
{
	char pidfile[] = "/tmp/throttlebot-dockerd.XXXXXX";
	FILE *f;
	int fd;

	if (tb_test_sh("command -v dockerd >/dev/null") != 0 &&
	    tb_test_sh("timeout 300 sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
		       "docker.io' >/dev/null 2>&1") != 0)
		return -1;
	if (tb_test_sh("docker version >/dev/null 2>&1") == 0)
		return 0;
	if (access("/var/run/docker.sock", F_OK) == 0)
		return -1;  /* someone's daemon, not answering: leave it alone */
	fd = mkstemp(pidfile);
	if (fd < 0)
		return -1;
	close(fd);
	tb_test_sh("dockerd >/tmp/throttlebot-dockerd.log 2>&1 & echo $! > %s", pidfile);
	f = fopen(pidfile, "r");
	if (f) {
		if (fscanf(f, "%d", &started_dockerd) != 1)
			started_dockerd = 0;
		fclose(f);
	}
	unlink(pidfile);
	return tb_test_sh("for i in $(seq 1 60); do docker version >/dev/null 2>&1 && exit 0; "
			  "sleep 0.5; done; exit 1");
}

static int build_image(void)
{
	if (tb_test_sh("docker image inspect %s >/dev/null 2>&1", IMAGE) == 0)
		return 0;
	if (tb_test_sh("[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1") != 0 &&
	    tb_test_sh("timeout 300 sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
		       "busybox-static' >/dev/null 2>&1") != 0)
		return -1;
	made_image = 1;
	return tb_test_sh("set -e; d=$(mktemp -d /tmp/throttlebot-rootfs.XXXXXX); "
			  "trap 'rm -rf \"$d\"' EXIT; mkdir \"$d/bin\"; cp /bin/busybox \"$d/bin/\"; "
			  "for a in sh sleep; do ln -s busybox \"$d/bin/$a\"; done; "
			  "tar -C \"$d\" -c . | docker import - %s >/dev/null", IMAGE);
}

static int run_container(const char *service, int n)
{
	return tb_test_sh("docker run -d --name %s_%s_%d --label com.docker.compose.project=%s "
			  "--label com.docker.compose.service=%s --label tier=%s %s sleep 600 "
			  ">/dev/null", project, service, n, project, service,
			  strcmp(service, "db") ? "front" : "back", IMAGE);
}

static int setup_engine(void)
{
	snprintf(project, sizeof(project), "throttlebot-test-%d", (int)main_pid);
	if (start_engine() != 0 || build_image() != 0)
		return -1;
	if (run_container("web", 1) || run_container("web", 2) || run_container("db", 1))
		return -2;
	return 0;
}

static pid_t docker_pid(const char *name)
{
	char cmd[256], out[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "docker inspect -f '{{.State.Pid}}' %s_%s", project, name);
	p = popen(cmd, "r");
	ck_assert(p != NULL);
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return (pid_t)atoi(out);
}

static int procs_has(const char *dir, pid_t pid)
{
	char path[1200], line[64];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = atoi(line) == pid;
	fclose(f);
	return found;
}

static void check_target(const struct tb_target *t, const char *name)
{
	pid_t pid = docker_pid(name);
	char netns[64];

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(t->pid, pid);
	ck_assert_msg(strstr(t->id, name) != NULL, "%s", t->id);
	for (int c = TB_CG_CPU; c <= TB_CG_MEMORY; c++) {
		ck_assert_msg(t->cgroup[c] != NULL, "%s: no cgroup %d", t->id, c);
		ck_assert_msg(procs_has(t->cgroup[c], pid), "%s/cgroup.procs lacks %d", t->cgroup[c],
			      (int)pid);
	}
	ck_assert_msg(strstr(t->cgroup[TB_CG_IO], "/blkio/") != NULL, "%s", t->cgroup[TB_CG_IO]);
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)pid);
	ck_assert_str_eq(t->netns, netns);
	ck_assert_str_eq(t->ifname, "eth0");
}

static void discover(struct tb_test_plugin *t, const char *conf, void **st,
		     struct tb_inventory *inv, int want)
{
	ck_assert_int_eq(plugin_init(t, conf, st), 0);
	memset(inv, 0, sizeof(*inv));
	ck_assert_int_eq(throttlebot_plugin.discover(*st, inv), want);
}

START_TEST(real_project)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	char conf[256];
	void *st;

	snprintf(conf, sizeof(conf), "project = \"%s\";", project);
	discover(&t, conf, &st, &inv, 0);
	ck_assert_int_eq((int)inv.nservices, 2);
	ck_assert_str_eq(inv.services[0].name, "db");
	ck_assert_int_eq((int)inv.services[0].ntargets, 1);
	check_target(&inv.services[0].targets[0], "db_1");
	ck_assert_str_eq(inv.services[1].name, "web");
	ck_assert_int_eq((int)inv.services[1].ntargets, 2);
	check_target(&inv.services[1].targets[0], "web_1");
	check_target(&inv.services[1].targets[1], "web_2");
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

START_TEST(real_names_and_labels)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	char conf[256];
	void *st;

	snprintf(conf, sizeof(conf), "containers = [\"%s_web_*\"];", project);
	discover(&t, conf, &st, &inv, 0);
	ck_assert_int_eq((int)inv.nservices, 2);
	ck_assert_msg(strstr(inv.services[0].name, "_web_1") != NULL, "%s", inv.services[0].name);
	check_target(&inv.services[0].targets[0], "web_1");
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);

	snprintf(conf, sizeof(conf), "labels = [\"com.docker.compose.project=%s\", \"tier=back\"]; "
		 "service_label = \"com.docker.compose.service\";", project);
	discover(&t, conf, &st, &inv, 0);
	ck_assert_int_eq((int)inv.nservices, 1);
	ck_assert_str_eq(inv.services[0].name, "db");
	check_target(&inv.services[0].targets[0], "db_1");
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

START_TEST(real_no_match)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	void *st;

	discover(&t, "project = \"throttlebot-nosuch\";", &st, &inv, -ENOENT);
	ck_assert_msg(strstr(tb_test_last_log, "no running container matched project "
			     "\"throttlebot-nosuch\" at unix:///var/run/docker.sock"), "%s", tb_test_last_log);
	ck_assert_int_eq((int)inv.nservices, 0);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* Runs last: it stops, restarts and removes the containers. */
START_TEST(real_alive)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	const struct tb_target *web1, *web2, *db1;
	char conf[256];
	void *st;

	snprintf(conf, sizeof(conf), "project = \"%s\";", project);
	discover(&t, conf, &st, &inv, 0);
	db1 = &inv.services[0].targets[0];
	web1 = &inv.services[1].targets[0];
	web2 = &inv.services[1].targets[1];
	ck_assert_int_eq(throttlebot_plugin.alive(st, web1), 1);
	ck_assert_int_eq(throttlebot_plugin.alive(st, web2), 1);
	ck_assert_int_eq(tb_test_sh("docker stop -t 1 %s_web_2 >/dev/null", project), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, web2), 0);
	ck_assert_msg(strstr(tb_test_last_log, "no longer running") != NULL, "%s", tb_test_last_log);
	ck_assert_int_eq(throttlebot_plugin.alive(st, web1), 1);
	/* revive() restarts it through the engine: running again, a new process. */
	ck_assert_int_eq(throttlebot_plugin.revive(st, web2), 0);
	ck_assert_int_eq(tb_test_sh("test \"$(docker inspect -f '{{.State.Running}}' %s_web_2)\" = true",
				    project), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, web2), 0);
	/* A restarted container has a new process: not the target discovered. */
	ck_assert_int_eq(tb_test_sh("docker restart -t 1 %s_web_1 >/dev/null", project), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, web1), 0);
	ck_assert_msg(strstr(tb_test_last_log, "was restarted") != NULL, "%s", tb_test_last_log);
	ck_assert_int_eq(tb_test_sh("docker rm -f %s_db_1 >/dev/null", project), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, db1), 0);
	ck_assert_msg(strstr(tb_test_last_log, "gone") != NULL, "%s", tb_test_last_log);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("docker");
	TCase *unit = tcase_create("unit"), *real = tcase_create("engine");
	SRunner *sr;
	int failed;

	tcase_add_test(unit, endpoint);
	tcase_add_test(unit, negotiate);
	tcase_add_test(unit, info_fields);
	tcase_add_test(unit, error_message);
	tcase_add_test(unit, filters);
	tcase_add_test(unit, select_project);
	tcase_add_test(unit, select_names);
	tcase_add_test(unit, select_refuses_bad_ids);
	tcase_add_test(unit, inspect_fields);
	tcase_add_test(unit, cgroup_cgroupfs_v1);
	tcase_add_test(unit, cgroup_systemd_v1);
	tcase_add_test(unit, cgroup_v2);
	tcase_add_test(unit, net_dev);
	tcase_add_test(unit, settings);
	tcase_add_test(unit, unreachable);
	tcase_add_loop_test(unit, fake_discover, 0, 2);
	tcase_add_test(unit, fake_errors);
	tcase_add_test(unit, fake_engines);
	tcase_add_test(unit, engines_settings);
	tcase_add_test(unit, fake_cgroup_parent_escapes);
	tcase_add_test(unit, fake_health);
	tcase_add_test(unit, engine_cpu_quota);
	tcase_add_test(unit, engine_nano_cpus);
	tcase_add_test(unit, engine_cpuset);
	tcase_add_test(unit, engine_refused);
	tcase_add_test(unit, engine_restore_alone);
	tcase_add_test(unit, engine_hostile_record);
	if (tb_test_sh("command -v socat >/dev/null && command -v openssl >/dev/null") == 0)
		tcase_add_test(unit, fake_tls);
	else
		printf("SKIP: docker TLS test: needs socat and openssl (scripts/install-deps.sh --test)\n");
	suite_add_tcase(s, unit);

	main_pid = getpid();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(cleanup);
	if (!mkdtemp(sockdir)) {
		perror(sockdir);
		return EXIT_FAILURE;
	}
	made_sockdir = 1;
	if (!tb_test_is_root()) {
		printf("SKIP: docker engine tests: not root\n");
	} else {
		int r = setup_engine();

		if (r == -1)
			printf("SKIP: docker engine tests: cannot install or start the Docker engine\n");
		else if (r < 0)
			fprintf(stderr, "docker engine tests: cannot run the test containers\n");
		if (r != -1) {
			/* A container that failed to start is a failure, not a skip. */
			tcase_set_timeout(real, 60);
			tcase_add_test(real, real_project);
			tcase_add_test(real, real_names_and_labels);
			tcase_add_test(real, real_no_match);
			tcase_add_test(real, real_alive);
			suite_add_tcase(s, real);
		}
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
