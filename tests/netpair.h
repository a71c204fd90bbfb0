/* netpair.h - two test network namespaces joined by a veth pair, and a TCP rate meter between them. */
#ifndef TB_NETPAIR_H
#define TB_NETPAIR_H

#include <stddef.h>

struct netpair {
	char ns[2][64];            /* "throttlebot-test-a-<pid>", "...-b-<pid>" */
	char path[2][128];         /* /run/netns/<ns> */
	char ifname[2][16];        /* the veth end in each */
	char addr[2][32];          /* 10.200.X.1, 10.200.X.2 */
};

/* Create both namespaces, the veth pair and addresses; 0 or -1 (cleaned). */
int netpair_create(struct netpair *p);
/* Delete what netpair_create made; harmless if it is gone already. */
void netpair_destroy(struct netpair *p);

/*
 * Bytes per second of one TCP stream from namespace from_ns to to_addr in
 * to_ns (paths; NULL = this process's namespace), measured by the receiver
 * over seconds from its first byte.  Bounded: gives up (returns -1) if no
 * connection within 5 s.
 */
double netpair_rate(const char *from_ns, const char *to_ns, const char *to_addr, double seconds);

/* Run a shell command and capture its standard output (NUL-terminated);
 * returns its exit status, or -1. */
int netpair_capture(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
