/* remote_conn.c - one kept-alive libcurl handle per agent, so that a process's requests to an agent reuse one TLS connection. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "remote_conn.h"

/* More agents than this (a journal naming many) get a handle per request. */
#define CONN_MAX 64

struct tb_conn {
	char *url;
	CURL *c;
	pthread_mutex_t busy;      /* one request at a time: libcurl handles are not shared */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tb_conn table[CONN_MAX];
static size_t nconn;

static struct tb_conn *find_or_add(const char *url)
{
	struct tb_conn *s;

	for (size_t i = 0; i < nconn; i++)
		if (!strcmp(table[i].url, url))
			return &table[i];
	if (nconn == CONN_MAX)
		return NULL;
	s = &table[nconn];
	s->url = strdup(url);
	s->c = s->url ? curl_easy_init() : NULL;
	if (!s->c) {
		free(s->url);
		return NULL;
	}
	pthread_mutex_init(&s->busy, NULL);
	nconn++;
	return s;
}

CURL *tb_conn_take(const char *url, struct tb_conn **slot)
{
	pthread_mutex_lock(&table_lock);
	*slot = find_or_add(url);
	pthread_mutex_unlock(&table_lock);
	if (!*slot)
		return curl_easy_init();
	pthread_mutex_lock(&(*slot)->busy);
	return (*slot)->c;
}

void tb_conn_give(CURL *c, struct tb_conn *slot)
{
	if (!slot) {
		curl_easy_cleanup(c);
		return;
	}
	/* Options back to the defaults, so that the handle keeps no pointer into
	 * the request just done; the live connection and TLS session stay. */
	curl_easy_reset(c);
	pthread_mutex_unlock(&slot->busy);
}

void tb_conn_close_all(void)
{
	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < nconn; i++) {
		curl_easy_cleanup(table[i].c);
		free(table[i].url);
		pthread_mutex_destroy(&table[i].busy);
	}
	nconn = 0;
	pthread_mutex_unlock(&table_lock);
}
