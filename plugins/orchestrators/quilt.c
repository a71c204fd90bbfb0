/* quilt.c - the "quilt" orchestrator: services and targets from a Quilt deployment's "quilt ps" listing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "quilt_ps.h"
#include "small_file.h"

/* A listing of thousands of containers is well under this. */
#define LISTING_MAX (4u << 20)

extern char **environ;

struct quilt {
	const struct tb_host *h;
	char *listing;             /* a file holding the listing, or NULL */
	char **argv;               /* else the command that prints it */
	double timeout;
	long long agent_port;
};

static const struct tb_setting_spec settings[] = {
	{ "listing", TB_SETTING_STRING, 0, "a file holding the output of \"quilt ps\"" },
	{ "command", TB_SETTING_STRINGS, 0, "the command that prints it, as argv (default "
	  "[\"quilt\", \"ps\"]); no shell" },
	{ "timeout", TB_SETTING_NUMBER, 0, "seconds the command may take (default 30)" },
	{ "agent_port", TB_SETTING_INT, 0, "the port each machine's agent listens on, at the "
	  "machine's public address (default 7443)" },
	{ NULL, 0, 0, NULL }
};

static void quilt_fini(void *state)
{
	struct quilt *q = state;

	if (!q)
		return;
	for (size_t i = 0; q->argv && q->argv[i]; i++)
		free(q->argv[i]);
	free(q->argv);
	free(q->listing);
	free(q);
}

static int set_argv(struct quilt *q, const struct tb_config *cfg)
{
	const struct tb_host *h = q->h;
	int n = cfg ? h->get_count(h, cfg, "command") : -ENOENT;
	static const char *const dflt[] = { "quilt", "ps" };

	if (n < 0 && n != -ENOENT)
		return n;
	if (n == 0)
		return h->config_error(h, cfg, "command", "'command' is empty");
	if (!(q->argv = calloc(n > 0 ? (size_t)n + 1 : 3, sizeof(char *))))
		return -ENOMEM;
	for (int i = 0; i < (n > 0 ? n : 2); i++) {
		const char *s = dflt[i < 2 ? i : 0];

		if (n > 0 && h->get_string_at(h, cfg, "command", i, &s) < 0)
			return -EINVAL;
		if (!(q->argv[i] = strdup(s)))
			return -ENOMEM;
	}
	return 0;
}

static int quilt_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct quilt *q = calloc(1, sizeof(*q));
	const char *listing;
	int r;

	if (!q)
		return -ENOMEM;
	q->h = h;
	q->timeout = 30;
	q->agent_port = 7443;
	*state = q;
	if (!cfg)
		return 0;
	r = h->get_string(h, cfg, "listing", &listing);
	if (r == 0 && !(q->listing = strdup(listing)))
		return -ENOMEM;
	if (r < 0 && r != -ENOENT)
		return r;
	if (q->listing && h->get_count(h, cfg, "command") >= 0)
		return h->config_error(h, cfg, "command", "give 'listing' or 'command', not both");
	if (!q->listing && (r = set_argv(q, cfg)) < 0)
		return r;
	if ((r = h->get_number(h, cfg, "timeout", &q->timeout)) < 0 && r != -ENOENT)
		return r;
	if (!(q->timeout > 0 && q->timeout <= 600))
		return h->config_error(h, cfg, "timeout", "timeout must be in (0, 600] seconds");
	if ((r = h->get_int(h, cfg, "agent_port", &q->agent_port)) < 0 && r != -ENOENT)
		return r;
	if (q->agent_port < 1 || q->agent_port > 65535)
		return h->config_error(h, cfg, "agent_port", "agent_port must be 1 to 65535");
	return 0;
}

/* The machine's agent, where Quilt's machines are reached: their public address. */
static int declare_agent(struct quilt *q, struct tb_inventory *inv, const struct quilt_machine *m)
{
	int v6 = strchr(m->public_ip, ':') != NULL;
	char url[QUILT_FIELD_MAX + 32];

	if (!*m->public_ip || TB_ABI_VERSION_MINOR(q->h->abi) < 3)
		return 0;
	snprintf(url, sizeof(url), "https://%s%s%s:%lld", v6 ? "[" : "", m->public_ip, v6 ? "]" : "",
		 q->agent_port);
	return q->h->add_agent(q->h, inv, m->public_ip, url);
}

static int read_listing(struct quilt *q, char **text)
{
	return tb_read_small_file(q->listing, LISTING_MAX, text, NULL, NULL);
}

/* The command's standard output, within the timeout and LISTING_MAX. */
static int run_command(struct quilt *q, char **text)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0;
	double waited = 0;
	int fds[2], status = 0, r = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	r = -posix_spawnp(&pid, q->argv[0], &fa, NULL, q->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (r < 0 || !(*text = malloc(LISTING_MAX + 1))) {
		close(fds[0]);
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return r < 0 ? r : -ENOMEM;
	}
	for (;;) {
		struct pollfd p = { fds[0], POLLIN, 0 };
		ssize_t n;

		if (waited >= q->timeout || q->h->cancelled(q->h)) {
			r = waited >= q->timeout ? -ETIMEDOUT : -EINTR;
			break;
		}
		if (poll(&p, 1, 100) == 0) {
			waited += 0.1;
			continue;
		}
		n = read(fds[0], *text + len, LISTING_MAX - len);
		if (n <= 0 || (len += (size_t)n) == LISTING_MAX) {
			r = n < 0 ? -errno : len == LISTING_MAX ? -EFBIG : 0;
			break;
		}
	}
	close(fds[0]);
	if (r < 0)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	(*text)[len] = '\0';
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = -EIO;
	if (r < 0)
		TB_LOG(q->h, TB_LOG_ERROR, "%s: %s", q->argv[0], r == -EIO ? "failed" : strerror(-r));
	return r;
}

static int load(struct quilt *q, struct quilt_ps *ps)
{
	char *text = NULL, err[512];
	int r;

	memset(ps, 0, sizeof(*ps));
	r = q->listing ? read_listing(q, &text) : run_command(q, &text);

	if (r < 0 && q->listing)
		TB_LOG(q->h, TB_LOG_ERROR, "%s: %s", q->listing, strerror(-r));
	if (r == 0 && (r = quilt_parse_ps(text, ps, err, sizeof(err))) < 0)
		TB_LOG(q->h, TB_LOG_ERROR, "%s: %s", q->listing ? q->listing : q->argv[0], err);
	free(text);
	return r;
}

static int quilt_discover(void *state, struct tb_inventory *inv)
{
	struct quilt *q = state;
	struct quilt_ps ps;
	size_t taken = 0;
	int r = load(q, &ps);

	for (size_t i = 0; r == 0 && i < ps.ncontainers; i++) {
		const struct quilt_container *c = &ps.containers[i];
		const struct quilt_machine *m = quilt_find_machine(&ps, c->machine);
		char id[QUILT_FIELD_MAX + 8];
		struct tb_target t = { .id = id, .key = c->id };

		if (strcmp(c->status, "running") || !*c->service || !m)
			continue;
		if (!m->connected)
			TB_LOG(q->h, TB_LOG_WARNING, "machine %s (%s) is disconnected: %s may not be "
			       "reachable", m->id, m->public_ip, c->id);
		/* Agents are found by node: the machine's address, where its agent listens. */
		t.node = *m->public_ip ? m->public_ip : m->id;
		snprintf(id, sizeof(id), "quilt/%s", c->id);
		r = q->h->add_service(q->h, inv, c->service, &t);
		if (r == 0)
			r = declare_agent(q, inv, m);
		taken++;
	}
	if (r == 0 && taken == 0) {
		TB_LOG(q->h, TB_LOG_ERROR, "no running, labelled container in the listing");
		r = -ENOENT;
	}
	quilt_ps_free(&ps);
	return r;
}

/* Still running on the same machine, by a fresh listing? */
static int quilt_alive(void *state, const struct tb_target *t)
{
	struct quilt *q = state;
	struct quilt_ps ps;
	int r = load(q, &ps), alive = 0;

	if (r < 0)
		return r;
	for (size_t i = 0; i < ps.ncontainers; i++) {
		const struct quilt_container *c = &ps.containers[i];
		const struct quilt_machine *m = quilt_find_machine(&ps, c->machine);

		if (t->key && !strcmp(c->id, t->key) && m && t->node &&
		    !strcmp(*m->public_ip ? m->public_ip : m->id, t->node))
			alive = !strcmp(c->status, "running");
	}
	quilt_ps_free(&ps);
	return alive;
}

TB_PLUGIN_DEFINE(tb_orchestrator) = {
	.header = { TB_ABI_CURRENT, TB_KIND_ORCHESTRATOR, "quilt",
		    "services from the containers of a Quilt deployment (\"quilt ps\")",
		    PACKAGE_VERSION, settings, 0 },
	.init = quilt_init,
	.fini = quilt_fini,
	.discover = quilt_discover,
	.alive = quilt_alive,
};
