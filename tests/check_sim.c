/* check_sim.c - the sim plugins: discovery, exact restore of allowances, and the metric against the model. */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "inventory.h"
#include "sim_app.h"
#include "sim_state.h"
#include "testhost.h"

static char dir[] = "/tmp/throttlebot-sim-XXXXXX";
static char state_path[256], config[512];

static const void *load(const char *name, unsigned kind)
{
	char path[4096];
	const struct tb_plugin_header *hd;
	void *lib;

	snprintf(path, sizeof(path), "%s/plugins/sim/.libs/%s.so", BUILDDIR, name);
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(lib != NULL, "%s", dlerror());
	hd = dlsym(lib, TB_PLUGIN_SYMBOL);
	ck_assert_ptr_nonnull(hd);
	ck_assert_uint_eq(hd->kind, kind);
	ck_assert_str_eq(hd->name, name);
	return hd;
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	snprintf(config, sizeof(config), "state = \"%s\";", state_path);
}

static void teardown(void)
{
	char tmp[300];

	unlink(state_path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	unlink(tmp);
	rmdir(dir);
	strcpy(dir, "/tmp/throttlebot-sim-XXXXXX");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_lt(fread(buf, 1, 65535, f), 65535);
	fclose(f);
	return buf;
}

/* Discover 25 services with the orchestrator; the state file names the app. */
static void discover(struct tb_inventory *inv, const char *extra)
{
	const struct tb_orchestrator *o = load("sim", TB_KIND_ORCHESTRATOR);
	struct tb_test_plugin t;
	char text[1024];
	void *st;

	snprintf(text, sizeof(text), "%s services = 25; seed = 4; %s", config, extra);
	memset(inv, 0, sizeof(*inv));
	ck_assert_int_eq(tb_test_plugin_open(&t, o, text), 0);
	ck_assert_int_eq(o->init(&t.in.host, tb_test_plugin_config(&t), &st), 0);
	ck_assert_int_eq(o->discover(st, inv), 0);
	o->fini(st);
	tb_test_plugin_close(&t);
}

START_TEST(orchestrator_declares_every_service)
{
	struct tb_inventory inv;
	struct sim_state st;

	discover(&inv, "");
	ck_assert_uint_eq(inv.nservices, 25);
	for (size_t i = 0; i < inv.nservices; i++) {
		char name[32];

		snprintf(name, sizeof(name), "svc%zu", i);
		ck_assert_str_eq(inv.services[i].name, name);
		ck_assert_uint_eq(inv.services[i].ntargets, 1);
		ck_assert_int_eq(sim_target_index(inv.services[i].targets[0].id), (long)i);
	}
	ck_assert_int_eq(sim_state_load(state_path, &st), 0);
	ck_assert(st.have_app);
	ck_assert_uint_eq(st.seed, 4);
	ck_assert_uint_eq(st.nservices, 25);
	ck_assert_uint_eq(st.nallow, 0);
	sim_state_free(&st);
	tb_inventory_free(&inv);
}
END_TEST

START_TEST(orchestrator_rejects_bad_settings)
{
	const struct tb_orchestrator *o = load("sim", TB_KIND_ORCHESTRATOR);
	static const char *const bad[] = { "services = 0;", "margin = -1;", "level = 1;" };

	for (size_t i = 0; i < 3; i++) {
		struct tb_test_plugin t;
		char text[1024];
		void *st = NULL;

		snprintf(text, sizeof(text), "%s %s", config, bad[i]);
		ck_assert_int_eq(tb_test_plugin_open(&t, o, text), 0);
		ck_assert_int_eq(o->init(&t.in.host, tb_test_plugin_config(&t), &st), -EINVAL);
		tb_test_plugin_close(&t);
	}
}
END_TEST

/* apply writes the allowance; restore puts the file back byte for byte, also
 * from a fresh restore-only instance, and twice. */
START_TEST(throttlers_restore_exactly)
{
	static const char *const names[SIM_NRES] = { "sim_cpu", "sim_disk", "sim_net" };
	struct tb_inventory inv;
	struct sim_state st;
	char *before, *after, saved[SIM_NRES][TB_SAVED_MAX], again[TB_SAVED_MAX];
	double a;

	discover(&inv, "");
	/* An allowance someone else left: it must survive our apply/restore. */
	ck_assert_int_eq(sim_state_load(state_path, &st), 0);
	ck_assert_int_eq(sim_state_set(&st, "sim:3", 1, 0.5), 0);
	ck_assert_int_eq(sim_state_save(state_path, &st), 0);
	sim_state_free(&st);
	before = slurp(state_path);
	for (int r = 0; r < SIM_NRES; r++) {
		const struct tb_throttler *th = load(names[r], TB_KIND_THROTTLER);
		const struct tb_target *tg = &inv.services[3].targets[0];
		struct tb_test_plugin t;
		double cap;
		void *s;

		ck_assert_str_eq(th->resource, sim_resource_names[r]);
		ck_assert_int_eq(tb_test_plugin_open(&t, th, config), 0);
		ck_assert_int_eq(th->init(&t.in.host, tb_test_plugin_config(&t), &s), 0);
		ck_assert_int_eq(th->probe(s, tg, &cap), 0);
		ck_assert_double_eq(cap, 1);
		ck_assert_int_eq(th->save(s, tg, saved[r], sizeof(saved[r])), 0);
		ck_assert_int_eq(th->apply(s, tg, saved[r], 0.75), 0);
		ck_assert_int_eq(sim_state_load(state_path, &st), 0);
		ck_assert_int_eq(sim_state_get(&st, "sim:3", r, &a), 0);
		ck_assert_double_eq_tol(a, 0.25, 1e-12);
		sim_state_free(&st);
		/* A second throttle of the same pair saves the first one's value. */
		ck_assert_int_eq(th->save(s, tg, again, sizeof(again)), 0);
		ck_assert_ptr_nonnull(strstr(again, "\t0.25"));
		th->fini(s);
		tb_test_plugin_close(&t);
	}
	for (int r = SIM_NRES; r-- > 0;) {
		const struct tb_throttler *th = load(names[r], TB_KIND_THROTTLER);
		struct tb_test_plugin t;
		void *s;

		ck_assert_int_eq(tb_test_plugin_open(&t, th, NULL), 0);
		ck_assert_int_eq(th->init(&t.in.host, NULL, &s), 0);
		ck_assert_int_eq(th->restore(s, saved[r]), 0);
		ck_assert_int_eq(th->restore(s, saved[r]), 0);
		th->fini(s);
		tb_test_plugin_close(&t);
	}
	after = slurp(state_path);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	tb_inventory_free(&inv);
}
END_TEST

/* Without noise the metric is the model: untouched, and with the MIMR throttled. */
START_TEST(metric_evaluates_the_model)
{
	const struct tb_metric *m = load("sim_jct", TB_KIND_METRIC);
	struct tb_inventory inv;
	struct tb_test_plugin t;
	struct tb_trial trial = { .index = 1 };
	struct sim_app app;
	struct sim_state st;
	char text[1024], id[32];
	double base, v;
	void *s;

	discover(&inv, "margin = 0.3;");
	ck_assert_int_eq(sim_app_generate(&app, 4, 25, 0.3, 0.8), 0);
	snprintf(text, sizeof(text), "%s noise = 0;", config);
	ck_assert_int_eq(tb_test_plugin_open(&t, m, text), 0);
	ck_assert_int_eq(m->init(&t.in.host, tb_test_plugin_config(&t), &s), 0);
	ck_assert_uint_eq(m->count(s), 1);
	ck_assert_str_eq(m->describe(s, 0)->name, "jct");
	ck_assert_int_eq(m->describe(s, 0)->direction, TB_LOWER_IS_BETTER);
	ck_assert_int_eq(m->measure(s, &trial, &base), 0);
	ck_assert_double_eq_tol(base, app.base, 1e-9 * app.base);
	ck_assert(trial.end >= trial.start);

	snprintf(id, sizeof(id), "sim:%zu", app.mimr / SIM_NRES);
	ck_assert_int_eq(sim_state_load(state_path, &st), 0);
	ck_assert_int_eq(sim_state_set(&st, id, (int)(app.mimr % SIM_NRES), 0.2), 0);
	ck_assert_int_eq(sim_state_save(state_path, &st), 0);
	sim_state_free(&st);
	ck_assert_int_eq(m->measure(s, &trial, &v), 0);
	ck_assert_double_eq_tol(v / base - 1, app.truth[app.mimr], 1e-9);
	ck_assert_double_ge(app.truth[app.mimr] - app.truth[app.runner_up], 0.3);
	m->fini(s);
	tb_test_plugin_close(&t);
	sim_app_free(&app);
	tb_inventory_free(&inv);
}
END_TEST

/* With noise, trials scatter around the model by about the configured amount. */
START_TEST(metric_noise_has_the_configured_spread)
{
	const struct tb_metric *m = load("sim_jct", TB_KIND_METRIC);
	struct tb_inventory inv;
	struct tb_test_plugin t;
	struct tb_trial trial = { .index = 1 };
	char text[1024];
	double sum = 0, sum2 = 0, v, mean, sd;
	void *s;
	int n = 2000;

	discover(&inv, "");
	snprintf(text, sizeof(text), "%s noise = 0.05; seed = 2;", config);
	ck_assert_int_eq(tb_test_plugin_open(&t, m, text), 0);
	ck_assert_int_eq(m->init(&t.in.host, tb_test_plugin_config(&t), &s), 0);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(m->measure(s, &trial, &v), 0);
		sum += v;
		sum2 += v * v;
	}
	mean = sum / n;
	sd = sqrt(sum2 / n - mean * mean) / mean;
	ck_assert_double_ge(sd, 0.045);
	ck_assert_double_le(sd, 0.055);
	m->fini(s);
	tb_test_plugin_close(&t);
	tb_inventory_free(&inv);
}
END_TEST

START_TEST(metric_needs_the_orchestrator)
{
	const struct tb_metric *m = load("sim_jct", TB_KIND_METRIC);
	struct tb_test_plugin t;
	struct tb_trial trial = { .index = 1 };
	double v;
	void *s;

	ck_assert_int_eq(tb_test_plugin_open(&t, m, config), 0);
	ck_assert_int_eq(m->init(&t.in.host, tb_test_plugin_config(&t), &s), 0);
	ck_assert_int_lt(m->measure(s, &trial, &v), 0);
	m->fini(s);
	tb_test_plugin_close(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("plugins");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, orchestrator_declares_every_service);
	tcase_add_test(tc, orchestrator_rejects_bad_settings);
	tcase_add_test(tc, throttlers_restore_exactly);
	tcase_add_test(tc, metric_evaluates_the_model);
	tcase_add_test(tc, metric_noise_has_the_configured_spread);
	tcase_add_test(tc, metric_needs_the_orchestrator);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
