/* check_strategies.c - the exhaustive schedule is exact; pruned finds planted MIMRs in far fewer trials. */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rank.h"
#include "results.h"
#include "sim_app.h"
#include "testhost.h"

/*
 * The strategies are loaded from the built plugin files.  The application
 * they search is the sim_app model (the thing under test here is the search,
 * not a real workload): a trial evaluates the model with multiplicative
 * gaussian noise, and the MIMR is decided by the core's own ranking.
 */

static const char *const throttler_names[SIM_NRES] = { "cpu", "disk", "net" };
static const double levels[] = { 0.2, 0.4, 0.6, 0.8 };

static const struct tb_strategy *load(const char *name)
{
	char path[4096];
	const struct tb_strategy *st;
	void *lib;

	snprintf(path, sizeof(path), "%s/plugins/strategies/.libs/%s.so", BUILDDIR, name);
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(lib != NULL, "%s", dlerror());
	st = dlsym(lib, TB_PLUGIN_SYMBOL);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->header.kind, TB_KIND_STRATEGY);
	ck_assert_str_eq(st->header.name, name);
	return st;
}

struct space_buf {
	struct tb_space sp;
	char **names;
	unsigned char *excluded;
};

static void make_space(struct space_buf *b, size_t nservices, size_t nlevels, unsigned trials,
		       unsigned baseline_trials)
{
	memset(b, 0, sizeof(*b));
	b->names = calloc(nservices, sizeof(*b->names));
	b->excluded = calloc(nservices * SIM_NRES, 1);
	ck_assert(b->names && b->excluded);
	for (size_t s = 0; s < nservices; s++) {
		b->names[s] = malloc(24);
		snprintf(b->names[s], 24, "svc%zu", s);
	}
	b->sp.nservices = nservices;
	b->sp.services = (const char *const *)b->names;
	b->sp.nthrottlers = SIM_NRES;
	b->sp.throttlers = throttler_names;
	b->sp.resources = throttler_names;
	b->sp.excluded = b->excluded;
	b->sp.nlevels = nlevels;
	b->sp.levels = levels + (4 - nlevels);
	b->sp.trials = trials;
	b->sp.baseline_trials = baseline_trials;
	b->sp.direction = TB_LOWER_IS_BETTER;
}

static void free_space(struct space_buf *b)
{
	for (size_t s = 0; s < b->sp.nservices; s++)
		free(b->names[s]);
	free(b->names);
	free(b->excluded);
}

/* ---- exhaustive ------------------------------------------------------- */

static void check_exhaustive(const char *config, unsigned long every)
{
	const struct tb_strategy *st = load("exhaustive");
	struct tb_test_plugin t;
	struct space_buf b;
	struct tb_experiment e;
	unsigned count[4 * SIM_NRES * 3] = { 0 };
	unsigned long est, n = 0, baselines = 0, points = 0, since = 0, npairs = 0;
	size_t s, k;
	void *state;

	make_space(&b, 4, 3, 2, 4);
	b.excluded[1 * SIM_NRES + 2] = 1;       /* svc1 net */
	b.excluded[3 * SIM_NRES + 0] = 1;       /* svc3 cpu */
	npairs = 4 * SIM_NRES - 2;
	ck_assert_int_eq(tb_test_plugin_open(&t, st, config), 0);
	ck_assert_int_eq(st->init(&t.in.host, tb_test_plugin_config(&t), &b.sp, &state), 0);
	est = st->estimate(state);
	while (st->next(state, &e) == 1) {
		ck_assert_uint_lt(n, 10000);
		n++;
		if (e.n == 0) {
			baselines++;
			/* The first ones, then exactly one after every `every` trials. */
			if (n > 4) {
				ck_assert_uint_gt(every, 0);
				ck_assert_uint_eq(since, every);
				since = 0;
			}
			st->observe(state, &e, 1.0, 0);
			continue;
		}
		ck_assert_uint_eq(e.n, 1);
		ck_assert_uint_gt(n, 4);
		s = e.throttles[0].service;
		ck_assert_uint_lt(s, 4);
		ck_assert_uint_lt(e.throttles[0].throttler, SIM_NRES);
		ck_assert(!b.excluded[s * SIM_NRES + e.throttles[0].throttler]);
		for (k = 0; k < 3 && fabs(b.sp.levels[k] - e.throttles[0].stress) > 1e-12; k++)
			;
		ck_assert_uint_lt(k, 3);
		since++;
		if (++count[(s * SIM_NRES + e.throttles[0].throttler) * 3 + k] % 2 == 0)
			points++;
		/* Passes: no point gets its second trial before every pair
		 * has had its first at every level. */
		if (count[(s * SIM_NRES + e.throttles[0].throttler) * 3 + k] == 2)
			for (size_t q = 0; q < 4 * SIM_NRES; q++)
				for (size_t l = 0; l < 3; l++)
					ck_assert(b.excluded[q] || count[q * 3 + l] >= 1);
		st->observe(state, &e, 2.0, 0);
		ck_assert_uint_eq(st->estimate(state), est);
	}
	ck_assert_int_eq(st->next(state, &e), 0);
	for (s = 0; s < 4 * SIM_NRES; s++)
		for (k = 0; k < 3; k++)
			ck_assert_uint_eq(count[s * 3 + k], b.excluded[s] ? 0 : 2);
	ck_assert_uint_eq(points, npairs * 3);
	ck_assert_uint_eq(baselines, 4 + (every ? points * 2 / every : 0));
	ck_assert_uint_eq(n, est);
	ck_assert_uint_eq(n, 4 + npairs * 3 * 2 + (every ? npairs * 3 * 2 / every : 0));
	st->fini(state);
	tb_test_plugin_close(&t);
	free_space(&b);
}

START_TEST(exhaustive_schedule_is_exact)
{
	check_exhaustive("baseline_every = 5;", 5);
	check_exhaustive("baseline_every = 0;", 0);
	check_exhaustive("baseline_every = 1;", 1);
	check_exhaustive(NULL, 10);
}
END_TEST

/* The throttled trials of exhaustive's schedule for a seed, as 3 numbers each. */
static size_t exhaustive_order(uint64_t seed, double *out, size_t cap)
{
	const struct tb_strategy *st = load("exhaustive");
	struct tb_test_plugin t;
	struct space_buf b;
	struct tb_experiment e;
	size_t n = 0;
	void *state;

	make_space(&b, 4, 3, 2, 4);
	b.sp.seed = seed;
	ck_assert_int_eq(tb_test_plugin_open(&t, st, NULL), 0);
	ck_assert_int_eq(st->init(&t.in.host, tb_test_plugin_config(&t), &b.sp, &state), 0);
	while (st->next(state, &e) == 1 && n + 3 <= cap) {
		if (e.n == 0)
			continue;
		out[n++] = (double)e.throttles[0].service;
		out[n++] = (double)e.throttles[0].throttler;
		out[n++] = e.throttles[0].stress;
	}
	st->fini(state);
	tb_test_plugin_close(&t);
	free_space(&b);
	return n;
}

START_TEST(exhaustive_schedule_follows_the_seed)
{
	double a[1024], b[1024], c[1024];
	size_t na = exhaustive_order(42, a, 1024), nb = exhaustive_order(42, b, 1024);
	size_t nc = exhaustive_order(43, c, 1024);

	ck_assert_uint_eq(na, 4 * SIM_NRES * 3 * 2 * 3);
	ck_assert_uint_eq(na, nb);
	ck_assert_uint_eq(na, nc);
	ck_assert_msg(memcmp(a, b, na * sizeof(double)) == 0, "one seed, one schedule");
	ck_assert_msg(memcmp(a, c, na * sizeof(double)) != 0, "another seed, another order");
}
END_TEST

START_TEST(exhaustive_rejects_a_negative_interval)
{
	const struct tb_strategy *st = load("exhaustive");
	struct tb_test_plugin t;
	struct space_buf b;
	void *state = NULL;

	make_space(&b, 2, 4, 3, 5);
	ck_assert_int_eq(tb_test_plugin_open(&t, st, "baseline_every = -1;"), 0);
	ck_assert_int_eq(st->init(&t.in.host, tb_test_plugin_config(&t), &b.sp, &state), -EINVAL);
	tb_test_plugin_close(&t);
	free_space(&b);
}
END_TEST

/* ---- a strategy against the simulated application ---------------------- */

enum twist { PLAIN, THROUGHPUT, FLAT, GROUPS_FAIL };

struct outcome {
	unsigned long trials, estimate, exhaustive;
	long mimr;                 /* the core's verdict: pair s * SIM_NRES + t, or -1 */
	int touched_excluded;
	size_t largest_group;
};

static void drive(const char *strategy, const char *config, struct sim_app *app,
		  struct space_buf *b, double noise, enum twist twist, uint64_t seed,
		  struct outcome *out)
{
	const struct tb_strategy *st = load(strategy);
	struct tb_value_desc desc = { .name = "jct", .unit = "s" };
	struct tb_results res = { .nvalues = 1, .values = &desc };
	struct tb_ranking rk;
	struct tb_test_plugin t;
	struct tb_experiment e;
	struct sim_rng g;
	size_t pairs[4096];
	double allow[4096];
	unsigned long prev;
	void *state;

	memset(out, 0, sizeof(*out));
	ck_assert_uint_le(app->n, 4096);
	if (twist == THROUGHPUT)
		b->sp.direction = desc.direction = TB_HIGHER_IS_BETTER;
	ck_assert_int_eq(tb_test_plugin_open(&t, st, config), 0);
	ck_assert_int_eq(st->init(&t.in.host, tb_test_plugin_config(&t), &b->sp, &state), 0);
	out->estimate = prev = st->estimate(state);
	sim_rng_seed(&g, seed);
	while (st->next(state, &e) == 1) {
		struct tb_trial_result r = { .index = (unsigned)++out->trials, .n = e.n };
		unsigned long now = st->estimate(state);
		double v;

		/* An upper bound that only tightens as the search learns. */
		ck_assert_uint_le(out->trials, now);
		ck_assert_uint_le(now, prev);
		prev = now;
		ck_assert_uint_le(e.n, app->n * SIM_NRES);
		for (size_t i = 0; i < e.n; i++) {
			pairs[i] = e.throttles[i].service * SIM_NRES + e.throttles[i].throttler;
			allow[i] = 1 - e.throttles[i].stress;
			out->touched_excluded |= b->excluded[pairs[i]];
		}
		if (e.n > out->largest_group)
			out->largest_group = e.n;
		v = (twist == FLAT ? app->base : sim_app_eval_sparse(app, e.n, pairs, allow)) *
		    sim_noise_factor(&g, noise);
		if (twist == THROUGHPUT)
			v = 1000 / v;
		r.failed = twist == GROUPS_FAIL && e.n > 1;
		if (r.failed)
			v = NAN;
		r.values = malloc(sizeof(double));
		r.throttles = malloc((e.n ? e.n : 1) * sizeof(*r.throttles));
		ck_assert(r.values && r.throttles);
		r.values[0] = v;
		if (e.n)   /* a baseline experiment has no throttles array at all */
			memcpy(r.throttles, e.throttles, e.n * sizeof(*r.throttles));
		ck_assert_int_eq(tb_results_add(&res, &r), 0);
		st->observe(state, &e, v, r.failed);
	}
	st->fini(state);
	tb_test_plugin_close(&t);
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.05, &rk), 0);
	out->mimr = rk.mimr < 0 ? -1 :
		    (long)(rk.pairs[rk.mimr].service * SIM_NRES + rk.pairs[rk.mimr].throttler);
	tb_ranking_free(&rk);
	res.values = NULL;
	res.nvalues = 0;
	tb_results_free(&res);
	{
		unsigned long points = 0;

		for (size_t p = 0; p < app->n * SIM_NRES; p++)
			points += !b->excluded[p];
		points *= b->sp.nlevels * b->sp.trials;
		out->exhaustive = b->sp.baseline_trials + points + points / 3 / 10;
	}
}

/* Small generated applications with 5% noise: the planted MIMR, every time. */
START_TEST(pruned_finds_the_planted_mimr)
{
	unsigned long used = 0, exhaustive = 0;

	for (unsigned i = 0; i < 12; i++) {
		struct sim_app app;
		struct space_buf b;
		struct outcome o;

		ck_assert_int_eq(sim_app_generate(&app, 100 + i, 40, 0.25, 0.8), 0);
		make_space(&b, 40, 4, 3, 5);
		drive("pruned", NULL, &app, &b, 0.05, PLAIN, 500 + i, &o);
		ck_assert_msg(o.mimr == (long)app.mimr, "app %u: ranked %ld, planted %zu", i, o.mimr, app.mimr);
		ck_assert_uint_le(o.trials, o.estimate);
		ck_assert_uint_lt(o.trials, o.exhaustive / 8);
		ck_assert_uint_gt(o.largest_group, 1);   /* it did test groups */
		used += o.trials;
		exhaustive += o.exhaustive;
		sim_app_free(&app);
		free_space(&b);
	}
	/* Under a twentieth of exhaustive's trials at 40 services. */
	ck_assert_uint_lt(used * 20, exhaustive);
}
END_TEST

/* The same apps searched exhaustively: the same answer, for reference. */
START_TEST(exhaustive_agrees_on_a_small_app)
{
	struct sim_app app;
	struct space_buf b;
	struct outcome o;

	ck_assert_int_eq(sim_app_generate(&app, 100, 40, 0.25, 0.8), 0);
	make_space(&b, 40, 4, 3, 5);
	drive("exhaustive", NULL, &app, &b, 0.05, PLAIN, 500, &o);
	ck_assert_int_eq(o.mimr, (long)app.mimr);
	ck_assert_uint_eq(o.trials, o.estimate);
	sim_app_free(&app);
	free_space(&b);
}
END_TEST

/* Excluded pairs are never throttled, not even inside a group. */
START_TEST(pruned_leaves_excluded_pairs_alone)
{
	struct sim_app app;
	struct space_buf b;
	struct outcome o;
	size_t best = SIZE_MAX;

	ck_assert_int_eq(sim_app_generate(&app, 7, 30, 0.25, 0.8), 0);
	make_space(&b, 30, 4, 3, 5);
	b.excluded[app.mimr] = 1;
	for (size_t r = 0; r < SIM_NRES; r++)
		b.excluded[2 * SIM_NRES + r] = 1;
	for (size_t p = 0; p < 30 * SIM_NRES; p++)
		if (!b.excluded[p] && (best == SIZE_MAX || app.truth[p] > app.truth[best]))
			best = p;
	drive("pruned", NULL, &app, &b, 0.02, PLAIN, 11, &o);
	ck_assert(!o.touched_excluded);
	ck_assert_int_eq(o.mimr, (long)best);
	sim_app_free(&app);
	free_space(&b);
}
END_TEST

/* A higher-is-better metric (throughput) is searched the right way round. */
START_TEST(pruned_handles_higher_is_better)
{
	struct sim_app app;
	struct space_buf b;
	struct outcome o;

	ck_assert_int_eq(sim_app_generate(&app, 21, 50, 0.25, 0.8), 0);
	make_space(&b, 50, 4, 3, 5);
	drive("pruned", NULL, &app, &b, 0.05, THROUGHPUT, 3, &o);
	ck_assert_int_eq(o.mimr, (long)app.mimr);
	sim_app_free(&app);
	free_space(&b);
}
END_TEST

/* Nothing matters: the root groups are within noise, the search stops at once. */
START_TEST(pruned_stops_early_without_a_bottleneck)
{
	struct sim_app app;
	struct space_buf b;
	struct outcome o;

	ck_assert_int_eq(sim_app_generate(&app, 5, 100, 0.25, 0.8), 0);
	make_space(&b, 100, 4, 3, 5);
	drive("pruned", NULL, &app, &b, 0.05, FLAT, 9, &o);
	ck_assert_int_eq(o.mimr, -1);
	ck_assert_uint_lt(o.trials, 40);
	sim_app_free(&app);
	free_space(&b);
}
END_TEST

/* Groups that break the application are split, not trusted: still found. */
START_TEST(pruned_splits_groups_that_fail)
{
	struct sim_app app;
	struct space_buf b;
	struct outcome o;

	ck_assert_int_eq(sim_app_generate(&app, 13, 20, 0.25, 0.8), 0);
	make_space(&b, 20, 4, 3, 5);
	drive("pruned", NULL, &app, &b, 0.05, GROUPS_FAIL, 4, &o);
	ck_assert_int_eq(o.mimr, (long)app.mimr);
	ck_assert_uint_le(o.trials, o.estimate);
	sim_app_free(&app);
	free_space(&b);
}
END_TEST

/* The budget bounds the run and the estimate. */
START_TEST(pruned_keeps_to_its_budget)
{
	struct sim_app app;
	struct space_buf b;
	struct outcome o;

	ck_assert_int_eq(sim_app_generate(&app, 17, 200, 0.25, 0.8), 0);
	make_space(&b, 200, 4, 3, 5);
	drive("pruned", "budget = 60;", &app, &b, 0.05, PLAIN, 8, &o);
	ck_assert_uint_le(o.estimate, 60);
	ck_assert_uint_le(o.trials, 60);
	sim_app_free(&app);
	free_space(&b);
}
END_TEST

/* With every pair excluded both strategies only measure the baseline. */
START_TEST(nothing_to_search)
{
	static const char *const names[] = { "exhaustive", "pruned" };

	for (int i = 0; i < 2; i++) {
		struct sim_app app;
		struct space_buf b;
		struct outcome o;

		ck_assert_int_eq(sim_app_generate(&app, 3, 5, 0.25, 0.8), 0);
		make_space(&b, 5, 4, 3, 5);
		memset(b.excluded, 1, 5 * SIM_NRES);
		drive(names[i], NULL, &app, &b, 0.05, PLAIN, 1, &o);
		ck_assert_uint_eq(o.trials, 5);
		ck_assert_uint_eq(o.estimate, 5);
		ck_assert_int_eq(o.mimr, -1);
		sim_app_free(&app);
		free_space(&b);
	}
}
END_TEST

START_TEST(pruned_checks_its_settings)
{
	static const char *const bad[] = {
		"fanout = 1;", "confidence = 1.0;", "level = 1.5;", "max_trials = 0;", "budget = 0;",
	};
	const struct tb_strategy *st = load("pruned");
	struct space_buf b;

	make_space(&b, 3, 4, 3, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct tb_test_plugin t;
		void *state = NULL;

		ck_assert_int_eq(tb_test_plugin_open(&t, st, bad[i]), 0);
		ck_assert_msg(st->init(&t.in.host, tb_test_plugin_config(&t), &b.sp, &state) == -EINVAL,
			      "accepted %s", bad[i]);
		tb_test_plugin_close(&t);
	}
	free_space(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strategies");
	TCase *tc = tcase_create("search");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, exhaustive_schedule_is_exact);
	tcase_add_test(tc, exhaustive_schedule_follows_the_seed);
	tcase_add_test(tc, exhaustive_rejects_a_negative_interval);
	tcase_add_test(tc, exhaustive_agrees_on_a_small_app);
	tcase_add_test(tc, pruned_finds_the_planted_mimr);
	tcase_add_test(tc, pruned_leaves_excluded_pairs_alone);
	tcase_add_test(tc, pruned_handles_higher_is_better);
	tcase_add_test(tc, pruned_stops_early_without_a_bottleneck);
	tcase_add_test(tc, pruned_splits_groups_that_fail);
	tcase_add_test(tc, pruned_keeps_to_its_budget);
	tcase_add_test(tc, nothing_to_search);
	tcase_add_test(tc, pruned_checks_its_settings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
