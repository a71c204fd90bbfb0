/* http_body.h - collect an HTTP response body from libcurl into memory, with a size bound. */
#ifndef TB_HTTP_BODY_H
#define TB_HTTP_BODY_H

#include <stddef.h>

#define TB_HTTP_BODY_MAX (64u << 20)

struct tb_http_body {
	char *data;            /* NUL-terminated once anything arrived; free() it */
	size_t len, cap;
	int too_big;           /* the answer passed TB_HTTP_BODY_MAX and was cut */
};

/* A CURLOPT_WRITEFUNCTION; CURLOPT_WRITEDATA is a struct tb_http_body. */
size_t tb_http_body_write(char *data, size_t size, size_t n, void *body);

#endif
