/* spinwork.c - a tiny application with a known CPU bottleneck: a unix-socket work server, a spinner and a client. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* One unit of work: a serial xorshift chain the compiler cannot shorten,
 * about 1 ms of one core on the 2-core development machine at -O2. */
#define UNIT_ITERATIONS 560000
#define MAX_UNITS 100000            /* per request */
#define MAX_REQUESTS 100000
#define IO_TIMEOUT_S 120            /* client: give up on a silent server */

static const char *socket_path;     /* the server removes it on SIGTERM */
static volatile uint64_t sink;      /* the work's result, so it is not optimised away */

static uint64_t work(uint64_t x, long units)
{
	for (long u = 0; u < units; u++)
		for (long i = 0; i < UNIT_ITERATIONS; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
	return x;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: spinwork server SOCKET [--max-seconds S]\n"
			"       spinwork spin [--max-seconds S]\n"
			"       spinwork client SOCKET UNITS [REQUESTS]\n");
	return 2;
}

/* "--max-seconds S" anywhere in argv, default 3600. */
static double max_seconds(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--max-seconds"))
			return atof(argv[i + 1]);
	return 3600;
}

static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -1;
	return v;
}

static int unix_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(stderr, "spinwork: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

static void on_term(int sig)
{
	if (socket_path)
		unlink(socket_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Answer each "N\n" line of one connection with N units of work and "ok\n". */
static void serve(int fd, double deadline, uint64_t *state)
{
	char buf[256];
	size_t len = 0;

	while (seconds() < deadline) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;
		char *nl;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			long units;

			*nl = '\0';
			units = parse_count(buf, MAX_UNITS);
			if (units < 0) {
				(void)!write(fd, "error\n", 6);
				return;
			}
			*state = work(*state, units);
			sink = *state;
			if (write(fd, "ok\n", 3) != 3)
				return;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			return;         /* a line that long is no request */
	}
}

static int server(const char *path, double limit)
{
	double deadline = seconds() + limit;
	struct sockaddr_un sa;
	uint64_t state = 88172645463325252ull;
	int lfd;

	if (unix_address(path, &sa) < 0)
		return 1;
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		fprintf(stderr, "spinwork: cannot listen on %s: %s\n", path, strerror(errno));
		return 1;
	}
	socket_path = path;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "spinwork: serving on %s for at most %g s\n", path, limit);
	while (seconds() < deadline) {
		struct pollfd p = { lfd, POLLIN, 0 };
		int fd;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(fd, deadline, &state);
		close(fd);
	}
	unlink(path);
	return 0;
}

static int spin(double limit)
{
	double deadline = seconds() + limit;
	uint64_t x = 1;

	while (seconds() < deadline) {
		x = work(x, 10);
		sink = x;
	}
	return 0;
}

static int client(const char *path, long units, long requests)
{
	struct timeval tv = { IO_TIMEOUT_S, 0 };
	struct sockaddr_un sa;
	char req[32], reply[8];
	int fd, len;

	if (unix_address(path, &sa) < 0)
		return 1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "spinwork: cannot connect to %s: %s\n", path, strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	len = snprintf(req, sizeof(req), "%ld\n", units);
	for (long i = 0; i < requests; i++) {
		size_t got = 0;

		if (write(fd, req, (size_t)len) != len) {
			fprintf(stderr, "spinwork: request %ld: %s\n", i + 1, strerror(errno));
			return 1;
		}
		/* The reply is exactly "ok\n"; anything else is a failure. */
		while (got < 3) {
			ssize_t n = read(fd, reply + got, 3 - got);

			if (n <= 0) {
				fprintf(stderr, "spinwork: request %ld: %s\n", i + 1,
					n == 0 ? "connection closed" : strerror(errno));
				return 1;
			}
			got += (size_t)n;
		}
		if (memcmp(reply, "ok\n", 3)) {
			fprintf(stderr, "spinwork: request %ld: unexpected reply\n", i + 1);
			return 1;
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return server(argv[2], max_seconds(argc, argv));
	if (argc >= 2 && !strcmp(argv[1], "spin"))
		return spin(max_seconds(argc, argv));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "client")) {
		long units = parse_count(argv[3], MAX_UNITS);
		long requests = argc == 5 ? parse_count(argv[4], MAX_REQUESTS) : 10;

		if (units < 0 || requests < 0)
			return usage();
		return client(argv[2], units, requests);
	}
	return usage();
}
