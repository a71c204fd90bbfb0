/* outdir.c - make the output directory and trials/, refusing ones others could tamper with. */
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

/*
 * Make name in the directory at (or at the working directory when at is
 * AT_FDCWD) and open it without following a symlink, then check what was
 * opened.  Returns the descriptor or -errno; shown is the name for messages.
 */
static int open_safe_dir(int at, const char *name, const char *shown)
{
	struct stat st;
	int fd, r = 0;

	if (mkdirat(at, name, 0755) < 0 && errno != EEXIST) {
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
	} else if (st.st_uid != geteuid()) {
		tb_error("%s: refused: owned by uid %u, not by the user running throttlebot (%u)",
			 shown, (unsigned)st.st_uid, (unsigned)geteuid());
		r = -EPERM;
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		tb_error("%s: refused: writable by others (mode %04o)", shown, st.st_mode & 07777);
		r = -EPERM;
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
	fd = open_safe_dir(AT_FDCWD, dir, dir);
	trials = fd < 0 ? fd : open_safe_dir(fd, "trials", *workdir);
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
