/* fuzz_jtl.c - libFuzzer target for the JTL reader (CSV and XML): any input, no crash, errors carry a place.
 *
 * clang -g -fsanitize=fuzzer,address,undefined -Iplugins/metrics $(pkg-config --cflags libxml-2.0) \
 *   tests/fuzz_jtl.c plugins/metrics/jtl.c $(pkg-config --libs libxml-2.0) -lm -o fuzz_jtl
 * ./fuzz_jtl -max_total_time=60 tests/fixtures
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jtl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct jtl_stats st;
	char err[512];
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/throttlebot-fuzz-%d.jtl", (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (jtl_read(path, NULL, &st, err, sizeof(err)) == 0) {
		if (st.samples == 0 || jtl_percentile(&st, 99) < 0)
			abort();
		jtl_stats_free(&st);
	} else if (strncmp(err, path, strlen(path)) != 0) {
		abort();
	}
	unlink(path);
	return 0;
}
