/* tb-storage.c - frontend/storage app, storage tier: reads a block bypassing the page cache and pre-processes it. */
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
#include <sys/stat.h>
#include <unistd.h>

#define USAGE "[--listen ADDR:PORT] [--file PATH] [--file-mib N] [--read-kib N] [--work UNITS]\n" \
	"       [--max-seconds S] [--max-clients N] [--ready-file PATH]\n" \
	"  Protocol: \"GET <n>\\n\" reads block n (modulo the file) with O_DIRECT, answers \"DATA <checksum>\\n\".\n" \
	"  Environment: TB_STORAGE_LISTEN (0.0.0.0:7300), TB_STORAGE_FILE (/var/tmp/tb-storage.dat),\n" \
	"  TB_MAX_SECONDS (3600)."

struct storage {
	const char *path;
	size_t file_size, read_size;
	long work;
	int direct;
};

static struct storage st;

/* Create the data file once (pseudo-random content), or keep one of the right size. */
static void prepare_file(void)
{
	struct stat sb;
	void *buf;
	int fd;

	if (stat(st.path, &sb) == 0 && (size_t)sb.st_size == st.file_size)
		return;
	fd = open(st.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		tbapp_die("cannot create %s: %s", st.path, strerror(errno));
	buf = tbapp_aligned_buffer(1 << 20, 7);
	for (size_t off = 0; off < st.file_size; off += 1 << 20) {
		((uint64_t *)buf)[0] = off;
		if (pwrite(fd, buf, 1 << 20, (off_t)off) != 1 << 20)
			tbapp_die("cannot write %s: %s", st.path, strerror(errno));
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		tbapp_die("cannot write %s: %s", st.path, strerror(errno));
	free(buf);
}

static int open_file(void)
{
	int fd = open(st.path, O_RDONLY | O_DIRECT | O_CLOEXEC);

	if (fd < 0 && errno == EINVAL) {
		fd = open(st.path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && st.direct) {
			tbapp_log("%s: no O_DIRECT on this filesystem: reads may hit the page cache", st.path);
			st.direct = 0;
		}
	}
	if (fd < 0)
		tbapp_die("cannot open %s: %s", st.path, strerror(errno));
	return fd;
}

/* The pre-processing: a checksum over a sample of the block plus a fixed amount of work. */
static uint64_t preprocess(const uint64_t *block, size_t n, uint64_t seed)
{
	uint64_t acc = seed;

	for (size_t i = 0; i < n / 8; i += 64)
		acc = tbapp_checksum(&block[i], 8, acc);
	return tbapp_work(acc, st.work);
}

static void serve(int cfd)
{
	int fd = open_file();
	size_t blocks = st.file_size / st.read_size;
	void *buf = tbapp_aligned_buffer(st.read_size, 1);
	char line[64], reply[64];

	while (!tbapp_stop && tbapp_read_line(cfd, line, sizeof(line)) >= 0) {
		unsigned long long n;
		off_t off;
		int len;

		if (sscanf(line, "GET %llu", &n) != 1) {
			len = snprintf(reply, sizeof(reply), "ERR bad request\n");
		} else {
			off = (off_t)((n % blocks) * st.read_size);
			if (pread(fd, buf, st.read_size, off) != (ssize_t)st.read_size) {
				tbapp_log("read %s at %lld: %s", st.path, (long long)off, strerror(errno));
				len = snprintf(reply, sizeof(reply), "ERR read failed\n");
			} else {
				len = snprintf(reply, sizeof(reply), "DATA %016" PRIx64 "\n",
					       preprocess(buf, st.read_size, n));
			}
		}
		if (tbapp_write_all(cfd, reply, (size_t)len) < 0)
			break;
	}
	free(buf);
	close(fd);
	close(cfd);
}

int main(int argc, char **argv)
{
	static const char *const keys[] = { "--listen", "--file", "--file-mib", "--read-kib", "--work",
		"--max-seconds", "--max-clients", "--ready-file", NULL };
	const char *listen_at;
	long max_seconds, max_clients, read_kib;
	double deadline;
	int lfd;

	tbapp_init("tb-storage");
	tbapp_check_opts(argc, argv, keys, USAGE, NULL, 0, NULL);
	listen_at = tbapp_opt(argc, argv, "--listen", "TB_STORAGE_LISTEN", "0.0.0.0:7300");
	st.path = tbapp_opt(argc, argv, "--file", "TB_STORAGE_FILE", "/var/tmp/tb-storage.dat");
	st.file_size = (size_t)tbapp_opt_long(argc, argv, "--file-mib", NULL, 256, 1, 65536) << 20;
	read_kib = tbapp_opt_long(argc, argv, "--read-kib", NULL, 2048, 4, 65536);
	st.read_size = (size_t)read_kib / 4 * 4 << 10;
	st.work = tbapp_opt_long(argc, argv, "--work", NULL, 1, 0, 1000000);
	max_seconds = tbapp_opt_long(argc, argv, "--max-seconds", "TB_MAX_SECONDS", 3600, 1, 86400 * 30);
	max_clients = tbapp_opt_long(argc, argv, "--max-clients", NULL, 64, 1, 4096);
	if (st.read_size > st.file_size)
		tbapp_die("--read-kib %ld is larger than the file", read_kib);
	st.direct = 1;
	lfd = tbapp_listen(listen_at);
	prepare_file();
	close(open_file());
	tbapp_log("listening on %s; %zu B reads from %s (%zu B%s), %ld work units per request",
		  listen_at, st.read_size, st.path, st.file_size, st.direct ? ", O_DIRECT" : "", st.work);
	tbapp_ready(tbapp_opt(argc, argv, "--ready-file", NULL, NULL));
	deadline = tbapp_now() + max_seconds;

	tbapp_serve_clients(lfd, max_clients, deadline, serve);
	return 0;
}
