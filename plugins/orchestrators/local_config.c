/* local_config.c - the local orchestrator's settings: each service checked, errors with file:line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "cgroup_paths.h"
#include "local.h"
#include "program.h"
#include "local_netns.h"

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/*
 * Whether key is there, asked with the getter of the type it should have: 1,
 * 0 when absent, -EINVAL when of another type (already reported).
 */
static int present(const struct tb_host *h, const struct tb_config *c, const char *key,
		   enum tb_setting_type type)
{
	const char *s;
	double d;
	int b, r;

	switch (type) {
	case TB_SETTING_STRING: r = h->get_string(h, c, key, &s); break;
	case TB_SETTING_NUMBER: r = h->get_number(h, c, key, &d); break;
	case TB_SETTING_BOOL: r = h->get_bool(h, c, key, &b); break;
	default: r = h->get_count(h, c, key); break;
	}
	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

/* An argv list under key, argv[0] resolved to a path: 1, 0 when absent, -errno. */
static int parse_argv(struct local *l, struct svc *s, const char *key, char ***out)
{
	const struct tb_host *h = l->h;
	int n = h->get_count(h, s->cfg, key);
	const char *arg;
	char **argv;

	if (n < 0)
		return n == -ENOENT ? 0 : -EINVAL;
	if (n == 0)
		return h->config_error(h, s->cfg, key, "service '%s': '%s' is empty", s->name, key);
	*out = argv = calloc((size_t)n + 1, sizeof(char *));
	if (!argv)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (h->get_string_at(h, s->cfg, key, i, &arg) < 0)
			return -EINVAL;
		argv[i] = strdup(arg);
		if (!argv[i])
			return -ENOMEM;
	}
	arg = argv[0];
	argv[0] = tb_find_program(arg, NULL);
	if (!argv[0]) {
		argv[0] = (char *)arg;
		return h->config_error(h, s->cfg, key,
				       "service '%s': %s%sprogram '%s' not found%s", s->name,
				       strcmp(key, "command") ? key : "", strcmp(key, "command") ? ": " : "",
				       arg, strchr(arg, '/') ? " (or not executable)" : " in PATH");
	}
	free((char *)arg);
	return 1;
}

static int parse_command(struct local *l, struct svc *s)
{
	int r = parse_argv(l, s, "command", &s->argv);

	if (r > 0)
		s->kind = SVC_COMMAND;
	return r;
}

/* ready_tcp = "host:port" or "[v6]:port", resolved now: a name that
 * resolves to nothing is a mistake better seen before anything starts. */
static int parse_ready_tcp(struct local *l, struct svc *s)
{
	const struct tb_host *h = l->h;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai;
	char host[256];
	const char *colon, *v;
	size_t n;
	int r = h->get_string(h, s->cfg, "ready_tcp", &v), bracketed = 0;

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	colon = strrchr(v, ':');
	n = colon ? (size_t)(colon - v) : 0;
	if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
		v++;
		n -= 2;
		bracketed = 1;
	}
	/* An IPv6 address's own colons need the brackets to be told apart. */
	if (!colon || n == 0 || n >= sizeof(host) || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atoi(colon + 1) < 1 ||
	    atoi(colon + 1) > 65535 || (!bracketed && memchr(v, ':', n)))
		return h->config_error(h, s->cfg, "ready_tcp",
				       "service '%s': ready_tcp must be \"host:port\" (\"[::1]:port\" for IPv6)",
				       s->name);
	memcpy(host, v, n);
	host[n] = '\0';
	r = getaddrinfo(host, colon + 1, &hints, &ai);
	if (r != 0)
		return h->config_error(h, s->cfg, "ready_tcp", "service '%s': ready_tcp %s: %s",
				       s->name, host, gai_strerror(r));
	memcpy(&s->ready_addr, ai->ai_addr, ai->ai_addrlen);
	s->ready_addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return h->get_string(h, s->cfg, "ready_tcp", &s->ready_tcp);
}

static int parse_pids(struct local *l, struct svc *s)
{
	const struct tb_host *h = l->h;
	long long one;
	int r = h->get_int(h, s->cfg, "pid", &one), n;

	if (r == 0) {
		if (one <= 0 || one > INT_MAX)
			return h->config_error(h, s->cfg, "pid", "service '%s': bad pid %lld", s->name, one);
		s->pids = malloc(sizeof(pid_t));
		if (!s->pids)
			return -ENOMEM;
		s->pids[0] = (pid_t)one;
		s->npids = 1;
		s->kind = SVC_PIDS;
		return 1;
	}
	if (r != -ENOENT)
		return -EINVAL;
	n = h->get_count(h, s->cfg, "pids");
	if (n == -ENOENT)
		return 0;
	if (n <= 0)
		return n < 0 ? -EINVAL
			     : h->config_error(h, s->cfg, "pids", "service '%s': 'pids' is empty", s->name);
	s->pids = calloc((size_t)n, sizeof(pid_t));
	if (!s->pids)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		double d;

		if (h->get_number_at(h, s->cfg, "pids", i, &d) < 0)
			return -EINVAL;
		if (d <= 0 || d > INT_MAX || d != (double)(pid_t)d)
			return h->config_error(h, s->cfg, "pids", "service '%s': bad pid %g", s->name, d);
		s->pids[i] = (pid_t)d;
	}
	s->npids = (size_t)n;
	s->kind = SVC_PIDS;
	return 1;
}

static int parse_netns(struct local *l, struct svc *s, size_t index)
{
	const struct tb_host *h = l->h;
	const char *v;
	int r;

	r = h->get_bool(h, s->cfg, "new_netns", &s->new_netns);
	if (r < 0 && r != -ENOENT)
		return r;
	r = h->get_string(h, s->cfg, "netns", &v);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == 0) {
		if (s->new_netns)
			return h->config_error(h, s->cfg, "netns",
					       "service '%s': 'netns' and 'new_netns' exclude each other", s->name);
		if (v[0] == '/' ? asprintf(&s->netns, "%s", v) < 0
				: asprintf(&s->netns, "%s/%s", TB_NETNS_DIR, v) < 0) {
			s->netns = NULL;
			return -ENOMEM;
		}
		if (access(s->netns, F_OK) < 0)
			return h->config_error(h, s->cfg, "netns", "service '%s': no network namespace %s",
					       s->name, s->netns);
	}
	for (int i = 0; i < 2; i++) {
		const char *key = i ? "host_address" : "address";
		char **slot = i ? &s->host_address : &s->address;

		r = h->get_string(h, s->cfg, key, &v);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && !s->new_netns)
			return h->config_error(h, s->cfg, key, "service '%s': '%s' needs new_netns = true",
					       s->name, key);
		if (r == 0 && (!strchr(v, '/') || strlen(v) > 18))
			return h->config_error(h, s->cfg, key,
					       "service '%s': '%s' must look like 10.231.1.2/24", s->name, v);
		if (r == 0 ? asprintf(slot, "%s", v) < 0
			   : asprintf(slot, "10.231.%zu.%d/24", index + 1, i ? 1 : 2) < 0) {
			*slot = NULL;
			return -ENOMEM;
		}
	}
	if (s->new_netns && index + 1 > 254)
		return h->config_error(h, s->cfg, "new_netns", "too many services for default addresses");
	return 0;
}

/* The keys of one entry of 'services'. */
static const struct tb_setting_spec service_keys[] = {
	{ "name", TB_SETTING_STRING, 1, "the service's name" },
	{ "command", TB_SETTING_STRINGS, 0, "launch: argv of the program" },
	{ "pid", TB_SETTING_INT, 0, "attach to this process" },
	{ "pids", TB_SETTING_NUMBERS, 0, "attach to these processes" },
	{ "cgroup", TB_SETTING_STRING, 0, "attach to this cgroup path" },
	{ "cwd", TB_SETTING_STRING, 0, "working directory of a launched service" },
	{ "ready_path", TB_SETTING_STRING, 0,
	  "launch waits until this path exists (one from before launch is removed)" },
	{ "ready_tcp", TB_SETTING_STRING, 0, "launch waits until \"host:port\" accepts a TCP connection" },
	{ "ready_command", TB_SETTING_STRINGS, 0,
	  "launch waits until this argv (no shell) exits 0; each try at most 5 s" },
	{ "ready_timeout", TB_SETTING_NUMBER, 0, "seconds to wait for the ready_* conditions (10)" },
	{ "startup_seconds", TB_SETTING_NUMBER, 0, "seconds to wait after launch" },
	{ "netns", TB_SETTING_STRING, 0, "run in this network namespace" },
	{ "new_netns", TB_SETTING_BOOL, 0, "run in a namespace of its own, with a veth pair" },
	{ "address", TB_SETTING_STRING, 0, "the service's address in its new namespace" },
	{ "host_address", TB_SETTING_STRING, 0, "the host side's address" },
	{ "node", TB_SETTING_STRING, 0, "the node it runs on, when its throttles go through that node's agent" },
	{ NULL, 0, 0, NULL },
};

static int parse_service(struct local *l, struct svc *s, size_t index)
{
	const struct tb_host *h = l->h;
	int r;

	r = h->check_group(h, s->cfg, service_keys);
	if (r < 0)
		return r;
	r = h->get_string(h, s->cfg, "name", &s->name);
	if (r == -ENOENT)
		return h->config_error(h, s->cfg, NULL, "service %zu has no 'name'", index + 1);
	if (r < 0)
		return r;
	if (!valid_name(s->name))
		return h->config_error(h, s->cfg, "name",
				       "service name '%s' must be 1-64 of [A-Za-z0-9_.-]", s->name);
	r = h->get_string(h, s->cfg, "node", &s->node);
	if (r < 0 && r != -ENOENT)
		return r;
	for (size_t i = 0; i < index; i++)
		if (!strcmp(l->svcs[i].name, s->name))
			return h->config_error(h, s->cfg, "name", "service '%s' is named twice", s->name);

	static const struct { const char *key; enum tb_setting_type type; } kind_keys[] = {
		{ "command", TB_SETTING_STRINGS }, { "pid", TB_SETTING_NUMBER },
		{ "pids", TB_SETTING_NUMBERS }, { "cgroup", TB_SETTING_STRING },
	};
	const char *first = NULL;

	for (size_t i = 0; i < sizeof(kind_keys) / sizeof(*kind_keys); i++) {
		r = present(h, s->cfg, kind_keys[i].key, kind_keys[i].type);
		if (r < 0)
			return r;
		if (r && first)
			return h->config_error(h, s->cfg, kind_keys[i].key,
					       "service '%s' has both '%s' and '%s': give exactly one of command, pid, pids, cgroup",
					       s->name, first, kind_keys[i].key);
		if (r)
			first = kind_keys[i].key;
	}
	if (!first)
		return h->config_error(h, s->cfg, NULL,
				       "service '%s' needs one of 'command', 'pid', 'pids', 'cgroup'", s->name);
	if ((r = parse_command(l, s)) < 0)
		return r;
	if (r == 0 && (r = parse_pids(l, s)) < 0)
		return r;
	if (r == 0) {
		if (h->get_string(h, s->cfg, "cgroup", &s->cgroup) < 0)
			return -EINVAL;
		if (s->cgroup[0] != '/' || strstr(s->cgroup, ".."))
			return h->config_error(h, s->cfg, "cgroup",
					       "service '%s': cgroup must be an absolute path such as /system.slice/x.service",
					       s->name);
		s->kind = SVC_CGROUP;
	}

	s->ready_timeout = 10;
	static const struct { const char *key; enum tb_setting_type type; } command_only[] = {
		{ "cwd", TB_SETTING_STRING }, { "ready_path", TB_SETTING_STRING },
		{ "ready_tcp", TB_SETTING_STRING }, { "ready_command", TB_SETTING_STRINGS },
		{ "ready_timeout", TB_SETTING_NUMBER }, { "startup_seconds", TB_SETTING_NUMBER },
		{ "netns", TB_SETTING_STRING }, { "new_netns", TB_SETTING_BOOL },
		{ "address", TB_SETTING_STRING }, { "host_address", TB_SETTING_STRING },
	};
	for (size_t i = 0; i < sizeof(command_only) / sizeof(*command_only); i++) {
		r = present(h, s->cfg, command_only[i].key, command_only[i].type);
		if (r < 0)
			return r;
		if (r && s->kind != SVC_COMMAND)
			return h->config_error(h, s->cfg, command_only[i].key,
					       "service '%s': '%s' applies to a launched service (command) only",
					       s->name, command_only[i].key);
	}
	if ((r = h->get_string(h, s->cfg, "cwd", &s->cwd)) < 0 && r != -ENOENT)
		return r;
	if (s->cwd && access(s->cwd, X_OK) < 0)
		return h->config_error(h, s->cfg, "cwd", "service '%s': cannot enter %s: %s", s->name,
				       s->cwd, strerror(errno));
	if ((r = h->get_string(h, s->cfg, "ready_path", &s->ready_path)) < 0 && r != -ENOENT)
		return r;
	if (s->ready_path && !*s->ready_path)
		return h->config_error(h, s->cfg, "ready_path", "service '%s': ready_path is empty",
				       s->name);
	if ((r = parse_ready_tcp(l, s)) < 0 || (r = parse_argv(l, s, "ready_command", &s->ready_argv)) < 0)
		return r;
	if ((r = h->get_number(h, s->cfg, "ready_timeout", &s->ready_timeout)) < 0 && r != -ENOENT)
		return r;
	if (s->ready_timeout <= 0 || s->ready_timeout > 3600)
		return h->config_error(h, s->cfg, "ready_timeout", "must be in (0, 3600] seconds");
	if ((r = h->get_number(h, s->cfg, "startup_seconds", &s->startup_seconds)) < 0 && r != -ENOENT)
		return r;
	if (s->startup_seconds < 0 || s->startup_seconds > 3600)
		return h->config_error(h, s->cfg, "startup_seconds", "must be in [0, 3600] seconds");
	return parse_netns(l, s, index);
}

int local_parse(struct local *l, const struct tb_config *cfg)
{
	const struct tb_host *h = l->h;
	int n, r;

	l->cgroup_parent = "throttlebot";
	l->log_dir = "/tmp";
	if ((r = h->get_string(h, cfg, "cgroup_parent", &l->cgroup_parent)) < 0 && r != -ENOENT)
		return r;
	if (!valid_name(l->cgroup_parent))
		return h->config_error(h, cfg, "cgroup_parent", "must be one name of [A-Za-z0-9_.-]");
	if ((r = h->get_string(h, cfg, "log_dir", &l->log_dir)) < 0 && r != -ENOENT)
		return r;
	if (r == 0 && strcmp(l->log_dir, "/dev/null") && access(l->log_dir, W_OK | X_OK) < 0)
		return h->config_error(h, cfg, "log_dir", "cannot write in %s: %s", l->log_dir,
				       strerror(errno));
	n = h->get_count(h, cfg, "services");
	if (n < 0)
		return n == -ENOENT ? h->config_error(h, cfg, NULL, "missing 'services'") : -EINVAL;
	if (n == 0)
		return h->config_error(h, cfg, "services", "no services");
	l->svcs = calloc((size_t)n, sizeof(*l->svcs));
	if (!l->svcs)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct svc *s = &l->svcs[i];

		s->cfg = h->get_group(h, cfg, "services", i);
		if (!s->cfg)
			return h->config_error(h, cfg, "services",
					       "service %d must be a group { name = \"...\"; ... }", i + 1);
		l->nsvcs = (size_t)i + 1;
		r = parse_service(l, s, (size_t)i);
		if (r < 0)
			return r;
	}
	return 0;
}

