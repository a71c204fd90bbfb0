/* local_netns.h - a network namespace of its own for a launched service, joined to the host by a veth pair. */
#ifndef TB_LOCAL_NETNS_H
#define TB_LOCAL_NETNS_H

#include <net/if.h>
#include <throttlebot/plugin.h>

/* Named namespaces we create live here, under this prefix, so restore only
 * ever removes ours. */
#define TB_NETNS_DIR "/run/netns"
#define TB_NETNS_PREFIX "throttlebot-"
/* Host-side veth names start with this. */
#define TB_VETH_PREFIX "tbv"
/* The service's side of the pair, inside its namespace. */
#define TB_INNER_IF "eth0"

/*
 * Create the namespace nspath (a file under TB_NETNS_DIR), a veth pair
 * host_if <-> TB_INNER_IF inside it, give each end its address
 * ("10.231.1.1/24") and bring them and the namespace's loopback up.  On
 * failure whatever was made is removed again.
 */
int tb_local_net_create(const struct tb_host *h, const char *nspath, const char *host_if,
			const char *host_address, const char *address);

/* Undo: already gone counts as success.  Both refuse names that are not ours. */
int tb_local_net_remove_link(const struct tb_host *h, const char *host_if);
int tb_local_net_remove_ns(const struct tb_host *h, const char *nspath);

#endif
