/* fuzz_quilt.c - libFuzzer target for the "quilt ps" listing parser: any text, no crash, only plain names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_file.h"
#include "quilt_ps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int plain(const char *s)
{
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:")] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), err[256];
	struct quilt_ps ps;

	if (quilt_parse_ps(text, &ps, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < ps.ncontainers; i++)
			if (!plain(ps.containers[i].id) || !plain(ps.containers[i].service) ||
			    !plain(ps.containers[i].machine))
				abort();
		quilt_ps_free(&ps);
	}
	free(text);
	return 0;
}
