/* docker_daemon.h - the Docker engines an application runs on: where each is, how to trust it, which node it is. */
#ifndef TB_DOCKER_DAEMON_H
#define TB_DOCKER_DAEMON_H

#include <stddef.h>
#include <throttlebot/plugin.h>
#include "docker_api.h"
#include "docker_parse.h"

struct dk_daemon {
	char *node;                /* the machine it runs on; NULL: this one */
	struct dk_endpoint ep;
	int tls;                   /* tcp:// over TLS with the files below */
	struct dk_tls tlsconf;
	char *ca, *cert, *key;
	struct dk_client *cli;     /* connected on first use */
};

/* The keys of one entry of "engines", for the orchestrator's settings check. */
extern const struct tb_setting_spec dk_daemon_keys[];

/*
 * The engines the configuration names: each entry of "engines" (host, node,
 * tls_*, insecure), or else the one of the group's own host and tls_* keys
 * ($DOCKER_HOST and the Docker CLI's TLS variables when they are absent).
 * Bad values are configuration errors (file:line), -EINVAL.
 */
int dk_daemons_read(const struct tb_host *h, const struct tb_config *cfg, struct dk_daemon **out,
		    size_t *n);
void dk_daemons_free(struct dk_daemon *d, size_t n);

/* The engine of node (NULL: this machine), or NULL when none is. */
struct dk_daemon *dk_daemon_of(struct dk_daemon *d, size_t n, const char *node);

#endif
