/* fuzz_promjson.c - libFuzzer target for the Prometheus API answer parser: any body, no crash, a finite number or an error. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_file.h"
#include "promjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the query kind and aggregation; the rest is the body. */
	static const char *const aggs[] = { "mean", "max", "min", "last", "first", "sum",
					    "median", "p99", "p99.9", "p0.1" };
	struct prom_agg agg;
	char err[512];
	char *text;
	double v;
	int r;

	if (size < 1)
		return 0;
	if (prom_agg_parse(aggs[(data[0] >> 1) % (sizeof(aggs) / sizeof(aggs[0]))], &agg) < 0)
		abort();
	err[0] = '\0';
	r = prom_parse((const char *)data + 1, size - 1, data[0] & 0x80 ? 500 : 200, data[0] & 1,
		       &agg, &v, err, sizeof(err));
	if (r == 0 && !isfinite(v))
		abort();
	if (r < 0 && (r != -EINVAL && r != -ENOENT && r != -ERANGE && r != -EPROTO && r != -ENOMEM))
		abort();
	if (r < 0 && r != -ENOMEM && !err[0])
		abort();
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	/* The aggregation setting is outside text too. */
	text = fuzz_string(data + 1, size - 1);
	if (prom_agg_parse(text, &agg) == 0 && agg.kind == PROM_PERCENTILE &&
	    !(agg.p > 0 && agg.p <= 100))
		abort();
	free(text);
	return 0;
}
