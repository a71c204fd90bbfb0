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
static pthread_t thread;
static int running, stopping;
static struct lease *leases;
static size_t nleases;

static void *renewer(void *arg)
{
	const struct timespec tick = { 0, TICK_NS };

	pthread_mutex_lock(&lock);
	while (!stopping) {
		double now = tb_now();

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
		pthread_mutex_unlock(&lock);
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&lock);
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
