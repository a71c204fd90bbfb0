/* report_order.h - the order of importance every report rendering shares. */
#ifndef TB_REPORT_ORDER_H
#define TB_REPORT_ORDER_H

#include <stddef.h>
#include <jansson.h>

/* Most important first: the MIMR, the other IMRs, pairs whose verdict is
 * still open, paradoxes, then everything else by degradation. */
enum rp_class { RP_MIMR, RP_IMR, RP_UNDECIDED, RP_PARADOX, RP_OTHER };

/* "imr", "paradox", "undecided" or "none": the pair's verdict, or for
 * reports written before verdicts, what its imr and paradox flags say. */
const char *rp_verdict(const json_t *pair);
enum rp_class rp_class_of(const json_t *pair, const json_t *mimr);

/* How many services a report shows in full: report.json's report_top. */
size_t rp_report_top(const json_t *report);

/* One metric's ranking, ordered, with its services in the order of their
 * most important pair and the ones worth showing in full marked. */
struct rp_order {
	const json_t **pairs;          /* ranking entries, most important first */
	size_t npairs;
	const char **services;         /* measured services first, by importance */
	size_t nservices, nmeasured;
	unsigned char *shown;          /* per services[i]: matters, or in the top N */
	size_t nshown;
	unsigned char *pair_shown;     /* per pairs[i]: its service is shown */
	json_t *index;                 /* (service, throttler or resource) -> position in pairs */
};

/* section holds ranking and mimr (by_metric[i] or the report itself);
 * services come from the report's list and the ranking.  0 or -ENOMEM. */
int rp_order_init(struct rp_order *o, const json_t *report, const json_t *section);
void rp_order_fini(struct rp_order *o);
/* The entry of (service, throttler), or by resource when either side has
 * no throttler; NULL when the pair was not ranked. */
const json_t *rp_order_find(const struct rp_order *o, const char *service, const char *throttler,
			    const char *resource);
/* Position of a pair in the order (npairs when it is not ranked). */
size_t rp_order_rank(const struct rp_order *o, const char *service, const char *throttler);

#endif
