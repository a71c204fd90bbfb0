/* report_text.c - reading optional report fields and writing them as HTML text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report_html.h"

/* ---- reading the report: every field is optional ---- */

const char *rp_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int rp_num(const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return 0;
	*out = json_number_value(v);
	return 1;
}

int rp_true(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

int rp_same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* ---- writing text ---- */

void rp_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		/* control characters (a workload's terminal escapes, say) are
		 * not allowed in HTML text: show them as U+FFFD */
		case '\t': case '\n': case '\r': fputc(*s, f); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				fputs("\xef\xbf\xbd", f);
			else
				fputc(*s, f);
		}
	}
}

/* A metric value: four significant digits read well and are enough to
 * compare runs by eye; the CSV keeps the exact numbers. */
const char *rp_val(char *buf, size_t len, double v)
{
	if (v == 0)
		v = 0; /* no "-0" */
	snprintf(buf, len, "%.4g", v);
	return buf;
}

/* A relative change as a signed percentage, with a real minus sign. */
const char *rp_pct(char *buf, size_t len, double rel)
{
	double p = fabs(rel * 100);
	const char *sign = rel > 0 ? "+" : rel < 0 ? "\xe2\x88\x92" : "";
	int prec = p >= 10 || p == 0 ? 0 : 1;

	if (snprintf(buf, len, "%.*f", prec, p) > 0 && strtod(buf, NULL) == 0)
		sign = "";
	snprintf(buf, len, "%s%.*f%%", sign, prec, p);
	return buf;
}

const char *rp_stress(char *buf, size_t len, double s)
{
	double p = s * 100;

	snprintf(buf, len, fabs(p - round(p)) < 0.05 ? "%.0f%%" : "%.1f%%", p);
	return buf;
}

const char *rp_p(char *buf, size_t len, double p)
{
	if (p < 0.001)
		snprintf(buf, len, "p &lt; 0.001");
	else
		snprintf(buf, len, "p = %.2g", p);
	return buf;
}

size_t rp_pvalues(FILE *f, const json_t *r, const char *lead)
{
	static const char *const key[3] = { "p_value", "adjusted_p", "trend_p" };
	static const char *const name[3] = { "", "adjusted ", "trend " };
	char buf[48];
	size_t i, n = 0;
	double v;

	for (i = 0; i < 3; i++)
		if (rp_num(r, key[i], &v))
			fprintf(f, "%s%s%s", n++ ? ", " : lead, name[i], rp_p(buf, sizeof(buf), v));
	return n;
}

const char *rp_duration(char *buf, size_t len, double s)
{
	if (s < 120)
		snprintf(buf, len, "%.1f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0f min %02.0f s", floor(s / 60), fmod(floor(s), 60));
	else
		snprintf(buf, len, "%.0f h %02.0f min", floor(s / 3600), fmod(floor(s / 60), 60));
	return buf;
}

int rp_matches(const json_t *r, const char *service, const char *throttler, const char *resource)
{
	if (!rp_same(rp_str(r, "service"), service))
		return 0;
	if (rp_str(r, "throttler") && throttler)
		return rp_same(rp_str(r, "throttler"), throttler);
	return rp_same(rp_str(r, "resource"), resource);
}

int rp_is_mimr(const struct section *s, const json_t *r)
{
	return json_is_object(s->mimr) &&
	       rp_matches(r, rp_str(s->mimr, "service"), rp_str(s->mimr, "throttler"),
			  rp_str(s->mimr, "resource"));
}

/* The interval of the degradation: ci_low..ci_high bound the relative
 * change, which is the degradation negated when higher is better. */
int rp_degradation_ci(const struct section *s, const json_t *r, double *lo, double *hi)
{
	double a, b;

	if (!rp_num(r, "ci_low", &a) || !rp_num(r, "ci_high", &b))
		return 0;
	*lo = s->higher ? -b : a;
	*hi = s->higher ? -a : b;
	return 1;
}

void rp_unit(FILE *f, const struct section *s)
{
	if (s->unit && *s->unit) {
		fputs("\xe2\x80\xaf", f); /* narrow no-break space */
		rp_esc(f, s->unit);
	}
}

void rp_pair(FILE *f, const json_t *r)
{
	rp_esc(f, rp_str(r, "service") ? rp_str(r, "service") : "?");
	fputs(" \xc2\xb7 ", f);
	rp_esc(f, rp_str(r, "resource") ? rp_str(r, "resource") : rp_str(r, "throttler"));
}

const json_t *rp_boost_of(const json_t *report, const json_t *r)
{
	const json_t *b;
	size_t i;

	json_array_foreach(json_object_get(report, "boost"), i, b)
		if (rp_matches(b, rp_str(r, "service"), rp_str(r, "throttler"), rp_str(r, "resource")))
			return b;
	return NULL;
}

const char *rp_boost_verdict(const json_t *b)
{
	if (!json_is_string(json_object_get(b, "how")))
		return "not boosted";
	if (rp_true(b, "found_by_boost"))
		return "found by boost";
	if (!rp_true(b, "imr"))
		return "no gain shown";
	return rp_true(b, "confirmed") ? "confirmed" : "not confirmed";
}
