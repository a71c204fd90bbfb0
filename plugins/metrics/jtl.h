/* jtl.h - a streaming reader of JMeter result files (JTL: CSV or XML) into latency statistics. */
#ifndef TB_METRICS_JTL_H
#define TB_METRICS_JTL_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

/* Latencies below this many ms are counted in 1 ms buckets; longer ones are kept exactly. */
#define JTL_HIST_MS 60000

struct jtl_stats {
	unsigned long long samples;    /* top-level samples that passed the label filter */
	unsigned long long errors;     /* of which failed */
	double sum_ms;                 /* of elapsed */
	double first_start_ms;         /* Unix ms: earliest sample start */
	double last_end_ms;            /* Unix ms: latest sample end */
	uint32_t *hist;                /* JTL_HIST_MS counters */
	uint32_t *over;                /* elapsed >= JTL_HIST_MS, unsorted until asked */
	size_t nover, over_cap;
	int over_sorted;
};

/*
 * Read path (CSV with a header line, or XML; told apart by the first byte)
 * into st, counting only samples whose label matches label (NULL: all).
 * CSV columns are found by name in any order: timeStamp and elapsed are
 * required; success (else responseCode: 2xx/3xx succeed) gives errors.
 * timeStamp is taken as the sample's start (JMeter's
 * sampleresult.timestamp.start=true, as Debian ships it).
 * Returns 0, or -EINVAL/-ENOENT/-ENOMEM with "path:line: reason" in err.
 * A file without samples (or none matching) is an error.
 */
int jtl_read(const char *path, const regex_t *label, struct jtl_stats *st, char *err,
	     size_t errsize);
void jtl_stats_free(struct jtl_stats *st);

/* Nearest-rank percentile (0 < p <= 100) of elapsed, in ms: the smallest
 * value with at least p% of the samples at or below it.  p = 50: the median. */
double jtl_percentile(struct jtl_stats *st, double p);
double jtl_mean(const struct jtl_stats *st);            /* ms */
double jtl_throughput(const struct jtl_stats *st);      /* samples/s over first start..last end */
double jtl_error_rate(const struct jtl_stats *st);      /* errors / samples */

#endif
