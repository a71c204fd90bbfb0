/* tbapp.h - small helpers shared by the reference applications: options, sockets, signals, work. */
#ifndef TB_APP_H
#define TB_APP_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

/* Set by SIGTERM/SIGINT; blocking calls return EINTR (no SA_RESTART). */
extern volatile int tbapp_stop;

/* The program name used in messages. */
extern const char *tbapp_name;

void tbapp_init(const char *name);
/* pthread_create, with SIGTERM/SIGINT blocked in the new thread so that they
 * reach the main thread (and interrupt its blocking calls); 0 or an errno. */
int tbapp_thread(pthread_t *t, void *(*fn)(void *), void *arg);
void tbapp_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void tbapp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic seconds. */
double tbapp_now(void);
/* Sleep s seconds unless stopped; 0, or -1 when stopped. */
int tbapp_sleep(double s);

/* "--key value" option value or the environment variable env, or def. */
const char *tbapp_opt(int argc, char **argv, const char *key, const char *env, const char *def);
long tbapp_opt_long(int argc, char **argv, const char *key, const char *env, long def, long lo, long hi);
/* Reject options not in the NULL-terminated list keys (each takes a value);
 * positional arguments are left alone and counted in *npos / copied to pos. */
void tbapp_check_opts(int argc, char **argv, const char *const *keys, const char *usage,
		      char **pos, int maxpos, int *npos);

/* Listen on "ADDR:PORT" (ADDR may be empty or "*" for any); the socket. */
int tbapp_listen(const char *addrport);
/* Wait up to timeout s for a connection; the fd, -1 with errno (ETIMEDOUT, EINTR). */
int tbapp_accept(int lfd, double timeout);
/* Accept clients on lfd until stopped or deadline (tbapp_now() clock), each
 * served by serve(fd) in a thread of its own, at most max_clients at once;
 * serve closes fd. */
void tbapp_serve_clients(int lfd, long max_clients, double deadline, void (*serve)(int fd));
/* Connect to "HOST:PORT", retrying up to timeout s; the fd or -1 (message printed). */
int tbapp_connect(const char *hostport, double timeout);

/* Whole-buffer I/O; 0, or -1 with errno (EPIPE at EOF for reads). */
int tbapp_write_all(int fd, const void *buf, size_t n);
int tbapp_read_all(int fd, void *buf, size_t n);
/* Read one line (without '\n') of at most size-1 chars; its length or -1. */
ssize_t tbapp_read_line(int fd, char *buf, size_t size);
/* Read and throw away n bytes; 0 or -1. */
int tbapp_discard(int fd, uint64_t n);

/* Create path (a file) to tell a launcher we are ready, removed at exit; no-op for NULL. */
void tbapp_ready(const char *path);

/* Deterministic CPU work: units rounds of mixing over a 4 KiB buffer; the
 * result depends on seed so the compiler cannot drop it. */
uint64_t tbapp_work(uint64_t seed, long units);
/* Mix buf into a 64-bit checksum (also CPU work, proportional to n). */
uint64_t tbapp_checksum(const void *buf, size_t n, uint64_t seed);

/* Allocate n bytes aligned for O_DIRECT and fill them with pseudo-random data. */
void *tbapp_aligned_buffer(size_t n, uint64_t seed);

#endif
