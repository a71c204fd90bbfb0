/* netpair.c - two test network namespaces joined by a veth pair, and a TCP rate meter between them. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "netpair.h"
#include "testhost.h"

int netpair_create(struct netpair *p)
{
	int pid = (int)getpid(), x = pid % 250 + 1;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 2; i++) {
		snprintf(p->ns[i], sizeof(p->ns[i]), "throttlebot-test-%c-%d", 'a' + i, pid);
		snprintf(p->path[i], sizeof(p->path[i]), "/run/netns/%s", p->ns[i]);
		snprintf(p->ifname[i], sizeof(p->ifname[i]), "tbveth%c", 'a' + i);
		snprintf(p->addr[i], sizeof(p->addr[i]), "10.200.%d.%d", x, i + 1);
	}
	/* no IPv6: its autoconfiguration would send packets at random times,
	 * which counters in tc's output (htb's direct_packets_stat) show */
	if (tb_test_sh("ip netns add %s && ip netns add %s && "
		       "ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && "
		       "ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1 && "
		       "ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && "
		       "ip netns exec %s sysctl -qw net.ipv6.conf.default.disable_ipv6=1 && "
		       "ip link add tbt%da netns %s type veth peer name tbt%db netns %s && "
		       "ip -n %s link set tbt%da name %s && ip -n %s link set tbt%db name %s && "
		       "ip -n %s addr add %s/24 dev %s && ip -n %s addr add %s/24 dev %s && "
		       "ip -n %s link set %s up && ip -n %s link set %s up && "
		       "ip -n %s link set lo up && ip -n %s link set lo up",
		       p->ns[0], p->ns[1], p->ns[0], p->ns[0], p->ns[1], p->ns[1],
		       pid, p->ns[0], pid, p->ns[1],
		       p->ns[0], pid, p->ifname[0], p->ns[1], pid, p->ifname[1],
		       p->ns[0], p->addr[0], p->ifname[0], p->ns[1], p->addr[1], p->ifname[1],
		       p->ns[0], p->ifname[0], p->ns[1], p->ifname[1], p->ns[0], p->ns[1]) != 0) {
		netpair_destroy(p);
		return -1;
	}
	return 0;
}

void netpair_destroy(struct netpair *p)
{
	for (int i = 0; i < 2; i++)
		if (p->ns[i][0])
			tb_test_sh("ip netns del %s 2>/dev/null", p->ns[i]);
}

/* ---- rate meter --------------------------------------------------------- */

struct meter {
	const char *from_ns, *to_ns, *to_addr;
	double seconds;
	pthread_mutex_t lock;
	int port;                  /* set by the receiver once listening, -1 on failure */
	double rate;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int enter(const char *path)
{
	int fd, r;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r;
}

static void set_port(struct meter *m, int port)
{
	pthread_mutex_lock(&m->lock);
	m->port = port;
	pthread_mutex_unlock(&m->lock);
}

static void *receiver(void *arg)
{
	struct meter *m = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct pollfd pfd;
	static char buf[1 << 16];
	double first = 0, last = 0, end;
	long long bytes = 0;
	int ls = -1, s = -1;

	if (enter(m->to_ns) < 0 || (ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    inet_pton(AF_INET, m->to_addr, &sa.sin_addr) != 1 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
		set_port(m, -1);
		goto out;
	}
	set_port(m, ntohs(sa.sin_port));
	pfd.fd = ls;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 5000) != 1 || (s = accept(ls, NULL, NULL)) < 0)
		goto out;
	pfd.fd = s;
	end = now() + 5 + m->seconds;
	/* the window opens at the first byte and lasts m->seconds */
	while (now() < end) {
		ssize_t n;

		if (poll(&pfd, 1, 200) != 1)
			continue;
		n = recv(s, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		last = now();
		if (!first) {
			first = last;
			end = first + m->seconds;
			continue;   /* the first read only starts the clock */
		}
		bytes += n;
	}
	if (last > first)
		m->rate = (double)bytes / (last - first);
out:
	if (s >= 0)
		close(s);
	if (ls >= 0)
		close(ls);
	return NULL;
}

static void *sender(void *arg)
{
	struct meter *m = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static char buf[1 << 16];
	int s = -1, port = 0, sndbuf = 256 << 10;
	double end = now() + 5;

	while (!port && now() < end) {
		pthread_mutex_lock(&m->lock);
		port = m->port;
		pthread_mutex_unlock(&m->lock);
		if (!port)
			usleep(1000);
	}
	if (port <= 0 || enter(m->from_ns) < 0)
		return NULL;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, m->to_addr, &sa.sin_addr);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* a small send buffer keeps the stream from outliving the window */
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	end = now() + m->seconds + 10;
	while (now() < end && send(s, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
		;
out:
	if (s >= 0)
		close(s);
	return NULL;
}

double netpair_rate(const char *from_ns, const char *to_ns, const char *to_addr, double seconds)
{
	struct meter m = { .from_ns = from_ns, .to_ns = to_ns, .to_addr = to_addr,
			   .seconds = seconds, .rate = -1 };
	pthread_t r, s;

	pthread_mutex_init(&m.lock, NULL);
	if (pthread_create(&r, NULL, receiver, &m) != 0)
		return -1;
	if (pthread_create(&s, NULL, sender, &m) != 0) {
		set_port(&m, -1);
		pthread_join(r, NULL);
		return -1;
	}
	pthread_join(r, NULL);
	pthread_join(s, NULL);
	pthread_mutex_destroy(&m.lock);
	return m.rate;
}

int netpair_capture(char *out, size_t size, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	size_t len = 0;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = '\0';
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (len + 1 < size) {
		size_t n = fread(out + len, 1, size - 1 - len, f);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';
	st = pclose(f);
	return st == -1 ? -1 : WEXITSTATUS(st);
}
