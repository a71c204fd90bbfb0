/* tb-single.c - single-service app: a job computes in the background while it writes results to disk (fsync) and to a sink. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tbapp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USAGE "[--listen ADDR:PORT] [--sink HOST:PORT] [--data-dir DIR] [--disk-mib N] [--net-mib N]\n" \
	"       [--rounds N] [--interval-ms MS] [--work UNITS] [--threads N] [--duty PERCENT]\n" \
	"       [--max-jobs N] [--max-seconds S] [--ready-file PATH]\n" \
	"  A client sends \"JOB\\n\" and gets \"DONE <seconds> <checksum>\\n\" when the job is complete.\n" \
	"  Environment: TB_SINGLE_LISTEN (0.0.0.0:7000), TB_SINK (127.0.0.1:7100), TB_DATA_DIR (/var/tmp),\n" \
	"  TB_MAX_SECONDS (3600)."

struct params {
	const char *sink;
	long disk_mib, net_mib, rounds, interval_ms, work, threads, duty;
	size_t disk_chunk, net_chunk;
};

struct compute {
	pthread_t thread;
	long units;
	long duty;          /* percent of one core this thread may use */
	uint64_t seed, result;
};

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The job's computation.  It is paced to a duty cycle so that it keeps the
 * CPU busy alongside the I/O without ever being what the job waits for: the
 * I/O path, not the CPU, decides when a job is done.
 */
static void *compute_main(void *arg)
{
	struct compute *c = arg;
	double t0 = tbapp_now(), c0 = thread_cpu();
	uint64_t acc = c->seed;

	for (long u = 0; u < c->units && !tbapp_stop; u++) {
		double used, elapsed;

		acc ^= tbapp_work(acc + (uint64_t)u, 1);
		used = thread_cpu() - c0;
		elapsed = tbapp_now() - t0;
		if (used * 100.0 > c->duty * elapsed)
			tbapp_sleep(used * 100.0 / c->duty - elapsed);
	}
	c->result = acc;
	return NULL;
}

static int open_data(const char *dir, size_t size, int *direct)
{
	char path[4096];
	void *zero;
	int fd;

	snprintf(path, sizeof(path), "%s/tb-single.%ld.dat", dir, (long)getpid());
	*direct = 1;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EINVAL) {
		/* tmpfs and some overlays refuse O_DIRECT: fsync still puts the
		 * writes on the job's path, through the page cache. */
		tbapp_log("%s: no O_DIRECT here, using buffered writes + fsync", dir);
		*direct = 0;
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		tbapp_die("cannot create %s: %s", path, strerror(errno));
	/* The file exists only while we run; its blocks are written once now so
	 * that every job overwrites allocated blocks and costs the same. */
	unlink(path);
	zero = tbapp_aligned_buffer(1 << 20, 0);
	for (size_t off = 0; off < size; off += 1 << 20)
		if (pwrite(fd, zero, 1 << 20, (off_t)off) != 1 << 20)
			tbapp_die("cannot write %s: %s", path, strerror(errno));
	if (fsync(fd) < 0)
		tbapp_die("fsync %s: %s", path, strerror(errno));
	free(zero);
	return fd;
}

static int sink_send(int *sfd, const struct params *p, const void *buf, size_t n)
{
	char hdr[64], line[32];
	int len;

	if (*sfd < 0 && (*sfd = tbapp_connect(p->sink, 10)) < 0)
		return -1;
	len = snprintf(hdr, sizeof(hdr), "SEND %zu\n", n);
	if (tbapp_write_all(*sfd, hdr, (size_t)len) < 0 || tbapp_write_all(*sfd, buf, n) < 0 ||
	    tbapp_read_line(*sfd, line, sizeof(line)) < 0 || strcmp(line, "OK")) {
		tbapp_log("sink %s: %s", p->sink, errno ? strerror(errno) : "bad answer");
		close(*sfd);
		*sfd = -1;
		return -1;
	}
	return 0;
}

/*
 * One job: rounds of (wait for the round's input, then checkpoint: write +
 * fsync a chunk, ship a chunk to the sink and wait for its receipt), with the
 * computation running beside them.  The checkpoint is synchronous, so its disk
 * and network time add up on the job's path.  Returns 0 and the checksum, or -1.
 */
static int run_job(const struct params *p, int dfd, int *sfd, const char *buf, unsigned long job,
		   uint64_t *sum)
{
	struct compute c[16];
	uint64_t acc = job;
	int r = 0;

	for (long i = 0; i < p->threads; i++) {
		c[i].units = p->work / p->threads;
		c[i].duty = p->duty;
		c[i].seed = job * 1000 + (uint64_t)i;
		if (tbapp_thread(&c[i].thread, compute_main, &c[i]))
			tbapp_die("cannot start a compute thread");
	}
	for (long round = 0; round < p->rounds && !tbapp_stop; round++) {
		/* The interval stands in for a batch of input arriving from upstream. */
		if (tbapp_sleep(p->interval_ms / 1000.0) < 0)
			break;
		if (pwrite(dfd, buf, p->disk_chunk, (off_t)(round * p->disk_chunk)) != (ssize_t)p->disk_chunk ||
		    fdatasync(dfd) < 0) {
			tbapp_log("disk write: %s", strerror(errno));
			r = -1;
			break;
		}
		if (sink_send(sfd, p, buf, p->net_chunk) < 0) {
			r = -1;
			break;
		}
	}
	for (long i = 0; i < p->threads; i++) {
		pthread_join(c[i].thread, NULL);
		acc ^= c[i].result;
	}
	*sum = acc;
	return tbapp_stop ? -1 : r;
}

int main(int argc, char **argv)
{
	static const char *const keys[] = { "--listen", "--sink", "--data-dir", "--disk-mib", "--net-mib",
		"--rounds", "--interval-ms", "--work", "--threads", "--duty", "--max-jobs", "--max-seconds", "--ready-file", NULL };
	struct params p;
	const char *listen_at, *dir;
	long max_jobs, max_seconds;
	unsigned long jobs = 0;
	double deadline;
	char *buf;
	int lfd, dfd, sfd = -1, direct;

	tbapp_init("tb-single");
	tbapp_check_opts(argc, argv, keys, USAGE, NULL, 0, NULL);
	listen_at = tbapp_opt(argc, argv, "--listen", "TB_SINGLE_LISTEN", "0.0.0.0:7000");
	p.sink = tbapp_opt(argc, argv, "--sink", "TB_SINK", "127.0.0.1:7100");
	dir = tbapp_opt(argc, argv, "--data-dir", "TB_DATA_DIR", "/var/tmp");
	p.disk_mib = tbapp_opt_long(argc, argv, "--disk-mib", NULL, 192, 0, 4096);
	p.net_mib = tbapp_opt_long(argc, argv, "--net-mib", NULL, 6, 0, 4096);
	p.rounds = tbapp_opt_long(argc, argv, "--rounds", NULL, 2, 1, 4096);
	p.interval_ms = tbapp_opt_long(argc, argv, "--interval-ms", NULL, 150, 0, 60000);
	p.work = tbapp_opt_long(argc, argv, "--work", NULL, 700, 0, 100000000);
	p.threads = tbapp_opt_long(argc, argv, "--threads", NULL, 2, 1, 16);
	p.duty = tbapp_opt_long(argc, argv, "--duty", NULL, 12, 1, 100);
	max_jobs = tbapp_opt_long(argc, argv, "--max-jobs", NULL, 100000, 1, 100000000);
	max_seconds = tbapp_opt_long(argc, argv, "--max-seconds", "TB_MAX_SECONDS", 3600, 1, 86400 * 30);
	/* O_DIRECT wants whole blocks: chunks are rounded down to 4 KiB. */
	p.disk_chunk = ((size_t)p.disk_mib << 20) / (size_t)p.rounds / 4096 * 4096;
	p.net_chunk = ((size_t)p.net_mib << 20) / (size_t)p.rounds;
	buf = tbapp_aligned_buffer(p.disk_chunk > p.net_chunk ? p.disk_chunk : p.net_chunk, 42);

	lfd = tbapp_listen(listen_at);
	dfd = open_data(dir, p.disk_chunk * (size_t)p.rounds, &direct);
	tbapp_log("listening on %s; a job: %ld rounds of %zu B to %s (%s) and %zu B to %s, %ld work units",
		  listen_at, p.rounds, p.disk_chunk, dir, direct ? "O_DIRECT + fdatasync" : "fdatasync",
		  p.net_chunk, p.sink, p.work);
	tbapp_ready(tbapp_opt(argc, argv, "--ready-file", NULL, NULL));
	deadline = tbapp_now() + max_seconds;

	while (!tbapp_stop && tbapp_now() < deadline && jobs < (unsigned long)max_jobs) {
		char line[64], reply[96];
		int cfd = tbapp_accept(lfd, 0.5);

		if (cfd < 0)
			continue;
		/* One client at a time: jobs never overlap, so each is measured alone. */
		while (!tbapp_stop && jobs < (unsigned long)max_jobs &&
		       tbapp_read_line(cfd, line, sizeof(line)) >= 0) {
			double t0 = tbapp_now();
			uint64_t sum;
			int n;

			if (strcmp(line, "JOB")) {
				n = snprintf(reply, sizeof(reply), "ERR unknown request\n");
			} else if (run_job(&p, dfd, &sfd, buf, ++jobs, &sum) < 0) {
				n = snprintf(reply, sizeof(reply), "ERR job failed\n");
			} else {
				n = snprintf(reply, sizeof(reply), "DONE %.6f %016" PRIx64 "\n",
					     tbapp_now() - t0, sum);
			}
			if (tbapp_write_all(cfd, reply, (size_t)n) < 0)
				break;
		}
		close(cfd);
	}
	tbapp_log("%s after %lu jobs", tbapp_stop ? "stopped" : "limit reached", jobs);
	return 0;
}
