/* tb-client.c - frontend/storage workload driver: sends a fixed number of requests and exits when all are answered. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tbapp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define USAGE "[HOST:PORT] [REQUESTS] [--connections N] [--timeout S] [--connect-timeout S]\n" \
	"  Sends REQUESTS (default 400) requests, one at a time per connection, over N connections\n" \
	"  (default 1); exit status 0 once all are answered.  Its wall time is the job completion time.\n" \
	"  Prints the mean and 99th percentile latency.  A refused connection is retried for\n" \
	"  --connect-timeout seconds (10); an answer is awaited --timeout seconds (60).\n" \
	"  Environment: TB_FRONTEND (127.0.0.1:7200)."

struct conn {
	pthread_t thread;
	const char *target;
	long first, count, timeout, connect_timeout;
	double *lat;            /* per request, seconds */
	int failed;
};

static void *run(void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { .tv_sec = c->timeout };
	int fd = tbapp_connect(c->target, c->connect_timeout);

	if (fd < 0) {
		c->failed = 1;
		return NULL;
	}
	/* A stuck server must not hang the driver forever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (long i = 0; i < c->count && !tbapp_stop; i++) {
		char req[40], line[80];
		int n = snprintf(req, sizeof(req), "REQ %ld\n", c->first + i);
		double t0 = tbapp_now();

		if (tbapp_write_all(fd, req, (size_t)n) < 0 || tbapp_read_line(fd, line, sizeof(line)) < 0) {
			tbapp_log("request %ld: lost %s", c->first + i, c->target);
			c->failed = 1;
			break;
		}
		if (strncmp(line, "OK ", 3)) {
			tbapp_log("request %ld: %s answered '%s'", c->first + i, c->target, line);
			c->failed = 1;
			break;
		}
		c->lat[i] = tbapp_now() - t0;
	}
	close(fd);
	if (tbapp_stop)
		c->failed = 1;
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const char *const keys[] = { "--connections", "--timeout", "--connect-timeout", NULL };
	char *pos[2] = { NULL, NULL };
	const char *target;
	long requests = 400, nconn, timeout, connect_timeout, done = 0;
	struct conn c[64];
	double t0, wall, sum = 0, *lat;
	int npos, failed = 0;

	tbapp_init("tb-client");
	tbapp_check_opts(argc, argv, keys, USAGE, pos, 2, &npos);
	target = pos[0] ? pos[0] : tbapp_opt(argc, argv, "", "TB_FRONTEND", "127.0.0.1:7200");
	if (pos[1]) {
		char *end;

		requests = strtol(pos[1], &end, 10);
		if (*end || requests < 1 || requests > 10000000)
			tbapp_die("REQUESTS '%s': expected 1 to 10000000", pos[1]);
	}
	nconn = tbapp_opt_long(argc, argv, "--connections", NULL, 1, 1, 64);
	timeout = tbapp_opt_long(argc, argv, "--timeout", NULL, 60, 1, 86400);
	connect_timeout = tbapp_opt_long(argc, argv, "--connect-timeout", NULL, 10, 0, 3600);
	if (nconn > requests)
		nconn = requests;
	lat = calloc((size_t)requests, sizeof(*lat));
	if (!lat)
		tbapp_die("out of memory");
	t0 = tbapp_now();
	for (long i = 0, first = 0; i < nconn; i++) {
		c[i].target = target;
		c[i].first = first;
		c[i].count = requests / nconn + (i < requests % nconn);
		c[i].timeout = timeout;
		c[i].connect_timeout = connect_timeout;
		c[i].lat = lat + first;
		c[i].failed = 0;
		first += c[i].count;
		if (tbapp_thread(&c[i].thread, run, &c[i]))
			tbapp_die("cannot start a thread");
	}
	for (long i = 0; i < nconn; i++) {
		pthread_join(c[i].thread, NULL);
		failed |= c[i].failed;
	}
	wall = tbapp_now() - t0;
	if (failed)
		tbapp_die("failed after %.3f s", wall);
	for (long i = 0; i < requests; i++)
		sum += lat[i];
	qsort(lat, (size_t)requests, sizeof(*lat), cmp);
	done = requests;
	printf("requests %ld wall %.6f s mean %.3f ms p99 %.3f ms\n", done, wall, sum / done * 1e3,
	       lat[(size_t)((done - 1) * 0.99)] * 1e3);
	free(lat);
	return 0;
}
