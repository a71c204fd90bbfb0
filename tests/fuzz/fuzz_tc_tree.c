/* fuzz_tc_tree.c - libFuzzer target for the tc throttler's saved qdisc trees: any text, no crash, and what parses is formatted back to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_file.h"
#include "tc_tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tb_tc_tree t, back;
	static char text[TB_TC_TREE_NODES * (2 * TB_TC_OPTS_MAX + 96) + 1];
	char *in = fuzz_string(data, size), why[128];
	int n = tb_tc_tree_parse(in, "node ", &t);

	if (n > (int)strlen(in) || t.n > TB_TC_TREE_NODES)
		abort();
	if (n >= 0) {
		text[0] = '\0';
		if (tb_tc_tree_format(&t, "node ", text, sizeof(text)) != 0 ||
		    tb_tc_tree_parse(text, "node ", &back) != (int)strlen(text) || back.n != t.n ||
		    memcmp(back.node, t.node, t.n * sizeof(t.node[0])))
			abort();
		/* Comparing walks the options as netlink attributes: hostile bytes here. */
		tb_tc_tree_same(&t, &back, why, sizeof(why));
	}
	free(in);
	return 0;
}
