/* report_html.h - what the HTML page and its SVG plots share: field access, escaping, number formats. */
#ifndef TB_REPORT_HTML_H
#define TB_REPORT_HTML_H

#include <stdio.h>
#include <jansson.h>
#include "report_order.h"

/* One metric's part of the report (by_metric[i], or the top level). */
struct section {
	const char *metric, *unit;
	int higher;                    /* higher values are better */
	const json_t *baseline, *mimr, *ranking;
	double max_imr;                /* largest IMR degradation, for the colour scale */
	struct rp_order order;         /* the ranking by importance, and its index */
};

/* Every report field is optional: these read it or say it is absent. */
const char *rp_str(const json_t *o, const char *key);
int rp_num(const json_t *o, const char *key, double *out);   /* 1 when a finite number */
int rp_true(const json_t *o, const char *key);
int rp_same(const char *a, const char *b);                   /* both present and equal */

void rp_esc(FILE *f, const char *s);                         /* HTML-escaped text; NULL = "" */
const char *rp_val(char *buf, size_t len, double v);         /* a metric value */
const char *rp_pct(char *buf, size_t len, double rel);       /* 0.25 -> "+25%" */
const char *rp_stress(char *buf, size_t len, double s);      /* 0.8 -> "80%" */
const char *rp_p(char *buf, size_t len, double p);           /* "p = 0.018", HTML */
/* "p = 0.018, adjusted p = 0.05, trend p = 0.01", those present, lead
 * first; how many were written. */
size_t rp_pvalues(FILE *f, const json_t *r, const char *lead);
const char *rp_duration(char *buf, size_t len, double s);

/* A ranking entry is one (service, throttler); entries without a throttler
 * are matched by resource. */
int rp_matches(const json_t *r, const char *service, const char *throttler, const char *resource);
int rp_is_mimr(const struct section *s, const json_t *r);
int rp_degradation_ci(const struct section *s, const json_t *r, double *lo, double *hi);
void rp_unit(FILE *f, const struct section *s);              /* " s" after a value */
void rp_pair(FILE *f, const json_t *r);                      /* "service · resource" */
/* The boost phase's entry for a ranking entry, or NULL. */
const json_t *rp_boost_of(const json_t *report, const json_t *r);
/* What the boost says: "confirmed" or "not confirmed" (an IMR), "found by
 * boost" or "no gain shown" (another pair), "not boosted" (it could not be made). */
const char *rp_boost_verdict(const json_t *b);

/* The grid of small multiples: one SVG plot per pair of the services shown
 * in full, most important first; the others are only counted. */
void rp_plots(FILE *f, const json_t *report, const struct section *s);

#endif
