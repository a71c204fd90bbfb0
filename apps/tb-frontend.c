/* tb-frontend.c - frontend/storage app, front tier: logs each request to its disk, then asks tb-storage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tbapp.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USAGE "[--listen ADDR:PORT] [--storage HOST:PORT] [--log-dir DIR] [--sync-every N]\n" \
	"       [--max-seconds S] [--max-clients N] [--ready-file PATH]\n" \
	"  Requests are logged with write() and made durable with fdatasync() every N (default 32).\n" \
	"  Protocol: \"REQ <n>\\n\" answered \"OK <checksum>\\n\" once tb-storage has served block n.\n" \
	"  Environment: TB_FRONTEND_LISTEN (0.0.0.0:7200), TB_STORAGE (127.0.0.1:7300),\n" \
	"  TB_LOG_DIR (/var/tmp), TB_MAX_SECONDS (3600)."

/* The request log is cut back to nothing past this size: it must not fill the disk. */
#define LOG_MAX ((off_t)64 << 20)

static const char *storage_at;
static long sync_every;
static int log_fd;
static unsigned long logged;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;   /* the request log */

static int log_request(const char *line)
{
	char rec[128];
	int n = snprintf(rec, sizeof(rec), "%.6f %s\n", tbapp_now(), line);
	int sync;

	pthread_mutex_lock(&lock);
	if (lseek(log_fd, 0, SEEK_END) > LOG_MAX && ftruncate(log_fd, 0) < 0)
		tbapp_log("cannot truncate the request log: %s", strerror(errno));
	sync = ++logged % (unsigned long)sync_every == 0;
	pthread_mutex_unlock(&lock);
	if (tbapp_write_all(log_fd, rec, (size_t)n) < 0 || (sync && fdatasync(log_fd) < 0)) {
		tbapp_log("request log: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void serve(int cfd)
{
	int sfd = -1;
	char line[64], answer[64], reply[80];

	while (!tbapp_stop && tbapp_read_line(cfd, line, sizeof(line)) >= 0) {
		unsigned long long n;
		int len;

		if (sscanf(line, "REQ %llu", &n) != 1) {
			len = snprintf(reply, sizeof(reply), "ERR bad request\n");
		} else if (log_request(line) < 0) {
			len = snprintf(reply, sizeof(reply), "ERR cannot log\n");
		} else {
			char get[40];
			int glen = snprintf(get, sizeof(get), "GET %llu\n", n);

			/* One storage connection per client connection, opened on first use. */
			if (sfd < 0)
				sfd = tbapp_connect(storage_at, 10);
			if (sfd < 0 || tbapp_write_all(sfd, get, (size_t)glen) < 0 ||
			    tbapp_read_line(sfd, answer, sizeof(answer)) < 0 || strncmp(answer, "DATA ", 5)) {
				tbapp_log("storage %s: %s", storage_at, sfd < 0 ? "unreachable" : "bad answer");
				if (sfd >= 0)
					close(sfd);
				sfd = -1;
				len = snprintf(reply, sizeof(reply), "ERR storage failed\n");
			} else {
				len = snprintf(reply, sizeof(reply), "OK %s\n", answer + 5);
			}
		}
		if (tbapp_write_all(cfd, reply, (size_t)len) < 0)
			break;
	}
	if (sfd >= 0)
		close(sfd);
	close(cfd);
}

int main(int argc, char **argv)
{
	static const char *const keys[] = { "--listen", "--storage", "--log-dir", "--sync-every",
		"--max-seconds", "--max-clients", "--ready-file", NULL };
	const char *listen_at, *dir;
	long max_seconds, max_clients;
	char path[4096];
	double deadline;
	int lfd;

	tbapp_init("tb-frontend");
	tbapp_check_opts(argc, argv, keys, USAGE, NULL, 0, NULL);
	listen_at = tbapp_opt(argc, argv, "--listen", "TB_FRONTEND_LISTEN", "0.0.0.0:7200");
	storage_at = tbapp_opt(argc, argv, "--storage", "TB_STORAGE", "127.0.0.1:7300");
	dir = tbapp_opt(argc, argv, "--log-dir", "TB_LOG_DIR", "/var/tmp");
	sync_every = tbapp_opt_long(argc, argv, "--sync-every", NULL, 32, 1, 1000000);
	max_seconds = tbapp_opt_long(argc, argv, "--max-seconds", "TB_MAX_SECONDS", 3600, 1, 86400 * 30);
	max_clients = tbapp_opt_long(argc, argv, "--max-clients", NULL, 64, 1, 4096);
	snprintf(path, sizeof(path), "%s/tb-frontend.log", dir);
	log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		tbapp_die("cannot open the request log %s: %s", path, strerror(errno));
	lfd = tbapp_listen(listen_at);
	tbapp_log("listening on %s; requests logged to %s (fdatasync every %ld), storage at %s",
		  listen_at, path, sync_every, storage_at);
	tbapp_ready(tbapp_opt(argc, argv, "--ready-file", NULL, NULL));
	deadline = tbapp_now() + max_seconds;

	tbapp_serve_clients(lfd, max_clients, deadline, serve);
	return 0;
}
