/* agent_conf.c - read and check the agent's configuration file. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "agent.h"
#include "settings.h"

#ifndef TB_AGENT_JOURNAL_DEFAULT
#define TB_AGENT_JOURNAL_DEFAULT "/run/throttlebot/agent-journal"
#endif
#ifndef TB_AGENT_LOCK_DEFAULT
#define TB_AGENT_LOCK_DEFAULT "/run/throttlebot/agent-lock"
#endif
#define MAX_LEASE_DEFAULT 600.0

static const struct tb_setting_spec keys[] = {
	{ "listen", TB_SETTING_STRING, 1, "address:port to listen on (no default)" },
	{ "certificate", TB_SETTING_STRING, 1, "the server's certificate chain (PEM)" },
	{ "key", TB_SETTING_STRING, 1, "its private key (PEM)" },
	{ "token_file", TB_SETTING_STRING, 0, "a file holding the bearer token clients send" },
	{ "client_ca", TB_SETTING_STRING, 0, "CA certificate that client certificates must chain to" },
	{ "journal", TB_SETTING_STRING, 0, "the agent's journal of applied throttles" },
	{ "lock", TB_SETTING_STRING, 0, "the lock one agent per node holds" },
	{ "max_lease_seconds", TB_SETTING_NUMBER, 0, "the longest lease a client may ask for" },
	{ "plugin_dir", TB_SETTING_STRING, 0, "another directory to look for plugins in" },
	{ "throttlers", TB_SETTING_ANY, 1, "the throttler plugins the agent offers" },
	{ NULL, 0, 0, NULL },
};

int tb_agent_conf_load(struct tb_agent_conf *c, const char *path)
{
	config_setting_t *root;
	struct stat st;
	int r;

	memset(c, 0, sizeof(*c));
	config_init(&c->cfg);
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TB_CONF_MAX_BYTES) {
		fprintf(stderr, "%s: cannot read the configuration: %s\n", path,
			stat(path, &st) < 0 ? strerror(errno) : "not a regular file of at most 1 MiB");
		return -EINVAL;
	}
	if (config_read_file(&c->cfg, path) != CONFIG_TRUE) {
		fprintf(stderr, "%s:%d: %s\n", config_error_file(&c->cfg) ? config_error_file(&c->cfg) : path,
			config_error_line(&c->cfg), config_error_text(&c->cfg));
		return -EINVAL;
	}
	root = config_root_setting(&c->cfg);
	r = tb_settings_check(root, keys, NULL);
	if (r < 0)
		return r;
	c->listen = tb_conf_string(root, "listen", NULL);
	c->certificate = tb_conf_string(root, "certificate", NULL);
	c->key = tb_conf_string(root, "key", NULL);
	c->token_file = tb_conf_string(root, "token_file", NULL);
	c->client_ca = tb_conf_string(root, "client_ca", NULL);
	c->journal = tb_conf_string(root, "journal", TB_AGENT_JOURNAL_DEFAULT);
	c->lock = tb_conf_string(root, "lock", TB_AGENT_LOCK_DEFAULT);
	c->plugin_dir = tb_conf_string(root, "plugin_dir", NULL);
	c->max_lease = tb_conf_double(root, "max_lease_seconds", MAX_LEASE_DEFAULT);
	if (!(c->max_lease >= 1 && c->max_lease <= 86400))
		return tb_conf_error(config_setting_get_member(root, "max_lease_seconds"),
				     "max_lease_seconds must be from 1 to 86400");
	/* Authentication is not optional: an agent changes the node's kernel settings. */
	if (!c->token_file && !c->client_ca)
		return tb_conf_error(root, "set token_file, client_ca or both: the agent never "
				     "serves unauthenticated clients");
	return tb_conf_plugin_list(root, "throttlers", c->throttlers, &c->nthrottlers);
}

void tb_agent_conf_free(struct tb_agent_conf *c)
{
	config_destroy(&c->cfg);
	free(c->path);
	c->path = NULL;
}
