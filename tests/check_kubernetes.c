/* check_kubernetes.c - the kubernetes orchestrator: kubeconfigs, then discovery and liveness against a stand-in API server. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "inventory.h"
#include "testhost.h"
#include "kube_config.h"
#include "kube_parse.h"

/*
 * No Kubernetes API server can run on the machines these tests run on, so
 * tests/kube-apiserver.py stands in for one: HTTPS, bearer tokens, label
 * selectors, paging with "continue", 401/403/410/5xx as the real server
 * answers them.  Its pods (tests/fixtures/kube) are v1 Pods in the shape the
 * API reference gives, with the fields the orchestrator reads.
 */
#ifndef TB_KUBE_FIXTURES
#define TB_KUBE_FIXTURES "tests/fixtures/kube"
#define TB_KUBE_SERVER "tests/kube-apiserver.py"
#endif
#define TOKEN "eyJhbGciOiJSUzI1NiJ9.dGVzdA.c2lnbmVk"

extern const struct tb_orchestrator throttlebot_plugin;

static char dir[] = "/tmp/throttlebot-kube-XXXXXX";
static pid_t server_pid, main_pid;
static int port;

static void put(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const char *name, const char *fmt, ...)
{
	char path[512];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(f), 0);
}

/* A kubeconfig whose user has the given YAML lines (indented by 4). */
static void kubeconfig(const char *name, const char *cluster_extra, const char *user)
{
	put(name,
	    "apiVersion: v1\n"
	    "kind: Config\n"
	    "current-context: test\n"
	    "clusters:\n"
	    "- name: other\n"
	    "  cluster:\n"
	    "    server: https://192.0.2.1:6443\n"
	    "- name: local\n"
	    "  cluster:\n"
	    "    server: https://127.0.0.1:%d/\n"
	    "%s"
	    "contexts:\n"
	    "- name: test\n"
	    "  context:\n"
	    "    cluster: local\n"
	    "    user: tester\n"
	    "    namespace: shop\n"
	    "users:\n"
	    "- name: tester\n"
	    "  user:\n"
	    "%s",
	    port, cluster_extra, user);
}

static const char *good_cluster = "    certificate-authority: ca.pem\n";
static const char *good_user = "    token: " TOKEN "\n";

static void faults(const char *json)
{
	put("faults.json", "%s", json);
}

static int plugin_init(struct tb_test_plugin *t, const char *extra, void **st)
{
	char conf[2048];

	snprintf(conf, sizeof(conf), "kubeconfig = \"%s/config\"; selector = "
		 "\"app.kubernetes.io/part-of=shop\"; %s", dir, extra);
	ck_assert_int_eq(tb_test_plugin_open(t, &throttlebot_plugin, conf), 0);
	t->in.host.log = tb_test_capture_log;
	tb_test_last_log[0] = '\0';
	return throttlebot_plugin.init(&t->in.host, tb_test_plugin_config(t), st);
}

static int discover(const char *extra, struct tb_inventory *inv, void **st, struct tb_test_plugin *t)
{
	ck_assert_int_eq(plugin_init(t, extra, st), 0);
	memset(inv, 0, sizeof(*inv));
	return throttlebot_plugin.discover(*st, inv);
}

static const struct tb_service *service(const struct tb_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nservices; i++)
		if (!strcmp(inv->services[i].name, name))
			return &inv->services[i];
	return NULL;
}

/* ------------------------------------------------------------------------ */

START_TEST(config_files)
{
	struct kube_creds c;
	char path[512], err[1024];

	snprintf(path, sizeof(path), "%s/config", dir);
	kubeconfig("config", good_cluster, good_user);
	ck_assert_int_eq(kube_config_load(path, NULL, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.namespace, "shop");
	ck_assert_str_eq(c.token, TOKEN);
	ck_assert_ptr_nonnull(strstr((char *)c.ca.data, "BEGIN CERTIFICATE"));
	ck_assert_ptr_null(strstr(c.server, "6443/"));
	ck_assert_int_eq(c.server[strlen(c.server) - 1] != '/', 1);
	kube_creds_free(&c);
	/* A context that is not there, named. */
	ck_assert_int_eq(kube_config_load(path, "prod", &c, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no context 'prod'"));
	/* Inline data, base64. */
	kubeconfig("config", "    certificate-authority-data: TUlJQg==\n",
		   "    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n");
	ck_assert_int_eq(kube_config_load(path, NULL, &c, err, sizeof(err)), 0);
	ck_assert_str_eq((char *)c.ca.data, "MIIB");
	ck_assert_str_eq((char *)c.cert.data, "CERT");
	ck_assert_str_eq((char *)c.key.data, "KEY");
	kube_creds_free(&c);
	/* What we do not run or cannot trust is refused, saying so. */
	kubeconfig("config", good_cluster, "    exec:\n      command: aws\n");
	ck_assert_int_eq(kube_config_load(path, NULL, &c, err, sizeof(err)), -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(err, "exec"));
	kubeconfig("config", good_cluster, "    client-certificate-data: Q0VSVA==\n");
	ck_assert_int_eq(kube_config_load(path, NULL, &c, err, sizeof(err)), -EINVAL);
	kubeconfig("config", "    certificate-authority-data: not*base64\n", good_user);
	ck_assert_int_eq(kube_config_load(path, NULL, &c, err, sizeof(err)), -EINVAL);
	put("config", "clusters: [\n");
	ck_assert_int_eq(kube_config_load(path, NULL, &c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "config:"));
	put("config", "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
	    "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:8080'}\nusers:\n- name: u\n"
	    "  user: {token: t}\n");
	ck_assert_int_eq(kube_config_load(path, NULL, &c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "https://"));
}
END_TEST

START_TEST(config_insecure_refused)
{
	struct tb_test_plugin t;
	void *st = NULL;

	kubeconfig("config", "    insecure-skip-tls-verify: true\n", good_user);
	ck_assert_int_eq(plugin_init(&t, "", &st), -EINVAL);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	kubeconfig("config", "    insecure-skip-tls-verify: true\n", good_user);
	ck_assert_int_eq(plugin_init(&t, "allow_insecure = true;", &st), 0);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

START_TEST(keys)
{
	struct kube_container c = { .ns = "shop", .pod = "storage-0", .uid = "u-1" }, back;
	char key[1024];

	memset(c.id, 'a', 64);
	kube_key(&c, key, sizeof(key));
	ck_assert_int_eq(kube_parse_key(key, &back), 0);
	ck_assert_str_eq(back.pod, "storage-0");
	ck_assert_str_eq(back.id, c.id);
	ck_assert_int_eq(kube_parse_key("shop/../etc/aaaa", &back), -EINVAL);
	ck_assert_int_eq(kube_parse_key("shop/p/u/short", &back), -EINVAL);
	ck_assert_int_eq(kube_parse_key("a/b/c/d/e", &back), -EINVAL);
	ck_assert_int_eq(kube_parse_key(NULL, &back), -EINVAL);
}
END_TEST

/* The ready containers, grouped by label, each on its node, with a key. */
START_TEST(discover_by_label)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	const struct tb_service *fe, *db;
	struct kube_container c;
	void *st;

	kubeconfig("config", good_cluster, good_user);
	faults("{}");
	ck_assert_int_eq(discover(_i ? "page_size = 2;" : "", &inv, &st, &t), 0);
	/* cache has no name label; legacy's container id is not one; the
	 * pending and the terminating pod are not ready. */
	ck_assert_uint_eq(inv.nservices, 2);
	fe = service(&inv, "frontend");
	db = service(&inv, "storage");
	ck_assert_ptr_nonnull(fe);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(fe->ntargets, 2);
	ck_assert_str_eq(fe->targets[0].id, "shop/frontend-7d9c8b6f5d-x2kqp/app");
	ck_assert_str_eq(fe->targets[0].node, "node-a");
	ck_assert_str_eq(fe->targets[1].node, "node-b");
	ck_assert_uint_eq(db->ntargets, 1);      /* backup is not ready */
	ck_assert_str_eq(db->targets[0].id, "shop/storage-0/db");
	ck_assert_int_eq(kube_parse_key(db->targets[0].key, &c), 0);
	ck_assert_str_eq(c.pod, "storage-0");
	/* node-a's agent is declared at its pod's address and "https" port;
	 * node-b has no agent, and is named. */
	ck_assert_uint_eq(inv.nagents, 1);
	ck_assert_str_eq(tb_inventory_agent(&inv, "node-a"), "https://192.168.10.2:8443");
	ck_assert_ptr_null(tb_inventory_agent(&inv, "node-b"));
	ck_assert_ptr_nonnull(strstr(tb_test_last_log, "node-b"));
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

START_TEST(discover_by_owner)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	void *st;

	kubeconfig("config", good_cluster, good_user);
	faults("{}");
	ck_assert_int_eq(discover("group_by = \"owner\";", &inv, &st, &t), 0);
	ck_assert_uint_eq(inv.nservices, 3);
	ck_assert_ptr_nonnull(service(&inv, "frontend"));   /* the Deployment, not its ReplicaSet */
	ck_assert_ptr_nonnull(service(&inv, "storage"));
	ck_assert_ptr_nonnull(service(&inv, "cache"));
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* What the server does when it is busy, forgets a continue token or says no. */
START_TEST(api_faults)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	void *st;

	kubeconfig("config", good_cluster, good_user);
	faults("{\"fail\": [503, 500]}");
	ck_assert_int_eq(discover("page_size = 2;", &inv, &st, &t), 0);
	ck_assert_uint_eq(service(&inv, "frontend")->ntargets, 2);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);

	faults("{\"expire_continue\": 1}");
	ck_assert_int_eq(discover("page_size = 2;", &inv, &st, &t), 0);
	ck_assert_uint_eq(inv.nservices, 2);
	ck_assert_uint_eq(service(&inv, "frontend")->ntargets, 2);   /* listed again, not twice */
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);

	faults("{\"fail\": [503, 503, 503]}");
	ck_assert_int_eq(discover("", &inv, &st, &t), -EIO);
	ck_assert_ptr_nonnull(strstr(tb_test_last_log, "HTTP 503"));
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);

	faults("{\"forbid\": true}");
	ck_assert_int_eq(discover("", &inv, &st, &t), -EACCES);
	ck_assert_ptr_nonnull(strstr(tb_test_last_log, "forbidden"));
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);

	faults("{}");
	kubeconfig("config", good_cluster, "    token: wrong\n");
	ck_assert_int_eq(discover("", &inv, &st, &t), -EACCES);
	ck_assert_ptr_nonnull(strstr(tb_test_last_log, "401"));
	ck_assert_uint_eq(inv.nservices, 0);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);

	/* A server whose certificate our CA did not sign. */
	kubeconfig("config", "    certificate-authority: other-ca.pem\n", good_user);
	ck_assert_int_eq(discover("", &inv, &st, &t), -ECONNREFUSED);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
}
END_TEST

/* A pod replaced or deleted mid-run is no longer the target discovered. */
START_TEST(alive_follows_pods)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	const struct tb_service *db;
	void *st;

	kubeconfig("config", good_cluster, good_user);
	faults("{}");
	ck_assert_int_eq(tb_test_sh("cp %s/pods-shop.json %s/fixtures/", TB_KUBE_FIXTURES, dir), 0);
	ck_assert_int_eq(discover("", &inv, &st, &t), 0);
	db = service(&inv, "storage");
	ck_assert_int_eq(throttlebot_plugin.alive(st, &db->targets[0]), 1);
	/* The StatefulSet made storage-0 again: same name, a new uid. */
	ck_assert_int_eq(tb_test_sh("python3 -c \"import json,sys; p=sys.argv[1]; d=json.load(open(p)); "
				    "[i['metadata'].update(uid='replaced') for i in d['items'] if "
				    "i['metadata']['name']=='storage-0']; json.dump(d, open(p,'w'))\" "
				    "%s/fixtures/pods-shop.json", dir), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &db->targets[0]), 0);
	ck_assert_int_eq(tb_test_sh("echo '{\"items\": []}' > %s/fixtures/pods-shop.json", dir), 0);
	ck_assert_int_eq(throttlebot_plugin.alive(st, &service(&inv, "frontend")->targets[0]), 0);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	tb_test_sh("cp %s/pods-shop.json %s/fixtures/", TB_KUBE_FIXTURES, dir);
}
END_TEST

/* Set storage-0's Ready condition in the served pods. */
static void storage_ready(const char *status)
{
	ck_assert_int_eq(tb_test_sh("python3 -c \"import json,sys; p=sys.argv[1]; d=json.load(open(p)); "
				    "[c.update(status='%s') for i in d['items'] if i['metadata']['name']=="
				    "'storage-0' for c in i['status']['conditions'] if c['type']=='Ready']; "
				    "json.dump(d, open(p+'.new','w'))\" %s/fixtures/pods-shop.json && "
				    "mv %s/fixtures/pods-shop.json.new %s/fixtures/pods-shop.json", status, dir,
				    dir, dir), 0);
}

/* revive waits for the pod of a container that died to be ready again, within revive_timeout. */
START_TEST(revive_waits_for_the_pod)
{
	struct tb_test_plugin t;
	struct tb_inventory inv;
	const struct tb_target *db;
	double start;
	pid_t child;
	void *st;

	kubeconfig("config", good_cluster, good_user);
	faults("{}");
	ck_assert_int_eq(tb_test_sh("cp %s/pods-shop.json %s/fixtures/", TB_KUBE_FIXTURES, dir), 0);
	ck_assert_int_eq(discover("revive_timeout = 1.5;", &inv, &st, &t), 0);
	db = &service(&inv, "storage")->targets[0];
	ck_assert_int_eq(throttlebot_plugin.revive(st, db), 0);
	/* Restarting: not ready for a second, then ready. */
	storage_ready("False");
	child = fork();
	if (child == 0) {
		sleep(1);
		storage_ready("True");
		_exit(0);
	}
	start = t.in.host.now(&t.in.host);
	ck_assert_int_eq(throttlebot_plugin.revive(st, db), 0);
	ck_assert(t.in.host.now(&t.in.host) - start >= 0.9);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	/* Never ready again: given up after revive_timeout, and said. */
	storage_ready("False");
	ck_assert_int_eq(throttlebot_plugin.revive(st, db), -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(tb_test_last_log, "storage-0 not ready again"));
	/* Deleted: replaced under another name, for the discovery after to find. */
	ck_assert_int_eq(tb_test_sh("echo '{\"items\": []}' > %s/fixtures/pods-shop.json", dir), 0);
	ck_assert_int_eq(throttlebot_plugin.revive(st, db), 0);
	tb_inventory_free(&inv);
	throttlebot_plugin.fini(st);
	tb_test_plugin_close(&t);
	tb_test_sh("cp %s/pods-shop.json %s/fixtures/", TB_KUBE_FIXTURES, dir);
}
END_TEST

/* ------------------------------------------------------------------------ */

static void stop_server(void)
{
	if (getpid() != main_pid)
		return;
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
	tb_test_sh("rm -rf %s", dir);
}

/* Throwaway CAs, a server certificate for 127.0.0.1, and the stand-in server. */
static int start_server(void)
{
	char port_file[512];
	FILE *f;

	if (tb_test_sh("cd %s && mkdir fixtures && cp %s/*.json fixtures/ && "
		       "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca "
		       "-keyout ca.key -out ca.pem >/dev/null 2>&1 && "
		       "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca "
		       "-keyout other-ca.key -out other-ca.pem >/dev/null 2>&1 && "
		       "openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout server.key "
		       "-out server.csr >/dev/null 2>&1 && "
		       "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
		       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		       "-extfile san.ext -out server.pem >/dev/null 2>&1 && echo '{}' > faults.json",
		       dir, TB_KUBE_FIXTURES) != 0)
		return -1;
	snprintf(port_file, sizeof(port_file), "%s/port", dir);
	server_pid = fork();
	if (server_pid == 0) {
		char fx[512], cert[512], key[512], fl[512];

		snprintf(fx, sizeof(fx), "%s/fixtures", dir);
		snprintf(cert, sizeof(cert), "%s/server.pem", dir);
		snprintf(key, sizeof(key), "%s/server.key", dir);
		snprintf(fl, sizeof(fl), "%s/faults.json", dir);
		execlp("python3", "python3", TB_KUBE_SERVER, fx, port_file, cert, key, TOKEN, fl,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !port; i++) {
		struct timespec tenth = { 0, 100000000 };

		nanosleep(&tenth, NULL);
		if ((f = fopen(port_file, "r"))) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
	}
	return port ? 0 : -1;
}

static void on_signal(int sig)
{
	stop_server();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(void)
{
	Suite *s = suite_create("kubernetes");
	TCase *tc = tcase_create("stand-in API server");
	SRunner *sr;
	int failed;

	main_pid = getpid();
	if (!mkdtemp(dir)) {
		perror(dir);
		return EXIT_FAILURE;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	atexit(stop_server);
	if (start_server() < 0) {
		fprintf(stderr, "cannot start the stand-in API server (openssl and python3 needed)\n");
		return EXIT_FAILURE;
	}
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, config_files);
	tcase_add_test(tc, config_insecure_refused);
	tcase_add_test(tc, keys);
	tcase_add_loop_test(tc, discover_by_label, 0, 2);
	tcase_add_test(tc, discover_by_owner);
	tcase_add_test(tc, api_faults);
	tcase_add_test(tc, alive_follows_pods);
	tcase_add_test(tc, revive_waits_for_the_pod);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
