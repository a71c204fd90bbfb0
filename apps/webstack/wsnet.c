/* wsnet.c - the webstack programs' shared plumbing: options, loopback sockets, ready file, accept loop. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "wsnet.h"

volatile sig_atomic_t ws_stop;

static int number(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !(*v >= lo && *v <= hi) ? -1 : 0;
}

int ws_parse(int argc, char **argv, struct ws_opts *o, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i];
		double v;

		if (!strcmp(k, "--help")) {
			printf("usage: %s\n", usage);
			exit(0);
		}
		if (i + 1 >= argc)
			goto bad;
		i++;
		if (!strcmp(k, "--ready-file")) {
			o->ready_file = argv[i];
			continue;
		}
		if (!strcmp(k, "--port") && !number(argv[i], 1, 65535, &v))
			o->port = (int)v;
		else if (!strcmp(k, "--backend-port") && !number(argv[i], 1, 65535, &v))
			o->backend_port = (int)v;
		else if (!strcmp(k, "--work-us") && !number(argv[i], 1, 1e6, &v))
			o->work_us = (long)v;
		else if (!strcmp(k, "--duty") && !number(argv[i], 0, 1, &v))
			o->duty = v;
		else if (!strcmp(k, "--max-seconds") && !number(argv[i], 0.1, 1e6, &v))
			o->max_seconds = v;
		else
			goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "usage: %s\n", usage);
	return -1;
}

double ws_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_stop(int sig)
{
	(void)sig;
	ws_stop = 1;
}

void ws_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

int ws_listen(const char *prog, int port)
{
	struct sockaddr_in sa = loopback(port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "%s: cannot listen on 127.0.0.1:%d: %s\n", prog, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int ws_connect(int port, int timeout_s)
{
	struct sockaddr_in sa = loopback(port);
	struct timeval tv = { timeout_s, 0 };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Small request/reply messages: no Nagle delay between them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int ws_ready(const char *prog, const char *path)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	dprintf(fd, "%d\n", (int)getpid());
	close(fd);
	return 0;
}

void ws_unready(const char *path)
{
	if (path)
		unlink(path);
}

int ws_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct conn {
	int fd;
	void (*serve)(int fd, void *arg);
	void *arg;
	atomic_int *live;
};

static void *conn_thread(void *p)
{
	struct conn *c = p;

	c->serve(c->fd, c->arg);
	close(c->fd);
	atomic_fetch_sub(c->live, 1);
	free(c);
	return NULL;
}

int ws_accept_loop(const char *prog, int lfd, double deadline, int max_conns,
		   void (*serve)(int fd, void *arg), void *arg)
{
	static atomic_int live;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!ws_stop && ws_now() < deadline) {
		struct pollfd p = { lfd, POLLIN, 0 };
		struct conn *c;
		pthread_t t;
		int one = 1, fd;

		/* A short poll, so SIGTERM and the deadline are noticed quickly. */
		if (poll(&p, 1, 200) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (atomic_load(&live) >= max_conns || !(c = malloc(sizeof(*c)))) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		*c = (struct conn){ fd, serve, arg, &live };
		atomic_fetch_add(&live, 1);
		if (pthread_create(&t, &attr, conn_thread, c) != 0) {
			fprintf(stderr, "%s: cannot start a connection thread\n", prog);
			atomic_fetch_sub(&live, 1);
			close(fd);
			free(c);
		}
	}
	pthread_attr_destroy(&attr);
	/* The connection threads end with the process. */
	return 0;
}
