/* fuzz_cgroup_saved.c - libFuzzer target for the cgroup throttlers' saved state, as restore reads it back from the journal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup_file.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nothing is written: only restore's parsing and checks run here. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[TB_SAVED_LINE_MAX], value[TB_SAVED_LINE_MAX], back[TB_SAVED_LINE_MAX];
	static char dir[TB_SAVED_LINE_MAX], again[2 * TB_SAVED_LINE_MAX + 2];
	char *saved = fuzz_string(data, size), out[64];
	const char *at = saved, *slash;
	size_t len = strlen(saved);
	int r, lines = 0;

	while ((r = tb_saved_next(&at, path, value)) != 0) {
		if (++lines > (int)size + 1 || at < saved || at > saved + len)
			abort();
		if (r < 0)
			continue;
		/* What restore accepts, saving accepts too, and reads back the same. */
		slash = strrchr(path, '/');
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		again[0] = '\0';
		if (dir[0] && (tb_saved_add(again, sizeof(again), dir, slash + 1, value) != 0 ||
			       tb_saved_get(again, dir, slash + 1, back, sizeof(back)) != 0 ||
			       strcmp(back, value)))
			abort();
	}
	tb_saved_get(saved, "/sys/fs/cgroup/cpu/web", "cpu.cfs_quota_us", out, sizeof(out));
	tb_cpulist_count(saved);
	free(saved);
	return 0;
}
