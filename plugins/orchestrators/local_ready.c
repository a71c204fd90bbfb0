/* local_ready.c - when a launched service is ready: its ready_path appeared, ready_tcp accepts, ready_command exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "local.h"

/* Retry: quick at first (most services are up in well under a second),
 * backing off so that a slow one is not asked forty times a second. */
#define RETRY_FIRST 0.05
#define RETRY_MAX 0.5
#define RETRY_FACTOR 1.5
/* One ready_command or ready_tcp attempt may take at most this long. */
#define ATTEMPT_MAX 5.0

/* Whether a unix socket has a listener (1), has none (0). */
static int socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 1;               /* cannot tell: treat as in use */
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	r = r == 0 || errno == EPROTOTYPE;
	close(fd);
	return r;
}

/*
 * The directory holding path, opened without following a symlink at any
 * step: whoever can write somewhere along the path (the service, when it
 * runs as another user) must not make a root ThrottleBot unlink elsewhere.
 * *base points at the last component.  A descriptor or -errno.
 */
static int open_parent_nofollow(const char *path, const char **base)
{
	char part[4096];
	const char *p = path, *slash;
	int dfd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;

	while (dfd >= 0 && (slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - p);

		if (n >= sizeof(part)) {
			close(dfd);
			return -ENAMETOOLONG;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		p = slash + 1;
		if (n == 0 || !strcmp(part, "."))
			continue;
		next = openat(dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		dfd = next;
	}
	if (dfd < 0)
		return -errno;
	*base = p;
	return dfd;
}

/* Remove what an earlier run left at ready_path: 0, or -errno. */
static int remove_stale(const char *path)
{
	const char *base;
	struct stat st;
	int dfd = open_parent_nofollow(path, &base), r = 0;

	if (dfd < 0)
		return dfd;
	if (!*base || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = *base ? -errno : -EISDIR;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (unlinkat(dfd, base, 0) < 0)
		r = -errno;
	close(dfd);
	return r;
}

int local_ready_prepare(struct local *l, struct svc *s)
{
	struct stat st;
	int r;

	s->stale = 0;
	if (!s->ready_path || lstat(s->ready_path, &st) < 0)
		return 0;
	/* A socket with a listener belongs to something running: another run
	 * of this service, which a second one would only fight with. */
	if (S_ISSOCK(st.st_mode) && socket_live(s->ready_path)) {
		TB_LOG(l->h, TB_LOG_ERROR, "service '%s': ready_path %s is a socket in use: "
		       "is another instance running?", s->name, s->ready_path);
		return -EADDRINUSE;
	}
	r = remove_stale(s->ready_path);
	if (r == 0) {
		TB_LOG(l->h, TB_LOG_INFO, "service '%s': removed %s, left from before this launch",
		       s->name, s->ready_path);
		return 0;
	}
	/* Cannot remove it (a directory, a symlink on the way): it still
	 * must not count, so only a new or changed one will. */
	s->stale = 1;
	s->stale_dev = st.st_dev;
	s->stale_ino = st.st_ino;
	s->stale_ctime = st.st_ctim;
	TB_LOG(l->h, TB_LOG_WARNING, "service '%s': ready_path %s exists from before this launch and "
	       "was not removed (%s): waiting for it to be made anew", s->name, s->ready_path,
	       strerror(-r));
	return 0;
}

/* 1 when ready_path is there and is not what was there before launch; a
 * socket must also take connections.  why says what is missing. */
static int path_ready(const struct svc *s, char *why, size_t size)
{
	struct stat st;

	if (lstat(s->ready_path, &st) < 0) {
		snprintf(why, size, "ready_path %s did not appear", s->ready_path);
		return 0;
	}
	if (s->stale && st.st_dev == s->stale_dev && st.st_ino == s->stale_ino &&
	    st.st_ctim.tv_sec == s->stale_ctime.tv_sec && st.st_ctim.tv_nsec == s->stale_ctime.tv_nsec) {
		snprintf(why, size, "ready_path %s is still the one from before launch", s->ready_path);
		return 0;
	}
	if (S_ISSOCK(st.st_mode) && !socket_live(s->ready_path)) {
		snprintf(why, size, "ready_path %s is a socket nobody listens on", s->ready_path);
		return 0;
	}
	return 1;
}

/* In the probe's child: a TCP connection to the service, bounded by
 * timeout_ms; the exit status is 0 or the errno of the failure. */
static void __attribute__((noreturn)) tcp_child(const struct svc *s, int timeout_ms)
{
	struct pollfd p = { .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	p.fd = socket(s->ready_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		_exit(errno & 0xff);
	if (connect(p.fd, (const struct sockaddr *)&s->ready_addr, s->ready_addrlen) == 0)
		_exit(0);
	if (errno != EINPROGRESS)
		_exit(errno & 0xff);
	if (poll(&p, 1, timeout_ms) != 1)
		_exit(ETIMEDOUT);
	if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		_exit(errno & 0xff);
	_exit(err & 0xff);
}

/* Read what fd has and keep the last size - 1 bytes of all read in out. */
static ssize_t keep_tail(int fd, char *out, size_t size, size_t *used)
{
	char buf[256];
	ssize_t got = read(fd, buf, sizeof(buf));
	size_t n = got > 0 ? (size_t)got : 0, drop;

	if (n == 0)
		return got;
	if (*used + n > size - 1) {
		drop = *used + n - (size - 1);
		memmove(out, out + drop, *used - drop);
		*used -= drop;
	}
	memcpy(out + *used, buf, n);
	*used += n;
	out[*used] = '\0';
	return got;
}

/*
 * One attempt, in a child in the service's network namespace (so that
 * "127.0.0.1:5432" means the service's own loopback): ready_command is
 * executed there (no shell), or a TCP connection is tried.  Returns 1 when
 * ready, 0 when not (why says how), -EINTR when cancelled, -errno.
 */
static int attempt(struct local *l, struct svc *s, int tcp, double limit, char *why, size_t size)
{
	const struct tb_host *h = l->h;
	char out[512] = "";   /* more than keep_tail reads at once */
	size_t used = 0;
	int pipefd[2], nsfd = -1, devnull, status = 0, done = 0, killed = 0, eof = 0;
	pid_t parent = getpid(), pid;
	double deadline = local_now(l) + limit;

	if (s->netns && (nsfd = open(s->netns, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		int e = -errno;

		if (devnull >= 0)
			close(devnull);
		if (nsfd >= 0)
			close(nsfd);
		return e;
	}
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		setpgid(0, 0);
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
			_exit(tcp ? (errno & 0xff) : 126);
		if (tcp)
			tcp_child(s, (int)(limit * 1000));
		local_child_stdio(devnull, pipefd[1]);
		execv(s->ready_argv[0], s->ready_argv);
		_exit(127);
	}
	close(pipefd[1]);
	close(devnull);
	if (nsfd >= 0)
		close(nsfd);
	if (pid < 0) {
		int e = -errno;

		close(pipefd[0]);
		return e;
	}
	setpgid(pid, pid);
	/* Keep the end of what it says, for the message if it never succeeds;
	 * kill it (and what it started) once its time is up.  WNOWAIT: its
	 * group is killed while its id cannot yet be another's. */
	while (!done) {
		struct pollfd p = { .fd = eof ? -1 : pipefd[0], .events = POLLIN };
		siginfo_t si = { .si_pid = 0 };

		/* Once the pipe is at its end (a program may close its output
		 * and go on), only its exit is waited for. */
		if (p.fd < 0)
			local_pause();
		else if (poll(&p, 1, POLL_US / 1000) == 1 &&
			 keep_tail(pipefd[0], out, sizeof(out), &used) == 0)
			eof = 1;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			done = 1;
		else if (!killed && (local_now(l) > deadline || h->cancelled(h))) {
			kill(-pid, SIGKILL);
			killed = 1;
		}
	}
	kill(-pid, SIGKILL);            /* whatever it left running in its group */
	waitpid(pid, &status, 0);
	/* What it wrote just before it ended; bounded, as something it left
	 * in another group may still write. */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (int i = 0; !eof && i < 64 && keep_tail(pipefd[0], out, sizeof(out), &used) > 0; i++)
		;
	close(pipefd[0]);
	if (h->cancelled(h))
		return -EINTR;
	for (char *c = out; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	while (used > 0 && out[used - 1] == ' ')
		out[--used] = '\0';
	if (tcp) {
		int e = killed ? ETIMEDOUT : WIFEXITED(status) ? WEXITSTATUS(status) : EIO;

		snprintf(why, size, "ready_tcp %s: %s", s->ready_tcp, strerror(e));
		return e == 0;
	}
	if (killed)
		snprintf(why, size, "ready_command %s took longer than %g s", s->ready_argv[0], limit);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	else if (WIFEXITED(status))
		snprintf(why, size, "ready_command %s exited with status %d%s%s%s", s->ready_argv[0],
			 WEXITSTATUS(status), *out ? " (" : "", out, *out ? ")" : "");
	else
		snprintf(why, size, "ready_command %s was killed by signal %d", s->ready_argv[0],
			 WTERMSIG(status));
	return 0;
}

/* The key named in the timeout's message: the first condition not met. */
static const char *unmet_key(const struct svc *s, const int *met)
{
	return s->ready_path && !met[0] ? "ready_path" : s->ready_tcp && !met[1] ? "ready_tcp"
									     : "ready_command";
}

int local_wait_ready(struct local *l, struct svc *s)
{
	const struct tb_host *h = l->h;
	double start = local_now(l), ready_at = -1, next = start, interval = RETRY_FIRST;
	int met[3] = { !s->ready_path, !s->ready_tcp, !s->ready_argv }, r;
	char why[3][512] = { "", "", "" };

	for (;;) {
		double now = local_now(l), left = start + s->ready_timeout - now;

		if (local_exited(l, s, "during startup"))
			return -ECHILD;
		if (h->cancelled(h))
			return -EINTR;
		if (ready_at < 0 && now >= next) {
			if (!met[0])
				met[0] = path_ready(s, why[0], sizeof(why[0]));
			for (int k = 1; k < 3; k++) {
				double limit = left < ATTEMPT_MAX ? left : ATTEMPT_MAX;

				if (met[k])
					continue;
				r = attempt(l, s, k == 1, limit > 0.1 ? limit : 0.1, why[k], sizeof(why[k]));
				if (r < 0 && r != -EINTR)
					TB_LOG(h, TB_LOG_ERROR, "service '%s': cannot check readiness: %s",
					       s->name, strerror(-r));
				if (r < 0)
					return r;
				met[k] = r;
			}
			if (met[0] && met[1] && met[2])
				ready_at = local_now(l);
			next = local_now(l) + interval;
			interval = interval * RETRY_FACTOR < RETRY_MAX ? interval * RETRY_FACTOR : RETRY_MAX;
		}
		if (ready_at < 0 && local_now(l) - start > s->ready_timeout) {
			/* file:line of what it waited on, and what the last try saw. */
			h->config_error(h, s->cfg, unmet_key(s, met),
					"service '%s' not ready within %g s (ready_timeout): %s%s%s%s%s",
					s->name, s->ready_timeout, why[0], *why[0] && *why[1] ? "; " : "",
					why[1], (*why[0] || *why[1]) && *why[2] ? "; " : "", why[2]);
			local_log_tail(l, s);
			return -ETIMEDOUT;
		}
		if (ready_at >= 0 && local_now(l) - ready_at >= s->startup_seconds) {
			if (s->ready_path || s->ready_tcp || s->ready_argv)
				TB_LOG(h, TB_LOG_INFO, "service '%s' ready after %.2f s", s->name,
				       ready_at - start);
			return 0;
		}
		local_pause();
	}
}
