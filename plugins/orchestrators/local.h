/* local.h - the local orchestrator's state and the parts its files share (not installed). */
#ifndef TB_LOCAL_H
#define TB_LOCAL_H

#include <net/if.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <throttlebot/plugin.h>
#include "cgroup_paths.h"

#define STOP_GRACE 5.0          /* seconds between SIGTERM and SIGKILL */
#define POLL_US 20000

enum svc_kind { SVC_COMMAND, SVC_PIDS, SVC_CGROUP };

/* One cgroup hierarchy launched services get a directory in. */
struct hier {
	const char *mount;
	const char *v1name;     /* libcgroup's controller name; NULL for v2 */
};
/* v1 hierarchies, and the target slot each fills (-1: accounting only). */
struct local_v1_hier {
	const char *name;
	int ctl;
};
#define LOCAL_NV1 5
extern const struct local_v1_hier local_v1_hiers[LOCAL_NV1];
#define MAX_HIERS (LOCAL_NV1 + 1)

struct svc {
	const struct tb_config *cfg;
	const char *name;
	const char *node;       /* the node named in the configuration, or NULL */
	enum svc_kind kind;
	char **argv;            /* argv[0] resolved to a path */
	const char *cwd, *ready_path;
	const char *ready_tcp;  /* "host:port" as written, for messages */
	struct sockaddr_storage ready_addr;
	socklen_t ready_addrlen;
	char **ready_argv;      /* ready_command, argv[0] resolved to a path */
	double ready_timeout, startup_seconds;
	pid_t *pids;
	size_t npids;
	const char *cgroup;
	char *netns;            /* path of the namespace to join, or NULL */
	int new_netns;
	char *address, *host_address;
	char host_if[IF_NAMESIZE];

	/* What launch() made. */
	char *dirs[MAX_HIERS];
	pid_t pid;
	int reaped;
	long handle;
	int net_made;
	/* A ready_path from before launch that could not be removed. */
	int stale;
	dev_t stale_dev;
	ino_t stale_ino;
	struct timespec stale_ctime;
};

struct known {
	pid_t pid;
	unsigned long long start;
};

struct local {
	const struct tb_host *h;
	struct svc *svcs;
	size_t nsvcs;
	const char *cgroup_parent;
	const char *log_dir;
	struct tb_cg_mounts mounts;
	int have_mounts;
	struct hier hiers[MAX_HIERS];
	size_t nhiers;
	char *parent_dirs[MAX_HIERS];
	long parent_handle;
	int launched;
	struct known *known;
	size_t nknown;
};

static inline double local_now(const struct local *l)
{
	return l->h->now(l->h);
}

static inline void local_pause(void)
{
	struct timespec ts = { 0, POLL_US * 1000L };

	nanosleep(&ts, NULL);
}

/* In a child, before exec: stdin, stdout and stderr from in and out; the
 * host may block or ignore signals, the program starts clean.  Only plain
 * system calls, as between fork() and exec. */
static inline void local_child_stdio(int in, int out)
{
	sigset_t none;

	dup2(in, 0);
	dup2(out, 1);
	dup2(out, 2);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

/* local.c */
/* Start time of pid in clock ticks since boot; -ESRCH once it has ended. */
int local_start_time(pid_t pid, unsigned long long *out);

/* local_config.c: read and check the settings into l; errors name file:line. */
int local_parse(struct local *l, const struct tb_config *cfg);

/* local_cgroup.c */
/* Kill every process in dir and below, remove the directories. */
int local_cg_remove(const struct tb_host *h, const char *dir, int depth);
/* l->hiers from l->mounts. */
void local_find_hiers(struct local *l);
/* Make rel in every hierarchy; dirs[i] gets each absolute path. */
int local_make_cgroup(struct local *l, const char *rel, const char *parent_rel, char **dirs);
/* v2: let the controllers we throttle reach dir's children. */
int local_enable_v2(const struct local *l, const char *dir);
/* Append "cgroup<TAB>dir" lines to saved. */
int local_saved_dirs(char *saved, size_t size, char **dirs, size_t n);

/* local_launch.c */
int local_need_mounts(struct local *l);
int local_launch(void *state);
int local_stop(void *state);
int local_stop_services(struct local *l);
/* Start again the launched service whose process t was (revive). */
int local_revive(void *state, const struct tb_target *t);
/* 1 (and logged, with the tail of its output) if s ended; reaps it. */
int local_exited(struct local *l, struct svc *s, const char *when);
/* Log the last lines the service wrote. */
void local_log_tail(const struct local *l, const struct svc *s);

/* local_ready.c */
/* Before launch: remove (or else disregard) what an earlier run left at
 * ready_path; -EADDRINUSE when it is a socket something listens on. */
int local_ready_prepare(struct local *l, struct svc *s);
/* After launch: until every ready_* condition holds, then startup_seconds;
 * -ETIMEDOUT after ready_timeout (reported with file:line), -ECHILD when
 * the service ended, -EINTR when cancelled. */
int local_wait_ready(struct local *l, struct svc *s);

#endif
