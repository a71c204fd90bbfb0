/* http_body.c - collect an HTTP response body from libcurl into memory, with a size bound. */
#include <stdlib.h>
#include <string.h>
#include "http_body.h"

size_t tb_http_body_write(char *data, size_t size, size_t n, void *body)
{
	struct tb_http_body *b = body;
	size_t len = size * n;

	if (b->len + len + 1 > TB_HTTP_BODY_MAX) {
		b->too_big = 1;
		return 0;          /* libcurl then fails the transfer */
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *grown;

		while (cap < b->len + len + 1)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return 0;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return len;
}
