/* agent.c - throttlebot agent: load the throttlers, undo what a killed agent left, serve, enforce leases, restore all at exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "commands.h"
#include "journal.h"
#include "log.h"
#include "progress.h"
#include "restore.h"

/* How often leases are checked: a lapsed one is restored within this. */
#define TICK_NS (100 * 1000 * 1000L)

static int load_throttlers(struct tb_agent *a)
{
	const struct tb_agent_conf *c = a->conf;
	int r = 0;

	for (size_t i = 0; r == 0 && i < c->nthrottlers; i++) {
		struct tb_instance *in = &a->throttlers[i];

		r = tb_instance_load(in, c->throttlers[i].plugin, c->throttlers[i].name,
				     TB_KIND_THROTTLER, c->throttlers[i].group, c->plugin_dir);
		if (r < 0)
			break;
		a->nthrottlers++;
		r = tb_instance_check_settings(in);
		if (r == 0)
			r = tb_instance_init(in, NULL);
	}
	return r;
}

static void unload_throttlers(struct tb_agent *a)
{
	for (size_t i = a->nthrottlers; i-- > 0;) {
		tb_instance_fini(&a->throttlers[i]);
		tb_instance_unload(&a->throttlers[i]);
	}
	a->nthrottlers = 0;
}

/* The agent's own journal, under its own lock (one agent per node).  What a
 * killed agent left applied is restored before anything is served. */
static int open_journal(struct tb_agent *a)
{
	const char *path = a->conf->journal;
	int r = tb_journal_open_locked_by(path, a->conf->lock, 1, &a->journal);

	if (r == -EBUSY) {
		tb_error("%s is held: another agent runs on this node", a->conf->lock);
		return r;
	}
	if (r < 0) {
		tb_error("cannot open %s: %s", path, strerror(-r));
		return r;
	}
	if (tb_restore_pending(a->journal, path) != 0) {
		tb_error("%s: what a previous agent left could not all be restored; the agent "
			 "will not start until it is (see throttlebot-agent(8))", path);
		return -EIO;
	}
	return 0;
}

static void serve(struct tb_agent *a)
{
	const struct timespec tick = { 0, TICK_NS };

	while (!tb_cancelled) {
		nanosleep(&tick, NULL);
		tb_agent_expire(a, tb_now());
	}
	tb_info("stopping on signal %d", (int)tb_cancelled);
}

int tb_cmd_agent(const char *config)
{
	struct tb_agent_conf conf;
	struct tb_agent *a = calloc(1, sizeof(*a));
	struct MHD_Daemon *d = NULL;
	int r;

	if (!a)
		return TB_EXIT_FAILURE;
	pthread_mutex_init(&a->lock, NULL);
	a->conf = &conf;
	r = tb_agent_conf_load(&conf, config);
	if (r == 0)
		r = tb_agent_auth_load(a);
	if (r == 0)
		r = load_throttlers(a);
	if (r == 0 && (r = tb_cg_mounts_read(NULL, &a->mounts)) < 0)
		tb_error("cannot read the cgroup mounts: %s", strerror(-r));
	if (r == 0 && geteuid() != 0) {
		tb_error("throttlebot agent changes cgroup and network settings: run it as root");
		r = -EPERM;
	}
	if (r == 0)
		r = open_journal(a);
	if (r == 0)
		r = tb_agent_http_start(a, &d);
	if (r == 0)
		serve(a);
	if (d)
		MHD_stop_daemon(d);     /* no request runs from here on */
	if (a->journal && tb_agent_release_all(a) < 0)
		r = -EIO;
	tb_journal_close(a->journal);
	unload_throttlers(a);
	tb_cg_mounts_free(&a->mounts);
	tb_agent_auth_free(a);
	tb_agent_conf_free(&conf);
	pthread_mutex_destroy(&a->lock);
	free(a);
	if (r == -EINVAL)
		return TB_EXIT_CONFIG;
	return r < 0 ? TB_EXIT_FAILURE : TB_EXIT_OK;   /* a signal is how an agent stops */
}
