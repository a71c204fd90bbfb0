/* backend.c - tb-backend: the webstack's CPU-bound service, one thread; each "work" request costs a fixed amount of CPU time. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include "wsnet.h"

#define MAX_CONNS 64
#define LINE_MAX_LEN 64

static volatile uint64_t sink;   /* the work's result, so it is not optimised away */

static double thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/*
 * Spin until this thread has used us microseconds of CPU.  Counting CPU time,
 * not iterations, makes a request cost the same on any machine, and makes it
 * take longer in wall time exactly when the service gets less CPU.
 */
static uint64_t work(uint64_t x, long us)
{
	double until = thread_cpu_us() + (double)us;
	int rounds = 0;

	do {
		for (int i = 0; i < 5000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
	} while (thread_cpu_us() < until && ++rounds < 1000000);
	return x;
}

/* One client connection's unanswered input. */
struct conn {
	int fd;
	size_t len;
	char buf[LINE_MAX_LEN + 1];
};

/*
 * Answer the complete "work\n" lines c has sent with "ok HEX\n" each; -1 ends
 * the connection (closed, an error, or anything else sent).
 */
static int answer(struct conn *c, uint64_t *x, long work_us)
{
	ssize_t n = read(c->fd, c->buf + c->len, LINE_MAX_LEN - c->len);
	char *nl;

	if (n <= 0)
		return -1;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n'))) {
		char reply[32];
		int r;

		*nl = '\0';
		if (strcmp(c->buf, "work"))
			return -1;
		*x = work(*x, work_us);
		r = snprintf(reply, sizeof(reply), "ok %016llx\n", (unsigned long long)*x);
		if (ws_write_all(c->fd, reply, (size_t)r) < 0)
			return -1;
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	return c->len == LINE_MAX_LEN ? -1 : 0;
}

/*
 * One thread serves every connection, taking the ready ones in turn: like an
 * event-loop server, the backend can use one core at most, so its CPU is the
 * application's bottleneck once the front sends enough concurrent requests.
 */
static int serve(int lfd, double deadline, long work_us)
{
	struct pollfd p[MAX_CONNS + 1];
	struct conn *c[MAX_CONNS + 1] = { NULL };
	uint64_t x = 88172645463325252ull;
	nfds_t n = 1;

	p[0] = (struct pollfd){ lfd, POLLIN, 0 };
	while (!ws_stop && ws_now() < deadline) {
		int one = 1;

		if (poll(p, n, 200) <= 0)
			continue;
		for (nfds_t i = 1; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (answer(c[i], &x, work_us) < 0) {
				close(p[i].fd);
				free(c[i]);
				/* The last connection moves into the freed slot, looked at next. */
				n--;
				p[i] = p[n];
				c[i] = c[n];
				i--;
			}
		}
		if (p[0].revents) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd < 0)
				continue;
			if (n > MAX_CONNS || !(c[n] = calloc(1, sizeof(**c)))) {
				close(fd);
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			c[n]->fd = fd;
			p[n++] = (struct pollfd){ fd, POLLIN, 0 };
		}
	}
	for (nfds_t i = 1; i < n; i++) {
		close(p[i].fd);
		free(c[i]);
	}
	sink = x;
	return 0;
}

int main(int argc, char **argv)
{
	struct ws_opts o = { .work_us = 2000, .max_seconds = 3600 };
	int lfd, r;

	if (ws_parse(argc, argv, &o, "tb-backend --port PORT [--work-us US] [--ready-file PATH] "
		     "[--max-seconds S]") < 0 || !o.port)
		return 2;
	ws_signals();
	if ((lfd = ws_listen("tb-backend", o.port)) < 0)
		return 1;
	if (ws_ready("tb-backend", o.ready_file) < 0)
		return 1;
	fprintf(stderr, "tb-backend: 127.0.0.1:%d, %ld us of CPU per request, for at most %g s\n",
		o.port, o.work_us, o.max_seconds);
	r = serve(lfd, ws_now() + o.max_seconds, o.work_us);
	ws_unready(o.ready_file);
	close(lfd);
	return r;
}
