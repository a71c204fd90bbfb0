/* renew.c - keep the leases of remote throttles alive from a thread of their own while the trial runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "progress.h"
#include "remote.h"

#define TICK_NS (200 * 1000 * 1000L)

struct lease {
	char *saved;
	double every, last;        /* renewed every third of the lease */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;        /* on the monotonic clock: stop needs no wait for the tick */
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static pthread_t thread;
static int running, stopping;
static struct lease *leases;
static size_t nleases;

static void make_wake(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &a);
	pthread_condattr_destroy(&a);
}

static void *renewer(void *arg)
{
	pthread_mutex_lock(&lock);
	while (!stopping) {
		double now = tb_now();
		struct timespec next;

		/* Under the lock: the main thread's release waits for a renewal
		 * in flight rather than racing it. */
		for (size_t i = 0; i < nleases; i++) {
			if (now - leases[i].last < leases[i].every)
				continue;
			if (tb_remote_renew(leases[i].saved) == -ENOENT)
				tb_warn("an agent restored a throttle on its own (its lease ran out): "
					"this trial's measurement is suspect");
			leases[i].last = now;
		}
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&wake, &lock, &next);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int tb_renew_add(const char *saved)
{
	json_t *j = json_loads(saved, 0, NULL);
	double lease = json_number_value(json_object_get(j, "lease"));
	struct lease *grown;
	int r = 0;

	json_decref(j);
	pthread_mutex_lock(&lock);
	grown = realloc(leases, (nleases + 1) * sizeof(*grown));
	if (grown)
		leases = grown;
	if (!grown || !(leases[nleases].saved = strdup(saved))) {
		r = -ENOMEM;
	} else {
		leases[nleases].every = lease / 3;
		leases[nleases++].last = tb_now();
	}
	if (r == 0 && !running) {
		pthread_once(&wake_once, make_wake);
		r = -pthread_create(&thread, NULL, renewer, NULL);
		running = r == 0;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

void tb_renew_remove(const char *saved)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nleases; i++) {
		if (strcmp(leases[i].saved, saved))
			continue;
		free(leases[i].saved);
		leases[i] = leases[--nleases];
		break;
	}
	pthread_mutex_unlock(&lock);
}

void tb_renew_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = 1;
	if (running)
		pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	if (running)
		pthread_join(thread, NULL);
	running = stopping = 0;
	for (size_t i = 0; i < nleases; i++)
		free(leases[i].saved);
	free(leases);
	leases = NULL;
	nleases = 0;
}
