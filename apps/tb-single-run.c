/* tb-single-run.c - single-service workload driver: runs jobs on tb-single and exits when they are done. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tbapp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define USAGE "[HOST:PORT] [JOBS] [--timeout S] [--connect-timeout S]\n" \
	"  Runs JOBS (default 1) jobs one after another; exit status 0 once all are done.\n" \
	"  Its wall time is the job completion time.  A refused connection is retried for\n" \
	"  --connect-timeout seconds (10); a job's answer is awaited --timeout seconds (300).\n" \
	"  Environment: TB_SINGLE (127.0.0.1:7000)."

int main(int argc, char **argv)
{
	static const char *const keys[] = { "--timeout", "--connect-timeout", NULL };
	char *pos[2] = { NULL, NULL };
	const char *target;
	long jobs = 1, timeout, connect_timeout;
	struct timeval tv;
	double t0 = tbapp_now();
	int npos, fd;

	tbapp_init("tb-single-run");
	tbapp_check_opts(argc, argv, keys, USAGE, pos, 2, &npos);
	target = pos[0] ? pos[0] : tbapp_opt(argc, argv, "", "TB_SINGLE", "127.0.0.1:7000");
	if (pos[1]) {
		char *end;

		jobs = strtol(pos[1], &end, 10);
		if (*end || jobs < 1 || jobs > 100000)
			tbapp_die("JOBS '%s': expected 1 to 100000", pos[1]);
	}
	timeout = tbapp_opt_long(argc, argv, "--timeout", NULL, 300, 1, 86400);
	connect_timeout = tbapp_opt_long(argc, argv, "--connect-timeout", NULL, 10, 0, 3600);
	fd = tbapp_connect(target, connect_timeout);
	if (fd < 0)
		return 1;
	/* A stuck server must not hang the driver forever. */
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (long j = 1; j <= jobs; j++) {
		char line[128];

		if (tbapp_write_all(fd, "JOB\n", 4) < 0 || tbapp_read_line(fd, line, sizeof(line)) < 0)
			tbapp_die("job %ld: lost %s: %s", j, target, tbapp_stop ? "stopped" : "no answer");
		if (strncmp(line, "DONE ", 5))
			tbapp_die("job %ld: %s answered '%s'", j, target, line);
		printf("job %ld: %s\n", j, line + 5);
	}
	close(fd);
	printf("jobs %ld wall %.6f s\n", jobs, tbapp_now() - t0);
	return 0;
}
