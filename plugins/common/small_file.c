/* small_file.c - read a whole small regular file (a certificate, a token, a listing) into memory, bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "small_file.h"

int tb_read_small_file(const char *path, size_t max, char **data, size_t *len, struct stat *st)
{
	struct stat own;
	size_t used = 0;
	ssize_t n = 1;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (!st)
		st = &own;
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || (size_t)st->st_size > max) {
		int r = fstat(fd, st) < 0 ? -errno : !S_ISREG(st->st_mode) ? -EINVAL : -EFBIG;

		close(fd);
		return r;
	}
	if (!(buf = malloc((size_t)st->st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	/* What fstat said, unless the file shrank since: never more. */
	while (used < (size_t)st->st_size && (n = read(fd, buf + used, (size_t)st->st_size - used)) > 0)
		used += (size_t)n;
	close(fd);
	if (n < 0) {
		free(buf);
		return -EIO;
	}
	buf[used] = '\0';
	*data = buf;
	if (len)
		*len = used;
	return 0;
}
