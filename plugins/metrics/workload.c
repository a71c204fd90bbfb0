/* workload.c - run a metric's workload: execvp in its own process group, output to a file, timeout, cancel. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "program.h"
#include "workload.h"
#include "strlist.h"

extern char **environ;

#define POLL_MS 100          /* how often cancel and timeout are checked */
#define TERM_GRACE 2.0       /* seconds between SIGTERM and SIGKILL */

/* environ with r->env added; a "K=V" replaces an inherited K. */
static char **build_env(char *const *extra)
{
	size_t n = 0, m = 0, k = 0;
	char **out;

	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	out = calloc(n + m + 1, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		int overridden = 0;

		for (size_t j = 0; j < m && !overridden; j++)
			overridden = strncmp(extra[j], environ[i], klen) == 0;
		if (!overridden)
			out[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		out[k++] = extra[j];
	out[k] = NULL;
	return out;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(const struct tb_workload_run *r, char **envp, int outfd, int errpipe)
{
	sigset_t none;
	int e, devnull;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0 && devnull != 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	if (dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0)
		goto fail;
	if (outfd > 2)
		close(outfd);
	if (r->cwd && chdir(r->cwd) < 0)
		goto fail;
	execvpe(r->argv[0], r->argv, envp);
fail:
	e = errno;
	if (write(errpipe, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static double realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Wait up to ms for pid to exit; 1 once it has.  It is left a zombie (not
 * reaped) so that its process group id cannot be reused before reap().
 */
static int wait_exit(pid_t pid, int pidfd, int ms)
{
	siginfo_t info;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (poll(&p, 1, ms) == 0)
			return 0;
	}
	memset(&info, 0, sizeof(info));
	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		if (errno != EINTR)
			return -errno;
	if (info.si_pid == pid)
		return 1;
	if (pidfd < 0)
		poll(NULL, 0, ms < 20 ? ms : 20);
	return 0;
}

static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* SIGTERM the group, give it TERM_GRACE, then SIGKILL; reaps pid. */
static void kill_group(const struct tb_host *h, pid_t pid, int pidfd)
{
	double until = h->now(h) + TERM_GRACE;

	kill(-pid, SIGTERM);
	while (h->now(h) < until)
		if (wait_exit(pid, pidfd, 50) != 0)
			break;
	kill(-pid, SIGKILL);
	reap(pid);
}

void tb_workload_log_tail(const struct tb_host *h, enum tb_log_level level, const char *path,
		     int nlines)
{
	char buf[4096];
	ssize_t n;
	off_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *p, *start;
	int seen = 0;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	/* Walk back over nlines newlines, then print forward. */
	for (p = buf + n; p > buf; p--)
		if (p[-1] == '\n' && ++seen == nlines)
			break;
	start = p;
	TB_LOG(h, level, "last lines of %s:", path);
	while (start && *start) {
		char *nl = strchr(start, '\n');

		if (nl)
			*nl = '\0';
		TB_LOG(h, level, "  | %s", start);
		start = nl ? nl + 1 : NULL;
	}
}

/*
 * The output file, emptied.  It is written as root in a directory that may
 * hold an earlier run's files: never through a symlink, never a file another
 * user owns or one with another name elsewhere (a hard link), and a FIFO
 * must not block the open.
 */
static int open_output(const struct tb_host *h, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644), r = 0;
	struct stat st;

	if (fd < 0 && errno == ELOOP) {
		TB_LOG(h, TB_LOG_ERROR, "%s: refused: a symlink", path);
		return -ELOOP;
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid())
		r = -EPERM;
	else if (ftruncate(fd, 0) < 0 || fcntl(fd, F_SETFL, 0) < 0)
		r = -errno;
	if (r == -EPERM)
		TB_LOG(h, TB_LOG_ERROR, "%s: refused: not a regular file of ours with one name", path);
	else if (r < 0)
		TB_LOG(h, TB_LOG_ERROR, "cannot create %s: %s", path, strerror(-r));
	if (r < 0 && fd >= 0)
		close(fd);
	return r < 0 ? r : fd;
}

int tb_workload_exec(const struct tb_host *h, const struct tb_workload_run *r,
		     struct tb_trial *trial)
{
	int outfd, errpipe[2], pidfd, status = 0, e = 0, done, rc = 0;
	ssize_t n;
	char **envp;
	double deadline;
	pid_t pid;

	outfd = open_output(h, r->out_path);
	if (outfd < 0)
		return outfd;
	envp = build_env(r->env);
	if (!envp || pipe2(errpipe, O_CLOEXEC) < 0) {
		rc = envp ? -errno : -ENOMEM;
		free(envp);
		close(outfd);
		return rc;
	}
	trial->wall_start = realtime();
	trial->start = h->now(h);
	pid = fork();
	if (pid == 0)
		child(r, envp, outfd, errpipe[1]);
	close(errpipe[1]);
	close(outfd);
	free(envp);
	if (pid < 0) {
		rc = -errno;
		close(errpipe[0]);
		TB_LOG(h, TB_LOG_ERROR, "fork: %s", strerror(-rc));
		return rc;
	}
	setpgid(pid, pid);  /* also in the child: whichever runs first */
	/* The exec error pipe closes on a successful exec. */
	while ((n = read(errpipe[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(e)) {
		close(errpipe[0]);
		reap(pid);
		trial->end = h->now(h);
		TB_LOG(h, TB_LOG_ERROR, "cannot run %s%s%s: %s", r->argv[0],
		       r->cwd ? " in " : "", r->cwd ? r->cwd : "", strerror(e));
		return -e;
	}
	close(errpipe[0]);

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	deadline = r->timeout > 0 ? trial->start + r->timeout : 0;
	for (;;) {
		done = wait_exit(pid, pidfd, POLL_MS);
		if (done) {
			trial->end = h->now(h);
			/* What it left running in its group would skew the next trial. */
			kill(-pid, SIGTERM);
			status = reap(pid);
			if (done < 0)
				rc = done;
			break;
		}
		if (h->cancelled(h)) {
			TB_LOG(h, TB_LOG_WARNING, "cancelled: stopping %s (process group %d)",
			       r->argv[0], (int)pid);
			kill_group(h, pid, pidfd);
			rc = -EINTR;
			break;
		}
		if (deadline && h->now(h) >= deadline) {
			TB_LOG(h, TB_LOG_ERROR, "%s did not finish within %g s: killed (process group %d)",
			       r->argv[0], r->timeout, (int)pid);
			kill_group(h, pid, pidfd);
			tb_workload_log_tail(h, TB_LOG_ERROR, r->out_path, 5);
			rc = -ETIMEDOUT;
			break;
		}
	}
	if (rc < 0)
		trial->end = h->now(h);
	if (pidfd >= 0)
		close(pidfd);
	if (rc < 0)
		return rc;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		TB_LOG(h, TB_LOG_ERROR, "%s exited with status %d", r->argv[0], WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		TB_LOG(h, TB_LOG_ERROR, "%s was killed by signal %d (%s)", r->argv[0],
		       WTERMSIG(status), strsignal(WTERMSIG(status)));
	tb_workload_log_tail(h, TB_LOG_ERROR, r->out_path, 5);
	return -ECHILD;
}

int tb_workload_configure(const struct tb_host *h, const struct tb_config *cfg,
			  struct tb_workload *w)
{
	const char *s;
	char *found;
	int r;

	r = tb_strlist_get(h, cfg, "command", &w->argv);
	if (r < 0)
		return r;
	if (!w->argv[0] || !w->argv[0][0])
		return h->config_error(h, cfg, "command", "must name a program");
	r = tb_strlist_get(h, cfg, "env", &w->env);
	if (r < 0 && r != -ENOENT)
		return r;
	for (size_t i = 0; w->env && w->env[i]; i++)
		if (!strchr(w->env[i], '=') || w->env[i][0] == '=')
			return h->config_error(h, cfg, "env", "'%s' is not \"NAME=value\"", w->env[i]);
	w->timeout = 600;
	r = h->get_number(h, cfg, "timeout", &w->timeout);
	if (r < 0 && r != -ENOENT)
		return r;
	if (w->timeout <= 0)
		return h->config_error(h, cfg, "timeout", "must be > 0 seconds");
	if (h->get_string(h, cfg, "cwd", &s) == 0 && !(w->cwd = strdup(s)))
		return -ENOMEM;
	found = tb_find_program(w->argv[0], w->cwd);
	if (!found)
		return h->config_error(h, cfg, "command", "program '%s' not found%s", w->argv[0],
				       strchr(w->argv[0], '/') ? " (or not executable)" : " in PATH");
	free(found);
	return 0;
}

void tb_workload_free(struct tb_workload *w)
{
	tb_strlist_free(w->argv);
	tb_strlist_free(w->env);
	free(w->cwd);
	w->argv = w->env = NULL;
	w->cwd = NULL;
}
