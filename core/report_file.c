/* report_file.c - write a report file atomically: a temporary file renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report_render.h"

int tb_report_file_open(struct tb_report_file *rf, const char *path)
{
	size_t n;
	int fd, err;

	memset(rf, 0, sizeof(*rf));
	if (!path || !*path)
		return -EINVAL;
	n = strlen(path);
	rf->path = strdup(path);
	rf->tmp = malloc(n + sizeof(".tmp.XXXXXX"));
	if (!rf->path || !rf->tmp) {
		tb_report_file_abort(rf);
		return -ENOMEM;
	}
	memcpy(rf->tmp, path, n);
	memcpy(rf->tmp + n, ".tmp.XXXXXX", sizeof(".tmp.XXXXXX"));
	fd = mkstemp(rf->tmp);
	if (fd < 0) {
		err = -errno;
		free(rf->tmp);
		rf->tmp = NULL;
		tb_report_file_abort(rf);
		return err;
	}
	/* mkstemp makes 0600; a report is meant to be read like any other
	 * output file. */
	if (fchmod(fd, 0644) < 0) {
		err = -errno;
		close(fd);
		tb_report_file_abort(rf);
		return err;
	}
	rf->f = fdopen(fd, "w");
	if (!rf->f) {
		err = -errno;
		close(fd);
		tb_report_file_abort(rf);
		return err;
	}
	return 0;
}

int tb_report_file_commit(struct tb_report_file *rf)
{
	int err = 0;

	errno = 0;
	if (fflush(rf->f) != 0 || ferror(rf->f))
		err = errno ? -errno : -EIO;
	if (fclose(rf->f) != 0 && !err)
		err = errno ? -errno : -EIO;
	rf->f = NULL;
	if (!err && rename(rf->tmp, rf->path) < 0)
		err = -errno;
	if (err) {
		tb_report_file_abort(rf);
		return err;
	}
	free(rf->tmp);
	free(rf->path);
	rf->tmp = rf->path = NULL;
	return 0;
}

void tb_report_file_abort(struct tb_report_file *rf)
{
	if (rf->f)
		fclose(rf->f);
	if (rf->tmp)
		unlink(rf->tmp);
	free(rf->tmp);
	free(rf->path);
	memset(rf, 0, sizeof(*rf));
}
