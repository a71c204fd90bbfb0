/* fuzz_tc_saved.c - libFuzzer target for the tc throttler's saved state: any text, no crash, only valid legs, and what parses is formatted back to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <throttlebot/plugin.h>
#include "fuzz_file.h"
#include "tc_saved.h"
#include "tc_shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tc_leg legs[TC_MAX_LEGS], back[TC_MAX_LEGS];
	static char text[TB_SAVED_MAX];
	char *in = fuzz_string(data, size);
	double capacity, allowance, again, again_allowance;
	int n, m;

	memset(legs, 0, sizeof(legs));
	if (tc_saved_parse(in, &capacity, &allowance, legs, &n) == 0) {
		if (n < 0 || n > TC_MAX_LEGS || !(capacity > 0) || !(allowance > 0) ||
		    allowance > capacity)
			abort();
		for (int i = 0; i < n; i++) {
			/* restore deletes an IFB by this name: never another device */
			if (legs[i].kind == LEG_IFB && strncmp(legs[i].ifb, TC_IFB_PREFIX,
							       strlen(TC_IFB_PREFIX)))
				abort();
			if (legs[i].netns[0] && legs[i].netns[0] != '/')
				abort();
		}
		/* "tc 2" and "tc 3" as save writes them come back the same (the
		 * rates in whole bytes/s); "tc 1" has no identity to write back. */
		memset(back, 0, sizeof(back));
		if ((!strncmp(in, "tc 2", 4) || !strncmp(in, "tc 3", 4)) &&
		    tc_saved_format(capacity, allowance, legs, n, text, sizeof(text)) == 0 &&
		    (tc_saved_parse(text, &again, &again_allowance, back, &m) != 0 || m != n ||
		     memcmp(back, legs, sizeof(legs))))
			abort();
	}
	free(in);
	return 0;
}
