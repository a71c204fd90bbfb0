/* docker_parse.h - turn Docker Engine API responses into containers and cgroup paths, without network I/O. */
#ifndef TB_DOCKER_PARSE_H
#define TB_DOCKER_PARSE_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

/* The newest API version whose fields we read; older engines are asked in
 * their own version, down to DK_API_OLDEST (JSON "filters" as a map of lists). */
#define DK_API_OURS_MAJOR 1
#define DK_API_OURS_MINOR 41
#define DK_API_OLDEST_MINOR 24

#define DK_COMPOSE_PROJECT "com.docker.compose.project"
#define DK_COMPOSE_SERVICE "com.docker.compose.service"

/* Where the daemon listens: a unix socket (socket != "") or a TCP address. */
struct dk_endpoint {
	char socket[256];      /* unix socket path, or "" */
	char base[300];        /* URL prefix: "http://localhost" or "http://host:port" */
	char display[300];     /* as the user would write it, for messages */
};

/* "unix:///path", "/path", "tcp://host:port".  0 or -EINVAL (err says why). */
int dk_parse_endpoint(const char *host, struct dk_endpoint *ep, char *err, size_t errlen);

/*
 * The API version to speak, from GET /version: ours, lowered to the server's
 * ApiVersion, raised to its MinAPIVersion (newer engines refuse old clients;
 * the fields we read have not changed).  0 or -EPROTO (err says why).
 */
int dk_negotiate(const json_t *version, int *major, int *minor, char *err, size_t errlen);

/* How the engine lays out cgroups, from GET /info. */
struct dk_engine {
	int systemd;           /* CgroupDriver "systemd" (else "cgroupfs") */
	int no_driver;         /* CgroupDriver "none" (rootless): names unknown */
	int v2;                /* CgroupVersion "2" */
};
int dk_parse_info(const json_t *info, struct dk_engine *e, char *err, size_t errlen);

/* "message" of an API error body, or NULL. */
const char *dk_error_message(const json_t *body);

/* Which containers form the application. */
struct dk_selector {
	const char *project;         /* compose project, or NULL */
	const char *const *labels;   /* "k=v" or "k" */
	size_t nlabels;
	const char *const *patterns; /* container names or fnmatch() globs */
	size_t npatterns;
	const char *service_label;   /* label naming the service, or NULL */
};

/* The "filters" query parameter for GET /containers/json, as a JSON text
 * (caller frees).  Name patterns are matched here, not by the engine, whose
 * name filter is a regular expression. */
char *dk_list_filters(const struct dk_selector *sel);

/* A human description of the selector for "nothing matched" messages. */
void dk_describe_selector(const struct dk_selector *sel, char *out, size_t size);

/* One container of the application. */
struct dk_container {
	char id[65];           /* full id */
	char name[256];        /* without the leading "/" */
	char service[256];
	pid_t pid;             /* State.Pid, 0 when not running */
	int running;
	int host_network;      /* NetworkMode "host": no netns of its own */
	int no_network;        /* NetworkMode "none": only lo */
	char cgroup_parent[256];
	/* State.Health.Status ("starting", "healthy", "unhealthy"), "" when
	 * the container has no HEALTHCHECK; the last check's output. */
	char health[16];
	char health_output[256];
};

/* 1 when id is a full container id: 64 lowercase hex digits. */
int dk_valid_id(const char *id);

/*
 * Pick from a GET /containers/json answer the containers the selector names,
 * with their service.  *out is malloc()ed, sorted by service then name.
 * Returns the count, -EBADMSG when a selected container's Id is not a full
 * id, or another -errno.
 */
int dk_select(const json_t *list, const struct dk_selector *sel, struct dk_container **out);

/* Fill pid, running, network mode, cgroup parent and health from GET /containers/ID/json. */
int dk_parse_inspect(const json_t *inspect, struct dk_container *c, char *err, size_t errlen);

/*
 * The cgroup directory the engine made for container c in the hierarchy
 * mounted at hierarchy (a v1 controller's mount, or the v2 mount), from the
 * driver's naming rules.  0, -EINVAL on a malformed systemd slice name, or
 * -ENOENT when the engine has no cgroup driver.
 */
int dk_cgroup_dir(const struct dk_engine *e, const char *hierarchy, const struct dk_container *c,
		  char *out, size_t size);

/* 1 when the text of /proc/PID/net/dev lists interface ifname. */
int dk_net_has_iface(const char *net_dev, const char *ifname);

#endif
