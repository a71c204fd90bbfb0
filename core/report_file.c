/* report_file.c - write a report file atomically: a temporary file renamed into place. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report_render.h"

/* The page is composed in memory and written with write(2) at the end, so
 * the error that stops it (a full disk, say) is reported exactly, which a
 * buffered stdio stream does not guarantee. */
int tb_report_file_open(struct tb_report_file *rf, const char *path)
{
	static const char suffix[] = ".tmp.XXXXXX";
	size_t n;
	int err;

	memset(rf, 0, sizeof(*rf));
	rf->fd = -1;
	if (!path || !*path)
		return -EINVAL;
	n = strlen(path);
	rf->path = strdup(path);
	rf->tmp = malloc(n + sizeof(suffix));
	if (!rf->path || !rf->tmp) {
		tb_report_file_abort(rf);
		return -ENOMEM;
	}
	memcpy(rf->tmp, path, n);
	memcpy(rf->tmp + n, suffix, sizeof(suffix));
	/* O_EXCL (mkstemp's own) and O_NOFOLLOW: never a file someone planted
	 * at the name; O_CLOEXEC: no workload started later inherits it. */
	rf->fd = mkostemp(rf->tmp, O_NOFOLLOW | O_CLOEXEC);
	if (rf->fd < 0) {
		err = -errno;
		free(rf->tmp);
		rf->tmp = NULL;
		tb_report_file_abort(rf);
		return err;
	}
	/* mkstemp makes 0600; a report is meant to be read like any other
	 * output file. */
	if (fchmod(rf->fd, 0644) < 0 || !(rf->f = open_memstream(&rf->buf, &rf->len))) {
		err = -errno;
		tb_report_file_abort(rf);
		return err;
	}
	return 0;
}

int tb_report_file_commit(struct tb_report_file *rf)
{
	size_t done = 0;
	ssize_t w;
	int err = 0;

	/* a memory stream fails only for want of memory */
	if (ferror(rf->f) | fclose(rf->f))
		err = -ENOMEM;
	rf->f = NULL;
	while (!err && done < rf->len) {
		w = write(rf->fd, rf->buf + done, rf->len - done);
		if (w < 0 && errno != EINTR)
			err = -errno;
		else if (w > 0)
			done += w;
	}
	if (!err && fsync(rf->fd) < 0)
		err = -errno;
	if (close(rf->fd) < 0 && !err)
		err = -errno;
	rf->fd = -1;
	if (!err && rename(rf->tmp, rf->path) < 0)
		err = -errno;
	if (err) {
		tb_report_file_abort(rf);
		return err;
	}
	free(rf->buf);
	free(rf->tmp);
	free(rf->path);
	memset(rf, 0, sizeof(*rf));
	rf->fd = -1;
	return 0;
}

void tb_report_file_abort(struct tb_report_file *rf)
{
	if (rf->f)
		fclose(rf->f);
	if (rf->fd >= 0)
		close(rf->fd);
	if (rf->tmp)
		unlink(rf->tmp);
	free(rf->buf);
	free(rf->tmp);
	free(rf->path);
	memset(rf, 0, sizeof(*rf));
	rf->fd = -1;
}
