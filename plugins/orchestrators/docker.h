/* docker.h - the docker orchestrator's instance, shared by its discovery (docker.c) and its throttling through the Engine (docker_update.c). */
#ifndef TB_DOCKER_H
#define TB_DOCKER_H

#include <stddef.h>
#include <throttlebot/plugin.h>
#include "cgroup_paths.h"
#include "docker_daemon.h"

struct docker {
	const struct tb_host *h;
	struct dk_daemon *daemons;     /* the engines, one per node; none in restore mode */
	size_t ndaemons;
	double timeout;
	double health_timeout;         /* seconds a discover waits for "healthy" */
	double health_deadline;        /* this discover's, on h->now() */
	char *project, *service_label;
	char **labels, **patterns;
	size_t nlabels, npatterns;
	struct tb_cg_mounts mounts;    /* read at the first discover */
	int have_mounts;
};

/* Connect to an engine on first use (said when it fails).  0 or -errno. */
int dk_use(struct docker *d, struct dk_daemon *dm);

/* The container id of t: its key, taken only when it is a full container id
 * (it goes into request paths); NULL, and said, otherwise. */
const char *dk_container_of(const struct docker *d, const struct tb_target *t);

/* docker_update.c: tb_orchestrator's throttle_save, throttle_apply and
 * throttle_restore, through POST /containers/ID/update. */
int dk_throttle_save(void *state, const struct tb_target *t, const char *throttler, char *saved,
		     size_t size);
int dk_throttle_apply(void *state, const struct tb_target *t, const char *saved, double stress);
int dk_throttle_restore(void *state, const char *saved);

#endif
