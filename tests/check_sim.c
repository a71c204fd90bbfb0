/* check_sim.c - the sim plugins: discovery, exact restore, the metric against the model, its noise models. */
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
		ck_assert_double_eq(cap, 4);
		ck_assert_int_eq(th->allocation(s, tg, &a), 0);
		ck_assert_double_eq(a, r == 1 ? 0.5 : 1);   /* untouched: its share of 1 */
		ck_assert_int_eq(th->save(s, tg, saved[r], sizeof(saved[r])), 0);
		ck_assert_int_eq(th->apply(s, tg, saved[r], 0.75), 0);
		ck_assert_int_eq(sim_state_load(state_path, &st), 0);
		ck_assert_int_eq(sim_state_get(&st, "sim:3", r, &a), 0);
		ck_assert_double_eq_tol(a, 0.25, 1e-12);
		sim_state_free(&st);
		/* Given more than its share, up to the capacity, and read back. */
		ck_assert_int_eq(th->allocate(s, tg, saved[r], 1.5), 0);
		ck_assert_int_eq(th->allocation(s, tg, &a), 0);
		ck_assert_double_eq_tol(a, 1.5, 1e-12);
		ck_assert_int_eq(th->allocate(s, tg, saved[r], 4.5), -ERANGE);
		ck_assert_int_eq(th->apply(s, tg, saved[r], 0.75), 0);
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

/* f[i]: trial i's time over the model's, with the metric's settings `extra`
 * on the 25-service application discover() describes, nothing throttled. */
static void factors(const char *extra, double *f, int n)
{
	const struct tb_metric *m = load("sim_jct", TB_KIND_METRIC);
	struct tb_inventory inv;
	struct tb_test_plugin t;
	struct tb_trial trial = { .index = 1 };
	struct sim_app app;
	char text[1024];
	void *s;

	discover(&inv, "");
	ck_assert_int_eq(sim_app_generate(&app, 4, 25, 0.25, 0.8), 0);
	snprintf(text, sizeof(text), "%s %s", config, extra);
	ck_assert_int_eq(tb_test_plugin_open(&t, m, text), 0);
	ck_assert_int_eq(m->init(&t.in.host, tb_test_plugin_config(&t), &s), 0);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(m->measure(s, &trial, &f[i]), 0);
		f[i] /= app.base;
	}
	m->fini(s);
	tb_test_plugin_close(&t);
	sim_app_free(&app);
	tb_inventory_free(&inv);
}

#define NTRIALS 2000

/* With noise, trials scatter around the model by about the configured amount. */
START_TEST(metric_noise_has_the_configured_spread)
{
	static double f[NTRIALS];
	double sum = 0, sum2 = 0, mean, sd;

	factors("noise = 0.05; seed = 2;", f, NTRIALS);
	for (int i = 0; i < NTRIALS; i++) {
		sum += f[i];
		sum2 += f[i] * f[i];
	}
	mean = sum / NTRIALS;
	sd = sqrt(sum2 / NTRIALS - mean * mean) / mean;
	ck_assert_double_ge(sd, 0.045);
	ck_assert_double_le(sd, 0.055);
	ck_assert_double_eq_tol(mean, 1, 0.005);
}
END_TEST

/* The host never gets more than twice as slow or as fast. */
static void assert_within_range(const double *f, int n)
{
	for (int i = 0; i < n; i++) {
		ck_assert_double_ge(f[i], 0.5 - 1e-12);
		ck_assert_double_le(f[i], 2 + 1e-12);
	}
}

/* Drift: the log of the host's slowness takes a gaussian step of the
 * configured size per trial, and stays within [1/2, 2]. */
START_TEST(metric_drift_walks_at_the_configured_pace)
{
	static double f[NTRIALS];
	double sum = 0, sum2 = 0, lo = INFINITY, hi = 0, sd;
	int n = 1000;

	factors("noise = 0; drift = 0.01; seed = 3;", f, n);
	ck_assert_double_eq(f[0], 1);
	for (int i = 1; i < n; i++) {
		double d = log(f[i] / f[i - 1]);

		sum += d;
		sum2 += d * d;
	}
	sd = sqrt(sum2 / (n - 1) - (sum / (n - 1)) * (sum / (n - 1)));
	ck_assert_double_ge(sd, 0.009);
	ck_assert_double_le(sd, 0.011);
	assert_within_range(f, n);
	/* A fast walk spends its time against both bounds. */
	factors("noise = 0; drift = 0.2; seed = 3;", f, NTRIALS);
	assert_within_range(f, NTRIALS);
	for (int i = 0; i < NTRIALS; i++) {
		lo = f[i] < lo ? f[i] : lo;
		hi = f[i] > hi ? f[i] : hi;
	}
	ck_assert_double_le(lo, 0.5 + 1e-12);
	ck_assert_double_ge(hi, 2 - 1e-12);
}
END_TEST

/* Steps: about `steps` of the trials move the host's speed by exactly
 * x1.3 or /1.3, and nothing else moves it. */
START_TEST(metric_steps_come_at_the_configured_rate)
{
	static double f[NTRIALS];
	int changes = 0, up = 0;

	factors("noise = 0; steps = 0.05; seed = 5;", f, NTRIALS);
	for (int i = 1; i < NTRIALS; i++) {
		double d = log(f[i] / f[i - 1]);

		if (fabs(d) < 1e-12)
			continue;
		changes++;
		up += d > 0;
		ck_assert_double_eq_tol(fabs(d), log(1.3), 1e-9);
	}
	/* 100 expected; 3 standard deviations either side. */
	ck_assert_int_ge(changes, 70);
	ck_assert_int_le(changes, 130);
	ck_assert_int_gt(up, changes / 4);
	ck_assert_int_lt(up, 3 * changes / 4);
	assert_within_range(f, NTRIALS);
	factors("noise = 0; steps = 0.05; step_size = 0.5; seed = 5;", f, NTRIALS);
	for (int i = 1; i < NTRIALS; i++) {
		double d = fabs(log(f[i] / f[i - 1]));

		ck_assert(d < 1e-12 || fabs(d - log(1.5)) < 1e-9);
	}
}
END_TEST

/* Outliers: about `outliers` of the trials are 2 to 5 times slower, the rest untouched. */
START_TEST(metric_outliers_come_at_the_configured_rate)
{
	static double f[NTRIALS];
	double lo = INFINITY, hi = 0;
	int slow = 0;

	factors("noise = 0; outliers = 0.02; seed = 6;", f, NTRIALS);
	for (int i = 0; i < NTRIALS; i++) {
		if (fabs(f[i] - 1) < 1e-12)
			continue;
		slow++;
		ck_assert_double_ge(f[i], 2);
		ck_assert_double_le(f[i], 5);
		lo = f[i] < lo ? f[i] : lo;
		hi = f[i] > hi ? f[i] : hi;
	}
	/* 40 expected; 3 standard deviations either side. */
	ck_assert_int_ge(slow, 21);
	ck_assert_int_le(slow, 59);
	/* The factors spread over [2, 5]. */
	ck_assert_double_lt(lo, 2.5);
	ck_assert_double_gt(hi, 4.5);
}
END_TEST

START_TEST(metric_starts_slow)
{
	double f[10];

	factors("noise = 0; slow_start = 2;", f, 10);
	ck_assert_double_eq_tol(f[0], 2, 1e-12);
	for (int i = 1; i < 10; i++)
		ck_assert_double_eq_tol(f[i], 1, 1e-12);
	factors("noise = 0; slow_start = 3; slow_start_trials = 4;", f, 10);
	for (int i = 0; i < 10; i++)
		ck_assert_double_eq_tol(f[i], i < 4 ? 3 : 1, 1e-12);
}
END_TEST

/* The same seed gives the same trials; each model's disturbances do not
 * depend on which others are on, so the models compose by multiplying. */
START_TEST(metric_noise_is_reproducible_and_composes)
{
	static double a[NTRIALS], b[NTRIALS], c[NTRIALS];
	static const char all[] = "noise = 0.05; drift = 0.01; steps = 0.01; outliers = 0.01; "
				  "slow_start = 2; seed = 9;";
	int differ = 0;

	factors(all, a, 500);
	factors(all, b, 500);
	for (int i = 0; i < 500; i++)
		ck_assert_double_eq(a[i], b[i]);
	factors("noise = 0.05; drift = 0.01; steps = 0.01; outliers = 0.01; slow_start = 2; "
		"seed = 10;", b, 500);
	for (int i = 0; i < 500; i++)
		differ += a[i] != b[i];
	ck_assert_int_gt(differ, 490);

	factors("noise = 0; steps = 0.05; seed = 5;", a, NTRIALS);
	factors("noise = 0; outliers = 0.02; seed = 5;", b, NTRIALS);
	factors("noise = 0; steps = 0.05; outliers = 0.02; seed = 5;", c, NTRIALS);
	for (int i = 0; i < NTRIALS; i++)
		ck_assert_double_eq_tol(c[i], a[i] * b[i], 1e-9 * c[i]);
}
END_TEST

START_TEST(metric_rejects_bad_settings)
{
	const struct tb_metric *m = load("sim_jct", TB_KIND_METRIC);
	static const char *const bad[] = {
		"noise = 1.0;", "drift = -0.1;", "steps = 1.5;", "step_size = 0.0;", "outliers = 2.0;",
		"slow_start = 0.5;", "slow_start_trials = -1;",
	};
	char text[1024];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s %s", config, bad[i]);
		ck_assert_msg(tb_test_init(m, text) < 0, "init accepted: %s", bad[i]);
	}
	snprintf(text, sizeof(text), "%s noise = 0.1; drift = 0.01; steps = 0.001; step_size = 0.3; "
		 "outliers = 0.01; slow_start = 2.0; slow_start_trials = 3;", config);
	ck_assert_int_eq(tb_test_init(m, text), 0);
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
	tcase_add_test(tc, metric_drift_walks_at_the_configured_pace);
	tcase_add_test(tc, metric_steps_come_at_the_configured_rate);
	tcase_add_test(tc, metric_outliers_come_at_the_configured_rate);
	tcase_add_test(tc, metric_starts_slow);
	tcase_add_test(tc, metric_noise_is_reproducible_and_composes);
	tcase_add_test(tc, metric_rejects_bad_settings);
	tcase_add_test(tc, metric_needs_the_orchestrator);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
