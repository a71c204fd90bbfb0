/* agent.h - throttlebot agent: one daemon per node that applies throttles for a controller, under leases. */
#ifndef TB_AGENT_H
#define TB_AGENT_H

#include <jansson.h>
#include <libconfig.h>
#include <net/if.h>
#include <pthread.h>
#include "cgroup_paths.h"
#include "conf.h"
#include "agent_request.h"
#include "instance.h"

#define TB_AGENT_MAX_THROTTLES 256      /* applied at once */

/* The agent's configuration file (throttlebot-agent(8)). */
struct tb_agent_conf {
	config_t cfg;
	char *path;
	const char *listen;          /* "address:port", required */
	const char *certificate;     /* PEM, the server's chain */
	const char *key;             /* PEM, its private key */
	const char *token_file;      /* bearer token, or NULL */
	const char *client_ca;       /* CA verifying client certificates, or NULL */
	const char *journal;
	const char *lock;
	const char *plugin_dir;
	double max_lease;            /* seconds */
	struct tb_plugin_ref throttlers[TB_MAX_PLUGINS];
	size_t nthrottlers;
};

int tb_agent_conf_load(struct tb_agent_conf *c, const char *path);
void tb_agent_conf_free(struct tb_agent_conf *c);

/* A target as the agent resolved it from a pid or a container id. */
struct tb_agent_target {
	struct tb_target t;
	char id[TB_AGENT_ID_MAX + 16];
	char *dirs[TB_CG_SLOTS];
	char netns[64];
	char ifname[IF_NAMESIZE + 1];
};

/*
 * Resolve kind ("pid", "container") and id to the target's cgroup
 * directories (confined under their mounts) and network namespace.  Only a
 * decimal pid or a 64-hex container id is taken, never a path: -EINVAL for
 * anything else, -ESRCH when nothing runs under that name.  why says which.
 */
int tb_agent_target_resolve(const struct tb_cg_mounts *m, const char *kind, const char *id,
			    struct tb_agent_target *out, char *why, size_t whylen);
void tb_agent_target_free(struct tb_agent_target *t);

/* One applied throttle, or a change of allocation or priority. */
struct tb_agent_throttle {
	char handle[TB_AGENT_HANDLE_LEN + 1];
	char kind[16];
	char id[TB_AGENT_ID_MAX + 1];
	size_t throttler;            /* index into the agent's throttlers */
	enum tb_agent_op op;
	double stress;               /* or the amount, or the factor, as op says */
	char how[128];               /* prioritize: what changed, from what to what */
	struct tb_agent_target *target;   /* as resolved when applied: check() needs it after
					   * the process it was named by died */
	double lease;                /* seconds a renewal extends it by */
	double expires;              /* monotonic clock */
	long journal_id;
	char *saved;
	char *where;                 /* what it changes: its cgroups, or its netns for "net" */
};

struct tb_agent {
	const struct tb_agent_conf *conf;
	struct tb_instance throttlers[TB_MAX_PLUGINS];
	size_t nthrottlers;
	struct tb_journal *journal;
	struct tb_cg_mounts mounts;
	pthread_mutex_t lock;        /* over the table and every plugin call */
	struct tb_agent_throttle active[TB_AGENT_MAX_THROTTLES];   /* oldest first */
	size_t nactive;
	/* Authentication (agent_auth.c). */
	unsigned char token_hash[32];
	int have_token;
	char *cert_pem, *key_pem, *ca_pem;
};

/* The table of applied throttles (agent_table.c); each call takes the lock.
 * Apply (a stress, an allocation or a priority, as rq->op says): save,
 * journal (fsync), apply; a failed apply is restored at once.  rq->handle:
 * the client's own handle for it (it journalled that first), or "" for a
 * new random one.  out is filled on success. */
int tb_agent_apply(struct tb_agent *a, const struct tb_agent_request *rq,
		   struct tb_agent_throttle *out, char *why, size_t whylen);
/* The target's own limit for the throttler (*limited 1), or without one the
 * capacity it may use (*limited 0).  -EOPNOTSUPP: the throttler cannot tell. */
int tb_agent_allocation(struct tb_agent *a, const struct tb_agent_request *rq, double *amount,
			int *limited, char *why, size_t whylen);
/* Did the throttle harm its target (the throttler's check())?  1 with why,
 * 0, -ENOENT (no such handle), -EOPNOTSUPP (the throttler cannot tell), or
 * check()'s -errno. */
int tb_agent_check(struct tb_agent *a, const char *handle, char *why, size_t whylen);
/* Forget it without restoring: what it changed stays, its journal record
 * closes.  -ENOENT: no such handle. */
int tb_agent_keep(struct tb_agent *a, const char *handle);
/* Extend the lease by lease seconds from now (0: by its own lease).  -ENOENT: no such handle. */
int tb_agent_renew(struct tb_agent *a, const char *handle, double lease, double *left);
/* Restore and forget it.  -ENOENT: no such handle; -EBUSY: a newer entry is
 * stacked on the same key (it goes first); else restore()'s result. */
int tb_agent_release(struct tb_agent *a, const char *handle);
/* Restore every throttle whose lease ran out by now, and first what is
 * stacked on it. */
void tb_agent_expire(struct tb_agent *a, double now);
/* Restore everything (at shutdown); 0 when all went back. */
int tb_agent_release_all(struct tb_agent *a);
/* What is applied, as a JSON array (new reference). */
json_t *tb_agent_list(struct tb_agent *a);

/* Authentication (agent_auth.c): read the token and the PEM files the
 * configuration names, refusing a start without a certificate and without
 * a token or a client CA.  0 or -errno, logged. */
int tb_agent_auth_load(struct tb_agent *a);
void tb_agent_auth_free(struct tb_agent *a);
struct MHD_Connection;
/* 0 when the request may go on, else the HTTP status to refuse it with:
 * 401 (no or wrong token), 403 (no or unverified client certificate). */
unsigned tb_agent_auth_check(const struct tb_agent *a, struct MHD_Connection *c);

/* The HTTPS server (agent_http.c), on its own thread. */
struct MHD_Daemon;
int tb_agent_http_start(struct tb_agent *a, struct MHD_Daemon **out);

#endif
