/* agents.h - the nodes whose throttling goes through an agent: the configuration's 'agents' list. */
#ifndef TB_AGENTS_H
#define TB_AGENTS_H

#include <libconfig.h>
#include <stddef.h>

#define TB_MAX_AGENTS 64
#define TB_AGENT_LEASE_DEFAULT 30.0

/* Where a node's agent is and how to prove who we are to it. */
struct tb_agent_ref {
	const char *node;
	const char *url;           /* https://address:port */
	const char *token_file;    /* or NULL */
	const char *ca;            /* CA the agent's certificate must chain to, or NULL: the system's */
	const char *cert, *key;    /* our client certificate, or NULL */
	double lease;              /* seconds; renewed every third of it */
};

struct tb_agents {
	struct tb_agent_ref list[TB_MAX_AGENTS];
	size_t n;
};

/* Parse 'agents' from the configuration's root (absent: none).  Errors as
 * file:line, -EINVAL. */
int tb_agents_parse(config_setting_t *root, struct tb_agents *out);
/* The agent the configuration names for node, or NULL. */
const struct tb_agent_ref *tb_agents_find(const struct tb_agents *a, const char *node);
/* The agent of node: the configuration's own entry, else the one the
 * orchestrator found at found_url (may be NULL) with the credentials of the
 * entry for node "*", made in *scratch (valid while node and found_url are).
 * NULL: none, the node's targets are throttled here. */
const struct tb_agent_ref *tb_agents_for(const struct tb_agents *a, const char *node,
					 const char *found_url, struct tb_agent_ref *scratch);
/* 1: the orchestrator found node's agent, but the configuration gives no
 * credentials to reach it (no entry for the node, none for "*"). */
int tb_agents_unreachable(const struct tb_agents *a, const char *node, const char *found_url);
/* 1: url is https://host[:port][/...] with nothing a shell, header or
 * journal could misread (no blanks, control characters, quotes, ? or #). */
int tb_agent_url_ok(const char *url);

#endif
