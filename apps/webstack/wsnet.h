/* wsnet.h - what the webstack's three programs share: options, loopback sockets, a deadline, SIGTERM. */
#ifndef WSNET_H
#define WSNET_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* Options common to the three programs; each keeps only those it uses. */
struct ws_opts {
	int port;                /* --port: loopback port to listen on (0: none) */
	int backend_port;        /* --backend-port: where tb-web's requests go */
	long work_us;            /* --work-us: CPU microseconds per backend request */
	double duty;             /* --duty: the busy program's fraction of one core */
	double max_seconds;      /* --max-seconds: exit after this long at the latest */
	const char *ready_file;  /* --ready-file: created once listening, removed at exit */
};

/* Parse argv into o (defaults already set); prints usage and returns -1 on error, exits 0 on --help. */
int ws_parse(int argc, char **argv, struct ws_opts *o, const char *usage);

/* Monotonic seconds. */
double ws_now(void);

/* SIGTERM/SIGINT set ws_stop; SIGPIPE is ignored (a client gone is a write error). */
extern volatile sig_atomic_t ws_stop;
void ws_signals(void);

/* A listening TCP socket on 127.0.0.1:port, or -1 (message printed). */
int ws_listen(const char *prog, int port);

/* A connected TCP socket to 127.0.0.1:port with I/O timeouts, or -1. */
int ws_connect(int port, int timeout_s);

/* Create the ready file (its existence says: listening), or remove it. */
int ws_ready(const char *prog, const char *path);
void ws_unready(const char *path);

/*
 * Accept connections until SIGTERM or the deadline and hand each to a
 * detached thread running serve(fd, arg); at most max_conns at once (the
 * rest are closed at once).  Returns 0 on a clean stop.
 */
int ws_accept_loop(const char *prog, int lfd, double deadline, int max_conns,
		   void (*serve)(int fd, void *arg), void *arg);

/* Write all of buf; -1 on error. */
int ws_write_all(int fd, const void *buf, size_t len);

#endif
