/* cgtest.c - file, cgroup and process helpers shared by the cgroup throttler tests. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "cgtest.h"

double cgt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long cgt_slurp(const char *path, char *buf, size_t size)
{
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (used < size - 1) {
		ssize_t n = read(fd, buf + used, size - 1 - used);

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	return (long)used;
}

int cgt_put(const char *dir, const char *file, const char *content)
{
	char path[4096];
	size_t len = strlen(content);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, content, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	return close(fd) < 0 ? -errno : 0;
}

int cgt_mkcg(const char *dir)
{
	cgt_rmcg(dir);
	return mkdir(dir, 0755) < 0 ? -errno : 0;
}

static int kill_members(const char *dir)
{
	char path[4096], buf[8192], *p, *end;
	int alive = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (cgt_slurp(path, buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf; *p; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
			alive++;
		while (*end == '\n')
			end++;
	}
	return alive;
}

void cgt_rmcg(const char *dir)
{
	double deadline = cgt_now() + 5;

	if (access(dir, F_OK) < 0)
		return;
	/* Killed processes leave the cgroup once reaped; ours are reaped by
	 * cgt_wait or, orphaned, by init. */
	while (kill_members(dir) > 0 && cgt_now() < deadline) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(20000);
	}
	while (rmdir(dir) < 0 && errno == EBUSY && cgt_now() < deadline)
		usleep(20000);
}

int cgt_attach(const char *dir, pid_t pid)
{
	char value[32];

	snprintf(value, sizeof(value), "%d", (int)pid);
	return tb_cg_write(dir, "cgroup.procs", value);
}

int cgt_wait(pid_t pid, double timeout)
{
	double deadline = cgt_now() + timeout;
	int status;

	while (cgt_now() < deadline) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		usleep(5000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}
