/* cgroup_file.c - read and write cgroup control files exactly, and keep their previous values for restore. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroup_file.h"

int tb_cg_is_v2(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	return access(path, F_OK) == 0;
}

int tb_cg_read(const char *dir, const char *file, char *buf, size_t size)
{
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static int write_path(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd;

	/* O_TRUNC: cgroupfs ignores it, and a cgroupfs-shaped test tree needs it. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

int tb_cg_write(const char *dir, const char *file, const char *value)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_path(path, value);
}

int tb_saved_add(char *saved, size_t size, const char *dir, const char *file,
		 const char *value)
{
	size_t used = strlen(saved);
	int n;

	if (strchr(value, '\n') || strchr(value, '\t'))
		return -EINVAL;   /* multi-line files are the caller's to split */
	n = snprintf(saved + used, size - used, "%s/%s\t%s\n", dir, file, value);
	if (n < 0 || (size_t)n >= size - used) {
		saved[used] = '\0';
		return -ENOSPC;
	}
	return 0;
}

int tb_saved_restore(const char *saved)
{
	const char *line = saved;
	int first = 0;

	while (line && *line) {
		const char *tab = strchr(line, '\t'), *end = strchr(line, '\n');
		char path[4096], value[4096];

		if (!end)
			end = line + strlen(line);
		if (!tab || tab > end || (size_t)(tab - line) >= sizeof(path) ||
		    (size_t)(end - tab - 1) >= sizeof(value)) {
			first = first ? first : -EINVAL;
		} else {
			int r;

			memcpy(path, line, (size_t)(tab - line));
			path[tab - line] = '\0';
			memcpy(value, tab + 1, (size_t)(end - tab - 1));
			value[end - tab - 1] = '\0';
			r = write_path(path, value);
			if (r < 0 && !first)
				first = r;
		}
		line = *end ? end + 1 : NULL;
	}
	return first;
}

int tb_saved_get(const char *saved, const char *dir, const char *file, char *out, size_t size)
{
	char key[4096];
	size_t klen;
	const char *line = saved;

	klen = (size_t)snprintf(key, sizeof(key), "%s/%s\t", dir, file);
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len >= klen && !strncmp(line, key, klen)) {
			snprintf(out, size, "%.*s", (int)(len - klen), line + klen);
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int tb_cpulist_count(const char *list)
{
	int count = 0;
	const char *p = list;

	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p)
			return count > 0 ? count : -EINVAL;
		b = a;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (b < a)
			return -EINVAL;
		count += (int)(b - a + 1);
		p = end;
		while (*p == ',' || *p == ' ' || *p == '\n')
			p++;
	}
	return count;
}
