/* report_plot.c - the SVG small multiples: a metric against stress, per (service, resource). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_html.h"

/* The paper's Figure 6 for one pair: the median with its 95% band against
 * stress, over the baseline median and its min-max band. */
enum { W = 380, H = 250, ML = 58, MR = 14, MT = 14, MB = 44 };

struct frame {
	double xmax, ylo, yhi, ystep;
};

static double fx(const struct frame *fr, double s)
{
	return ML + s / fr->xmax * (W - ML - MR);
}

static double fy(const struct frame *fr, double v)
{
	double t = (fr->yhi - v) / (fr->yhi - fr->ylo);

	/* only absurd values (near DBL_MAX) fall outside the frame: pin them */
	t = isfinite(t) ? fmin(fmax(t, -0.05), 1.05) : 0.5;
	return MT + t * (H - MT - MB);
}

static double nice_step(double span)
{
	double raw = span / 4, mag = pow(10, floor(log10(raw))), r = raw / mag;

	return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * mag;
}

static void widen(double *lo, double *hi, double v)
{
	if (!isfinite(v))
		return;
	if (v < *lo)
		*lo = v;
	if (v > *hi)
		*hi = v;
}

static void frame_init(struct frame *fr, const json_t *report, const struct section *s,
		       const json_t *points, int have_base, double base)
{
	const json_t *levels = json_object_get(report, "stress_levels");
	double lo = INFINITY, hi = -INFINITY, v, smax = 0;
	size_t i, j;

	for (i = 0; i < json_array_size(levels); i++)
		if (json_is_number(json_array_get(levels, i)))
			smax = fmax(smax, json_number_value(json_array_get(levels, i)));
	widen(&lo, &hi, rp_num(s->baseline, "min", &v) ? v : NAN);
	widen(&lo, &hi, rp_num(s->baseline, "max", &v) ? v : NAN);
	widen(&lo, &hi, have_base ? base : NAN);
	for (i = 0; i < json_array_size(points); i++) {
		const json_t *p = json_array_get(points, i), *vals = json_object_get(p, "values");
		if (rp_num(p, "stress", &v) && v > smax)
			smax = v;
		widen(&lo, &hi, rp_num(p, "median", &v) ? v : NAN);
		if (have_base && rp_num(p, "ci_low", &v))
			widen(&lo, &hi, base * (1 + v));
		if (have_base && rp_num(p, "ci_high", &v))
			widen(&lo, &hi, base * (1 + v));
		for (j = 0; j < json_array_size(vals); j++)
			if (json_is_number(json_array_get(vals, j)))
				widen(&lo, &hi, json_number_value(json_array_get(vals, j)));
	}
	fr->xmax = smax > 0 ? fmin(1, ceil(smax * 10 + 0.5) / 10) : 1;
	if (fr->xmax <= smax)
		fr->xmax = smax * 1.06;
	if (!isfinite(lo) || !isfinite(hi - lo) || !isfinite(nice_step(hi - lo))) {
		lo = 0;
		hi = 1;
	}
	if (hi - lo < 1e-9 * fmax(1, fabs(hi))) {
		double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1;
		lo -= pad;
		hi += pad;
	}
	fr->ystep = nice_step(hi - lo);
	fr->ylo = floor(lo / fr->ystep + 1e-9) * fr->ystep;
	fr->yhi = ceil(hi / fr->ystep - 1e-9) * fr->ystep;
	/* a little air so no marker sits on the frame */
	if (fr->yhi - hi < fr->ystep * 0.15)
		fr->yhi += fr->ystep;
	if (lo - fr->ylo < fr->ystep * 0.15 && !(lo >= 0 && fr->ylo == 0))
		fr->ylo -= fr->ystep;
}

/* Tick labels carry as many decimals as the step needs, so neighbours
 * never print alike (1.02, 1.025, 1.03 rather than 1.02, 1.02, 1.03). */
static const char *tick_label(char *buf, size_t len, double t, double step)
{
	int d = 0;

	if (fabs(t) >= 1e6 || step < 1e-6) {
		int p = (int)floor(log10(fmax(fabs(t), step))) - (int)floor(log10(step)) + 2;
		snprintf(buf, len, "%.*g", p < 1 ? 1 : p > 15 ? 15 : p, t);
		return buf;
	}
	/* the fewest decimals that make the step a whole number */
	while (d < 6 && (step * pow(10, d) < 1 - 1e-9 ||
			 fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6 * step * pow(10, d)))
		d++;
	snprintf(buf, len, "%.*f", d, fabs(t) < step * 1e-6 ? 0 : t);
	return buf;
}

static void put_axes(FILE *f, const json_t *report, const struct section *s,
		     const struct frame *fr, const json_t *r)
{
	const json_t *levels = json_object_get(report, "stress_levels");
	const char *key = NULL;
	char buf[48];
	double t, x0 = ML, x1 = W - MR, y0 = MT, y1 = H - MB;
	size_t i, n, every;
	int k;

	/* without the run's levels, the pair's own points mark the axis */
	if (!json_array_size(levels)) {
		levels = json_object_get(r, "points");
		key = "stress";
	}
	n = json_array_size(levels);
	every = n > 8 ? 2 : 1;

	for (k = 0, t = fr->ylo; t <= fr->yhi + fr->ystep * 1e-6 && k < 50; k++, t = fr->ylo + k * fr->ystep) {
		double y = fy(fr, t);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eef0f3\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"tk\">%s</text>\n",
			x0, y, x1, y, x0 - 6, y + 3.5, tick_label(buf, sizeof(buf), t, fr->ystep));
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\"/>"
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\"/>\n",
		x0, y0, x0, y1, x0, y1, x1, y1);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tk\">0%%</text>\n",
		x0, y1 + 15.0);
	for (i = 0; i < n; i++) {
		const json_t *level = json_array_get(levels, i);
		double sv;
		if (key)
			level = json_object_get(level, key);
		if (!json_is_number(level) || (i + 1) % every)
			continue;
		sv = json_number_value(level);
		if (sv <= 0 || sv > fr->xmax)
			continue;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9ca3af\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tk\">%s</text>\n",
			fx(fr, sv), y1, fx(fr, sv), y1 + 4, fx(fr, sv), y1 + 15.0,
			rp_stress(buf, sizeof(buf), sv));
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"ax\">stress: share of ",
		(x0 + x1) / 2, H - 8);
	rp_esc(f, rp_str(r, "resource") ? rp_str(r, "resource") : "capacity");
	fputs(" taken away</text>\n", f);
	fprintf(f, "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\" class=\"ax\">",
		(y0 + y1) / 2);
	rp_esc(f, s->metric ? s->metric : "metric");
	if (s->unit && *s->unit) {
		fputs(" (", f);
		rp_esc(f, s->unit);
		fputs(")", f);
	}
	fprintf(f, " %s</text>\n", s->higher ? "\xe2\x86\x91 better" : "\xe2\x86\x93 better");
}

static int cmp_stress(const void *a, const void *b)
{
	double x, y;

	rp_num(*(const json_t *const *)a, "stress", &x);
	rp_num(*(const json_t *const *)b, "stress", &y);
	return x < y ? -1 : x > y;
}

static void put_plot(FILE *f, const json_t *report, const struct section *s, const json_t *r)
{
	const json_t *points = json_object_get(r, "points");
	const json_t **pts = NULL;
	const char *colour, *band;
	struct frame fr;
	char a[48], b[48];
	double base = 0, bmin, bmax, v, st, lo, hi;
	int have_base = rp_num(s->baseline, "median", &base);
	size_t i, j, n = 0, failed = 0;
	int imr = rp_true(r, "imr"), paradox = rp_true(r, "paradox"), mimr = rp_is_mimr(s, r);
	int undecided = rp_class_of(r, s->mimr) == RP_UNDECIDED;

	if (paradox) {
		colour = "#1d4ed8";
		band = "#bfdbfe";
	} else if (imr) {
		colour = "#b91c1c";
		band = "#fecaca";
	} else {
		colour = "#374151";
		band = "#d1d5db";
	}
	/* points sorted by stress so the line and band run left to right */
	pts = calloc(json_array_size(points) + 1, sizeof(*pts));
	for (i = 0; pts && i < json_array_size(points); i++)
		if (rp_num(json_array_get(points, i), "stress", &v))
			pts[n++] = json_array_get(points, i);
	if (pts)
		qsort(pts, n, sizeof(*pts), cmp_stress);
	frame_init(&fr, report, s, points, have_base, base);

	fprintf(f, "<figure class=\"%s%s\"><figcaption><span class=\"pair\">",
		paradox ? "paradox" : imr ? "imr" : undecided ? "undecided" : "ns", mimr ? " is-mimr" : "");
	rp_pair(f, r);
	fputs("</span>", f);
	if (rp_str(r, "throttler") && !rp_same(rp_str(r, "throttler"), rp_str(r, "resource"))) {
		fputs(" <span class=\"thr\">", f);
		rp_esc(f, rp_str(r, "throttler"));
		fputs("</span>", f);
	}
	if (mimr)
		fputs(" <span class=\"badge mimr\">MIMR</span>", f);
	else if (imr && !paradox)
		fputs(" <span class=\"badge imr\">IMR</span>", f);
	if (paradox)
		fputs(" <span class=\"badge paradox\">PARADOX</span>", f);
	if (undecided)
		fputs(" <span class=\"badge undecided\">UNDECIDED</span>", f);
	fputs("<span class=\"sub\">", f);
	if (rp_num(r, "delta", &v)) {
		fprintf(f, "%s%s", imr || paradox || undecided ? ""
			: rp_true(r, "significant") ? "within the baseline's noise; largest "
			: "no significant change; largest ", rp_pct(a, sizeof(a), v));
		if (rp_num(r, "stress", &st))
			fprintf(f, " at %s stress", rp_stress(b, sizeof(b), st));
		rp_pvalues(f, r, ", ");
	} else {
		fputs("no result", f);
	}
	fputs("</span></figcaption>\n", f);

	fprintf(f, "<svg viewBox=\"0 0 %d %d\" role=\"img\" "
		"font-family=\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif\"><title>", W, H);
	rp_esc(f, s->metric);
	fputs(" against stress on ", f);
	rp_pair(f, r);
	fputs("</title>\n", f);
	put_axes(f, report, s, &fr, r);

	if (rp_num(s->baseline, "min", &bmin) && rp_num(s->baseline, "max", &bmax))
		fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#e5e7eb\" "
			"fill-opacity=\"0.8\"><title>baseline min\xe2\x80\x93max %s\xe2\x80\x93%s</title></rect>\n",
			ML + 1, fy(&fr, bmax), W - ML - MR - 1, fmax(fy(&fr, bmin) - fy(&fr, bmax), 0.8),
			rp_val(a, sizeof(a), bmin), rp_val(b, sizeof(b), bmax));
	if (have_base) {
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#4b5563\" "
			"stroke-width=\"1.3\" stroke-dasharray=\"5 4\"><title>baseline median %s</title></line>\n",
			ML, fy(&fr, base), W - MR, fy(&fr, base), rp_val(a, sizeof(a), base));
		/* labelled in the free strip left of the lowest stress level */
		if (n && rp_num(pts[0], "stress", &st) && fx(&fr, st) - ML > 52)
			fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"bl\">baseline</text>\n", ML + 4,
				fy(&fr, base) - 4 < MT + 9 ? fy(&fr, base) + 12 : fy(&fr, base) - 4);
	}
	/* the 95% band of the median, converted from relative change to values */
	if (have_base && n > 1) {
		int ok = 1;
		for (i = 0; i < n && ok; i++)
			ok = rp_num(pts[i], "ci_low", &v) && rp_num(pts[i], "ci_high", &v);
		if (ok) {
			fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.55\" points=\"", band);
			for (i = 0; i < n; i++) {
				rp_num(pts[i], "stress", &st);
				rp_num(pts[i], "ci_high", &hi);
				fprintf(f, "%.1f,%.1f ", fx(&fr, st), fy(&fr, base * (1 + hi)));
			}
			for (i = n; i-- > 0;) {
				rp_num(pts[i], "stress", &st);
				rp_num(pts[i], "ci_low", &lo);
				fprintf(f, "%.1f,%.1f ", fx(&fr, st), fy(&fr, base * (1 + lo)));
			}
			fputs("\"/>\n", f);
		}
	}
	for (i = 0; i < n; i++) {
		const json_t *vals = json_object_get(pts[i], "values");
		double fl;
		rp_num(pts[i], "stress", &st);
		if (rp_num(pts[i], "failed", &fl) && fl > 0)
			failed += (size_t)fl;
		for (j = 0; j < json_array_size(vals); j++)
			if (json_is_number(json_array_get(vals, j)))
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"#6b7280\" fill-opacity=\"0.55\"/>",
					fx(&fr, st) + 7, fy(&fr, json_number_value(json_array_get(vals, j))));
		if (have_base && rp_num(pts[i], "ci_low", &lo) && rp_num(pts[i], "ci_high", &hi))
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.2\"/>",
				fx(&fr, st), fy(&fr, base * (1 + lo)), fx(&fr, st), fy(&fr, base * (1 + hi)), colour);
		fputc('\n', f);
	}
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\" stroke-linejoin=\"round\" points=\"", colour);
	for (i = 0; i < n; i++)
		if (rp_num(pts[i], "median", &v) && rp_num(pts[i], "stress", &st))
			fprintf(f, "%.1f,%.1f ", fx(&fr, st), fy(&fr, v));
	fputs("\"/>\n", f);
	for (i = 0; i < n; i++) {
		double fl = 0, pn = 0;
		if (!rp_num(pts[i], "median", &v) || !rp_num(pts[i], "stress", &st))
			continue;
		rp_num(pts[i], "failed", &fl);
		rp_num(pts[i], "n", &pn);
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1.8\">"
			"<title>%s stress: median %s", fx(&fr, st), fy(&fr, v),
			rp_true(pts[i], "significant") ? colour : "#fff", colour,
			rp_stress(a, sizeof(a), st), rp_val(b, sizeof(b), v));
		rp_unit(f, s);
		if (rp_num(pts[i], "delta", &v))
			fprintf(f, " (%s)", rp_pct(a, sizeof(a), v));
		if (have_base && rp_num(pts[i], "ci_low", &lo) && rp_num(pts[i], "ci_high", &hi)) {
			fprintf(f, ", 95%% CI %s", rp_val(a, sizeof(a), base * (1 + lo)));
			fprintf(f, "\xe2\x80\x93%s", rp_val(a, sizeof(a), base * (1 + hi)));
			rp_unit(f, s);
		}
		if (rp_num(pts[i], "local_baseline", &v)) {
			fprintf(f, ", against a local baseline of %s", rp_val(a, sizeof(a), v));
			rp_unit(f, s);
		}
		fprintf(f, ", n = %.0f", pn);
		if (fl > 0)
			fprintf(f, ", %.0f failed", fl);
		if (rp_num(pts[i], "p_value", &v))
			fprintf(f, ", %s", rp_p(a, sizeof(a), v));
		fputs("</title></circle>\n", f);
	}
	fputs("</svg>\n", f);
	if (failed)
		fprintf(f, "<p class=\"note\">%zu failed trial%s not plotted</p>\n", failed, failed == 1 ? "" : "s");
	if (!n)
		fputs("<p class=\"note\">no measured points</p>\n", f);
	fputs("</figure>\n", f);
	free(pts);
}

void rp_plots(FILE *f, const json_t *report, const struct section *s)
{
	const struct rp_order *o = &s->order;
	size_t i, left = 0;

	fputs("<h3>", f);
	rp_esc(f, s->metric);
	fputs(" against stress, per service and resource</h3>\n", f);
	if (!json_array_size(s->ranking)) {
		fputs("<p>Nothing was throttled.</p>\n", f);
		return;
	}
	fputs("<p class=\"keys\">"
	      "<span><i class=\"sw\" style=\"height:3px;background:#b91c1c\"></i>median (\xe2\x97\x8f significant, \xe2\x97\x8b not)</span>"
	      "<span><i class=\"sw\" style=\"background:#fecaca\"></i>95% confidence band</span>"
	      "<span><i class=\"sw\" style=\"height:0;border-top:2px dashed #4b5563\"></i>baseline median</span>"
	      "<span><i class=\"sw\" style=\"background:#e5e7eb\"></i>baseline min\xe2\x80\x93max</span>"
	      "<span>\xc2\xb7 grey dots: single trials</span></p>\n<div class=\"grid\">\n", f);
	for (i = 0; i < o->npairs; i++) {
		if (o->pair_shown[i])
			put_plot(f, report, s, o->pairs[i]);
		else
			left++;
	}
	fputs("</div>\n", f);
	if (left)
		fprintf(f, "<p class=\"keys\">The %zu pair%s of the other services %s no plot here: "
			"their points are in report.json, their trials in report.csv.</p>\n", left,
			left == 1 ? "" : "s", left == 1 ? "has" : "have");
}
