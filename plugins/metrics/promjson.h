/* promjson.h - turn a Prometheus HTTP API response (instant or range query) into one number. */
#ifndef TB_METRICS_PROMJSON_H
#define TB_METRICS_PROMJSON_H

#include <stddef.h>

/* How a range query's points become one value. */
enum prom_agg_kind { PROM_MEAN, PROM_MAX, PROM_MIN, PROM_LAST, PROM_FIRST, PROM_SUM, PROM_PERCENTILE };

struct prom_agg {
	enum prom_agg_kind kind;
	double p;                  /* PROM_PERCENTILE: 0 < p <= 100 */
};

/* "mean", "max", "min", "last", "first", "sum", "median", "pNN" (p99, p99.9); 0 or -EINVAL. */
int prom_agg_parse(const char *s, struct prom_agg *out);

/*
 * Parse body, the answer (HTTP status http_status) to /api/v1/query (range = 0)
 * or /api/v1/query_range (range = 1), into *out.  An instant query must yield
 * one sample (a one-series vector, or a scalar); a range query one series,
 * reduced by agg.  Returns 0, or -EINVAL / -ENOENT (empty result) / -ERANGE
 * (NaN or infinite value) / -EPROTO (not the API's answer) with a message in
 * err: the API's errorType and error, the HTTP status and an excerpt of the
 * body, the series' labels when there are several.
 */
int prom_parse(const char *body, size_t len, long http_status, int range,
	       const struct prom_agg *agg, double *out, char *err, size_t errsize);

#endif
