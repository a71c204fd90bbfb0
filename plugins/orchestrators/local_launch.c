/* local_launch.c - start the configured commands in their cgroups and namespaces, stop them again, revive one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cgroup_file.h"
#include "cgroup_paths.h"
#include "local.h"
#include "local_netns.h"

/* h->remember, where a host without a journal (a test, "plan") is no error. */
static int remember(struct local *l, const char *id, const char *saved, long *handle)
{
	long r = l->h->remember(l->h, id, saved);

	*handle = 0;
	if (r == -ENOTCONN) {
		TB_LOG(l->h, TB_LOG_DEBUG, "no journal: %s not recorded", id);
		return 0;
	}
	if (r < 0) {
		TB_LOG(l->h, TB_LOG_ERROR, "cannot journal %s: %s", id, strerror((int)-r));
		return (int)r;
	}
	*handle = r;
	return 0;
}

static void forget(struct local *l, long *handle)
{
	if (*handle > 0)
		l->h->forget(l->h, *handle);
	*handle = 0;
}

static int make_parent(struct local *l)
{
	char rel[256], saved[TB_SAVED_MAX] = "";
	int r;

	snprintf(rel, sizeof(rel), "%s.%ld", l->cgroup_parent, (long)getpid());
	for (size_t i = 0; i < l->nhiers; i++) {
		free(l->parent_dirs[i]);
		l->parent_dirs[i] = NULL;
	}
	for (size_t i = 0; i < l->nhiers; i++)
		if (asprintf(&l->parent_dirs[i], "%s/%s", l->hiers[i].mount, rel) < 0) {
			l->parent_dirs[i] = NULL;
			return -ENOMEM;
		}
	r = local_saved_dirs(saved, sizeof(saved), l->parent_dirs, l->nhiers);
	if (r == 0)
		r = remember(l, rel, saved, &l->parent_handle);
	if (r == 0) {
		char *dirs[MAX_HIERS] = { NULL };

		r = local_make_cgroup(l, rel, NULL, dirs);
		for (size_t i = 0; i < l->nhiers; i++) {
			if (r == 0 && !l->hiers[i].v1name)
				r = local_enable_v2(l, l->hiers[i].mount);
			if (r == 0 && !l->hiers[i].v1name)
				r = local_enable_v2(l, dirs[i]);
			free(dirs[i]);
		}
	}
	return r;
}

/* What the child reports through its close-on-exec pipe when it fails. */
struct child_error {
	int stage;              /* 0 cgroup, 1 netns, 2 cwd, 3 exec */
	int err;
};
static const char *const stages[] = { "join its cgroup", "join its network namespace",
				      "enter its directory", "execute" };

/* In the child, between fork() and exec: only plain system calls. */
static void __attribute__((noreturn))
child(const struct svc *s, char *const *procs, size_t nprocs, int nsfd, int in, int out, int errfd,
      pid_t parent)
{
	struct child_error ce = { 0, 0 };

	/* A SIGKILLed ThrottleBot must not leave the service running.  (The
	 * signal comes when the thread that forked ends: launch() is called
	 * from the main thread.) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	setpgid(0, 0);
	/* Join before exec, so every process the service starts inherits it.
	 * "0" names the writer itself, on v1 and v2. */
	for (size_t i = 0; i < nprocs; i++) {
		int fd = open(procs[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "0", 1) != 1) {
			ce.err = errno;
			goto fail;
		}
		close(fd);
	}
	ce.stage = 1;
	if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0) {
		ce.err = errno;
		goto fail;
	}
	ce.stage = 2;
	if (s->cwd && chdir(s->cwd) < 0) {
		ce.err = errno;
		goto fail;
	}
	ce.stage = 3;
	local_child_stdio(in, out);
	execv(s->argv[0], s->argv);
	ce.err = errno;
fail:
	if (write(errfd, &ce, sizeof(ce)) < 0)
		_exit(126);
	_exit(127);
}

static char *log_path(const struct local *l, const struct svc *s)
{
	char *p;

	if (!strcmp(l->log_dir, "/dev/null"))
		return strdup("/dev/null");
	if (asprintf(&p, "%s/throttlebot-%s.log", l->log_dir, s->name) < 0)
		return NULL;
	return p;
}

void local_log_tail(const struct local *l, const struct svc *s)
{
	char *path = log_path(l, s), buf[1024];
	FILE *f;
	long size;
	size_t n;

	if (!path || !strcmp(path, "/dev/null") || !(f = fopen(path, "re"))) {
		free(path);
		return;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	TB_LOG(l->h, TB_LOG_ERROR, "%s: last output (%s):", s->name, path);
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		TB_LOG(l->h, TB_LOG_ERROR, "%s| %s", s->name, line);
	free(path);
}

int local_exited(struct local *l, struct svc *s, const char *when)
{
	int status;

	if (s->reaped || waitpid(s->pid, &status, WNOHANG) != s->pid)
		return 0;
	s->reaped = 1;
	if (WIFEXITED(status))
		TB_LOG(l->h, TB_LOG_ERROR, "service '%s' (pid %ld) exited with status %d %s",
		       s->name, (long)s->pid, WEXITSTATUS(status), when);
	else
		TB_LOG(l->h, TB_LOG_ERROR, "service '%s' (pid %ld) was killed by signal %d %s",
		       s->name, (long)s->pid, WTERMSIG(status), when);
	local_log_tail(l, s);
	return 1;
}

static int service_saved(struct local *l, struct svc *s, char *saved, size_t size)
{
	int r;

	saved[0] = '\0';
	r = local_saved_dirs(saved, size, s->dirs, l->nhiers);
	if (r == 0 && s->new_netns) {
		size_t len = strlen(saved);
		int w = snprintf(saved + len, size - len, "link\t%s\nnetns\t%s\n", s->host_if, s->netns);

		if (w < 0 || (size_t)w >= size - len)
			r = -ENOSPC;
	}
	return r;
}

static int start_service(struct local *l, struct svc *s, size_t index)
{
	const struct tb_host *h = l->h;
	char rel[512], parent_rel[256], saved[TB_SAVED_MAX], *procs[MAX_HIERS] = { NULL };
	char *logp = NULL;
	int r, nsfd = -1, in = -1, out = -1, pipefd[2] = { -1, -1 };
	struct child_error ce;
	pid_t parent = getpid();
	ssize_t got;

	snprintf(parent_rel, sizeof(parent_rel), "%s.%ld", l->cgroup_parent, (long)parent);
	snprintf(rel, sizeof(rel), "%s/%s", parent_rel, s->name);
	for (size_t i = 0; i < l->nhiers; i++) {
		free(s->dirs[i]);
		s->dirs[i] = NULL;
	}
	for (size_t i = 0; i < l->nhiers; i++)
		if (asprintf(&s->dirs[i], "%s/%s", l->hiers[i].mount, rel) < 0) {
			s->dirs[i] = NULL;
			return -ENOMEM;
		}
	if (s->new_netns) {
		snprintf(s->host_if, sizeof(s->host_if), TB_VETH_PREFIX "%ld" "s%zu",
			 (long)parent % 10000000, index);
		free(s->netns);
		if (asprintf(&s->netns, "%s/%s%ld-%s", TB_NETNS_DIR, TB_NETNS_PREFIX, (long)parent,
			     s->name) < 0) {
			s->netns = NULL;
			return -ENOMEM;
		}
	}
	/* Journal first: whatever exists afterwards can be undone. */
	r = service_saved(l, s, saved, sizeof(saved));
	if (r == 0)
		r = remember(l, s->name, saved, &s->handle);
	if (r == 0) {
		char *made[MAX_HIERS] = { NULL };

		r = local_make_cgroup(l, rel, parent_rel, made);
		for (size_t i = 0; i < l->nhiers; i++)
			free(made[i]);
	}
	if (r == 0 && s->new_netns) {
		r = tb_local_net_create(h, s->netns, s->host_if, s->host_address, s->address);
		s->net_made = r == 0;
	}
	if (r < 0)
		return r;

	for (size_t i = 0; i < l->nhiers && r == 0; i++)
		if (asprintf(&procs[i], "%s/cgroup.procs", s->dirs[i]) < 0) {
			procs[i] = NULL;
			r = -ENOMEM;
		}
	if (r == 0 && s->netns && (nsfd = open(s->netns, O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	logp = log_path(l, s);
	if (r == 0 && !logp)
		r = -ENOMEM;
	if (r == 0 && (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && (out = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		r = -errno;
		TB_LOG(h, TB_LOG_ERROR, "cannot open %s: %s", logp, strerror(-r));
	}
	if (r == 0 && pipe2(pipefd, O_CLOEXEC) < 0)
		r = -errno;
	if (r == 0)
		r = local_ready_prepare(l, s);
	if (r == 0) {
		s->pid = fork();
		if (s->pid == 0)
			child(s, procs, l->nhiers, nsfd, in, out, pipefd[1], parent);
		if (s->pid < 0) {
			r = -errno;
			s->pid = 0;
		}
	}
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (r == 0) {
		setpgid(s->pid, s->pid);   /* no race with our kill(-pgid) */
		do
			got = read(pipefd[0], &ce, sizeof(ce));
		while (got < 0 && errno == EINTR);
		if (got == (ssize_t)sizeof(ce)) {
			r = -ce.err;
			TB_LOG(h, TB_LOG_ERROR, "service '%s': cannot %s%s%s: %s", s->name,
			       stages[ce.stage < 4 ? ce.stage : 3], ce.stage == 3 ? " " : "",
			       ce.stage == 3 ? s->argv[0] : "", strerror(ce.err));
			waitpid(s->pid, NULL, 0);
			s->reaped = 1;
		} else {
			TB_LOG(h, TB_LOG_INFO, "started '%s' (pid %ld), output in %s", s->name,
			       (long)s->pid, logp);
		}
	}
	for (size_t i = 0; i < l->nhiers; i++)
		free(procs[i]);
	free(logp);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (nsfd >= 0)
		close(nsfd);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return r;
}

/* Stop one launched service (only), or all of them and their parent cgroup (only NULL). */
static int stop_some(struct local *l, const struct svc *only)
{
	const struct tb_host *h = l->h;
	double deadline;
	int r = 0, e, busy;

	for (size_t i = 0; i < l->nsvcs; i++) {
		struct svc *s = &l->svcs[i];

		if (s->pid > 0 && !s->reaped && (!only || s == only))
			kill(-s->pid, SIGTERM);
	}
	/* Grace: until each group is gone or STOP_GRACE seconds passed. */
	deadline = local_now(l) + STOP_GRACE;
	do {
		busy = 0;
		for (size_t i = 0; i < l->nsvcs; i++) {
			struct svc *s = &l->svcs[i];

			if (s->pid <= 0 || (only && s != only))
				continue;
			if (!s->reaped && waitpid(s->pid, NULL, WNOHANG) == s->pid)
				s->reaped = 1;
			busy |= !s->reaped || kill(-s->pid, 0) == 0;
		}
		if (busy)
			local_pause();
	} while (busy && local_now(l) < deadline);

	for (size_t i = 0; i < l->nsvcs; i++) {
		struct svc *s = &l->svcs[i];
		int sr = 0;

		if (only && s != only)
			continue;
		if (s->pid > 0 && kill(-s->pid, SIGKILL) == 0)
			TB_LOG(h, TB_LOG_WARNING, "service '%s' still ran %g s after SIGTERM: killed",
			       s->name, STOP_GRACE);
		/* Whatever left the process group is still in the cgroup. */
		for (size_t k = 0; k < l->nhiers; k++)
			if (s->dirs[k] && (e = local_cg_remove(h, s->dirs[k], 0)) < 0 && sr == 0)
				sr = e;
		for (int tries = 0; s->pid > 0 && !s->reaped && tries < 250; tries++) {
			pid_t w = waitpid(s->pid, NULL, WNOHANG);

			if (w == s->pid || (w < 0 && errno == ECHILD))
				s->reaped = 1;
			else
				local_pause();
		}
		if (s->net_made) {
			if ((e = tb_local_net_remove_link(h, s->host_if)) < 0 && sr == 0)
				sr = e;
			if ((e = tb_local_net_remove_ns(h, s->netns)) < 0 && sr == 0)
				sr = e;
			s->net_made = sr < 0;
		}
		if (sr == 0)
			forget(l, &s->handle);
		else if (r == 0)
			r = sr;
		s->pid = 0;
		s->reaped = 0;
	}
	if (only)
		return r;
	for (size_t k = 0; k < l->nhiers; k++)
		if (l->parent_dirs[k] && (e = local_cg_remove(h, l->parent_dirs[k], 0)) < 0 && r == 0)
			r = e;
	if (r == 0)
		forget(l, &l->parent_handle);
	return r;
}

int local_stop_services(struct local *l)
{
	return stop_some(l, NULL);
}

/*
 * Bring back a launched service whose process died or was harmed: what is
 * left of it is stopped and undone as stop() would (its cgroups, namespace
 * and journal entry), then it starts again as launch() started it, ready
 * before this returns.
 * Services attached to (pids, cgroup) are not ours to start: -EOPNOTSUPP.
 */
int local_revive(void *state, const struct tb_target *t)
{
	struct local *l = state;
	int r;

	for (size_t i = 0; i < l->nsvcs; i++) {
		struct svc *s = &l->svcs[i];

		if (s->kind != SVC_COMMAND || !l->launched || t->pid <= 0 || s->pid != t->pid)
			continue;
		r = stop_some(l, s);
		if (r < 0)
			return r;
		/* start_service() clears what its first run left at ready_path. */
		r = start_service(l, s, i);
		if (r == 0)
			r = local_wait_ready(l, s);
		if (r < 0)
			stop_some(l, s);
		return r;
	}
	return -EOPNOTSUPP;
}

int local_stop(void *state)
{
	struct local *l = state;
	int r;

	if (!l->launched)
		return 0;
	r = local_stop_services(l);
	if (r == 0)
		l->launched = 0;
	return r;
}

int local_need_mounts(struct local *l)
{
	int r;

	if (l->have_mounts)
		return 0;
	r = tb_cg_mounts_read(NULL, &l->mounts);
	if (r < 0) {
		TB_LOG(l->h, TB_LOG_ERROR, "cannot read the cgroup mounts: %s", strerror(-r));
		return r;
	}
	l->have_mounts = 1;
	local_find_hiers(l);
	return 0;
}

int local_launch(void *state)
{
	struct local *l = state;
	int r, any = 0;

	for (size_t i = 0; i < l->nsvcs; i++)
		any |= l->svcs[i].kind == SVC_COMMAND;
	if ((r = local_need_mounts(l)) < 0)
		return r;
	if (l->launched)
		return 0;
	l->launched = 1;
	if (!any)
		return 0;
	if (l->nhiers == 0) {
		TB_LOG(l->h, TB_LOG_ERROR, "no cgroup hierarchy with cpu, cpuset, blkio/io or memory is mounted");
		return -ENODEV;
	}
	for (size_t i = 0; i < l->nhiers; i++) {
		if (l->hiers[i].v1name && (r = cgroup_init()) != 0) {
			TB_LOG(l->h, TB_LOG_ERROR, "libcgroup: %s", cgroup_strerror(r));
			return -EIO;
		}
		if (l->hiers[i].v1name)
			break;
	}
	r = make_parent(l);
	/* In the order given, each ready before the next starts: a service
	 * may need the one before it (a database before its frontend). */
	for (size_t i = 0; i < l->nsvcs && r == 0; i++)
		if (l->svcs[i].kind == SVC_COMMAND) {
			r = start_service(l, &l->svcs[i], i);
			if (r == 0)
				r = local_wait_ready(l, &l->svcs[i]);
		}
	if (r < 0) {
		/* Leave nothing behind: the host may not call stop() after a
		 * failed launch. */
		local_stop_services(l);
		l->launched = 0;
	}
	return r;
}

