/* check_report_render.c - report.html and report.csv rendered from report fixtures and odd inputs. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "report.h"
#include "report_render.h"
#include "report_synth.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/report"
#endif

/* Each test writes into its own directory under one top directory.  The
 * top one is removed by the parent process, so a failing test (whose own
 * teardown never runs) leaves nothing behind, not even its tmpfs. */
static char top[64];
static char dir[96];
static char mnt[128];

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		if (unlink(p) < 0 && errno == EISDIR) {
			umount2(p, MNT_DETACH);
			rm_tree(p);
		}
	}
	if (d)
		closedir(d);
	rmdir(path);
}

static void top_setup(void)
{
	snprintf(top, sizeof(top), "/tmp/throttlebot-report-XXXXXX");
	if (!mkdtemp(top))
		abort();
}

static void top_teardown(void)
{
	rm_tree(top);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/test-XXXXXX", top);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	mnt[0] = '\0';
}

static void teardown(void)
{
	if (mnt[0])
		umount2(mnt, MNT_DETACH);
	rm_tree(dir);
}

static char *out_path(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static json_t *fixture(const char *name)
{
	char p[512];
	json_error_t err;
	json_t *r;

	snprintf(p, sizeof(p), "%s/%s", FIXTURES, name);
	r = json_load_file(p, 0, &err);
	ck_assert_msg(r != NULL, "%s:%d: %s", p, err.line, err.text);
	return r;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	ck_assert_int_eq(fread(buf, 1, n, f), n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0, k = strlen(needle);

	for (const char *p = hay; (p = strstr(p, needle)); p += k)
		n++;
	return n;
}

static size_t pairs_in(const json_t *report)
{
	const json_t *by = json_object_get(report, "by_metric");
	size_t i, n = 0;

	if (!json_array_size(by))
		return json_array_size(json_object_get(report, "ranking"));
	for (i = 0; i < json_array_size(by); i++)
		n += json_array_size(json_object_get(json_array_get(by, i), "ranking"));
	return n;
}

static size_t entries_in(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The page must stand alone: nothing fetched, nothing run. */
static void assert_self_contained(const char *html)
{
	ck_assert_msg(strncmp(html, "<!DOCTYPE html>\n", 16) == 0, "no doctype");
	ck_assert_msg(strstr(html, "</html>\n") && !strcmp(strstr(html, "</html>\n"), "</html>\n"),
		      "page does not end with </html>");
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "http:"));
	ck_assert_ptr_null(strstr(html, "https:"));
	ck_assert_ptr_null(strstr(html, "url("));
	ck_assert_ptr_null(strstr(html, "@import"));
	ck_assert_ptr_null(strstr(html, " src="));
	ck_assert_ptr_null(strstr(html, "<link"));
	ck_assert_uint_eq(count(html, "<svg"), count(html, "</svg>"));
	ck_assert_uint_eq(count(html, "<figure"), count(html, "</figure>"));
	ck_assert_uint_eq(count(html, "<section"), count(html, "</section>"));
	ck_assert_uint_eq(count(html, "<table"), count(html, "</table>"));
	ck_assert_uint_eq(count(html, "<tr>"), count(html, "</tr>"));
	ck_assert_uint_eq(count(html, "<title>"), count(html, "</title>"));
	ck_assert_uint_eq(count(html, "<div"), count(html, "</div>"));
	ck_assert_uint_eq(count(html, "<details"), count(html, "</details>"));
	ck_assert_uint_eq(count(html, "<ul"), count(html, "</ul>"));
}

START_TEST(html_full)
{
	json_t *r = fixture("full.json");
	char *html;

	ck_assert_int_eq(tb_report_write_html(r, out_path("report.html")), 0);
	html = slurp(out_path("report.html"), NULL);
	assert_self_contained(html);
	/* one plot per (service, resource) per metric: 11 pairs x 2 metrics */
	ck_assert_uint_eq(pairs_in(r), 22);
	ck_assert_uint_eq(count(html, "<svg"), 22);
	ck_assert_uint_eq(count(html, "<section class=\"metric\" id=\"metric-"), 2);
	/* the MIMR in big type, for both metrics, with its lead over the runner-up */
	ck_assert_uint_eq(count(html, "<div class=\"name\">worker \xc2\xb7 cpu"), 2);
	ck_assert_ptr_nonnull(strstr(html, "by <b>+232%</b> at 80% stress"));
	ck_assert_ptr_nonnull(strstr(html, "by <b>\xe2\x88\x92" "70%</b> at 80% stress"));
	ck_assert_ptr_nonnull(strstr(html, "leads by <b>203 percentage points</b>"));
	ck_assert_ptr_nonnull(strstr(html, "A clear lead"));
	/* the table: the MIMR cell, IMRs shaded, the exclusion with its reason */
	ck_assert_uint_eq(count(html, "<td class=\"imr is-mimr\""), 2);
	/* two IMRs besides the MIMR: in the list under it, the table, their
	 * plots, and the runner-up */
	ck_assert_uint_eq(count(html, "<span class=\"badge imr\">IMR</span>"), 2 * (2 + 2 + 2 + 1));
	ck_assert_uint_eq(count(html, "<div class=\"matters\"><p><b>2 other IMRs</b>:</p>"), 2);
	/* all four services fit in the default top 10: nothing folded away */
	ck_assert_ptr_null(strstr(html, "<details"));
	ck_assert_ptr_nonnull(strstr(html, "significance level <b>\xce\xb1 = 0.05</b>"));
	ck_assert_uint_eq(count(html, "<td class=\"excluded\" title=\"excluded by configuration\">"), 2);
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"imr is-mimr\" style=\"background:rgb(185,28,28);color:#fff\""));
	/* the paradox is flagged in the callout, the table and its plot */
	ck_assert_uint_eq(count(html, "<div class=\"paradoxes\">"), 2);
	ck_assert_uint_eq(count(html, "<figure class=\"paradox\">"), 2);
	/* service names are escaped everywhere */
	ck_assert_ptr_null(strstr(html, "cache <&>"));
	ck_assert_uint_ge(count(html, "cache &lt;&amp;&gt; &quot;edge&quot;"), 2 + 2 * 3);
	/* the band is the interval of the relative change turned into values:
	 * baseline 1.02 s x (1 + 2.2383) .. x (1 + 2.3992) at 80% */
	ck_assert_ptr_nonnull(strstr(html, "80% stress: median 3.385\xe2\x80\xaf" "s (+232%), 95% CI 3.303\xe2\x80\x93" "3.467\xe2\x80\xaf" "s"));
	/* baseline summary */
	ck_assert_ptr_nonnull(strstr(html, "<div class=\"k\">median</div><div class=\"n\">1.02\xe2\x80\xaf" "s</div>"));
	/* the failed trial */
	ck_assert_ptr_nonnull(strstr(html, "workload exited with status 137"));
	ck_assert_uint_eq(count(html, "1 failed trial not plotted"), 2);
	free(html);
	json_decref(r);
}
END_TEST

START_TEST(html_minimal)
{
	json_t *r = fixture("minimal.json");
	char *html;

	ck_assert_int_eq(tb_report_write_html(r, out_path("report.html")), 0);
	html = slurp(out_path("report.html"), NULL);
	assert_self_contained(html);
	ck_assert_uint_eq(count(html, "<svg"), 1);
	ck_assert_ptr_nonnull(strstr(html, "<div class=\"name\">None found</div>"));
	ck_assert_ptr_nonnull(strstr(html, "<td class=\"ns\""));
	ck_assert_ptr_nonnull(strstr(html, "workload timed out after 30 s, &quot;killed&quot;\nsecond line"));
	ck_assert_ptr_nonnull(strstr(html, "values: 12, 13, failed"));
	free(html);
	json_decref(r);
}
END_TEST

/* Wrong types and missing members must not crash or fail the page. */
static const char *const odd_reports[] = {
	"{}",
	"{\"by_metric\": []}",
	("{\"application\": 3, \"started\": \"Z\", \"duration_s\": \"long\", \"stress_levels\": [\"a\", null, 2],"
	" \"services\": [{\"name\": 5}, null, 1], \"throttlers\": [{}], \"metrics\": 7,"
	" \"ranking\": \"x\", \"mimr\": {\"service\": null, \"runner_up\": 1}, \"trials\": [null, 3, {\"throttles\": \"x\"}]}"),
	("{\"by_metric\": [1, null, {}, {\"metric\": \"m\", \"ranking\": [null, 2, {},"
	" {\"service\": \"s\", \"points\": [null, {}, {\"stress\": null, \"values\": [null, \"x\"]},"
	" {\"stress\": 0.5, \"median\": 1e308, \"ci_low\": -1e308, \"ci_high\": 1e308, \"values\": [-1e308]}]}]}]}"),
	("{\"baseline\": {\"median\": 0, \"min\": 0, \"max\": 0}, \"ranking\": [{\"service\": \"s\", \"resource\": \"cpu\","
	" \"imr\": true, \"degradation\": 0, \"points\": [{\"stress\": 0.9, \"median\": 0, \"ci_low\": 0, \"ci_high\": 0}]}],"
	" \"mimr\": {\"service\": \"s\", \"resource\": \"cpu\", \"runner_up\": {\"service\": \"t\"}}}"),
	("{\"stress_levels\": [0, 1, 5], \"ranking\": [{\"service\": \"s\", \"points\": [{\"stress\": 0.2, \"median\": 1},"
	" {\"stress\": 0.2, \"median\": 2}, {\"stress\": 3, \"median\": -1}]}]}"),
};

START_TEST(odd_input)
{
	json_error_t err;
	json_t *r = json_loads(odd_reports[_i], 0, &err);
	char *html;

	ck_assert_msg(r != NULL, "report %d: %s", _i, err.text);
	ck_assert_int_eq(tb_report_write_html(r, out_path("report.html")), 0);
	ck_assert_int_eq(tb_report_write_csv(r, out_path("report.csv")), 0);
	html = slurp(out_path("report.html"), NULL);
	assert_self_contained(html);
	ck_assert_ptr_null(strstr(html, "nan"));
	ck_assert_ptr_null(strstr(html, "inf"));
	free(html);
	json_decref(r);
}
END_TEST

/* Y tick labels of one plot must differ and ascend, at any scale. */
static const double scales[][2] = {
	{ 1.02, 0.005 }, { 1e6, 2 }, { 1e-4, 1e-6 }, { 1e-4, 7.5e-7 }, { 1e-4, 3e-6 }, { -5, 1 },
	{ 3e9, 7e7 }, { 250, 0.1 }, { 0.5, 0.0625 },
};

START_TEST(tick_labels)
{
	double base = scales[_i][0], d = scales[_i][1];
	json_t *r = json_pack("{s:[f], s:{s:f, s:f, s:f}, s:[{s:s, s:s, s:[{s:f, s:f}, {s:f, s:f}]}]}",
			      "stress_levels", 0.5, "baseline", "median", base, "min", base - d,
			      "max", base + d, "ranking", "service", "s", "resource", "cpu", "points",
			      "stress", 0.5, "median", base + 2 * d, "stress", 0.5, "median", base + 3 * d);
	const char *key = "text-anchor=\"end\" class=\"tk\">", *p;
	char *html, prev[64] = "";
	double last = -INFINITY;
	int n = 0;

	ck_assert_int_eq(tb_report_write_html(r, out_path("report.html")), 0);
	html = slurp(out_path("report.html"), NULL);
	for (p = strstr(html, key); p; p = strstr(p, key)) {
		char label[64];
		size_t len;
		p += strlen(key);
		len = strcspn(p, "<");
		ck_assert_uint_lt(len, sizeof(label));
		memcpy(label, p, len);
		label[len] = '\0';
		ck_assert_msg(strcmp(label, prev) != 0, "scale %g: tick '%s' twice", base, label);
		ck_assert_msg(strtod(label, NULL) > last, "scale %g: tick '%s' not above %g", base, label, last);
		last = strtod(label, NULL);
		snprintf(prev, sizeof(prev), "%s", label);
		n++;
	}
	ck_assert_msg(n >= 3 && n <= 10, "scale %g: %d ticks", base, n);
	free(html);
	json_decref(r);
}
END_TEST

START_TEST(not_an_object)
{
	json_t *a = json_array();

	ck_assert_int_eq(tb_report_write_html(a, out_path("report.html")), -EINVAL);
	ck_assert_int_eq(tb_report_write_csv(a, out_path("report.csv")), -EINVAL);
	ck_assert_int_eq(tb_report_write_html(NULL, out_path("report.html")), -EINVAL);
	ck_assert_int_eq(tb_report_write_csv(NULL, out_path("report.csv")), -EINVAL);
	ck_assert_uint_eq(entries_in(dir), 0);
	json_decref(a);
}
END_TEST

/* Every name and message the run reports comes from outside: the
 * configuration, the orchestrator, a failing workload. */
START_TEST(hostile_names)
{
	static const char evil[] = "<script>alert('x')</script>\"&";
	json_t *r = fixture("full.json");
	json_t *by = json_object_get(r, "by_metric");
	json_t *trial = json_array_get(json_object_get(r, "trials"), 23);
	char *html;
	size_t i, j;

	json_object_set_new(r, "application", json_string(evil));
	json_object_set_new(r, "config", json_string(evil));
	json_object_set_new(r, "started", json_string(evil));
	json_object_set_new(json_array_get(json_object_get(r, "throttlers"), 0), "resource", json_string(evil));
	json_object_set_new(trial, "error", json_string("\x1b[31mred\x1b[0m\x01\x7f"));
	json_object_set_new(trial, "failed", json_true());
	json_array_append_new(json_object_get(r, "excluded"),
			      json_pack("{s:s, s:s}", "service", evil, "why", evil));
	for (i = 0; i < json_array_size(by); i++) {
		json_t *m = json_array_get(by, i), *rk = json_object_get(m, "ranking");
		json_object_set_new(m, "metric", json_string(evil));
		json_object_set_new(m, "unit", json_string(evil));
		json_object_set_new(json_object_get(m, "mimr"), "service", json_string(evil));
		for (j = 0; j < json_array_size(rk); j++)
			if (!strcmp(json_string_value(json_object_get(json_array_get(rk, j), "service")), "worker"))
				json_object_set_new(json_array_get(rk, j), "service", json_string(evil));
	}
	ck_assert_int_eq(tb_report_write_html(r, out_path("report.html")), 0);
	html = slurp(out_path("report.html"), NULL);
	assert_self_contained(html);
	ck_assert_ptr_null(strstr(html, "alert('x')"));
	ck_assert_ptr_nonnull(strstr(html, "\xef\xbf\xbd[31mred\xef\xbf\xbd[0m\xef\xbf\xbd\xef\xbf\xbd</td>"));
	for (const char *p = html; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t' || *p == '\r',
			      "control character %#x in the page", (unsigned char)*p);
	ck_assert_uint_ge(count(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"), 20);
	free(html);
	json_decref(r);
}
END_TEST

/* ---- CSV: read back with a strict RFC 4180 parser ---- */

struct csv {
	char ***rows;        /* rows[i][j], NULL-terminated per row */
	size_t nrows;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	ck_assert_ptr_nonnull(q);
	return q;
}

/* Strict: records end in CRLF, quotes only around whole fields. */
static void csv_parse(const char *s, struct csv *c)
{
	size_t cap = 0, nf = 0, fcap = 0, len = 0, lcap = 0;
	char **fields = NULL, *field = NULL;

	memset(c, 0, sizeof(*c));
	while (*s) {
		int quoted = *s == '"';
		len = 0;
		if (quoted)
			s++;
		for (;;) {
			char ch;
			if (quoted) {
				ck_assert_msg(*s != '\0', "unterminated quoted field");
				if (*s == '"' && s[1] == '"') {
					ch = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					ck_assert_msg(*s == ',' || *s == '\r', "text after a closing quote");
					break;
				} else {
					ch = *s++;
				}
			} else {
				if (*s == ',' || *s == '\r')
					break;
				ck_assert_msg(*s != '"' && *s != '\n' && *s != '\0',
					      "unquoted field holds a quote or bare newline");
				ch = *s++;
			}
			if (len + 2 > lcap)
				field = xrealloc(field, lcap = lcap * 2 + 16);
			field[len++] = ch;
		}
		if (!field)
			field = malloc(1);
		field[len] = '\0';
		if (nf + 2 > fcap)
			fields = xrealloc(fields, (fcap = fcap * 2 + 8) * sizeof(*fields));
		fields[nf++] = strdup(field);
		if (*s == ',') {
			s++;
			continue;
		}
		ck_assert_msg(s[0] == '\r' && s[1] == '\n', "record does not end in CRLF");
		s += 2;
		fields[nf] = NULL;
		if (c->nrows + 1 > cap)
			c->rows = xrealloc(c->rows, (cap = cap * 2 + 16) * sizeof(*c->rows));
		c->rows[c->nrows++] = fields;
		fields = NULL;
		nf = fcap = 0;
	}
	ck_assert_msg(nf == 0, "last record has no CRLF");
	free(field);
}

static void csv_free(struct csv *c)
{
	for (size_t i = 0; i < c->nrows; i++) {
		for (char **f = c->rows[i]; *f; f++)
			free(*f);
		free(c->rows[i]);
	}
	free(c->rows);
}

static size_t nfields(char **row)
{
	size_t n = 0;

	while (row[n])
		n++;
	return n;
}

/* A number field must read back as exactly the JSON value; null is empty. */
static void assert_number(const char *field, const json_t *v, const char *what)
{
	if (json_is_null(v) || !v) {
		ck_assert_msg(field[0] == '\0', "%s: '%s' for null", what, field);
		return;
	}
	ck_assert_msg(strtod(field, NULL) == json_number_value(v), "%s: '%s' is not %.17g", what,
		      field, json_number_value(v));
}

/* The ranking entry a single-throttle trial belongs to, searched plainly. */
static const json_t *pair_of(const json_t *r, const json_t *trial)
{
	const json_t *by = json_object_get(r, "by_metric"), *th = json_object_get(trial, "throttles");
	const json_t *ranking = json_object_get(json_array_size(by) ? json_array_get(by, 0) : r, "ranking");
	size_t i;

	if (json_array_size(th) != 1)
		return NULL;
	th = json_array_get(th, 0);
	for (i = 0; i < json_array_size(ranking); i++) {
		const json_t *p = json_array_get(ranking, i);
		if (json_equal(json_object_get(p, "service"), json_object_get(th, "service")) &&
		    json_equal(json_object_get(p, "throttler"), json_object_get(th, "throttler")))
			return p;
	}
	return NULL;
}

static const char *verdict_of(const json_t *pair)
{
	if (!pair)
		return "";
	if (json_is_string(json_object_get(pair, "verdict")))
		return json_string_value(json_object_get(pair, "verdict"));
	return json_is_true(json_object_get(pair, "imr")) ? "imr"
	     : json_is_true(json_object_get(pair, "paradox")) ? "paradox" : "none";
}

static const char *bool_of(const json_t *v)
{
	return json_is_boolean(v) ? json_is_true(v) ? "true" : "false" : "";
}

/* Row i of the CSV is the trial of its index; each trial has one row. */
static const json_t *trial_of(const json_t *trials, char **row, unsigned char *seen)
{
	size_t i;

	for (i = 0; i < json_array_size(trials); i++) {
		const json_t *t = json_array_get(trials, i);
		if (!seen[i] && json_number_value(json_object_get(t, "index")) == strtod(row[0], NULL)) {
			seen[i] = 1;
			return t;
		}
	}
	ck_abort_msg("row of trial %s: no such trial, or twice", row[0]);
	return NULL;
}

static void assert_trials_match(const json_t *r, const struct csv *c, const char *const *metrics)
{
	const json_t *trials = json_object_get(r, "trials");
	unsigned char *seen = calloc(json_array_size(trials) + 1, 1);
	size_t i, k, nm = 0;

	while (metrics[nm])
		nm++;
	ck_assert_uint_eq(c->nrows, json_array_size(trials) + 1);
	for (i = 1; i < c->nrows; i++) {
		char **row = c->rows[i];
		const json_t *t = trial_of(trials, row, seen), *th = json_object_get(t, "throttles");
		char services[256] = "", throttlers[256] = "";

		ck_assert_uint_eq(nfields(row), 5 + nm + 2 + 4 + nm);
		assert_number(row[0], json_object_get(t, "index"), "index");
		ck_assert_str_eq(row[1], json_string_value(json_object_get(t, "kind")));
		for (k = 0; k < json_array_size(th); k++) {
			const json_t *x = json_array_get(th, k);
			strcat(services, k ? ";" : "");
			strcat(services, json_string_value(json_object_get(x, "service")));
			strcat(throttlers, k ? ";" : "");
			strcat(throttlers, json_string_value(json_object_get(x, "throttler")));
		}
		ck_assert_str_eq(row[2], services);
		ck_assert_str_eq(row[3], throttlers);
		if (json_array_size(th) == 1)
			assert_number(row[4], json_object_get(json_array_get(th, 0), "stress"), "stress");
		else if (!json_array_size(th))
			ck_assert_str_eq(row[4], "");
		for (k = 0; k < nm; k++)
			assert_number(row[5 + k], json_object_get(json_object_get(t, "values"), metrics[k]),
				      metrics[k]);
		ck_assert_str_eq(row[5 + nm], json_is_true(json_object_get(t, "failed")) ? "true" : "false");
		ck_assert_str_eq(row[6 + nm], json_is_string(json_object_get(t, "error"))
			? json_string_value(json_object_get(t, "error")) : "");
		ck_assert_str_eq(row[7 + nm], verdict_of(pair_of(r, t)));
		if (json_object_get(t, "round"))
			assert_number(row[8 + nm], json_object_get(t, "round"), "round");
		else
			ck_assert_str_eq(row[8 + nm], "");
		ck_assert_str_eq(row[9 + nm], bool_of(json_object_get(t, "warmup")));
		ck_assert_str_eq(row[10 + nm], bool_of(json_object_get(t, "extra")));
		for (k = 0; k < nm; k++)
			assert_number(row[11 + nm + k], json_object_get(json_object_get(t, "local_baseline"),
				      metrics[k]), "local baseline");
	}
	free(seen);
}

static void assert_header(char **row, const char *const *metrics)
{
	static const char *const head[] = { "index", "kind", "services", "throttlers", "stress" };
	static const char *const tail[] = { "failed", "error", "verdict", "round", "warmup", "extra" };
	char name[128];
	size_t k, nm = 0;

	while (metrics[nm])
		nm++;
	ck_assert_uint_eq(nfields(row), 5 + nm + 6 + nm);
	for (k = 0; k < 5; k++)
		ck_assert_str_eq(row[k], head[k]);
	for (k = 0; k < nm; k++)
		ck_assert_str_eq(row[5 + k], metrics[k]);
	for (k = 0; k < 6; k++)
		ck_assert_str_eq(row[5 + nm + k], tail[k]);
	for (k = 0; k < nm; k++) {
		snprintf(name, sizeof(name), "local_baseline:%s", metrics[k]);
		ck_assert_str_eq(row[11 + nm + k], name);
	}
}

/* The rows' pairs, in the order they first appear, must be `pairs`
 * ("service/throttler"), or begin with them when `prefix`; each pair's rows
 * together and by index, then every other trial by index. */
static void assert_rows_ordered(const struct csv *c, const char *const *pairs, size_t npairs, int prefix)
{
	size_t i, k = 0;
	double last = -1;
	char pair[512], prev[512] = "";

	for (i = 1; i < c->nrows; i++) {
		char **row = c->rows[i];
		if (!strcmp(row[1], "throttle") && !strchr(row[2], ';')) {
			snprintf(pair, sizeof(pair), "%s/%s", row[2], row[3]);
			ck_assert_msg(prev[0] != '\n', "row %zu: pair %s after the other trials", i, pair);
			if (strcmp(pair, prev)) {
				ck_assert_msg(k < npairs || prefix, "row %zu: pair %s after the ranked ones", i, pair);
				ck_assert_msg(k >= npairs || !strcmp(pair, pairs[k]), "row %zu: pair %s, expected %s",
					      i, pair, pairs[k]);
				k++;
				last = -1;
				snprintf(prev, sizeof(prev), "%s", pair);
			}
		} else if (prev[0] != '\n') {
			ck_assert(prefix ? k >= npairs : k == npairs);
			/* the others, from here to the end */
			prev[0] = '\n';
			last = -1;
		}
		ck_assert_msg(strtod(row[0], NULL) > last, "row %zu: trial %s out of order", i, row[0]);
		last = strtod(row[0], NULL);
	}
	ck_assert(prefix ? k >= npairs : k == npairs);
}

static const char *const full_order[] = {
	"worker/cpu_quota", "db/blkio", "web/tc", "cache <&> \"edge\"/cpu_quota", "worker/tc", "db/tc",
	"cache <&> \"edge\"/blkio", "web/blkio", "worker/blkio", "cache <&> \"edge\"/tc", "web/cpu_quota",
};

START_TEST(csv_full)
{
	static const char *const metrics[] = { "jct", "throughput", NULL };
	json_t *r = fixture("full.json");
	struct csv c;
	char *text;

	ck_assert_int_eq(tb_report_write_csv(r, out_path("report.csv")), 0);
	text = slurp(out_path("report.csv"), NULL);
	csv_parse(text, &c);
	assert_header(c.rows[0], metrics);
	assert_trials_match(r, &c, metrics);
	/* IMRs by degradation (the MIMR first), the paradox, the rest by degradation */
	assert_rows_ordered(&c, full_order, sizeof(full_order) / sizeof(full_order[0]), 0);
	/* the name with a quote is quoted, the plain ones are not */
	ck_assert_ptr_nonnull(strstr(text, ",\"cache <&> \"\"edge\"\"\",tc,0.8,"));
	ck_assert_ptr_nonnull(strstr(text, "\r\n25,throttle,web,blkio,0.6,,,true,workload exited with status 137,none,,,,,\r\n"));
	csv_free(&c);
	free(text);
	json_decref(r);
}
END_TEST

START_TEST(csv_minimal)
{
	static const char *const metrics[] = { "p99", NULL };
	json_t *r = fixture("minimal.json");
	struct csv c;
	char *text;

	ck_assert_int_eq(tb_report_write_csv(r, out_path("report.csv")), 0);
	text = slurp(out_path("report.csv"), NULL);
	csv_parse(text, &c);
	assert_header(c.rows[0], metrics);
	assert_trials_match(r, &c, metrics);
	/* the pair's trials first, then the baselines */
	ck_assert_str_eq(c.rows[1][0], "4");
	ck_assert_str_eq(c.rows[5][0], "3");
	ck_assert_str_eq(c.rows[5][7], "workload timed out after 30 s, \"killed\"\nsecond line");
	csv_free(&c);
	free(text);
	json_decref(r);
}
END_TEST

/* Several throttles in one trial, a metric the metric list lacks, exact
 * doubles and fields that need quoting only for their edge spaces. */
START_TEST(csv_shapes)
{
	static const char *const metrics[] = { "jct", "bytes", "extra", NULL };
	json_t *r = json_pack("{s:[{s:s},{s:s}], s:["
			      "{s:i, s:s, s:[{s:s,s:s,s:f},{s:s,s:s,s:f}], s:{s:f, s:I, s:f}, s:b, s:n},"
			      "{s:i, s:s, s:[], s:{s:n, s:n}, s:b, s:s}]}",
			      "metrics", "name", "jct", "name", "bytes",
			      "trials",
			      "index", 1, "kind", "throttle", "throttles",
			      "service", "a,b", "throttler", "tc", "stress", 0.2,
			      "service", "c", "throttler", "blkio", "stress", 0.4,
			      "values", "jct", 0.1 + 0.2, "bytes", (json_int_t)9007199254740993LL,
			      "extra", 1e-300, "failed", 0, "error",
			      "index", 2, "kind", "baseline", "throttles",
			      "values", "jct", "bytes", "failed", 1, "error", " padded ");
	struct csv c;
	char *text;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tb_report_write_csv(r, out_path("report.csv")), 0);
	text = slurp(out_path("report.csv"), NULL);
	csv_parse(text, &c);
	assert_header(c.rows[0], metrics);
	ck_assert_str_eq(c.rows[1][2], "a,b;c");
	ck_assert_str_eq(c.rows[1][3], "tc;blkio");
	ck_assert_str_eq(c.rows[1][4], "0.2;0.4");
	ck_assert_str_eq(c.rows[1][5], "0.30000000000000004");
	ck_assert_str_eq(c.rows[1][6], "9007199254740993");
	ck_assert_str_eq(c.rows[1][7], "1e-300");
	ck_assert_str_eq(c.rows[2][1], "baseline");
	ck_assert_str_eq(c.rows[2][5], "");
	ck_assert_str_eq(c.rows[2][9], " padded ");
	ck_assert_ptr_nonnull(strstr(text, ",\" padded \",,,,,,,\r\n"));
	csv_free(&c);
	free(text);
	json_decref(r);
}
END_TEST

/* quickstart-noisy.json is what the core wrote for the quickstart example
 * on a busy host: no MIMR, a noisy baseline and failed trials, one stress
 * level of worker's where every trial failed. */
START_TEST(html_recorded_run)
{
	static const char *const metrics[] = { "jct", NULL };
	json_t *r = fixture("quickstart-noisy.json");
	struct csv c;
	char *html, *text;

	ck_assert_int_eq(tb_report_write_html(r, out_path("report.html")), 0);
	html = slurp(out_path("report.html"), NULL);
	assert_self_contained(html);
	ck_assert_uint_eq(count(html, "<svg"), 2);
	ck_assert_ptr_nonnull(strstr(html, "<div class=\"name\">None found</div>"));
	ck_assert_ptr_nonnull(strstr(html, "The baseline itself varied by 117% of its median"));
	ck_assert_ptr_nonnull(strstr(html, "<b>9 failed</b>"));
	ck_assert_ptr_nonnull(strstr(html, "3 failed trials not plotted"));
	ck_assert_ptr_nonnull(strstr(html, "6 failed trials not plotted"));
	/* worker's 80% point has no median: three points on its line */
	ck_assert_ptr_nonnull(strstr(html, "<figure class=\"ns\"><figcaption><span class=\"pair\">worker"));
	free(html);

	ck_assert_int_eq(tb_report_write_csv(r, out_path("report.csv")), 0);
	text = slurp(out_path("report.csv"), NULL);
	csv_parse(text, &c);
	assert_header(c.rows[0], metrics);
	assert_trials_match(r, &c, metrics);
	csv_free(&c);
	free(text);
	json_decref(r);
}
END_TEST

/* ---- a large application's page ---- */

/* 1,000 services x 3 resources x 4 levels: under 2 MB, the MIMR and the
 * pairs that matter first, plots only for the services shown in full. */
START_TEST(html_large)
{
	json_t *r = synth_report(1000);
	const char *mimr, *matters, *grid, *rest, *plots;
	char *html;
	size_t len;

	ck_assert_ptr_nonnull(r);
	/* a long list of exclusions is folded too */
	for (int i = 0; i < 25; i++)
		json_array_append_new(json_object_get(r, "excluded"),
				      json_pack("{s:s, s:s}", "resource", "gpu", "why", "no such device"));
	ck_assert_int_eq(tb_report_write_html(r, out_path("report.html")), 0);
	html = slurp(out_path("report.html"), &len);
	assert_self_contained(html);
	ck_assert_uint_lt(len, 2000000);
	ck_assert_uint_eq(count(html, "<svg"), 10 * 3);
	/* the page reads top-down: MIMR, the list under it, the grid, the fold, the plots */
	mimr = strstr(html, "<div class=\"name\">svc-0737 \xc2\xb7 cpu");
	matters = strstr(html, "<div class=\"matters\"><p><b>4 other IMRs</b>; <b>3 undecided pairs</b>");
	grid = strstr(html, "<table class=\"matrix\">");
	rest = strstr(html, "<details class=\"rest\"><summary><b>990 more services</b>");
	plots = strstr(html, "<div class=\"grid\">");
	ck_assert_ptr_nonnull(mimr);
	ck_assert_ptr_nonnull(matters);
	ck_assert_ptr_nonnull(grid);
	ck_assert_ptr_nonnull(rest);
	ck_assert_ptr_nonnull(plots);
	ck_assert(mimr < matters && matters < grid && grid < rest && rest < plots);
	/* the grid: MIMR row first, the 10 that matter; the fold: the other 990 */
	ck_assert_ptr_eq(strstr(grid, "<tr><th scope=\"row\" class=\"svc\">"),
			 strstr(grid, "<tr><th scope=\"row\" class=\"svc\">svc-0737</th>"));
	ck_assert_uint_eq(count(html, "<tr><th scope=\"row\" class=\"svc\">"), 10);
	ck_assert_uint_eq(count(rest, "<tr><th>svc-"), 990);
	ck_assert_uint_eq(count(html, "<td class=\"undecided\""), SYNTH_UNDECIDED);
	ck_assert_uint_eq(count(html, "<figure class=\"undecided\">"), SYNTH_UNDECIDED);
	/* the new fields: adjusted and trend p, local baselines, seed, warm-up and extra trials */
	ck_assert_ptr_nonnull(strstr(html, "(95% CI +178% to +182%, p = 0.002, adjusted p = 0.004, trend p = 0.001)"));
	ck_assert_ptr_nonnull(strstr(html, "against a local baseline of "));
	ck_assert_ptr_nonnull(strstr(html, "seed <b>12345</b>"));
	ck_assert_ptr_nonnull(strstr(html, "1 warm-up (never ranked); 6 adaptive extra;"));
	ck_assert_ptr_nonnull(strstr(html, "The 2970 pairs of the other services have no plot here"));
	ck_assert_ptr_nonnull(strstr(html, "<h2>Excluded</h2><details class=\"rest\"><summary><b>25 exclusions</b>"));
	free(html);
	json_decref(r);
}
END_TEST

/* 1,000 services: the trials of the pairs that matter come first. */
START_TEST(csv_large)
{
	static const char *const first[] = {
		"svc-0737/cpu_quota", "svc-0311/tc", "svc-0052/blkio", "svc-0903/cpu_quota", "svc-0480/tc",
		"svc-0015/blkio", "svc-0640/cpu_quota", "svc-0998/tc", "svc-0200/cpu_quota", "svc-0820/blkio",
	};
	json_t *r = synth_report(1000);
	struct csv c;
	char *text;
	size_t i;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(tb_report_write_csv(r, out_path("report.csv")), 0);
	text = slurp(out_path("report.csv"), NULL);
	csv_parse(text, &c);
	ck_assert_uint_eq(c.nrows, json_array_size(json_object_get(r, "trials")) + 1);
	assert_rows_ordered(&c, first, sizeof(first) / sizeof(first[0]), 1);
	/* the MIMR's 12 trials, then the runner-up's */
	for (i = 1; i <= 12; i++) {
		ck_assert_str_eq(c.rows[i][2], "svc-0737");
		ck_assert_str_eq(c.rows[i][8], "imr");
		ck_assert_str_eq(c.rows[i][12], "1");
	}
	ck_assert_str_eq(c.rows[13][2], "svc-0311");
	/* an undecided pair's extra trials stay with it, after its others */
	ck_assert_str_eq(c.rows[5 * 12 + 1][2], "svc-0015");
	ck_assert_str_eq(c.rows[5 * 12 + 1][8], "undecided");
	ck_assert_str_eq(c.rows[5 * 12 + 12][11], "false");
	ck_assert_str_eq(c.rows[5 * 12 + 13][2], "svc-0015");
	ck_assert_str_eq(c.rows[5 * 12 + 13][11], "true");
	ck_assert_str_eq(c.rows[5 * 12 + 14][11], "true");
	ck_assert_str_eq(c.rows[5 * 12 + 15][2], "svc-0640");
	/* the warm-up trial is the first of the others */
	ck_assert_str_eq(c.rows[3000 * 12 + 2 * SYNTH_UNDECIDED + 1][10], "true");
	ck_assert_str_eq(c.rows[3000 * 12 + 2 * SYNTH_UNDECIDED + 1][1], "baseline");
	csv_free(&c);
	free(text);
	json_decref(r);
}
END_TEST

/* ---- the terminal table of a large application ---- */

static char *table_of(const json_t *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	tb_report_print_table(f, r);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* The rows of the table, services only, in order. */
static size_t table_rows(const char *text, char rows[][32], size_t max)
{
	const char *p = strstr(text, "  service ");
	size_t n = 0;

	ck_assert_ptr_nonnull(p);
	for (p = strchr(p, '\n') + 1; !strncmp(p, "  svc-", 6) && n < max; p = strchr(p, '\n') + 1)
		sscanf(p, "%31s", rows[n++]);
	return n;
}

START_TEST(table_large)
{
	json_t *r = synth_report(1000);
	char rows[64][32], name[32], *text;
	size_t n;

	ck_assert_ptr_nonnull(r);
	text = table_of(r);
	n = table_rows(text, rows, 64);
	/* the 10 that matter (5 IMRs, 3 undecided, 2 paradoxes), MIMR first
	 * though name order puts it 737th */
	ck_assert_uint_eq(n, 10);
	synth_service_name(name, sizeof(name), SYNTH_MIMR_SERVICE(1000));
	ck_assert_str_eq(rows[0], name);
	synth_service_name(name, sizeof(name), SYNTH_RUNNER_UP_SERVICE(1000));
	ck_assert_str_eq(rows[1], name);
	ck_assert_ptr_nonnull(strstr(text, "  svc-0737 |  MIMR +180.0% @0.8 |"));
	ck_assert_uint_eq(count(text, "% @0.8 ? |") + count(text, "% @0.8 ?\n"), SYNTH_UNDECIDED);
	ck_assert_uint_eq(count(text, " ! |") + count(text, " !\n"), SYNTH_PARADOXES);
	ck_assert_uint_eq(count(text, "| MIMR ") + count(text, "|  MIMR "), 1);
	ck_assert_ptr_nonnull(strstr(text, "? = undecided"));
	ck_assert_ptr_nonnull(strstr(text, "  ... and 990 more services with no effect (all in report.json / report.csv)\n"));
	ck_assert_ptr_nonnull(strstr(text, "  MIMR: svc-0737 cpu (cpu_quota): +180.0% at stress 0.8, adjusted p = 0.004"));
	ck_assert_ptr_nonnull(strstr(text, "3 pairs undecided"));
	ck_assert_ptr_nonnull(strstr(text, "seed 12345; 1 warm-up trial, 6 adaptive extra trials (at most 100)\n"));
	free(text);

	/* a larger report_top adds the next services by degradation; the
	 * ones that matter stay however small it is */
	json_object_set_new(r, "report_top", json_integer(15));
	text = table_of(r);
	ck_assert_uint_eq(table_rows(text, rows, 64), 15);
	ck_assert_ptr_nonnull(strstr(text, "  ... and 985 more services"));
	free(text);
	json_object_set_new(r, "report_top", json_integer(0));
	text = table_of(r);
	ck_assert_uint_eq(table_rows(text, rows, 64), 10);
	free(text);
	/* a runner-up that is no IMR is shown too, after the ones that matter */
	json_object_set_new(json_object_get(json_object_get(json_array_get(json_object_get(r, "by_metric"), 0),
							    "mimr"), "runner_up"),
			    "service", json_string("svc-0500"));
	text = table_of(r);
	ck_assert_uint_eq(table_rows(text, rows, 64), 11);
	ck_assert_str_eq(rows[10], "svc-0500");
	ck_assert_ptr_nonnull(strstr(text, "  ... and 989 more services"));
	free(text);
	json_decref(r);
}
END_TEST

/* A report from before verdicts and report_top: all its services fit in
 * the default top 10, most important first. */
START_TEST(table_old_report)
{
	json_t *r = fixture("full.json");
	char *text = table_of(r);
	const char *worker = strstr(text, "  worker "), *db = strstr(text, "  db "), *web = strstr(text, "  web ");
	const char *cache = strstr(text, "  cache <&>");

	ck_assert_ptr_nonnull(worker);
	ck_assert_ptr_nonnull(db);
	ck_assert_ptr_nonnull(web);
	ck_assert_ptr_nonnull(cache);
	/* MIMR, IMRs by degradation, then the paradox */
	ck_assert(worker < db && db < web && web < cache);
	ck_assert_ptr_null(strstr(text, "more services"));
	ck_assert_ptr_null(strstr(text, "undecided ("));
	ck_assert_uint_eq(count(text, "  MIMR: worker cpu (cpu_quota)"), 2);
	free(text);
	json_decref(r);
}
END_TEST

/* ---- writing the files ---- */

START_TEST(bad_paths)
{
	json_t *r = fixture("minimal.json");

	ck_assert_int_eq(tb_report_write_html(r, out_path("missing/report.html")), -ENOENT);
	ck_assert_int_eq(tb_report_write_csv(r, out_path("missing/report.csv")), -ENOENT);
	ck_assert_int_eq(tb_report_write_html(r, ""), -EINVAL);
	ck_assert_int_eq(tb_report_write_csv(r, NULL), -EINVAL);
	ck_assert_uint_eq(entries_in(dir), 0);
	json_decref(r);
}
END_TEST

START_TEST(replaces_whole_file)
{
	json_t *r = fixture("minimal.json");
	struct stat st;
	char *text;
	FILE *f;

	f = fopen(out_path("report.csv"), "w");
	for (int i = 0; i < 10000; i++)
		fputs("an older, longer report\n", f);
	fclose(f);
	ck_assert_int_eq(tb_report_write_csv(r, out_path("report.csv")), 0);
	text = slurp(out_path("report.csv"), NULL);
	ck_assert_ptr_null(strstr(text, "older"));
	ck_assert_ptr_nonnull(strstr(text, "5,throttle,app,cpu_quota,0.5,,true,exit status 1,none,,,,\r\n"));
	ck_assert_int_eq(stat(out_path("report.csv"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_uint_eq(entries_in(dir), 1);
	free(text);
	json_decref(r);
}
END_TEST

START_TEST(temporary_file_is_private)
{
	struct tb_report_file rf;
	struct stat st;

	ck_assert_int_eq(tb_report_file_open(&rf, out_path("report.csv")), 0);
	ck_assert_int_eq(lstat(rf.tmp, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(fstat(rf.fd, &st), 0);
	ck_assert_int_eq(st.st_nlink, 1);
	/* A workload started while a report is written must not hold it. */
	ck_assert(fcntl(rf.fd, F_GETFD) & FD_CLOEXEC);
	tb_report_file_abort(&rf);
	ck_assert_uint_eq(entries_in(dir), 0);
}
END_TEST

START_TEST(json_never_through_a_planted_name)
{
	json_t *r = fixture("minimal.json"), *back;
	char victim[256], planted[256], *text;

	/* report.json was written to report.json.tmp first: a symlink there
	 * sent a root run's report over any file. */
	snprintf(victim, sizeof(victim), "%s", out_path("victim"));
	snprintf(planted, sizeof(planted), "%s", out_path("report.json.tmp"));
	ck_assert_int_eq(symlink(victim, planted), 0);
	ck_assert_int_eq(tb_report_write_json(r, out_path("report.json")), 0);
	ck_assert_int_eq(access(victim, F_OK), -1);
	back = json_load_file(out_path("report.json"), 0, NULL);
	ck_assert(json_equal(back, r));
	text = slurp(out_path("report.json"), NULL);
	ck_assert_ptr_nonnull(strstr(text, "\n  "));     /* still indented */
	free(text);
	ck_assert_int_eq(unlink(planted), 0);
	ck_assert_uint_eq(entries_in(dir), 1);
	json_decref(back);
	json_decref(r);
}
END_TEST

/* A full disk must fail the write and leave the previous report intact,
 * byte for byte, with no temporary file behind.  Needs root for a small
 * tmpfs of our own. */
START_TEST(full_disk_keeps_old_report)
{
	static const char old[] = "<!DOCTYPE html>\n<p>the previous run</p>\n";
	json_t *r = fixture("full.json");
	char *text;
	size_t len;
	FILE *f;

	if (geteuid() != 0) {
		fprintf(stderr, "check_report_render: full_disk_keeps_old_report skipped: needs root\n");
		json_decref(r);
		return;
	}
	snprintf(mnt, sizeof(mnt), "%s/throttlebot-tmpfs", dir);
	ck_assert_int_eq(mkdir(mnt, 0755), 0);
	if (mount("throttlebot-test", mnt, "tmpfs", 0, "size=16k") < 0) {
		/* root without CAP_SYS_ADMIN, as in some containers */
		ck_assert_int_eq(errno, EPERM);
		fprintf(stderr, "check_report_render: full_disk_keeps_old_report skipped: cannot mount\n");
		mnt[0] = '\0';
		json_decref(r);
		return;
	}
	{
		char p[160];
		snprintf(p, sizeof(p), "%s/report.html", mnt);
		f = fopen(p, "w");
		ck_assert_ptr_nonnull(f);
		fputs(old, f);
		ck_assert_int_eq(fclose(f), 0);
		ck_assert_int_eq(tb_report_write_html(r, p), -ENOSPC);
		text = slurp(p, &len);
		ck_assert_uint_eq(len, strlen(old));
		ck_assert_str_eq(text, old);
		ck_assert_uint_eq(entries_in(mnt), 1);
		free(text);
	}
	json_decref(r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("report_render");
	TCase *tc = tcase_create("render");

	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, html_full);
	tcase_add_test(tc, html_minimal);
	tcase_add_loop_test(tc, odd_input, 0, sizeof(odd_reports) / sizeof(odd_reports[0]));
	tcase_add_loop_test(tc, tick_labels, 0, sizeof(scales) / sizeof(scales[0]));
	tcase_add_test(tc, not_an_object);
	tcase_add_test(tc, hostile_names);
	tcase_add_test(tc, csv_full);
	tcase_add_test(tc, csv_minimal);
	tcase_add_test(tc, html_recorded_run);
	tcase_add_test(tc, csv_shapes);
	tcase_add_test(tc, table_old_report);
	tcase_add_test(tc, bad_paths);
	tcase_add_test(tc, replaces_whole_file);
	tcase_add_test(tc, temporary_file_is_private);
	tcase_add_test(tc, json_never_through_a_planted_name);
	tcase_add_test(tc, full_disk_keeps_old_report);
	suite_add_tcase(s, tc);

	/* building and rendering 1,000 services takes a while on a busy host */
	tc = tcase_create("large");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, top_setup, top_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, html_large);
	tcase_add_test(tc, csv_large);
	tcase_add_test(tc, table_large);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
