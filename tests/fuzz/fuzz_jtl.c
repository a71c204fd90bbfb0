/* fuzz_jtl.c - libFuzzer target for the JTL reader (CSV and XML): any input, no crash, errors carry a place. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_file.h"
#include "jtl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct jtl_stats st;
	char err[512];

	if (jtl_read(path, NULL, &st, err, sizeof(err)) == 0) {
		double rate = jtl_error_rate(&st);

		if (st.samples == 0 || jtl_percentile(&st, 99) < 0 || !(rate >= 0 && rate <= 1))
			abort();
		(void)jtl_mean(&st);
		(void)jtl_throughput(&st);
		jtl_stats_free(&st);
	} else if (strncmp(err, path, strlen(path)) != 0) {
		abort();
	}
	return 0;
}
