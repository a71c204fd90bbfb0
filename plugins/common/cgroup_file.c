/* cgroup_file.c - read and write cgroup control files exactly, and keep their previous values for restore. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "cgroup_file.h"

/* A kept file, or (fd < 0) what is known of a directory. */
struct kept {
	char *path;
	uint64_t hash;
	int fd;
	int acc;                 /* O_RDWR, O_RDONLY or O_WRONLY */
	int v2;                  /* directories: 1 if cgroup v2 */
	unsigned long used;      /* when last used, for eviction */
};

struct tb_cg_files {
	struct kept kept[TB_CG_FILES_MAX];
	int n;
	unsigned long tick;
};

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
	fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
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

/* ---- kept files ---- */

struct tb_cg_files *tb_cg_files_new(void)
{
	return calloc(1, sizeof(struct tb_cg_files));
}

static void drop(struct tb_cg_files *f, int i)
{
	if (f->kept[i].fd >= 0)
		close(f->kept[i].fd);
	free(f->kept[i].path);
	f->kept[i] = f->kept[--f->n];
}

void tb_cg_files_free(struct tb_cg_files *f)
{
	if (!f)
		return;
	while (f->n > 0)
		drop(f, f->n - 1);
	free(f);
}

static uint64_t hash_of(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;      /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

/* The entry for the first len bytes of path, or NULL. */
static struct kept *find(struct tb_cg_files *f, const char *path, size_t len)
{
	uint64_t h = hash_of(path, len);

	for (int i = 0; i < f->n; i++) {
		struct kept *k = &f->kept[i];

		if (k->hash == h && !strncmp(k->path, path, len) && !k->path[len]) {
			k->used = ++f->tick;
			return k;
		}
	}
	return NULL;
}

/* A new entry for path (the least recently used one goes when full). */
static struct kept *add(struct tb_cg_files *f, const char *path, int fd, int acc, int v2)
{
	char *copy = strdup(path);
	struct kept *k;

	if (!copy)
		return NULL;
	if (f->n == TB_CG_FILES_MAX) {
		int oldest = 0;

		for (int i = 1; i < f->n; i++)
			if (f->kept[i].used < f->kept[oldest].used)
				oldest = i;
		drop(f, oldest);
	}
	k = &f->kept[f->n++];
	*k = (struct kept){ copy, hash_of(path, strlen(path)), fd, acc, v2, ++f->tick };
	return k;
}

/* The kept file path seems gone: forget it and what its directory was. */
static void forget(struct tb_cg_files *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct kept *k;

	if ((k = find(f, path, strlen(path))))
		drop(f, (int)(k - f->kept));
	if (slash && (k = find(f, path, (size_t)(slash - path))))
		drop(f, (int)(k - f->kept));
}

/* Errors that mean the file under path is no longer the one kept. */
static int gone(int e)
{
	return e == ENODEV || e == ENOENT || e == EBADF || e == ESTALE;
}

static int on_cgroupfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 &&
	       (sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC);
}

/* Read and write if allowed (a file kept serves both), else just what is asked. */
static int open_for(const char *path, int writing, int *acc)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	*acc = O_RDWR;
	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS || errno == EISDIR)) {
		*acc = writing ? O_WRONLY : O_RDONLY;
		fd = open(path, *acc | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd;
}

static int can(const struct kept *k, int writing)
{
	return k->fd >= 0 && (k->acc == O_RDWR || k->acc == (writing ? O_WRONLY : O_RDONLY));
}

static int read_fd(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static int read_kept(struct tb_cg_files *f, const char *path, char *buf, size_t size)
{
	struct kept *k = find(f, path, strlen(path));
	int fd, acc, r;

	if (k && can(k, 0)) {
		r = read_fd(k->fd, buf, size);
		if (r == 0 || !gone(-r))
			return r;
	}
	if (k)
		forget(f, path);
	fd = open_for(path, 0, &acc);
	if (fd < 0) {
		r = -errno;
		forget(f, path);
		return r;
	}
	r = read_fd(fd, buf, size);
	if (r < 0 || !on_cgroupfs(fd) || !add(f, path, fd, acc, 0))
		close(fd);
	return r;
}

static int write_kept(struct tb_cg_files *f, const char *path, const char *value)
{
	struct kept *k = find(f, path, strlen(path));
	size_t len = strlen(value);
	ssize_t n;
	int fd, acc;

	if (k && can(k, 1)) {
		n = pwrite(k->fd, value, len, 0);
		if (n >= 0)
			return (size_t)n == len ? 0 : -EIO;
		if (!gone(errno))
			return -errno;
	}
	if (k)
		forget(f, path);
	fd = open_for(path, 1, &acc);
	if (fd < 0) {
		int e = errno;

		forget(f, path);
		return -e;
	}
	if (!on_cgroupfs(fd)) {
		/* Truncated and written afresh, as without a set. */
		close(fd);
		return write_path(path, value);
	}
	n = pwrite(fd, value, len, 0);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (!add(f, path, fd, acc, 0))
		close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

static int join(char *path, size_t size, const char *dir, const char *file)
{
	return (size_t)snprintf(path, size, "%s/%s", dir, file) < size ? 0 : -ENAMETOOLONG;
}

int tb_cg_files_read(struct tb_cg_files *f, const char *dir, const char *file, char *buf,
		     size_t size)
{
	char path[4096];

	if (!f)
		return tb_cg_read(dir, file, buf, size);
	if (join(path, sizeof(path), dir, file) < 0)
		return -ENAMETOOLONG;
	return read_kept(f, path, buf, size);
}

int tb_cg_files_write(struct tb_cg_files *f, const char *dir, const char *file,
		      const char *value)
{
	char path[4096];

	if (join(path, sizeof(path), dir, file) < 0)
		return -ENAMETOOLONG;
	return f ? write_kept(f, path, value) : write_path(path, value);
}

int tb_cg_files_is_v2(struct tb_cg_files *f, const char *dir)
{
	struct statfs sf;
	struct kept *k;

	if (!f)
		return tb_cg_is_v2(dir);
	k = find(f, dir, strlen(dir));
	if (k)
		return k->v2;
	/* On cgroupfs the filesystem answers; anything else is asked each time. */
	if (statfs(dir, &sf) < 0 ||
	    (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC))
		return tb_cg_is_v2(dir);
	add(f, dir, -1, 0, sf.f_type == CGROUP2_SUPER_MAGIC);
	return sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* ---- saved state ---- */

/*
 * Saved state comes back from the journal, which root replays: every line
 * is checked before anything is written.  The path must be absolute and
 * plain (no control characters, no empty, "." or ".." component) and name
 * a control file a throttler saves; the value must have that file's shape.
 */

/* n digits, 1 <= n <= 19, at *p; advances past them. */
static int digits(const char **p)
{
	size_t n = strspn(*p, "0123456789");

	*p += n;
	return n >= 1 && n <= 19;
}

static int word(const char **p, const char *w)
{
	size_t n = strlen(w);

	if (strncmp(*p, w, n))
		return 0;
	*p += n;
	return 1;
}

static int device(const char **p)
{
	return digits(p) && word(p, ":") && digits(p);
}

static int value_ok(const char *file, const char *v)
{
	if (!strcmp(file, "cpu.cfs_quota_us") || !strcmp(file, "cpu.cfs_period_us")) {
		word(&v, "-");
		return digits(&v) && !*v;
	}
	if (!strcmp(file, "cpu.max"))
		return (word(&v, "max") || digits(&v)) && word(&v, " ") && digits(&v) && !*v;
	if (!strcmp(file, "cpuset.cpus") || !strcmp(file, "cpuset.cpus.effective"))
		return strspn(v, "0123456789,-:/") == strlen(v);   /* ":/": strides */
	if (!strcmp(file, "io.max")) {
		if (!device(&v))
			return 0;
		while (*v) {
			if (!word(&v, " ") || !(word(&v, "r") || word(&v, "w")) ||
			    !(word(&v, "bps=") || word(&v, "iops=")) ||
			    !(word(&v, "max") || digits(&v)))
				return 0;
		}
		return 1;
	}
	if (!strncmp(file, "blkio.throttle.", 15) &&
	    (!strcmp(file + 15, "read_bps_device") || !strcmp(file + 15, "write_bps_device") ||
	     !strcmp(file + 15, "read_iops_device") || !strcmp(file + 15, "write_iops_device")))
		return device(&v) && word(&v, " ") && digits(&v) && !*v;
	/* v1 memory limits: bytes, or -1 for none (the kernel shows none as a large number). */
	if (!strcmp(file, "memory.limit_in_bytes") || !strcmp(file, "memory.memsw.limit_in_bytes") ||
	    !strcmp(file, "memory.soft_limit_in_bytes"))
		return (word(&v, "-1") || digits(&v)) && !*v;
	if (!strcmp(file, "memory.high") || !strcmp(file, "memory.max") || !strcmp(file, "memory.low"))
		return (word(&v, "max") || digits(&v)) && !*v;
	return 0;     /* not a file a throttler saves */
}

static int plain_path(const char *path)
{
	if (path[0] != '/' || strlen(path) >= 4096)
		return 0;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	for (const char *c = path + 1;; ) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (!c[n])
			return 1;
		c += n + 1;
	}
}

int tb_saved_check(const char *path, const char *value)
{
	const char *file = strrchr(path, '/');

	if (!plain_path(path) || !value_ok(file + 1, value))
		return -EINVAL;
	return 0;
}

int tb_saved_add(char *saved, size_t size, const char *dir, const char *file,
		 const char *value)
{
	size_t used = strlen(saved);
	char path[4096];
	int n;

	/* What restore would refuse is never saved, nor applied after it. */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path) ||
	    tb_saved_check(path, value) < 0)
		return -EINVAL;
	n = snprintf(saved + used, size - used, "%s\t%s\n", path, value);
	if (n < 0 || (size_t)n >= size - used) {
		saved[used] = '\0';
		return -ENOSPC;
	}
	return 0;
}

int tb_saved_restore(const char *saved)
{
	return tb_saved_restore_files(NULL, saved);
}

int tb_saved_next(const char **at, char *path, char *value)
{
	const char *line = *at, *tab, *end;

	if (!line || !*line)
		return 0;
	tab = strchr(line, '\t');
	end = strchr(line, '\n');
	if (!end)
		end = line + strlen(line);
	*at = *end ? end + 1 : end;
	if (!tab || tab > end || (size_t)(tab - line) >= TB_SAVED_LINE_MAX ||
	    (size_t)(end - tab - 1) >= TB_SAVED_LINE_MAX)
		return -EINVAL;
	memcpy(path, line, (size_t)(tab - line));
	path[tab - line] = '\0';
	memcpy(value, tab + 1, (size_t)(end - tab - 1));
	value[end - tab - 1] = '\0';
	return tb_saved_check(path, value) < 0 ? -EINVAL : 1;
}

int tb_saved_restore_files(struct tb_cg_files *f, const char *saved)
{
	const char *at = saved;
	char path[TB_SAVED_LINE_MAX], value[TB_SAVED_LINE_MAX];
	int first = 0, r;

	while ((r = tb_saved_next(&at, path, value)) != 0) {
		if (r > 0)
			r = f ? write_kept(f, path, value) : write_path(path, value);
		if (r < 0 && !first)
			first = r;
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

/* One CPU number: digits only (strtol would take a sign), below TB_CPU_LIMIT. */
static long cpu_number(const char *p, char **end)
{
	long v;

	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtol(p, end, 10);
	return errno || v >= TB_CPU_LIMIT ? -1 : v;
}

int tb_cpulist_count(const char *list)
{
	int count = 0;
	const char *p = list;

	while (*p) {
		char *end;
		long a = cpu_number(p, &end), b = a;

		if (a >= 0 && *end == '-')
			b = cpu_number(end + 1, &end);
		if (a < 0 || b < a)
			return -EINVAL;
		/* Ranges may repeat: the sum is bounded too. */
		if (b - a + 1 > TB_CPU_LIMIT - count)
			return -EINVAL;
		count += (int)(b - a + 1);
		p = end;
		while (*p == ',' || *p == ' ' || *p == '\n')
			p++;
	}
	return count;
}
