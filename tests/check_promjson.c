/* check_promjson.c - Prometheus API answers (recorded from Prometheus 2.42, and hand-made) into values and errors. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "promjson.h"

#ifndef TB_FIXTURES
#define TB_FIXTURES "tests/fixtures"
#endif

static char body[65536];
static size_t len;
static char err[1024];

static void load(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/prometheus/%s", TB_FIXTURES, name);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	len = fread(body, 1, sizeof(body), f);
	fclose(f);
}

static int parse(const char *name, long status, int range, const char *agg, double *v)
{
	struct prom_agg a = { PROM_MEAN, 0 };

	load(name);
	if (agg)
		ck_assert_int_eq(prom_agg_parse(agg, &a), 0);
	err[0] = '\0';
	return prom_parse(body, len, status, range, &a, v, err, sizeof(err));
}

#define assert_err_has(s) ck_assert_msg(strstr(err, (s)) != NULL, "error '%s' lacks '%s'", err, (s))

START_TEST(instant_vector_and_scalar)
{
	double v = 0;

	ck_assert_int_eq(parse("vector-one.json", 200, 0, NULL, &v), 0);
	ck_assert_double_eq(v, 42);
	ck_assert_int_eq(parse("scalar.json", 200, 0, NULL, &v), 0);
	ck_assert_double_eq(v, 42);
	ck_assert_int_eq(parse("warnings.json", 200, 0, NULL, &v), 0);
	ck_assert_double_eq(v, -1500);
}
END_TEST

START_TEST(range_aggregations)
{
	/* points 4 1 3 2 10 */
	static const struct { const char *agg; double want; } cases[] = {
		{ "mean", 4 }, { "max", 10 }, { "min", 1 }, { "last", 10 }, { "first", 4 },
		{ "sum", 20 }, { "median", 3 }, { "p99", 10 }, { "p20", 1 }, { "p40", 2 },
		{ "p80", 4 },
	};
	double v;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse("matrix-one.json", 200, 1, cases[i].agg, &v), 0);
		ck_assert_msg(v == cases[i].want, "%s: %g, want %g", cases[i].agg, v, cases[i].want);
	}
	ck_assert_int_eq(parse("matrix-const.json", 200, 1, "mean", &v), 0);
	ck_assert_double_eq(v, 42);
}
END_TEST

START_TEST(api_error)
{
	double v;

	ck_assert_int_eq(parse("error-bad-data.json", 400, 0, NULL, &v), -EINVAL);
	assert_err_has("HTTP 400: bad_data: invalid parameter \"query\": 1:8: parse error");
}
END_TEST

START_TEST(empty_result)
{
	double v;

	ck_assert_int_eq(parse("vector-empty.json", 200, 0, NULL, &v), -ENOENT);
	assert_err_has("no series");
	ck_assert_int_eq(parse("matrix-empty-series.json", 200, 1, NULL, &v), -ENOENT);
	assert_err_has("no series");
}
END_TEST

START_TEST(several_series)
{
	double v;

	ck_assert_int_eq(parse("vector-several.json", 200, 0, NULL, &v), -EINVAL);
	assert_err_has("2 series where one was expected");
	assert_err_has("k=\"a\"");
	assert_err_has("k=\"b\"");
	ck_assert_int_eq(parse("matrix-several.json", 200, 1, "max", &v), -EINVAL);
	assert_err_has("2 series");
}
END_TEST

START_TEST(nan_and_inf)
{
	double v;

	ck_assert_int_eq(parse("scalar-nan.json", 200, 0, NULL, &v), -ERANGE);
	assert_err_has("is NaN");
	ck_assert_int_eq(parse("vector-inf.json", 200, 0, NULL, &v), -ERANGE);
	assert_err_has("is +Inf");
	ck_assert_int_eq(parse("matrix-inf.json", 200, 1, "max", &v), -ERANGE);
	assert_err_has("is +Inf");
}
END_TEST

START_TEST(wrong_shapes)
{
	struct prom_agg a = { PROM_MEAN, 0 };
	double v;
	static const char html[] = "<html><body>502 Bad Gateway</body></html>";
	static const char bad_value[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
		"\"result\":[{\"metric\":{},\"value\":[1,\"abc\"]}]}}";

	/* A range answer to an instant question, and the reverse. */
	ck_assert_int_eq(parse("matrix-one.json", 200, 0, NULL, &v), -EPROTO);
	assert_err_has("not a vector");
	ck_assert_int_eq(parse("vector-one.json", 200, 1, NULL, &v), -EPROTO);
	assert_err_has("not a matrix");
	ck_assert_int_eq(prom_parse(html, strlen(html), 502, 0, &a, &v, err, sizeof(err)), -EPROTO);
	assert_err_has("HTTP 502: <html><body>502 Bad Gateway");
	ck_assert_int_eq(prom_parse("", 0, 200, 0, &a, &v, err, sizeof(err)), -EPROTO);
	assert_err_has("not a Prometheus API answer");
	ck_assert_int_eq(prom_parse("{\"status\":\"success\"}", 20, 200, 0, &a, &v, err, sizeof(err)),
			 -EPROTO);
	ck_assert_int_eq(prom_parse(bad_value, strlen(bad_value), 200, 0, &a, &v, err, sizeof(err)),
			 -EPROTO);
	assert_err_has("not a number");
}
END_TEST

START_TEST(aggregation_names)
{
	struct prom_agg a;

	ck_assert_int_eq(prom_agg_parse("p99.9", &a), 0);
	ck_assert_int_eq(a.kind, PROM_PERCENTILE);
	ck_assert_double_eq(a.p, 99.9);
	ck_assert_int_eq(prom_agg_parse("avg", &a), 0);
	ck_assert_int_eq(a.kind, PROM_MEAN);
	ck_assert_int_eq(prom_agg_parse("p0", &a), -EINVAL);
	ck_assert_int_eq(prom_agg_parse("p101", &a), -EINVAL);
	ck_assert_int_eq(prom_agg_parse("p9x", &a), -EINVAL);
	ck_assert_int_eq(prom_agg_parse("average", &a), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("promjson");
	TCase *tc = tcase_create("promjson");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, instant_vector_and_scalar);
	tcase_add_test(tc, range_aggregations);
	tcase_add_test(tc, api_error);
	tcase_add_test(tc, empty_result);
	tcase_add_test(tc, several_series);
	tcase_add_test(tc, nan_and_inf);
	tcase_add_test(tc, wrong_shapes);
	tcase_add_test(tc, aggregation_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
