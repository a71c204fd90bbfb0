/* netns.c - run a function inside another network namespace without moving the calling thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netns.h"

struct netns_call {
	int fd;
	int (*fn)(void *arg);
	void *arg;
	int result;
};

static void *netns_thread(void *p)
{
	struct netns_call *c = p;

	/* setns() moves only this thread; it ends right after fn. */
	if (setns(c->fd, CLONE_NEWNET) < 0)
		c->result = -errno;
	else
		c->result = c->fn(c->arg);
	return NULL;
}

int tb_netns_run(const char *path, int (*fn)(void *arg), void *arg)
{
	struct netns_call c = { .fn = fn, .arg = arg };
	pthread_t th;
	int err;

	if (!path)
		return fn(arg);
	c.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c.fd < 0)
		return -errno;
	err = pthread_create(&th, NULL, netns_thread, &c);
	if (err) {
		close(c.fd);
		return -err;
	}
	pthread_join(th, NULL);
	close(c.fd);
	return c.result;
}

int tb_netns_id(const char *path, unsigned long long *dev, unsigned long long *ino)
{
	struct stat sb;

	if (stat(path ? path : "/proc/thread-self/ns/net", &sb) < 0)
		return -errno;
	*dev = sb.st_dev;
	*ino = sb.st_ino;
	return 0;
}
