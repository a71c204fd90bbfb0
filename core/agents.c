/* agents.c - read the configuration's 'agents' list: which node's throttles go to which agent, with what credentials. */
#include <errno.h>
#include <string.h>
#include "agents.h"
#include "conf.h"
#include "settings.h"

static const struct tb_setting_spec agent_keys[] = {
	{ "node", TB_SETTING_STRING, 1, "the node's name, as the orchestrator gives it; \"*\": "
	  "every node whose agent the orchestrator finds" },
	{ "url", TB_SETTING_STRING, 0, "the agent's address: https://host:port (none for node \"*\")" },
	{ "token_file", TB_SETTING_STRING, 0, "a file holding the agent's bearer token" },
	{ "ca", TB_SETTING_STRING, 0, "the CA the agent's certificate must chain to" },
	{ "cert", TB_SETTING_STRING, 0, "our client certificate, for an agent with client_ca" },
	{ "key", TB_SETTING_STRING, 0, "its private key" },
	{ "lease_seconds", TB_SETTING_NUMBER, 0, "each throttle's lease, renewed every third (30)" },
	{ NULL, 0, 0, NULL },
};

int tb_agent_url_ok(const char *url)
{
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("?#\\\"'", *c))
			return 0;
	return !strncmp(url, "https://", 8) && strlen(url) > 8 && strlen(url) <= 200;
}

static int path_ok(config_setting_t *g, const char *key)
{
	const char *v = tb_conf_string(g, key, NULL);

	if (v && v[0] != '/')
		return tb_conf_error(config_setting_get_member(g, key), "%s must be an absolute path "
				     "(throttlebot restore reads it from the journal, from anywhere)", key);
	return 0;
}

static int parse_one(config_setting_t *g, struct tb_agent_ref *a)
{
	static const char *const paths[] = { "token_file", "ca", "cert", "key" };
	int r = tb_settings_check(g, agent_keys, NULL);

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++)
		if ((r = path_ok(g, paths[i])) < 0)
			return r;
	a->node = tb_conf_string(g, "node", NULL);
	a->url = tb_conf_string(g, "url", NULL);
	if (!strcmp(a->node, "*") && a->url)
		return tb_conf_error(config_setting_get_member(g, "url"), "node \"*\" gives the "
				     "credentials for the agents the orchestrator finds: no url");
	if (!strcmp(a->node, "*"))
		a->url = NULL;
	else if (!a->url)
		return tb_conf_error(g, "agent for node '%s': url missing", a->node);
	a->token_file = tb_conf_string(g, "token_file", NULL);
	a->ca = tb_conf_string(g, "ca", NULL);
	a->cert = tb_conf_string(g, "cert", NULL);
	a->key = tb_conf_string(g, "key", NULL);
	a->lease = tb_conf_double(g, "lease_seconds", TB_AGENT_LEASE_DEFAULT);
	if (a->url && !tb_agent_url_ok(a->url))
		return tb_conf_error(config_setting_get_member(g, "url"),
				     "url must be https://host:port, nothing after it");
	if (!a->token_file && !a->cert)
		return tb_conf_error(g, "agent for node '%s': give token_file, cert and key, or both",
				     a->node);
	if (!a->cert != !a->key)
		return tb_conf_error(g, "agent for node '%s': cert and key go together", a->node);
	if (!(a->lease >= 3 && a->lease <= 86400))
		return tb_conf_error(config_setting_get_member(g, "lease_seconds"),
				     "lease_seconds must be from 3 to 86400");
	return 0;
}

int tb_agents_parse(config_setting_t *root, struct tb_agents *out)
{
	config_setting_t *list = config_setting_get_member(root, "agents");
	int r;

	out->n = 0;
	if (!list)
		return 0;
	if (!config_setting_is_list(list) || config_setting_length(list) > TB_MAX_AGENTS)
		return tb_conf_error(list, "agents must be a list of at most %d groups "
				     "( { node = \"...\"; url = \"https://...\"; ... } )", TB_MAX_AGENTS);
	for (int i = 0; i < config_setting_length(list); i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);

		if (!config_setting_is_group(g))
			return tb_conf_error(g, "each agent is a group { node = ...; url = ...; }");
		r = parse_one(g, &out->list[out->n]);
		if (r < 0)
			return r;
		if (tb_agents_find(out, out->list[out->n].node))
			return tb_conf_error(g, "node '%s' has two agents", out->list[out->n].node);
		out->n++;
	}
	return 0;
}

const struct tb_agent_ref *tb_agents_find(const struct tb_agents *a, const char *node)
{
	for (size_t i = 0; node && strcmp(node, "*") && i < a->n; i++)
		if (!strcmp(a->list[i].node, node))
			return &a->list[i];
	return NULL;
}

static const struct tb_agent_ref *find_template(const struct tb_agents *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->list[i].node, "*"))
			return &a->list[i];
	return NULL;
}

const struct tb_agent_ref *tb_agents_for(const struct tb_agents *a, const char *node,
					 const char *found_url, struct tb_agent_ref *scratch)
{
	const struct tb_agent_ref *named = tb_agents_find(a, node), *any = find_template(a);

	if (named || !found_url || !any)
		return named;
	*scratch = *any;
	scratch->node = node;
	scratch->url = found_url;
	return scratch;
}

int tb_agents_unreachable(const struct tb_agents *a, const char *node, const char *found_url)
{
	return found_url && !tb_agents_find(a, node) && !find_template(a);
}
