/* tbapp.c - small helpers shared by the reference applications: options, sockets, signals, work. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tbapp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

volatile int tbapp_stop;
const char *tbapp_name = "tbapp";

static void on_signal(int sig)
{
	(void)sig;
	tbapp_stop = 1;
}

void tbapp_init(const char *name)
{
	struct sigaction sa;

	tbapp_name = name;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A peer that goes away must give EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

int tbapp_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t block, old;
	int r;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

void tbapp_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tbapp_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void tbapp_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tbapp_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

double tbapp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int tbapp_sleep(double s)
{
	struct timespec ts;

	if (s <= 0)
		return tbapp_stop ? -1 : 0;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - ts.tv_sec) * 1e9);
	while (!tbapp_stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return tbapp_stop ? -1 : 0;
}

const char *tbapp_opt(int argc, char **argv, const char *key, const char *env, const char *def)
{
	const char *v;

	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], key))
			return argv[i + 1];
	if (env && (v = getenv(env)) && *v)
		return v;
	return def;
}

long tbapp_opt_long(int argc, char **argv, const char *key, const char *env, long def, long lo, long hi)
{
	const char *v = tbapp_opt(argc, argv, key, env, NULL);
	char *end;
	long n;

	if (!v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		tbapp_die("%s %s: expected an integer from %ld to %ld", key, v, lo, hi);
	return n;
}

void tbapp_check_opts(int argc, char **argv, const char *const *keys, const char *usage,
		      char **pos, int maxpos, int *npos)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const char *const *k;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: %s %s\n", tbapp_name, usage);
			exit(0);
		}
		if (strncmp(argv[i], "--", 2)) {
			if (n >= maxpos)
				tbapp_die("unexpected argument '%s'\nusage: %s %s", argv[i], tbapp_name, usage);
			pos[n++] = argv[i];
			continue;
		}
		for (k = keys; *k && strcmp(*k, argv[i]); k++)
			;
		if (!*k)
			tbapp_die("unknown option '%s'\nusage: %s %s", argv[i], tbapp_name, usage);
		if (i + 1 >= argc)
			tbapp_die("option %s needs a value", argv[i]);
		i++;
	}
	if (npos)
		*npos = n;
}

/* Split "HOST:PORT" (the last colon; "[v6]:port" brackets stripped). */
static int split_hostport(const char *s, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (!colon || !colon[1] || strlen(colon + 1) >= psize)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= hsize)
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	strcpy(port, colon + 1);
	return 0;
}

static struct addrinfo *resolve(const char *hostport, int passive)
{
	char host[256], port[16];
	struct addrinfo hints, *res = NULL;
	int r;

	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port)) < 0)
		tbapp_die("'%s': expected HOST:PORT", hostport);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	r = getaddrinfo(*host && strcmp(host, "*") ? host : NULL, port, &hints, &res);
	if (r) {
		tbapp_log("cannot resolve '%s': %s", hostport, gai_strerror(r));
		return NULL;
	}
	return res;
}

int tbapp_listen(const char *addrport)
{
	struct addrinfo *res = resolve(addrport, 1), *ai;
	int fd = -1, one = 1;

	if (!res)
		exit(1);
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		tbapp_die("cannot listen on %s: %s", addrport, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

int tbapp_accept(int lfd, double timeout)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int r, fd, one = 1;

	r = poll(&p, 1, (int)(timeout * 1000));
	if (r < 0)
		return -1;
	if (r == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int tbapp_connect(const char *hostport, double timeout)
{
	double deadline = tbapp_now() + timeout;
	int err = 0, one = 1;

	/* Services may still be starting: retry refused connections for a while. */
	while (!tbapp_stop) {
		struct addrinfo *res = resolve(hostport, 0), *ai;

		for (ai = res; ai; ai = ai->ai_next) {
			int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);

			if (fd < 0) {
				err = errno;
				continue;
			}
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				freeaddrinfo(res);
				return fd;
			}
			err = errno;
			close(fd);
		}
		if (res)
			freeaddrinfo(res);
		else
			err = EHOSTUNREACH;
		if (tbapp_now() >= deadline)
			break;
		tbapp_sleep(0.1);
	}
	tbapp_log("cannot connect to %s: %s", hostport, tbapp_stop ? "stopped" : strerror(err));
	return -1;
}

int tbapp_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR && !tbapp_stop)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int tbapp_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0) {
			if (errno == EINTR && !tbapp_stop)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

ssize_t tbapp_read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	/* Byte at a time: lines are short and rare next to the bulk data. */
	while (n + 1 < size) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0) {
			if (errno == EINTR && !tbapp_stop)
				continue;
			return -1;
		}
		if (r == 0) {
			/* A last line without '\n' still counts. */
			buf[n] = 0;
			errno = EPIPE;
			return n ? (ssize_t)n : -1;
		}
		if (c == '\n') {
			buf[n] = 0;
			return (ssize_t)n;
		}
		buf[n++] = c;
	}
	errno = EMSGSIZE;
	return -1;
}

int tbapp_discard(int fd, uint64_t n)
{
	static __thread char junk[65536];

	while (n > 0) {
		ssize_t r = read(fd, junk, n < sizeof(junk) ? n : sizeof(junk));

		if (r < 0) {
			if (errno == EINTR && !tbapp_stop)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		n -= (uint64_t)r;
	}
	return 0;
}

static const char *ready_path;

static void remove_ready(void)
{
	unlink(ready_path);
}

void tbapp_ready(const char *path)
{
	int fd;

	if (!path)
		return;
	/* Gone again at exit, so that a launcher waiting for it next time is
	 * not fooled by the file of a previous run. */
	ready_path = path;
	atexit(remove_ready);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		tbapp_die("cannot create ready file %s: %s", path, strerror(errno));
	close(fd);
}

static inline uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t tbapp_work(uint64_t seed, long units)
{
	uint64_t v[512];
	uint64_t acc = seed;

	for (int i = 0; i < 512; i++)
		v[i] = mix(seed + (uint64_t)i);
	for (long u = 0; u < units; u++)
		for (int r = 0; r < 50; r++)
			for (int i = 0; i < 512; i++) {
				v[i] = mix(v[i] ^ acc);
				acc += v[i];
			}
	return acc;
}

uint64_t tbapp_checksum(const void *buf, size_t n, uint64_t seed)
{
	const unsigned char *p = buf;
	uint64_t acc = seed, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc = mix(acc ^ w);
	}
	for (; i < n; i++)
		acc = mix(acc ^ p[i]);
	return acc;
}

void *tbapp_aligned_buffer(size_t n, uint64_t seed)
{
	uint64_t *p;
	size_t i;

	if (posix_memalign((void **)&p, 4096, n ? n : 4096))
		tbapp_die("out of memory (%zu bytes)", n);
	for (i = 0; i < n / 8; i++)
		p[i] = mix(seed + i);
	return p;
}

struct tbapp_client {
	int fd;
	void (*serve)(int fd);
};

static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static long nclients;

static void *client_thread(void *arg)
{
	struct tbapp_client c = *(struct tbapp_client *)arg;

	free(arg);
	c.serve(c.fd);
	pthread_mutex_lock(&clients_lock);
	nclients--;
	pthread_mutex_unlock(&clients_lock);
	return NULL;
}

void tbapp_serve_clients(int lfd, long max_clients, double deadline, void (*serve)(int fd))
{
	while (!tbapp_stop && tbapp_now() < deadline) {
		struct tbapp_client *c;
		pthread_t t;
		int fd = tbapp_accept(lfd, 0.5), full;

		if (fd < 0) {
			if (errno != ETIMEDOUT && errno != EINTR)
				tbapp_log("accept: %s", strerror(errno));
			continue;
		}
		pthread_mutex_lock(&clients_lock);
		full = nclients >= max_clients;
		nclients += !full;
		pthread_mutex_unlock(&clients_lock);
		if (full) {
			tbapp_log("too many clients (%ld): refusing one", max_clients);
			close(fd);
			continue;
		}
		c = malloc(sizeof(*c));
		if (c) {
			c->fd = fd;
			c->serve = serve;
		}
		if (!c || tbapp_thread(&t, client_thread, c)) {
			tbapp_log("cannot start a thread");
			free(c);
			close(fd);
			pthread_mutex_lock(&clients_lock);
			nclients--;
			pthread_mutex_unlock(&clients_lock);
			continue;
		}
		pthread_detach(t);
	}
	tbapp_log("%s", tbapp_stop ? "stopped" : "max-seconds reached");
}
