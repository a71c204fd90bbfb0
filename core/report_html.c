/* report_html.c - report.html: one self-contained page with the MIMR, the table and SVG plots. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_html.h"
#include "report_render.h"

struct page {
	FILE *f;
	const json_t *report;
	struct section *sec;
	size_t nsec;
	json_t *rowset;                /* service names seen, for the count */
	size_t nrows;
	struct { const char *throttler, *resource; } *cols;
	size_t ncols;
};

static const json_t *metric_decl(const json_t *report, const char *name)
{
	const json_t *metrics = json_object_get(report, "metrics");
	size_t i;

	for (i = 0; i < json_array_size(metrics); i++)
		if (rp_same(rp_str(json_array_get(metrics, i), "name"), name))
			return json_array_get(metrics, i);
	return NULL;
}

static int section_fill(struct section *s, const json_t *report, const json_t *m)
{
	const json_t *decl;
	const char *dir;
	size_t i;

	s->baseline = json_object_get(m, "baseline");
	s->mimr = json_object_get(m, "mimr");
	s->ranking = json_object_get(m, "ranking");
	s->metric = rp_str(m, "metric");
	if (!s->metric)
		s->metric = rp_str(s->baseline, "metric");
	decl = metric_decl(report, s->metric);
	if (!decl && !s->metric)
		decl = json_array_get(json_object_get(report, "metrics"), 0);
	if (!s->metric)
		s->metric = rp_str(decl, "name");
	if (!s->metric)
		s->metric = "the metric";
	s->unit = rp_str(m, "unit") ? rp_str(m, "unit") : rp_str(decl, "unit");
	dir = rp_str(m, "direction") ? rp_str(m, "direction") : rp_str(decl, "direction");
	s->higher = rp_same(dir, "higher");
	s->max_imr = 0;
	for (i = 0; i < json_array_size(s->ranking); i++) {
		const json_t *r = json_array_get(s->ranking, i);
		double d;
		if (rp_true(r, "imr") && rp_num(r, "degradation", &d) && d > s->max_imr)
			s->max_imr = d;
	}
	return rp_order_init(&s->order, report, m);
}

static int add_row(struct page *pg, const char *service)
{
	if (!service || json_object_get(pg->rowset, service))
		return 0;
	if (json_object_set_new(pg->rowset, service, json_true()) < 0)
		return -ENOMEM;
	pg->nrows++;
	return 0;
}

static int add_col(struct page *pg, const char *throttler, const char *resource)
{
	void *cols;
	size_t i;

	if (!throttler && !resource)
		return 0;
	for (i = 0; i < pg->ncols; i++) {
		if (throttler ? rp_same(pg->cols[i].throttler, throttler)
			      : rp_same(pg->cols[i].resource, resource))
			return 0;
	}
	cols = realloc(pg->cols, (pg->ncols + 1) * sizeof(*pg->cols));
	if (!cols)
		return -ENOMEM;
	pg->cols = cols;
	pg->cols[pg->ncols].throttler = throttler;
	pg->cols[pg->ncols].resource = resource;
	pg->ncols++;
	return 0;
}

/* Rows are the discovered services and columns the configured throttlers,
 * plus anything the ranking or the exclusions name that those lack. */
static int page_init(struct page *pg, FILE *f, const json_t *report)
{
	const json_t *by = json_object_get(report, "by_metric");
	const json_t *list;
	size_t i, j, k;
	int err = 0;

	memset(pg, 0, sizeof(*pg));
	pg->f = f;
	pg->report = report;
	pg->nsec = json_array_size(by) ? json_array_size(by) : 1;
	pg->sec = calloc(pg->nsec, sizeof(*pg->sec));
	pg->rowset = json_object();
	if (!pg->sec || !pg->rowset)
		return -ENOMEM;
	if (json_array_size(by))
		for (i = 0; i < pg->nsec && !err; i++)
			err = section_fill(&pg->sec[i], report, json_array_get(by, i));
	else
		err = section_fill(&pg->sec[0], report, report);

	list = json_object_get(report, "services");
	for (i = 0; i < json_array_size(list) && !err; i++)
		err = add_row(pg, rp_str(json_array_get(list, i), "name"));
	list = json_object_get(report, "throttlers");
	for (i = 0; i < json_array_size(list) && !err; i++) {
		const json_t *t = json_array_get(list, i);
		err = add_col(pg, rp_str(t, "name"), rp_str(t, "resource"));
	}
	/* every ranking, then the exclusions */
	for (k = 0; k <= pg->nsec && !err; k++) {
		list = k < pg->nsec ? pg->sec[k].ranking : json_object_get(report, "excluded");
		for (j = 0; j < json_array_size(list) && !err; j++) {
			const json_t *r = json_array_get(list, j);
			err = add_row(pg, rp_str(r, "service"));
			if (!err)
				err = add_col(pg, rp_str(r, "throttler"), rp_str(r, "resource"));
		}
	}
	return err;
}

static void page_fini(struct page *pg)
{
	for (size_t i = 0; pg->sec && i < pg->nsec; i++)
		rp_order_fini(&pg->sec[i].order);
	free(pg->sec);
	json_decref(pg->rowset);
	free(pg->cols);
}

/* An exclusion may name a whole service, or a resource of every service. */
static const json_t *find_excluded(const json_t *report, const char *service,
				   const char *throttler, const char *resource)
{
	const json_t *ex = json_object_get(report, "excluded");
	size_t i;

	for (i = 0; i < json_array_size(ex); i++) {
		const json_t *e = json_array_get(ex, i);
		const char *s = rp_str(e, "service"), *t = rp_str(e, "throttler");
		const char *r = rp_str(e, "resource");
		if (s && !rp_same(s, service))
			continue;
		if (t ? rp_same(t, throttler) : !r || rp_same(r, resource))
			return e;
	}
	return NULL;
}

/* ---- page parts ---- */

static const char css[] =
	":root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f4f6f9}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;background:var(--bg);color:var(--ink);"
	"font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
	"main{max-width:1200px;margin:0 auto;padding:28px 24px 48px}\n"
	"h1{font-size:26px;margin:0 0 4px}\n"
	"h2{font-size:21px;margin:0 0 14px}\n"
	"h2 .tag{font-size:12px;font-weight:600;color:var(--muted);border:1px solid var(--line);"
	"border-radius:9px;padding:1px 8px;margin-left:8px;vertical-align:middle}\n"
	"h3{font-size:13px;text-transform:uppercase;letter-spacing:.07em;color:var(--muted);margin:28px 0 10px}\n"
	".meta{color:var(--muted);margin:0}\n"
	".meta b{color:var(--ink);font-weight:600}\n"
	"nav{margin-top:8px;font-size:14px}\n"
	"nav a{color:#1d4ed8;margin-right:14px}\n"
	"section.metric{background:#fff;border:1px solid var(--line);border-radius:10px;"
	"padding:22px 26px;margin:24px 0}\n"
	".headline{border-left:6px solid #b91c1c;background:#fef2f2;padding:14px 20px;border-radius:6px}\n"
	".headline .label{font-size:13px;text-transform:uppercase;letter-spacing:.08em;color:#991b1b;font-weight:700}\n"
	".headline .name{font-size:42px;font-weight:750;line-height:1.15;margin:2px 0 6px;overflow-wrap:anywhere}\n"
	".headline .name .thr{font-size:18px;font-weight:500;color:var(--muted)}\n"
	".headline p{margin:4px 0}\n"
	".headline.none{border-color:#9ca3af;background:#f3f4f6}\n"
	".headline.none .label{color:var(--muted)}\n"
	".headline.none .name{font-size:26px}\n"
	".verdict{font-weight:600}\n"
	".paradoxes{border-left:6px solid #1d4ed8;background:#eff6ff;padding:10px 18px;border-radius:6px;margin-top:14px}\n"
	".paradoxes p{margin:4px 0}\n"
	".scroll{overflow-x:auto}\n"
	"table.matrix{border-collapse:separate;border-spacing:4px}\n"
	".matrix th{font-size:14px;padding:6px 10px;text-align:center;vertical-align:bottom}\n"
	".matrix th.svc{text-align:right;vertical-align:middle;font-weight:600;max-width:260px;overflow-wrap:anywhere}\n"
	".matrix th small{display:block;font-weight:400;color:var(--muted)}\n"
	".matrix td{min-width:120px;padding:8px 12px;text-align:center;border-radius:5px;background:#f3f4f6;"
	"font-variant-numeric:tabular-nums}\n"
	".matrix td .v{display:block;font-size:17px;font-weight:650}\n"
	".matrix td .s{display:block;font-size:12px;opacity:.85}\n"
	".matrix td.ns{color:var(--muted);background:#f9fafb}\n"
	".matrix td.none{color:#9ca3af;background:#fafafa}\n"
	".matrix td.excluded{color:var(--muted);background:repeating-linear-gradient(45deg,#f9fafb 0 6px,#eef0f3 6px 12px);font-style:italic}\n"
	".matrix td.paradox{background:#dbeafe;color:#1e3a8a}\n"
	".matrix td.undecided{background:#fef3c7;color:#78350f}\n"
	".matrix td.is-mimr{outline:3px solid #111827;outline-offset:-3px}\n"
	".badge{display:inline-block;font-size:10.5px;font-weight:700;padding:0 6px;border-radius:8px;"
	"letter-spacing:.05em;vertical-align:middle;line-height:17px;font-style:normal}\n"
	".badge.mimr{background:#111827;color:#fff}\n"
	".badge.imr{background:#c2410c;color:#fff}\n"
	".badge.paradox{background:#1d4ed8;color:#fff}\n"
	".badge.undecided{background:#b45309;color:#fff}\n"
	".badge.boost{background:#15803d;color:#fff}\n"
	".badge.noboost{background:#6b7280;color:#fff}\n"
	".matters{border-left:6px solid #c2410c;background:#fff7ed;padding:8px 18px;border-radius:6px;margin-top:14px}\n"
	".matters p{margin:4px 0}\n"
	".matters ul.plain{margin:2px 0;line-height:1.45}\n"
	"details.rest{margin:14px 0;border:1px solid var(--line);border-radius:8px;padding:8px 14px}\n"
	"details.rest summary{cursor:pointer}\n"
	"table.compact{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;margin-top:8px}\n"
	".compact th,.compact td{padding:1px 10px;text-align:right;border-bottom:1px solid var(--line);font-weight:400}\n"
	".compact thead th{font-weight:600;vertical-align:bottom}\n"
	".compact thead small{display:block;font-weight:400;color:var(--muted)}\n"
	".compact tbody th{text-align:left;overflow-wrap:anywhere}\n"
	".compact td.w{font-style:italic}\n"
	".keys{font-size:13px;color:var(--muted);margin:8px 0 0}\n"
	".keys span{display:inline-block;margin-right:16px}\n"
	".sw{display:inline-block;width:22px;height:11px;border-radius:2px;vertical-align:middle;margin-right:5px}\n"
	".baseline{display:flex;flex-wrap:wrap;gap:10px 28px}\n"
	".baseline div{min-width:90px}\n"
	".baseline .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}\n"
	".baseline .n{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}\n"
	".values{font-size:13px;color:var(--muted);margin:8px 0 0;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}\n"
	".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(350px,1fr));gap:16px}\n"
	"figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px 6px;background:#fff}\n"
	"figure.imr{border-color:#fdba74}\n"
	"figure.is-mimr{border:2px solid #111827}\n"
	"figure.paradox{border-color:#93c5fd}\n"
	"figure.undecided{border-color:#fcd34d}\n"
	"figcaption{font-size:14px;line-height:1.35}\n"
	"figcaption .pair{font-weight:650;overflow-wrap:anywhere}\n"
	"figcaption .thr{color:var(--muted);font-size:12px}\n"
	"figcaption .sub{display:block;font-size:12.5px;color:var(--muted)}\n"
	"svg{display:block;width:100%;max-width:560px;height:auto;margin:4px auto 0}\n"
	"svg .tk{font-size:11px;fill:#6b7280}\n"
	"svg .ax{font-size:11.5px;fill:#374151}\n"
	"svg .bl{font-size:10.5px;fill:#6b7280}\n"
	".note{font-size:12px;color:#991b1b;margin:2px 0 0}\n"
	"ul.plain{margin:6px 0;padding-left:20px}\n"
	"table.trials{border-collapse:collapse;font-size:13px}\n"
	".trials th,.trials td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}\n"
	"footer{color:var(--muted);font-size:12px;text-align:center}\n"
	"@media print{body{background:#fff}section.metric{break-inside:avoid-page;border:none}}\n";

static void put_title(struct page *pg)
{
	FILE *f = pg->f;
	const json_t *r = pg->report;
	const char *app = rp_str(r, "application");
	const char *started = rp_str(r, "started");
	const json_t *levels = json_object_get(r, "stress_levels");
	char buf[64];
	double d;
	size_t i;

	fputs("<header>\n<h1>ThrottleBot report: ", f);
	rp_esc(f, app ? app : "application");
	fputs("</h1>\n<p class=\"meta\">", f);
	if (started) {
		/* 2026-11-23T18:00:00Z reads better as 2026-11-23 18:00:00 UTC */
		size_t n = strlen(started);
		char when[64];
		snprintf(when, sizeof(when), "%s", started);
		if (n < sizeof(when) && strchr(when, 'T'))
			*strchr(when, 'T') = ' ';
		if (n > 1 && n < sizeof(when) && when[n - 1] == 'Z')
			snprintf(when + n - 1, sizeof(when) - n + 1, " UTC");
		fputs("started <b>", f);
		rp_esc(f, when);
		fputs("</b>", f);
	}
	if (rp_num(r, "duration_s", &d))
		fprintf(f, " \xc2\xb7 took <b>%s</b>", rp_duration(buf, sizeof(buf), d));
	if (rp_str(r, "config")) {
		fputs(" \xc2\xb7 config <b>", f);
		rp_esc(f, rp_str(r, "config"));
		fputs("</b>", f);
	}
	fputs("<br>", f);
	if (json_array_size(levels)) {
		fputs("stress levels <b>", f);
		for (i = 0; i < json_array_size(levels); i++)
			if (json_is_number(json_array_get(levels, i)))
				fprintf(f, "%s%s", i ? ", " : "",
					rp_stress(buf, sizeof(buf),
						   json_number_value(json_array_get(levels, i))));
		fputs("</b>", f);
	}
	if (rp_num(r, "trials_per_point", &d))
		fprintf(f, " \xc2\xb7 <b>%.0f</b> trials per point", d);
	if (rp_num(r, "baseline_trials", &d))
		fprintf(f, " \xc2\xb7 <b>%.0f</b> baseline trials", d);
	if (rp_num(r, "significance", &d))
		fprintf(f, " \xc2\xb7 significance level <b>\xce\xb1 = %g</b>", d);
	if (rp_num(r, "warmup_trials", &d))
		fprintf(f, " \xc2\xb7 <b>%.0f</b> warm-up trial%s", d, d == 1 ? "" : "s");
	if (rp_num(r, "extra_trials", &d)) {
		fprintf(f, " \xc2\xb7 <b>%.0f</b> adaptive extra trial%s", d, d == 1 ? "" : "s");
		if (rp_num(r, "max_extra_trials", &d))
			fprintf(f, " (at most %.0f)", d);
	}
	if (json_is_integer(json_object_get(r, "seed")))
		fprintf(f, " \xc2\xb7 seed <b>%" JSON_INTEGER_FORMAT "</b>", json_integer_value(json_object_get(r, "seed")));
	fprintf(f, " \xc2\xb7 <b>%zu</b> service%s \xc2\xb7 <b>%zu</b> throttler%s</p>\n",
		pg->nrows, pg->nrows == 1 ? "" : "s", pg->ncols, pg->ncols == 1 ? "" : "s");
	if (pg->nsec > 1) {
		fputs("<nav>Metrics: ", f);
		for (i = 0; i < pg->nsec; i++) {
			fprintf(f, "<a href=\"#metric-%zu\">", i + 1);
			rp_esc(f, pg->sec[i].metric ? pg->sec[i].metric : "metric");
			fputs("</a>", f);
		}
		fputs("</nav>\n", f);
	}
	fputs("</header>\n", f);
}

static void put_mimr(struct page *pg, const struct section *s)
{
	FILE *f = pg->f;
	const json_t *m = s->mimr, *ru, *entry, *ru_entry;
	char a[48], b[48];
	double deg, delta, stress, v = NAN, lo, hi, ru_deg = NAN, ru_lo, ru_hi;

	if (!json_is_object(m)) {
		double med, mn, mx;

		fputs("<div class=\"headline none\"><div class=\"label\">Most important resource</div>"
		      "<div class=\"name\">None found</div><p>No throttled resource degraded ", f);
		rp_esc(f, s->metric);
		fputs(" significantly and beyond the baseline's own spread.</p>", f);
		/* a noisy baseline hides real bottlenecks: say so rather than
		 * let "none" read as "no bottleneck" */
		if (rp_num(s->baseline, "median", &med) && rp_num(s->baseline, "min", &mn) &&
		    rp_num(s->baseline, "max", &mx) && med != 0 && (mx - mn) / fabs(med) >= 0.25)
			fprintf(f, "<p>The baseline itself varied by %.0f%% of its median: a workload this "
				"noisy can hide a bottleneck. More trials, or a quieter host, would tell.</p>",
				(mx - mn) / fabs(med) * 100);
		fputs("</div>\n", f);
		return;
	}
	entry = rp_order_find(&s->order, rp_str(m, "service"), rp_str(m, "throttler"), rp_str(m, "resource"));
	fputs("<div class=\"headline\"><div class=\"label\">Most important resource (MIMR)</div>\n<div class=\"name\">", f);
	rp_pair(f, m);
	if (rp_str(m, "throttler") && !rp_same(rp_str(m, "throttler"), rp_str(m, "resource"))) {
		fputs(" <span class=\"thr\">via ", f);
		rp_esc(f, rp_str(m, "throttler"));
		fputs("</span>", f);
	}
	fputs("</div>\n<p>", f);
	if (!rp_num(m, "degradation", &deg) && !rp_num(entry, "degradation", &deg))
		deg = NAN;
	if (!rp_num(m, "delta", &delta) && !rp_num(entry, "delta", &delta))
		delta = s->higher ? -deg : deg;
	if (!rp_num(m, "stress", &stress) && !rp_num(entry, "stress", &stress))
		stress = NAN;
	fputs("Throttling it changed <b>", f);
	rp_esc(f, s->metric);
	fprintf(f, "</b> by <b>%s</b>", isfinite(delta) ? rp_pct(a, sizeof(a), delta) : "?");
	if (isfinite(stress))
		fprintf(f, " at %s stress", rp_stress(b, sizeof(b), stress));
	if (rp_degradation_ci(s, entry, &lo, &hi)) {
		double clo, chi;
		rp_num(entry, "ci_low", &clo);
		rp_num(entry, "ci_high", &chi);
		fprintf(f, " (95%% CI %s to %s", rp_pct(a, sizeof(a), clo), rp_pct(b, sizeof(b), chi));
		rp_pvalues(f, entry, ", ");
		fputs(")", f);
	} else if (rp_pvalues(f, entry, " (")) {
		fputs(")", f);
	}
	fputs(".</p>\n", f);

	ru = json_object_get(m, "runner_up");
	if (!json_is_object(ru)) {
		fputs("<p class=\"verdict\">No other resource was ranked: nothing to compare it with.</p></div>\n", f);
		return;
	}
	ru_entry = rp_order_find(&s->order, rp_str(ru, "service"), rp_str(ru, "throttler"), rp_str(ru, "resource"));
	if (!rp_num(ru, "degradation", &ru_deg))
		rp_num(ru_entry, "degradation", &ru_deg);
	fputs("<p>Runner-up: <b>", f);
	rp_pair(f, ru);
	fputs("</b>", f);
	if (rp_true(ru, "imr") || rp_true(ru_entry, "imr"))
		fputs(" <span class=\"badge imr\">IMR</span>", f);
	/* in the same terms as the MIMR's change above */
	if (rp_num(ru_entry, "delta", &v))
		fprintf(f, ", %s", rp_pct(a, sizeof(a), v));
	else if (isfinite(ru_deg))
		fprintf(f, ", degradation %s", rp_pct(a, sizeof(a), ru_deg));
	v = NAN;
	if (!rp_num(m, "margin", &v) && isfinite(deg) && isfinite(ru_deg))
		v = deg - ru_deg;
	if (isfinite(v) && isfinite(deg) && isfinite(ru_deg)) {
		fprintf(f, "; the MIMR leads by <b>%.0f percentage points</b>", v * 100);
		if (ru_deg > 0 && deg / ru_deg >= 1.5)
			fprintf(f, " (%.*f\xc3\x97 the runner-up's degradation)", deg / ru_deg >= 10 ? 0 : 1,
				deg / ru_deg);
	}
	fputs(".</p>\n<p class=\"verdict\">", f);
	/* How clear the lead is, from the intervals the ranking computed. */
	if (rp_degradation_ci(s, entry, &lo, &hi) && rp_degradation_ci(s, ru_entry, &ru_lo, &ru_hi) &&
	    lo > ru_hi)
		fputs("A clear lead: the two 95% intervals do not overlap.", f);
	else if (rp_degradation_ci(s, entry, &lo, &hi) && isfinite(ru_deg) && lo > ru_deg)
		fputs("A likely lead: the runner-up's degradation lies below the MIMR's 95% interval, "
		      "though the intervals overlap.", f);
	else if (rp_degradation_ci(s, entry, &lo, &hi) && isfinite(ru_deg))
		fputs("A close call: the runner-up's degradation lies inside the MIMR's 95% interval; "
		      "more trials would tell them apart.", f);
	else
		fputs("No confidence interval was recorded to judge how clear the lead is.", f);
	fputs("</p></div>\n", f);
}

/* "<b>db · disk</b>: jct +29% at 80% stress (p = 0.018)" */
static void put_pair_line(FILE *f, const struct section *s, const json_t *r)
{
	char a[48], b[48];
	double v;

	fputs("<b>", f);
	rp_pair(f, r);
	fputs("</b>: ", f);
	rp_esc(f, s->metric);
	fprintf(f, " %s", rp_num(r, "delta", &v) ? rp_pct(a, sizeof(a), v) : "?");
	if (rp_num(r, "stress", &v))
		fprintf(f, " at %s stress", rp_stress(b, sizeof(b), v));
	if (rp_pvalues(f, r, " ("))
		fputs(")", f);
}

/* " · boosted: +26%, confirmed", where the boost phase tried the pair. */
static void put_boost_note(FILE *f, const json_t *report, const json_t *r)
{
	const json_t *b = rp_boost_of(report, r);
	char a[48];
	double gain;

	if (!b)
		return;
	fputs(" \xc2\xb7 boosted", f);
	if (rp_num(b, "gain", &gain))
		fprintf(f, ": %s", rp_pct(a, sizeof(a), gain));
	fprintf(f, ", %s", rp_boost_verdict(b));
}

/* The boost phase: each pair given more, how, its gain with its interval,
 * and what that says of the ranking. */
static void put_boosts(struct page *pg)
{
	const json_t *boosts = json_object_get(pg->report, "boost"), *b;
	FILE *f = pg->f;
	char x[48], y[48], z[48];
	double gain;
	size_t i;

	if (!json_is_array(boosts))
		return;
	fputs("<div class=\"matters\"><p><b>Boost</b>: each pair given more of its resource, each "
	      "boosted trial beside a baseline trial of its own; the gain is the median of the pairs "
	      "of trials, + = better.</p>\n<ul class=\"plain\">\n", f);
	if (json_array_size(boosts) == 0)
		fputs("<li>No pair could be boosted: no throttler can raise a limit or a share.</li>\n", f);
	json_array_foreach(boosts, i, b) {
		const json_t *ci = json_object_get(b, "ci");
		int good = rp_true(b, "confirmed");

		fprintf(f, "<li><span class=\"badge %s\">%s</span> ", good ? "boost" : "noboost",
			rp_boost_verdict(b));
		if (rp_true(b, "imr"))
			fprintf(f, "<span class=\"badge %s\">%s</span> ", rp_true(b, "mimr") ? "mimr" : "imr",
				rp_true(b, "mimr") ? "MIMR" : "IMR");
		fputs("<b>", f);
		rp_pair(f, b);
		fputs("</b>: ", f);
		if (!rp_str(b, "how")) {
			rp_esc(f, rp_str(b, "error"));
			fputs("</li>\n", f);
			continue;
		}
		rp_esc(f, rp_str(b, "how"));
		if (rp_num(b, "gain", &gain))
			fprintf(f, ", gain <b>%s</b> (95%% CI %s to %s", rp_pct(x, sizeof(x), gain),
				rp_pct(y, sizeof(y), json_number_value(json_array_get(ci, 0))),
				rp_pct(z, sizeof(z), json_number_value(json_array_get(ci, 1))));
		else
			fputs(", no pair of trials measured (", f);
		rp_pvalues(f, b, ", ");
		fputs(")</li>\n", f);
	}
	fputs("</ul></div>\n", f);
}

/* The other IMRs and the undecided pairs, one line each, right under the
 * MIMR: what a reader of a large run looks for first. */
static void put_matters(struct page *pg, const struct section *s)
{
	const struct rp_order *o = &s->order;
	FILE *f = pg->f;
	size_t i, nimr = 0, nund = 0;

	for (i = 0; i < o->npairs; i++) {
		enum rp_class c = rp_class_of(o->pairs[i], s->mimr);
		nimr += c == RP_IMR;
		nund += c == RP_UNDECIDED;
	}
	if (!nimr && !nund)
		return;
	fputs("<div class=\"matters\"><p>", f);
	if (nimr)
		fprintf(f, "<b>%zu other IMR%s</b>", nimr, nimr == 1 ? "" : "s");
	if (nund)
		fprintf(f, "%s<b>%zu undecided pair%s</b>: the trials so far neither confirm nor rule out "
			"an effect; more trials would tell", nimr ? "; " : "", nund, nund == 1 ? "" : "s");
	fputs(":</p>\n<ul class=\"plain\">\n", f);
	for (i = 0; i < o->npairs; i++) {
		enum rp_class c = rp_class_of(o->pairs[i], s->mimr);
		if (c != RP_IMR && c != RP_UNDECIDED)
			continue;
		fputs(c == RP_IMR ? "<li><span class=\"badge imr\">IMR</span> "
				  : "<li><span class=\"badge undecided\">UNDECIDED</span> ", f);
		put_pair_line(f, s, o->pairs[i]);
		if (s == &pg->sec[0])
			put_boost_note(f, pg->report, o->pairs[i]);
		fputs("</li>\n", f);
	}
	fputs("</ul></div>\n", f);
}

static void put_paradoxes(struct page *pg, const struct section *s)
{
	const struct rp_order *o = &s->order;
	FILE *f = pg->f;
	size_t i, n = 0;

	for (i = 0; i < o->npairs; i++) {
		const json_t *r = o->pairs[i];
		if (rp_class_of(r, s->mimr) != RP_PARADOX)
			continue;
		if (!n++)
			fputs("<div class=\"paradoxes\"><p><span class=\"badge paradox\">PARADOX</span> "
			      "Throttling made the metric significantly <b>better</b>; check for contention "
			      "that the limit relieved, or for a workload that finished early:</p>\n"
			      "<ul class=\"plain\">\n", f);
		fputs("<li>", f);
		put_pair_line(f, s, r);
		fputs("</li>\n", f);
	}
	if (n)
		fputs("</ul></div>\n", f);
}

/* IMRs shade from amber to deep red with their share of the largest one. */
static void imr_colour(FILE *f, double t)
{
	static const double lo[3] = { 254, 215, 170 }, hi[3] = { 185, 28, 28 };

	t = t < 0.15 ? 0.15 : t > 1 ? 1 : t;
	fprintf(f, " style=\"background:rgb(%.0f,%.0f,%.0f);color:%s\"",
		lo[0] + (hi[0] - lo[0]) * t, lo[1] + (hi[1] - lo[1]) * t, lo[2] + (hi[2] - lo[2]) * t,
		t > 0.5 ? "#fff" : "#431407");
}

/* A pair the ranking has no entry for: excluded, or never throttled. */
static void put_missing(struct page *pg, const char *service, size_t c)
{
	const json_t *ex = find_excluded(pg->report, service, pg->cols[c].throttler, pg->cols[c].resource);
	FILE *f = pg->f;

	if (ex) {
		fputs("<td class=\"excluded\" title=\"", f);
		rp_esc(f, rp_str(ex, "why") ? rp_str(ex, "why") : "excluded");
		fputs("\">excluded</td>", f);
	} else {
		fputs("<td class=\"none\" title=\"not measured\">\xe2\x80\x94</td>", f);
	}
}

static void put_cell(struct page *pg, const struct section *s, const char *service, size_t c)
{
	FILE *f = pg->f;
	const json_t *r = rp_order_find(&s->order, service, pg->cols[c].throttler, pg->cols[c].resource);
	const json_t *boost;
	char a[48], b[48];
	double delta, deg, stress, lo, hi;
	enum rp_class class;

	if (!r) {
		put_missing(pg, service, c);
		return;
	}
	class = rp_class_of(r, s->mimr);
	fprintf(f, "<td class=\"%s%s\"", class == RP_PARADOX ? "paradox" : class <= RP_IMR ? "imr"
		: class == RP_UNDECIDED ? "undecided" : "ns", class == RP_MIMR ? " is-mimr" : "");
	if (class <= RP_IMR && rp_num(r, "degradation", &deg) && s->max_imr > 0)
		imr_colour(f, deg / s->max_imr);
	fputs(" title=\"", f);
	rp_pair(f, r);
	if (rp_num(r, "ci_low", &lo) && rp_num(r, "ci_high", &hi))
		fprintf(f, ": 95%% CI %s to %s", rp_pct(a, sizeof(a), lo), rp_pct(b, sizeof(b), hi));
	rp_pvalues(f, r, ", ");
	fputs("\">", f);
	if (!rp_num(r, "delta", &delta))
		delta = NAN;
	fprintf(f, "<span class=\"v\">%s</span>", isfinite(delta) ? rp_pct(a, sizeof(a), delta) : "?");
	fputs("<span class=\"s\">", f);
	if (rp_num(r, "stress", &stress))
		fprintf(f, "at %s", rp_stress(b, sizeof(b), stress));
	if (class == RP_MIMR)
		fputs(" <span class=\"badge mimr\">MIMR</span>", f);
	else if (class == RP_IMR)
		fputs(" <span class=\"badge imr\">IMR</span>", f);
	else if (class == RP_PARADOX)
		fputs(" <span class=\"badge paradox\">PARADOX</span>", f);
	else if (class == RP_UNDECIDED)
		fputs(" <span class=\"badge undecided\">UNDECIDED</span>", f);
	/* the ranking may find a change significant yet within the baseline's
	 * own spread: not an IMR, but not "no change" either */
	else
		fputs(rp_true(r, "significant") ? " within noise" : " n.s.", f);
	if (s == &pg->sec[0] && (boost = rp_boost_of(pg->report, r)) && rp_num(boost, "gain", &delta))
		fprintf(f, "<br>boosted %s%s", rp_pct(a, sizeof(a), delta),
			rp_true(boost, "confirmed") ? " <span class=\"badge boost\">GAIN</span>" : "");
	fputs("</span></td>", f);
}

static void put_col_heads(struct page *pg)
{
	FILE *f = pg->f;
	size_t c;

	fputs("<thead><tr><th></th>", f);
	for (c = 0; c < pg->ncols; c++) {
		fputs("<th scope=\"col\">", f);
		rp_esc(f, pg->cols[c].resource ? pg->cols[c].resource : pg->cols[c].throttler);
		if (pg->cols[c].throttler && !rp_same(pg->cols[c].throttler, pg->cols[c].resource)) {
			fputs("<small>", f);
			rp_esc(f, pg->cols[c].throttler);
			fputs("</small>", f);
		}
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
}

/* The services that matter and the top ones, most important first. */
static void put_table(struct page *pg, const struct section *s)
{
	const struct rp_order *o = &s->order;
	FILE *f = pg->f;
	size_t i, c;

	fputs("<h3>Services \xc3\x97 resources: change of ", f);
	rp_esc(f, s->metric);
	fputs(" at each pair's telling stress level (IMRs: their worst significant one)", f);
	if (o->nshown < o->nservices)
		fprintf(f, ", the %zu services that matter most", o->nshown);
	fputs("</h3>\n<div class=\"scroll\"><table class=\"matrix\">\n", f);
	put_col_heads(pg);
	for (i = 0; i < o->nservices; i++) {
		if (!o->shown[i])
			continue;
		fputs("<tr><th scope=\"row\" class=\"svc\">", f);
		rp_esc(f, o->services[i]);
		fputs("</th>", f);
		for (c = 0; c < pg->ncols; c++)
			put_cell(pg, s, o->services[i], c);
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></div>\n<p class=\"keys\">"
	      "<span><i class=\"sw\" style=\"background:linear-gradient(90deg,rgb(249,189,144),rgb(185,28,28))\"></i>"
	      "IMR: significant degradation, darker = larger</span>"
	      "<span><i class=\"sw\" style=\"outline:3px solid #111827;outline-offset:-3px;background:#fff\"></i>MIMR</span>"
	      "<span><i class=\"sw\" style=\"background:#dbeafe\"></i>paradox: significant improvement</span>"
	      "<span><i class=\"sw\" style=\"background:#fef3c7\"></i>undecided: more trials would tell</span>"
	      "<span>n.s. = not significant</span>"
	      "<span>within noise = significant, but not beyond the baseline's spread</span>"
	      "<span>\xe2\x80\x94 = not measured</span></p>\n", f);
}

/* Every other service on one line, folded away: the page stays small and
 * quick however large the application, and the browser's find-in-page
 * opens the fold on a match. */
static void put_rest(struct page *pg, const struct section *s)
{
	const struct rp_order *o = &s->order;
	FILE *f = pg->f;
	char a[48];
	size_t i, c;
	double v;

	if (o->nshown == o->nservices)
		return;
	fprintf(f, "<details class=\"rest\"><summary><b>%zu more service%s</b> with no significant effect on ",
		o->nservices - o->nshown, o->nservices - o->nshown == 1 ? "" : "s");
	rp_esc(f, s->metric);
	fputs(": one line each, most important first (find in page searches them; every number is in "
	      "report.json and report.csv)</summary>\n<div class=\"scroll\"><table class=\"compact\">\n", f);
	put_col_heads(pg);
	for (i = 0; i < o->nservices; i++) {
		if (o->shown[i])
			continue;
		fputs("<tr><th>", f);
		rp_esc(f, o->services[i]);
		fputs("</th>", f);
		for (c = 0; c < pg->ncols; c++) {
			const json_t *r = rp_order_find(o, o->services[i], pg->cols[c].throttler, pg->cols[c].resource);
			if (!r)
				put_missing(pg, o->services[i], c);
			else
				fprintf(f, "<td%s>%s</td>", rp_true(r, "significant") ? " class=\"w\"" : "",
					rp_num(r, "delta", &v) ? rp_pct(a, sizeof(a), v) : "?");
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></div>\n<p class=\"keys\">change at each pair's telling stress level; "
	      "<i>italic</i> = significant, but within the baseline's spread</p></details>\n", f);
}

static void put_baseline(struct page *pg, const struct section *s)
{
	FILE *f = pg->f;
	const json_t *b = s->baseline, *values = json_object_get(b, "values");
	char buf[48];
	double n, med, mn, mx;
	size_t i;

	fputs("<h3>Baseline (no throttling)</h3>\n", f);
	if (!json_is_object(b)) {
		fputs("<p>No baseline was recorded.</p>\n", f);
		return;
	}
	fputs("<div class=\"baseline\">", f);
	if (rp_num(b, "n", &n))
		fprintf(f, "<div><div class=\"k\">trials</div><div class=\"n\">%.0f</div></div>", n);
	if (rp_num(b, "median", &med)) {
		fprintf(f, "<div><div class=\"k\">median</div><div class=\"n\">%s", rp_val(buf, sizeof(buf), med));
		rp_unit(f, s);
		fputs("</div></div>", f);
	}
	if (rp_num(b, "min", &mn)) {
		fprintf(f, "<div><div class=\"k\">min</div><div class=\"n\">%s", rp_val(buf, sizeof(buf), mn));
		rp_unit(f, s);
		fputs("</div></div>", f);
	}
	if (rp_num(b, "max", &mx)) {
		fprintf(f, "<div><div class=\"k\">max</div><div class=\"n\">%s", rp_val(buf, sizeof(buf), mx));
		rp_unit(f, s);
		fputs("</div></div>", f);
	}
	if (rp_num(b, "median", &med) && rp_num(b, "min", &mn) && rp_num(b, "max", &mx) && med != 0)
		fprintf(f, "<div><div class=\"k\">spread (max\xe2\x88\x92min)</div><div class=\"n\">%.*f%%</div></div>",
			(mx - mn) / fabs(med) >= 0.1 ? 0 : 1, (mx - mn) / fabs(med) * 100);
	fputs("</div>\n", f);
	if (json_array_size(values)) {
		fputs("<p class=\"values\">values: ", f);
		for (i = 0; i < json_array_size(values); i++) {
			const json_t *v = json_array_get(values, i);
			fputs(i ? ", " : "", f);
			fputs(json_is_number(v) ? rp_val(buf, sizeof(buf), json_number_value(v)) : "failed", f);
		}
		fputs("</p>\n", f);
	}
}

static void put_section(struct page *pg, size_t k)
{
	FILE *f = pg->f;
	const struct section *s = &pg->sec[k];

	fprintf(f, "<section class=\"metric\" id=\"metric-%zu\">\n<h2>", k + 1);
	rp_esc(f, s->metric ? s->metric : "metric");
	if (s->unit && *s->unit) {
		fputs(" <small>(", f);
		rp_esc(f, s->unit);
		fputs(")</small>", f);
	}
	fprintf(f, "<span class=\"tag\">%s is better</span>", s->higher ? "higher" : "lower");
	if (k == 0 && pg->nsec > 1)
		fputs("<span class=\"tag\">primary</span>", f);
	fputs("</h2>\n", f);
	put_mimr(pg, s);
	put_matters(pg, s);
	if (k == 0)
		put_boosts(pg);
	put_paradoxes(pg, s);
	put_table(pg, s);
	put_rest(pg, s);
	put_baseline(pg, s);
	rp_plots(pg->f, pg->report, s);
	fputs("</section>\n", f);
}

static void put_excluded(struct page *pg)
{
	FILE *f = pg->f;
	const json_t *ex = json_object_get(pg->report, "excluded");
	size_t i;

	if (!json_array_size(ex))
		return;
	fputs("<section class=\"metric\"><h2>Excluded</h2>", f);
	/* a long list would push the trials far down: fold it */
	if (json_array_size(ex) > 20)
		fprintf(f, "<details class=\"rest\"><summary><b>%zu exclusions</b></summary>", json_array_size(ex));
	fputs("<ul class=\"plain\">\n", f);
	for (i = 0; i < json_array_size(ex); i++) {
		const json_t *e = json_array_get(ex, i);
		fputs("<li><b>", f);
		rp_esc(f, rp_str(e, "service") ? rp_str(e, "service") : "every service");
		fputs(" \xc2\xb7 ", f);
		rp_esc(f, rp_str(e, "resource") ? rp_str(e, "resource")
		       : rp_str(e, "throttler") ? rp_str(e, "throttler") : "every resource");
		fputs("</b>", f);
		if (rp_str(e, "why")) {
			fputs(": ", f);
			rp_esc(f, rp_str(e, "why"));
		}
		fputs("</li>\n", f);
	}
	fputs(json_array_size(ex) > 20 ? "</ul></details></section>\n" : "</ul></section>\n", f);
}

/* Failed trials, with their errors; the full list is in report.csv. */
static void put_trials(struct page *pg)
{
	FILE *f = pg->f;
	const json_t *trials = json_object_get(pg->report, "trials");
	size_t i, j, n = json_array_size(trials), nbase = 0, nfail = 0, shown = 0, nwarm = 0, nextra = 0;
	size_t nboost = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++) {
		const json_t *t = json_array_get(trials, i);
		nbase += rp_same(rp_str(t, "kind"), "baseline");
		nfail += rp_true(t, "failed");
		nwarm += rp_true(t, "warmup");
		nextra += rp_true(t, "extra");
		nboost += rp_same(rp_str(t, "kind"), "boost");
	}
	fprintf(f, "<section class=\"metric\"><h2>Trials</h2>\n<p>%zu trials: %zu baseline, %zu throttled; ",
		n, nbase, n - nbase - nboost);
	if (nboost)
		fprintf(f, "%zu boosted; ", nboost);
	if (nwarm)
		fprintf(f, "%zu warm-up (never ranked); ", nwarm);
	if (nextra)
		fprintf(f, "%zu adaptive extra; ", nextra);
	fprintf(f, "<b>%zu failed</b>. Every trial and value is in report.csv, the most important pairs' "
		"trials first.</p>\n", nfail);
	if (nfail) {
		fputs("<table class=\"trials\"><thead><tr><th>#</th><th>kind</th><th>throttled</th>"
		      "<th>error</th></tr></thead><tbody>\n", f);
		for (i = 0; i < n && shown < 100; i++) {
			const json_t *t = json_array_get(trials, i), *th = json_object_get(t, "throttles");
			char buf[48];
			double v;
			if (!rp_true(t, "failed"))
				continue;
			shown++;
			fputs("<tr><td>", f);
			if (rp_num(t, "index", &v))
				fprintf(f, "%.0f", v);
			fputs("</td><td>", f);
			rp_esc(f, rp_str(t, "kind"));
			fputs("</td><td>", f);
			for (j = 0; j < json_array_size(th); j++) {
				const json_t *x = json_array_get(th, j);
				fputs(j ? "; " : "", f);
				rp_pair(f, x);
				if (rp_num(x, "stress", &v))
					fprintf(f, " %s", rp_stress(buf, sizeof(buf), v));
			}
			fputs("</td><td>", f);
			rp_esc(f, rp_str(t, "error") ? rp_str(t, "error") : "");
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
		if (shown < nfail)
			fprintf(f, "<p>\xe2\x80\xa6 and %zu more.</p>\n", nfail - shown);
	}
	fputs("</section>\n", f);
}

int tb_report_write_html(const json_t *report, const char *path)
{
	const char *app = rp_str(report, "application");
	const char *ver = rp_str(json_object_get(report, "throttlebot"), "version");
	struct tb_report_file rf;
	struct page pg;
	size_t k;
	int err;

	if (!json_is_object(report))
		return -EINVAL;
	err = tb_report_file_open(&rf, path);
	if (err < 0)
		return err;
	err = page_init(&pg, rf.f, report);
	if (err < 0) {
		page_fini(&pg);
		tb_report_file_abort(&rf);
		return err;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>ThrottleBot report: ", rf.f);
	rp_esc(rf.f, app ? app : "application");
	fprintf(rf.f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);
	put_title(&pg);
	for (k = 0; k < pg.nsec; k++)
		put_section(&pg, k);
	put_excluded(&pg);
	put_trials(&pg);
	fputs("<footer>ThrottleBot", rf.f);
	if (ver) {
		fputc(' ', rf.f);
		rp_esc(rf.f, ver);
	}
	fputs("</footer>\n</main>\n</body>\n</html>\n", rf.f);
	page_fini(&pg);
	return tb_report_file_commit(&rf);
}
