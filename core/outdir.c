/* outdir.c - make or check the output directory, trials/ and the files in it, refusing what others could tamper with. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "outdir.h"

/* Owned by the running user and writable by nobody else, or -EPERM. */
static int owned_safely(const struct stat *st, const char *shown)
{
	if (st->st_uid != geteuid()) {
		tb_error("%s: refused: owned by uid %u, not by the user running throttlebot (%u)",
			 shown, (unsigned)st->st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		tb_error("%s: refused: writable by others (mode %04o)", shown, st->st_mode & 07777);
		return -EPERM;
	}
	return 0;
}

/*
 * Make name (when create) in the directory at (or at the working directory when at is
 * AT_FDCWD) and open it without following a symlink, then check what was
 * opened.  Returns the descriptor or -errno; shown is the name for messages.
 */
static int open_safe_dir(int at, const char *name, const char *shown, int create)
{
	struct stat st;
	int fd, r = 0;

	if (create && mkdirat(at, name, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		tb_error("cannot create %s: %s", shown, strerror(-r));
		return r;
	}
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		int link = fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);

		tb_error("%s: refused: %s", shown, link ? "a symlink" : "not a directory");
		r = link ? -ELOOP : -ENOTDIR;
	} else if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		tb_error("cannot open %s: %s", shown, strerror(-r));
	} else {
		r = owned_safely(&st, shown);
	}
	if (r < 0 && fd >= 0)
		close(fd);
	return r < 0 ? r : fd;
}


int tb_outdir_prepare(const char *dir, char **workdir)
{
	int fd, trials;

	*workdir = NULL;
	if (asprintf(workdir, "%s/trials", dir) < 0) {
		*workdir = NULL;
		return -ENOMEM;
	}
	fd = open_safe_dir(AT_FDCWD, dir, dir, 1);
	trials = fd < 0 ? fd : open_safe_dir(fd, "trials", *workdir, 1);
	if (fd >= 0)
		close(fd);
	if (trials < 0) {
		free(*workdir);
		*workdir = NULL;
		return trials;
	}
	close(trials);
	return 0;
}

int tb_outdir_check(const char *dir)
{
	int fd = open_safe_dir(AT_FDCWD, dir, dir, 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int tb_outdir_open_file(const char *dir, const char *name, int flags)
{
	char shown[4096];
	struct stat st;
	int fd, r;

	snprintf(shown, sizeof(shown), "%s/%s", dir, name);
	fd = open(shown, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			tb_error("%s: refused: a symlink", shown);
		else if (r != -ENOENT)
			tb_error("cannot open %s: %s", shown, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		tb_error("%s: refused: not a regular file", shown);
		r = -EPERM;
	} else {
		r = owned_safely(&st, shown);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	/* Reads of a regular file do not block; O_NONBLOCK only kept a FIFO from hanging the open. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}
