/* web.c - tb-web: the webstack's HTTP/1.1 front; each request waits for one tb-backend call, the front itself does little. */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "wsnet.h"

#define MAX_CONNS 256
#define REQ_MAX 8192            /* request line + headers */
#define BACKEND_TIMEOUT_S 30
#define MAX_REQUESTS_PER_CONN 10000000L

struct web {
	int backend_port;
	double deadline;
};

struct request {
	char method[16], path[256];
	int keep_alive;
	long content_length;
};

/* Case-insensitive header lookup in the header block; the value, or NULL. */
static const char *header(const char *head, const char *name, char *val, size_t vlen)
{
	size_t n = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2, *end = strstr(h, "\r\n");
		size_t k;

		if (!end || strncasecmp(h, name, n) || h[n] != ':')
			continue;
		h += n + 1;
		h += strspn(h, " \t");
		k = (size_t)(end - h) < vlen - 1 ? (size_t)(end - h) : vlen - 1;
		memcpy(val, h, k);
		val[k] = '\0';
		return val;
	}
	return NULL;
}

/* Parse the request head (NUL-terminated, ending in the blank line); -1 if malformed. */
static int parse(const char *head, struct request *rq)
{
	char version[16], v[64];

	if (sscanf(head, "%15s %255s %15s", rq->method, rq->path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7))
		return -1;
	/* HTTP/1.1 keeps the connection by default, HTTP/1.0 closes it. */
	rq->keep_alive = strcmp(version, "HTTP/1.0") != 0;
	if (header(head, "Connection", v, sizeof(v)))
		rq->keep_alive = strcasecmp(v, "close") && (rq->keep_alive || !strcasecmp(v, "keep-alive"));
	rq->content_length = 0;
	if (header(head, "Content-Length", v, sizeof(v))) {
		char *end;

		rq->content_length = strtol(v, &end, 10);
		if (*end || rq->content_length < 0 || rq->content_length > 1 << 20)
			return -1;
	}
	return 0;
}

/* One backend round trip on *bfd (connected on first use, again after a failure). */
static int call_backend(const struct web *w, int *bfd, char *reply, size_t rlen)
{
	size_t got = 0;

	if (*bfd < 0 && (*bfd = ws_connect(w->backend_port, BACKEND_TIMEOUT_S)) < 0)
		return -1;
	if (ws_write_all(*bfd, "work\n", 5) < 0)
		goto fail;
	while (got < rlen - 1) {
		ssize_t n = read(*bfd, reply + got, rlen - 1 - got);

		if (n <= 0)
			goto fail;
		got += (size_t)n;
		reply[got] = '\0';
		if (strchr(reply, '\n'))
			return strncmp(reply, "ok ", 3) ? -1 : 0;
	}
fail:
	close(*bfd);
	*bfd = -1;
	return -1;
}

static int respond(int fd, int status, const char *reason, const char *body, int keep_alive, int head_only)
{
	char out[512];
	int n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s", status, reason,
			 strlen(body), keep_alive ? "keep-alive" : "close", head_only ? "" : body);

	return n > 0 && n < (int)sizeof(out) ? ws_write_all(fd, out, (size_t)n) : -1;
}

/* Handle one request; 1 to keep the connection, 0 to close it. */
static int handle(const struct web *w, int fd, int *bfd, const struct request *rq)
{
	int head_only = !strcmp(rq->method, "HEAD"), r;
	char reply[64], body[96];

	if (strcmp(rq->method, "GET") && !head_only)
		r = respond(fd, 405, "Method Not Allowed", "GET or HEAD only\n", rq->keep_alive, 0);
	else if (!strcmp(rq->path, "/health"))
		r = respond(fd, 200, "OK", "ok\n", rq->keep_alive, head_only);
	else if (call_backend(w, bfd, reply, sizeof(reply)) < 0)
		r = respond(fd, 502, "Bad Gateway", "the backend did not answer\n", rq->keep_alive, head_only);
	else {
		snprintf(body, sizeof(body), "done %s", reply + 3);
		r = respond(fd, 200, "OK", body, rq->keep_alive, head_only);
	}
	return r == 0 && rq->keep_alive;
}

static void serve(int fd, void *arg)
{
	const struct web *w = arg;
	char buf[REQ_MAX + 1];
	size_t len = 0;
	long served = 0;
	int bfd = -1;

	while (!ws_stop && ws_now() < w->deadline && served < MAX_REQUESTS_PER_CONN) {
		struct pollfd p = { fd, POLLIN, 0 };
		struct request rq;
		char *end;
		size_t used;
		ssize_t n;

		buf[len] = '\0';
		if (!(end = strstr(buf, "\r\n\r\n"))) {
			if (len == REQ_MAX)
				break;          /* a head that long is no request of ours */
			if (poll(&p, 1, 500) <= 0)
				continue;
			n = read(fd, buf + len, REQ_MAX - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			continue;
		}
		end[2] = '\0';          /* keep the last header's CRLF for header() */
		if (parse(buf, &rq) < 0) {
			respond(fd, 400, "Bad Request", "bad request\n", 0, 0);
			break;
		}
		used = (size_t)(end + 4 - buf);
		/* A body is not used: drop what arrived of it, read and drop the rest. */
		for (long skip = rq.content_length; skip > 0;) {
			size_t have = len - used < (size_t)skip ? len - used : (size_t)skip;

			used += have;
			skip -= (long)have;
			if (skip > 0) {
				len = used = 0;
				n = read(fd, buf, REQ_MAX);
				if (n <= 0)
					goto out;
				len = (size_t)n;
			}
		}
		len -= used;
		memmove(buf, buf + used, len);
		served++;
		if (!handle(w, fd, &bfd, &rq))
			break;
	}
out:
	if (bfd >= 0)
		close(bfd);
}

int main(int argc, char **argv)
{
	struct ws_opts o = { .max_seconds = 3600 };
	struct web w;
	int lfd, r;

	if (ws_parse(argc, argv, &o, "tb-web --port PORT --backend-port PORT [--ready-file PATH] "
		     "[--max-seconds S]") < 0 || !o.port || !o.backend_port)
		return 2;
	ws_signals();
	if ((lfd = ws_listen("tb-web", o.port)) < 0)
		return 1;
	if (ws_ready("tb-web", o.ready_file) < 0)
		return 1;
	w = (struct web){ o.backend_port, ws_now() + o.max_seconds };
	fprintf(stderr, "tb-web: http://127.0.0.1:%d/ -> backend 127.0.0.1:%d, for at most %g s\n",
		o.port, o.backend_port, o.max_seconds);
	r = ws_accept_loop("tb-web", lfd, w.deadline, MAX_CONNS, serve, &w);
	ws_unready(o.ready_file);
	close(lfd);
	return r;
}
