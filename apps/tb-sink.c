/* tb-sink.c - the remote end of single-service: receives result batches over TCP and discards them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tbapp.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "[--listen ADDR:PORT] [--max-seconds S] [--max-clients N] [--ready-file PATH]\n" \
	"  Protocol: \"SEND <bytes>\\n\" then the bytes; answered \"OK\\n\".\n" \
	"  Environment: TB_SINK_LISTEN (default 0.0.0.0:7100), TB_MAX_SECONDS (default 3600)."

static void serve(int fd)
{
	char line[128];

	while (!tbapp_stop && tbapp_read_line(fd, line, sizeof(line)) >= 0) {
		uint64_t n;

		if (sscanf(line, "SEND %" SCNu64, &n) != 1) {
			tbapp_log("bad request '%.40s'", line);
			break;
		}
		if (tbapp_discard(fd, n) < 0 || tbapp_write_all(fd, "OK\n", 3) < 0)
			break;
	}
	close(fd);
}

int main(int argc, char **argv)
{
	static const char *const keys[] = { "--listen", "--max-seconds", "--max-clients", "--ready-file", NULL };
	const char *listen_at;
	long max_seconds, max_clients;
	double deadline;
	int lfd;

	tbapp_init("tb-sink");
	tbapp_check_opts(argc, argv, keys, USAGE, NULL, 0, NULL);
	listen_at = tbapp_opt(argc, argv, "--listen", "TB_SINK_LISTEN", "0.0.0.0:7100");
	max_seconds = tbapp_opt_long(argc, argv, "--max-seconds", "TB_MAX_SECONDS", 3600, 1, 86400 * 30);
	max_clients = tbapp_opt_long(argc, argv, "--max-clients", NULL, 64, 1, 4096);
	lfd = tbapp_listen(listen_at);
	tbapp_log("listening on %s", listen_at);
	tbapp_ready(tbapp_opt(argc, argv, "--ready-file", NULL, NULL));
	deadline = tbapp_now() + max_seconds;

	tbapp_serve_clients(lfd, max_clients, deadline, serve);
	return 0;
}
