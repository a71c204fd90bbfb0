/* check_jtl.c - the JTL reader on hand-made and real JMeter files: columns, quoting, XML, errors, fuzzing. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jtl.h"

#ifndef TB_FIXTURES
#define TB_FIXTURES "tests/fixtures"
#endif

/* Files are written under tmpdir, made and removed by the parent process so
 * that a failed test (its child exits early) leaves nothing behind. */
static char tmpdir[] = "/tmp/throttlebot-jtl-XXXXXX";
static struct jtl_stats st;
static char err[1024];

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static void setup(void)
{
	memset(&st, 0, sizeof(st));
	err[0] = '\0';
}

static void teardown(void)
{
	jtl_stats_free(&st);
}

static const char *fixture(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", TB_FIXTURES, name);
	return path;
}

/* Write text (n bytes) to a file in tmpdir; its path. */
static const char *file_of(const char *name, const char *text, size_t n)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, n, f), n);
	fclose(f);
	return path;
}

static int read_text(const char *text, const regex_t *label)
{
	return jtl_read(file_of("t.jtl", text, strlen(text)), label, &st, err, sizeof(err));
}

/* err must be "PATH:LINE: ..." with that line and mention what. */
static void assert_error_at(unsigned line, const char *what)
{
	char prefix[300];

	snprintf(prefix, sizeof(prefix), "%s/t.jtl:%u: ", tmpdir, line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "error '%s' is not at %s", err, prefix);
	ck_assert_msg(strstr(err, what) != NULL, "error '%s' does not say '%s'", err, what);
}

START_TEST(csv_quoted_fields_and_non_http_codes)
{
	ck_assert_int_eq(jtl_read(fixture("quoted.csv"), NULL, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.samples, 5);
	ck_assert_uint_eq(st.errors, 2);
	ck_assert_double_eq_tol(jtl_mean(&st), 30, 1e-9);
	ck_assert_double_eq(jtl_percentile(&st, 50), 30);
	ck_assert_double_eq(jtl_percentile(&st, 90), 50);
	ck_assert_double_eq(jtl_percentile(&st, 99), 50);
	ck_assert_double_eq(jtl_percentile(&st, 20), 10);
	ck_assert_double_eq_tol(jtl_throughput(&st), 5 / 0.45, 1e-9);
	ck_assert_double_eq_tol(jtl_error_rate(&st), 0.4, 1e-12);
}
END_TEST

static void label_case(const char *re, unsigned long long n, unsigned long long errors, double mean)
{
	regex_t r;

	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_eq(jtl_read(fixture("quoted.csv"), &r, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.samples, n);
	ck_assert_uint_eq(st.errors, errors);
	ck_assert_double_eq_tol(jtl_mean(&st), mean, 1e-9);
	jtl_stats_free(&st);
	regfree(&r);
}

START_TEST(csv_label_filter)
{
	label_case("^search$", 2, 1, 40);
	label_case("^say \"hi\"$", 1, 0, 20);
	label_case("^login, step", 1, 0, 10);
	label_case("^multi\nline$", 1, 1, 40);
}
END_TEST

START_TEST(csv_label_filter_window)
{
	regex_t r;

	ck_assert_int_eq(regcomp(&r, "^search$", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_eq(jtl_read(fixture("quoted.csv"), &r, &st, err, sizeof(err)), 0);
	/* 1700000000200 .. 1700000000450 */
	ck_assert_double_eq_tol(jtl_throughput(&st), 2 / 0.25, 1e-9);
	regfree(&r);
}
END_TEST

START_TEST(csv_missing_columns_semicolons_crlf)
{
	regex_t r;

	ck_assert_int_eq(jtl_read(fixture("missing-columns.csv"), NULL, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.samples, 4);
	/* No success column: responseCode decides; non-HTTP and 404 fail, 302 succeeds. */
	ck_assert_uint_eq(st.errors, 2);
	ck_assert_double_eq_tol(jtl_mean(&st), 8, 1e-9);
	jtl_stats_free(&st);
	ck_assert_int_eq(regcomp(&r, "x", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_lt(jtl_read(fixture("missing-columns.csv"), &r, &st, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "missing-columns.csv:1: no 'label' column"));
	regfree(&r);
}
END_TEST

START_TEST(csv_headerless_jmeter_default)
{
	/* Written by JMeter 2.13 as Debian ships it: no header line. */
	ck_assert_int_eq(jtl_read(fixture("headerless.csv"), NULL, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.samples, 6);
	ck_assert_uint_eq(st.errors, 2);
	ck_assert_double_eq_tol(jtl_mean(&st), 139.0 / 6, 1e-9);
	ck_assert_double_eq(jtl_percentile(&st, 50), 10);
	ck_assert_double_eq(jtl_percentile(&st, 90), 57);
	ck_assert_double_eq_tol(jtl_throughput(&st), 6 / 0.077, 1e-6);
}
END_TEST

START_TEST(xml_samples_not_subsamples)
{
	regex_t r;

	ck_assert_int_eq(jtl_read(fixture("sample.xml"), NULL, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.samples, 3);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_double_eq_tol(jtl_mean(&st), 70112.0 / 3, 1e-9);
	ck_assert_double_eq(jtl_percentile(&st, 50), 100);
	ck_assert_double_eq(jtl_percentile(&st, 99), 70000);
	ck_assert_double_eq_tol(jtl_throughput(&st), 3 / 70.03, 1e-9);
	jtl_stats_free(&st);
	ck_assert_int_eq(regcomp(&r, "&", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_eq(jtl_read(fixture("sample.xml"), &r, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.samples, 1);
	ck_assert_double_eq(jtl_percentile(&st, 50), 100);
	regfree(&r);
}
END_TEST

START_TEST(percentiles_match_sorting)
{
	/* Latencies on both sides of the histogram's bound, against a sorted copy. */
	enum { N = 2000 };
	static unsigned v[N], sorted[N];
	static char text[N * 40 + 64];
	size_t len = (size_t)sprintf(text, "timeStamp,elapsed\n");
	const double ps[] = { 1, 10, 50, 90, 95, 99, 99.9, 100 };

	srand(7);
	for (int i = 0; i < N; i++) {
		v[i] = (unsigned)(rand() % 4 == 0 ? JTL_HIST_MS + rand() % 100000 : rand() % 3000);
		len += (size_t)sprintf(text + len, "%d,%u\n", 1700000000 + i, v[i]);
	}
	memcpy(sorted, v, sizeof(v));
	for (int i = 1; i < N; i++)
		for (int k = i; k > 0 && sorted[k - 1] > sorted[k]; k--) {
			unsigned t = sorted[k];

			sorted[k] = sorted[k - 1];
			sorted[k - 1] = t;
		}
	ck_assert_int_eq(jtl_read(file_of("t.jtl", text, len), NULL, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.samples, N);
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		size_t rank = (size_t)ceil(ps[i] / 100 * N - 1e-9);

		ck_assert_double_eq(jtl_percentile(&st, ps[i]), sorted[rank - 1]);
	}
}
END_TEST

START_TEST(errors_name_file_and_line)
{
	ck_assert_int_lt(read_text("", NULL), 0);
	assert_error_at(1, "empty file");
	ck_assert_int_lt(read_text("\n\n  \n", NULL), 0);
	assert_error_at(4, "empty file");
	ck_assert_int_lt(read_text("timeStamp,elapsed,label\n", NULL), 0);
	assert_error_at(2, "no samples");
	ck_assert_int_lt(read_text("timeStamp,elapsed,label\n1700000000000,5,a\n1700000000000,1", NULL), 0);
	assert_error_at(3, "2 fields where the header has 3 (truncated?)");
	ck_assert_int_lt(read_text("\x01\x02 garbage \xff\nmore garbage\n", NULL), 0);
	assert_error_at(1, "no 'timeStamp' column");
	ck_assert_int_lt(read_text("timeStamp,elapsed\n1700000000000,5\n1700000000000,abc\n", NULL), 0);
	assert_error_at(3, "elapsed 'abc' is not a number");
	ck_assert_int_lt(read_text("timeStamp,elapsed\n2023/01/01 10:00:00.000,5\n", NULL), 0);
	assert_error_at(2, "timestamp_format=ms");
	ck_assert_int_lt(read_text("timeStamp,elapsed,label\n1700000000000,5,\"open\n", NULL), 0);
	assert_error_at(2, "not closed");
	ck_assert_int_lt(read_text("timeStamp,elapsed,label\n1700000000000,5,\"a\"b\n", NULL), 0);
	assert_error_at(2, "text after the closing quote");
	ck_assert_int_lt(read_text("timeStamp,elapsed,success\n1700000000000,5,maybe\n", NULL), 0);
	assert_error_at(2, "neither true nor false");
	ck_assert_int_lt(read_text("timeStamp,elapsed\n1700000000000,-5\n", NULL), 0);
	assert_error_at(2, "elapsed '-5'");
	ck_assert_int_lt(read_text("1700000000000,5,a,200\n", NULL), 0);
	assert_error_at(1, "no header line");
}
END_TEST

START_TEST(xml_errors_name_file_and_line)
{
	ck_assert_int_lt(read_text("<?xml version=\"1.0\"?>\n<testResults>\n"
				   "<httpSample t=\"5\" ts=\"1700000000000\" s=\"true\"/>\n"
				   "<httpSample t=\"6\" ts=\"17000", NULL), 0);
	assert_error_at(4, "");
	ck_assert_int_lt(read_text("<?xml version=\"1.0\"?>\n<html>\n</html>\n", NULL), 0);
	assert_error_at(2, "not <testResults>");
	ck_assert_int_lt(read_text("<testResults>\n<sample ts=\"1700000000000\" s=\"true\"/>\n"
				   "</testResults>\n", NULL), 0);
	assert_error_at(2, "without an elapsed time");
	ck_assert_int_lt(read_text("<testResults>\n</testResults>\n", NULL), 0);
	assert_error_at(3, "no samples");
	ck_assert_int_lt(read_text("<testResults>\n<sample t=\"1\" ts=\"1700000000000\" s=\"yes\"/>"
				   "</testResults>\n", NULL), 0);
	assert_error_at(2, "neither true nor false");
}
END_TEST

START_TEST(missing_file)
{
	ck_assert_int_eq(jtl_read("/nonexistent/throttlebot.jtl", NULL, &st, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/throttlebot.jtl"));
}
END_TEST

/* Mutated fixtures: any outcome but a crash, hang or an error without a place. */
START_TEST(fuzz_mutations)
{
	static const char *const names[] = { "quoted.csv", "missing-columns.csv", "headerless.csv",
					     "sample.xml" };
	static const char junk[] = "\",;\n\r<>&\"'=\\\0x9";
	char *buf = malloc(1 << 16);

	ck_assert_ptr_nonnull(buf);
	srand(12345);
	for (int round = 0; round < 3000; round++) {
		FILE *f = fopen(fixture(names[round % 4]), "rb");
		size_t n;
		int muts = 1 + rand() % 6;

		ck_assert_ptr_nonnull(f);
		n = fread(buf, 1, (1 << 16) - 64, f);
		fclose(f);
		for (int m = 0; m < muts && n > 0; m++) {
			size_t at = (size_t)rand() % n;

			switch (rand() % 4) {
			case 0: buf[at] = junk[rand() % (int)sizeof(junk)]; break;
			case 1: n = at; break;
			case 2:
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = junk[rand() % (int)sizeof(junk)];
				n++;
				break;
			default: buf[at] = (char)rand(); break;
			}
		}
		if (jtl_read(file_of("t.jtl", buf, n), NULL, &st, err, sizeof(err)) < 0) {
			ck_assert_msg(strncmp(err, tmpdir, strlen(tmpdir)) == 0 && strstr(err, ".jtl:"),
				      "round %d: error without a place: %s", round, err);
		} else {
			ck_assert_uint_gt(st.samples, 0);
			ck_assert(!isnan(jtl_percentile(&st, 99)));
		}
		jtl_stats_free(&st);
	}
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jtl");
	TCase *tc = tcase_create("jtl");
	SRunner *sr;
	int failed;

	if (!mkdtemp(tmpdir)) {
		perror(tmpdir);
		return 1;
	}
	tcase_add_unchecked_fixture(tc, NULL, remove_tmpdir);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, csv_quoted_fields_and_non_http_codes);
	tcase_add_test(tc, csv_label_filter);
	tcase_add_test(tc, csv_label_filter_window);
	tcase_add_test(tc, csv_missing_columns_semicolons_crlf);
	tcase_add_test(tc, csv_headerless_jmeter_default);
	tcase_add_test(tc, xml_samples_not_subsamples);
	tcase_add_test(tc, percentiles_match_sorting);
	tcase_add_test(tc, errors_name_file_and_line);
	tcase_add_test(tc, xml_errors_name_file_and_line);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, fuzz_mutations);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
