/* fuzz_conf.c - libFuzzer target for the configuration loader (libconfig, then our checks): any file, no crash. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_conf c;

	/* libconfig 1.5 calls exit() on "@include" of a directory, and an
	 * include of a device would read forever: includes are not fuzzed. */
	if (memmem(data, size, "@include", 8) || memmem(data, size, "@INCLUDE", 8))
		return 0;
	if (tb_conf_load(&c, fuzz_file(data, size)) == 0) {
		if (!c.orchestrator.plugin || !c.nthrottlers || !c.nmetrics ||
		    c.nthrottlers > TB_MAX_PLUGINS || c.nmetrics > TB_MAX_PLUGINS ||
		    c.nlevels > TB_MAX_LEVELS)
			abort();
		tb_conf_excluded(&c, "services", "web");
		tb_conf_excluded(&c, "pairs", "web:cpu");
	}
	tb_conf_free(&c);
	return 0;
}
