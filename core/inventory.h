/* inventory.h - the services an orchestrator discovered, with deep copies of their targets. */
#ifndef TB_INVENTORY_H
#define TB_INVENTORY_H

#include <throttlebot/plugin.h>

/* A node's agent as the orchestrator found it (h->add_agent). */
struct tb_found_agent {
	char *node, *url;
};

struct tb_inventory {
	size_t nservices;
	struct tb_service *services;   /* targets owned here */
	size_t nagents;
	struct tb_found_agent *agents;
};

/* h->add_service: declare service, with one more target unless t is NULL. */
int tb_inventory_add(const struct tb_host *h, struct tb_inventory *inv, const char *service,
		     const struct tb_target *t);
void tb_inventory_free(struct tb_inventory *inv);
/* h->add_agent: node's agent listens at url (https://host:port); a node
 * declared again takes the newer url.  -EINVAL for a malformed one. */
int tb_inventory_add_agent(struct tb_inventory *inv, const char *node, const char *url);
/* The url of node's agent as found, or NULL. */
const char *tb_inventory_agent(const struct tb_inventory *inv, const char *node);
/* Drop the services for which keep() says 0. */
void tb_inventory_filter(struct tb_inventory *inv, int (*keep)(const struct tb_service *, void *),
			 void *arg);

/* Drop the targets for which keep() says 0, and services left with none. */
void tb_inventory_filter_targets(struct tb_inventory *inv,
				 int (*keep)(const struct tb_target *, void *), void *arg);

/* Give each service of inv the targets fresh has for the same name (none if
 * fresh lacks it), keeping inv's services and their order, and fresh's
 * agents; frees fresh. */
void tb_inventory_adopt_targets(struct tb_inventory *inv, struct tb_inventory *fresh);

#endif
