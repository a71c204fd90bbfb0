/* check_rank.c - ranking names IMRs only beyond the baseline's spread, finds the MIMR, flags paradoxes. */
#define _GNU_SOURCE
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rank.h"
#include "stats.h"

static struct tb_results res;
static unsigned next_index;

static void setup_values(enum tb_direction dir)
{
	memset(&res, 0, sizeof(res));
	res.nvalues = 1;
	res.values = calloc(1, sizeof(*res.values));
	res.values[0].name = strdup("jct");
	res.values[0].unit = "s";
	res.values[0].direction = dir;
	next_index = 0;
}

static void add(long service, size_t throttler, double stress, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct tb_trial_result t = { .index = ++next_index };

		t.values = malloc(sizeof(double));
		t.values[0] = v[i];
		if (service >= 0) {
			t.n = 1;
			t.throttles = calloc(1, sizeof(*t.throttles));
			t.throttles[0].service = (size_t)service;
			t.throttles[0].throttler = throttler;
			t.throttles[0].stress = stress;
		}
		ck_assert_int_eq(tb_results_add(&res, &t), 0);
	}
}

#define ADD(s, t, k, ...) do { const double v_[] = { __VA_ARGS__ }; \
	add((s), (t), (k), v_, sizeof(v_) / sizeof(*v_)); } while (0)

static const struct tb_pair *pair(const struct tb_ranking *r, size_t s, size_t t)
{
	for (size_t i = 0; i < r->npairs; i++)
		if (r->pairs[i].service == s && r->pairs[i].throttler == t)
			return &r->pairs[i];
	ck_abort_msg("no pair %zu/%zu", s, t);
	return NULL;
}

START_TEST(mimr_is_the_largest_significant_degradation)
{
	struct tb_ranking r;

	setup_values(TB_LOWER_IS_BETTER);
	ADD(-1, 0, 0, 1.00, 1.02, 0.98, 1.01, 0.99);
	ADD(0, 0, 0.4, 1.30, 1.35, 1.32);
	ADD(0, 0, 0.8, 2.0, 2.1, 1.9);
	ADD(1, 0, 0.8, 1.20, 1.22, 1.21);
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.0, &r), 0);
	ck_assert_int_eq(r.mimr, 0);
	ck_assert_uint_eq(r.pairs[0].service, 0);
	ck_assert(r.pairs[0].imr);
	ck_assert_double_eq_tol(tb_pair_headline(&r.pairs[0])->stress, 0.8, 1e-9);
	ck_assert_double_eq_tol(tb_pair_headline(&r.pairs[0])->delta, 1.0, 1e-9);
	ck_assert_int_eq(r.runner_up, 1);
	ck_assert(pair(&r, 1, 0)->imr);
	/* the interval contains the point estimate */
	ck_assert(tb_pair_headline(&r.pairs[0])->ci_low <= 1.0 &&
		  tb_pair_headline(&r.pairs[0])->ci_high >= 1.0);
	tb_ranking_free(&r);
	tb_results_free(&res);
}
END_TEST

START_TEST(degradation_within_baseline_spread_is_no_imr)
{
	struct tb_ranking r;

	setup_values(TB_LOWER_IS_BETTER);
	ADD(-1, 0, 0, 1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 0.995, 1.005);
	/* Every trial is above most of the baseline (so a rank test alone
	 * would call it significant) but below its worst trial. */
	ADD(0, 0, 0.8, 1.019, 1.018, 1.017, 1.016, 1.0195);
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.0, &r), 0);
	ck_assert_msg(tb_pair_headline(&r.pairs[0])->p_value < 0.05, "the rank test alone agrees");
	ck_assert(!r.pairs[0].imr);
	ck_assert_int_eq(r.mimr, -1);
	tb_ranking_free(&r);
	tb_results_free(&res);
}
END_TEST

START_TEST(an_effect_below_min_effect_is_no_imr)
{
	struct tb_ranking r;

	setup_values(TB_LOWER_IS_BETTER);
	ADD(-1, 0, 0, 1.000, 1.001, 0.999, 1.0005, 0.9995);   /* a very tight baseline */
	ADD(0, 0, 0.8, 1.03, 1.031, 1.029);                   /* +3%: real, but small */
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.0, &r), 0);
	ck_assert(r.pairs[0].imr);
	tb_ranking_free(&r);
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.05, &r), 0);
	ck_assert(!r.pairs[0].imr);
	ck_assert_int_eq(r.mimr, -1);
	tb_ranking_free(&r);
	tb_results_free(&res);
}
END_TEST

START_TEST(one_wild_baseline_trial_hides_nothing)
{
	struct tb_ranking r;

	setup_values(TB_LOWER_IS_BETTER);
	ADD(-1, 0, 0, 1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.01, 0.99, 9.0);   /* one stall */
	ADD(0, 0, 0.8, 1.40, 1.45, 1.42);
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.05, &r), 0);
	ck_assert_double_eq_tol(r.band_high, 1.02, 1e-12);
	ck_assert_double_eq_tol(r.base_max, 9.0, 1e-12);
	ck_assert(r.pairs[0].imr);
	tb_ranking_free(&r);
	tb_results_free(&res);
}
END_TEST

START_TEST(noise_is_no_imr)
{
	struct tb_ranking r;

	setup_values(TB_LOWER_IS_BETTER);
	ADD(-1, 0, 0, 1.0, 1.3, 0.8, 1.1, 0.9);
	ADD(0, 0, 0.8, 1.2, 0.85, 1.25);
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.0, &r), 0);
	ck_assert(!r.pairs[0].imr);
	ck_assert_int_eq(r.mimr, -1);
	tb_ranking_free(&r);
	tb_results_free(&res);
}
END_TEST

START_TEST(higher_is_better_and_paradox)
{
	struct tb_ranking r;

	setup_values(TB_HIGHER_IS_BETTER);            /* throughput */
	ADD(-1, 0, 0, 100, 102, 98, 101, 99);
	ADD(0, 0, 0.8, 50, 52, 49);                   /* throughput halves: IMR */
	ADD(1, 0, 0.8, 120, 121, 119);                /* throughput rises: paradox */
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.0, &r), 0);
	ck_assert_int_eq(r.mimr, 0);
	ck_assert_uint_eq(r.pairs[0].service, 0);
	ck_assert_double_eq_tol(tb_pair_headline(&r.pairs[0])->degradation, 0.5, 1e-9);
	ck_assert_double_eq_tol(tb_pair_headline(&r.pairs[0])->delta, -0.5, 1e-9);
	ck_assert(!pair(&r, 1, 0)->imr);
	ck_assert(pair(&r, 1, 0)->paradox);
	tb_ranking_free(&r);
	tb_results_free(&res);
}
END_TEST

START_TEST(failed_trials_and_groups_are_not_ranked)
{
	struct tb_ranking r;
	struct tb_trial_result g = { .index = 99, .n = 2 };

	setup_values(TB_LOWER_IS_BETTER);
	ADD(-1, 0, 0, 1.0, 1.01, 0.99, 1.0, 1.02);
	ADD(0, 0, 0.8, NAN, 3.0, 3.1, 3.2);
	g.throttles = calloc(2, sizeof(*g.throttles));
	g.throttles[1].service = 1;
	g.values = malloc(sizeof(double));
	g.values[0] = 50;
	ck_assert_int_eq(tb_results_add(&res, &g), 0);
	ck_assert_int_eq(tb_rank(&res, 0, 0.05, 0.0, &r), 0);
	ck_assert_uint_eq(r.npairs, 1);
	ck_assert_uint_eq(r.pairs[0].points[0].failed, 1);
	ck_assert_uint_eq(r.pairs[0].points[0].n, 3);
	tb_ranking_free(&r);
	tb_results_free(&res);
}
END_TEST

START_TEST(mann_whitney_exact_values)
{
	const double x[] = { 4, 5, 6 }, y[] = { 1, 2, 3 };

	/* all of x above all of y: 1 / C(6,3) */
	ck_assert_double_eq_tol(tb_mann_whitney_greater(x, 3, y, 3), 1.0 / 20, 1e-12);
	ck_assert_double_eq_tol(tb_mann_whitney_greater(y, 3, x, 3), 1.0, 1e-12);
	ck_assert_double_eq_tol(tb_median(x, 3), 5, 1e-12);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rank");
	TCase *tc = tcase_create("rank");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, mimr_is_the_largest_significant_degradation);
	tcase_add_test(tc, degradation_within_baseline_spread_is_no_imr);
	tcase_add_test(tc, noise_is_no_imr);
	tcase_add_test(tc, one_wild_baseline_trial_hides_nothing);
	tcase_add_test(tc, an_effect_below_min_effect_is_no_imr);
	tcase_add_test(tc, higher_is_better_and_paradox);
	tcase_add_test(tc, failed_trials_and_groups_are_not_ranked);
	tcase_add_test(tc, mann_whitney_exact_values);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
