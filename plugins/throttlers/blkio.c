/* blkio.c - throttle a target's disk bandwidth or IOPS with blk-throttle (v1 blkio, v2 io.max). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE         /* O_DIRECT, mkostemp, memrchr */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "blockdev.h"
#include "cgroup_file.h"
#include "stress.h"


/*
 * blk-throttle acts where bios are issued.  Under cgroup v1 that catches
 * reads, direct writes and what a writer flushes itself (fsync), but not
 * buffered writes that the kernel's flusher threads write back on nobody's
 * behalf; under v2 (io + memory controllers) writeback is charged to the
 * cgroup that dirtied the pages.  A service whose disk work is unsynced
 * buffered writes shows no sensitivity to this throttler on a v1 host:
 * that is the kernel's limit, not the service's.
 */

#define PROBE_MAX_BYTES (256ull << 20)
#define PROBE_BPS_BLOCK (1u << 20)
#define PROBE_IOPS_BLOCK 4096u
#define FILE_MAX 16384      /* a throttle file lists one line per limited device */

struct blkio_state {
	const struct tb_host *h;
	int read, write;          /* directions to limit */
	int iops;                 /* limit IO/s rather than bytes/s */
	struct tb_blockdev dev;
	char devname[32];         /* "MAJ:MIN" */
	char *probe_dir;          /* where a write probe may create its file, or NULL */
	double capacity;          /* configured or measured once; 0 = not yet */
	double probe_seconds;
	struct tb_cg_files *files;   /* the targets' throttle files, kept open */
};

static const struct tb_setting_spec settings[] = {
	{ "direction", TB_SETTING_STRING, 0, "\"read\", \"write\" or \"both\" (default)" },
	{ "limit", TB_SETTING_STRING, 0,
	  "\"bps\" (bytes/s, default) or \"iops\" (IO/s; capacity is then in IO/s too)" },
	{ "device", TB_SETTING_STRING, 0, "the disk, as \"MAJ:MIN\" or a device path" },
	{ "path", TB_SETTING_STRING, 0,
	  "a file or directory the service writes to; its disk is throttled" },
	{ "capacity", TB_SETTING_NUMBER, 0,
	  "the disk's capacity in bytes/s or IO/s; measured once when absent" },
	{ "probe_seconds", TB_SETTING_NUMBER, 0,
	  "how long the capacity measurement runs (default 1, at most 10)" },
	{ NULL, 0, 0, NULL },
};

static int choose(const struct tb_host *h, const struct tb_config *cfg, const char *key,
		  const char *const *words, int *out)
{
	const char *v;
	int r = h->get_string(h, cfg, key, &v);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (int i = 0; words[i]; i++)
		if (!strcmp(v, words[i])) {
			*out = i;
			return 0;
		}
	return h->config_error(h, cfg, key, "%s must be \"%s\" or \"%s%s%s\", not \"%s\"", key,
			       words[0], words[1], words[2] ? "\" or \"" : "",
			       words[2] ? words[2] : "", v);
}

/* Which disk to throttle: device, else the disk of path, else that of "/". */
static int configure_device(struct blkio_state *s, const struct tb_config *cfg)
{
	const struct tb_host *h = s->h;
	const char *device = NULL, *path = NULL, *what;
	int r;

	h->get_string(h, cfg, "device", &device);
	h->get_string(h, cfg, "path", &path);
	if (device && path)
		return h->config_error(h, cfg, "path", "set device or path, not both");
	if (device && tb_blockdev_parse(device, &s->dev) == 0) {
		what = device;
		r = tb_blockdev_whole(NULL, &s->dev);
	} else {
		what = device ? device : path ? path : "/";
		r = tb_blockdev_of_path(NULL, what, &s->dev);
	}
	if (r == -ENODEV)
		return h->config_error(h, cfg, device ? "device" : "path",
				       "%s is not on a block device (overlayfs, btrfs, tmpfs?): "
				       "set device = \"MAJ:MIN\"", what);
	if (r < 0)
		return h->config_error(h, cfg, device ? "device" : "path", "%s: %s", what,
				       strerror(-r));
	snprintf(s->devname, sizeof(s->devname), "%u:%u", s->dev.major, s->dev.minor);
	if (path) {
		struct stat st;

		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			s->probe_dir = strdup(path);
		} else {
			const char *slash = strrchr(path, '/');

			s->probe_dir = !slash ? strdup(".") : slash == path ? strdup("/") :
				strndup(path, (size_t)(slash - path));
		}
		if (!s->probe_dir)
			return -ENOMEM;
	}
	return 0;
}

static int blkio_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	static const char *const directions[] = { "both", "read", "write", NULL };
	static const char *const limits[] = { "bps", "iops", NULL };
	struct blkio_state *s = calloc(1, sizeof(*s));
	int direction = 0, r = 0;

	if (!s)
		return -ENOMEM;
	s->h = h;
	s->probe_seconds = 1.0;
	s->files = tb_cg_files_new();
	if (!s->files) {
		free(s);
		return -ENOMEM;
	}
	*state = s;
	if (!cfg)
		return 0;     /* restore-only: saved state carries everything */
	if ((r = choose(h, cfg, "direction", directions, &direction)) < 0 ||
	    (r = choose(h, cfg, "limit", limits, &s->iops)) < 0)
		goto fail;
	s->read = direction != 2;
	s->write = direction != 1;
	if (h->get_number(h, cfg, "capacity", &s->capacity) == 0 && !(s->capacity >= 1)) {
		r = h->config_error(h, cfg, "capacity", "capacity must be at least 1");
		goto fail;
	}
	if (h->get_number(h, cfg, "probe_seconds", &s->probe_seconds) == 0 &&
	    !(s->probe_seconds > 0 && s->probe_seconds <= 10)) {
		r = h->config_error(h, cfg, "probe_seconds", "probe_seconds must be in (0, 10]");
		goto fail;
	}
	r = configure_device(s, cfg);
	if (r < 0)
		goto fail;
	TB_LOG(h, TB_LOG_DEBUG, "disk %s, %s %s", s->devname,
	       direction == 0 ? "read+write" : direction == 1 ? "read" : "write",
	       s->iops ? "IO/s" : "bytes/s");
	return 0;
fail:
	tb_cg_files_free(s->files);
	free(s->probe_dir);
	free(s);
	*state = NULL;
	return r;
}

static void blkio_fini(void *state)
{
	struct blkio_state *s = state;

	if (s) {
		tb_cg_files_free(s->files);
		free(s->probe_dir);
	}
	free(s);
}

/* Time direct I/O on fd (offsets below span) for a while; IO/s or bytes/s. */
static int time_io(struct blkio_state *s, int fd, int writing, uint64_t span, double *rate)
{
	const struct tb_host *h = s->h;
	size_t block = s->iops ? PROBE_IOPS_BLOCK : PROBE_BPS_BLOCK;
	uint64_t done = 0, ops = 0, x = 0x9e3779b97f4a7c15ull, blocks;
	double start = h->now(h), elapsed = 0;
	void *buf;

	if (span < block)
		return -ENOSPC;
	blocks = span / block;
	if (posix_memalign(&buf, 4096, block))
		return -ENOMEM;
	memset(buf, 0xa5, block);
	while (done < PROBE_MAX_BYTES && elapsed < s->probe_seconds) {
		uint64_t index = ops % blocks;
		ssize_t n;

		if (s->iops && !writing) {
			/* Random reads: sequential ones measure the readahead
			 * of whatever sits below, not seeks. */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			index = x % blocks;
		}
		n = writing ? pwrite(fd, buf, block, (off_t)(index * block))
			    : pread(fd, buf, block, (off_t)(index * block));
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(buf);
			return -e;
		}
		done += (uint64_t)n;
		ops++;
		elapsed = h->now(h) - start;
		if (h->cancelled(h)) {
			free(buf);
			return -EINTR;
		}
	}
	free(buf);
	if (elapsed <= 0)
		return -EIO;
	*rate = (s->iops ? (double)ops : (double)done) / elapsed;
	return 0;
}

static int probe_read(struct blkio_state *s, double *rate)
{
	char node[4096];
	off_t size;
	int fd, r;

	r = tb_blockdev_node(NULL, &s->dev, node, sizeof(node));
	if (r < 0)
		return r;
	fd = open(node, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size = lseek(fd, 0, SEEK_END);
	r = size > 0 ? time_io(s, fd, 0, (uint64_t)size, rate) : -EIO;
	close(fd);
	if (r == 0)
		TB_LOG(s->h, TB_LOG_INFO, "%s (%s): direct reads at %.0f %s", s->devname, node,
		       *rate, s->iops ? "IO/s" : "bytes/s");
	return r;
}

static int probe_write(struct blkio_state *s, double *rate)
{
	char file[4096];
	int fd, r;

	if ((size_t)snprintf(file, sizeof(file), "%s/.throttlebot-probe-XXXXXX", s->probe_dir) >=
	    sizeof(file))
		return -ENAMETOOLONG;
	fd = mkostemp(file, O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Unlinked at once: nothing is left behind, whatever happens. */
	unlink(file);
	r = time_io(s, fd, 1, PROBE_MAX_BYTES, rate);
	close(fd);
	if (r == 0)
		TB_LOG(s->h, TB_LOG_INFO, "%s (in %s): direct writes at %.0f %s", s->devname,
		       s->probe_dir, *rate, s->iops ? "IO/s" : "bytes/s");
	return r;
}

/* The configured capacity, else a measurement made once per instance. */
static int capacity(struct blkio_state *s, double *out)
{
	double rate = 0;
	int r = -ENOENT;

	if (s->capacity > 0) {
		*out = s->capacity;
		return 0;
	}
	if (!s->devname[0])
		return -EINVAL;
	/* A write-only throttle is best measured by writing where the service
	 * writes; otherwise reading the disk itself disturbs nothing. */
	if (s->write && !s->read && s->probe_dir)
		r = probe_write(s, &rate);
	if (r < 0) {
		r = probe_read(s, &rate);
		if (r < 0 && s->probe_dir) {
			TB_LOG(s->h, TB_LOG_INFO, "cannot read %s directly (%s): timing writes instead",
			       s->devname, strerror(-r));
			r = probe_write(s, &rate);
		}
	}
	if (r < 0) {
		TB_LOG(s->h, TB_LOG_ERROR, "cannot measure the capacity of %s (%s): set capacity",
		       s->devname, strerror(-r));
		return r;
	}
	if (rate < 1)
		rate = 1;
	s->capacity = rate;
	*out = rate;
	return 0;
}

static int blkio_probe(void *state, const struct tb_target *t, double *cap)
{
	(void)t;      /* one disk per instance, whatever the target */
	return capacity(state, cap);
}

static const char *io_dir(struct blkio_state *s, const struct tb_target *t)
{
	const char *dir = t->cgroup[TB_CG_IO];

	if (!dir)
		TB_LOG(s->h, TB_LOG_ERROR, "%s: no blkio/io cgroup", t->id);
	else if (!s->devname[0])
		dir = NULL;   /* an instance made for restore only */
	return dir;
}

static void v1_file(const struct blkio_state *s, int writing, char *out, size_t size)
{
	snprintf(out, size, "blkio.throttle.%s_%s_device", writing ? "write" : "read",
		 s->iops ? "iops" : "bps");
}

/* The line of buf for device name "MAJ:MIN", copied into out; 0 or -ENOENT. */
static int device_line(const char *buf, const char *devname, char *out, size_t size)
{
	size_t len = strlen(devname);

	for (const char *line = buf; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (n > len && !strncmp(line, devname, len) && line[len] == ' ') {
			snprintf(out, size, "%.*s", (int)n, line);
			return 0;
		}
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

/* The value of key ("wbps") in an io.max line, or "max". */
static void io_max_value(const char *line, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	snprintf(out, size, "max");
	for (const char *p = strchr(line, ' '); p && *p; p = strchr(p, ' ')) {
		p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(out, size, "%.*s", (int)strcspn(p + klen + 1, " \n"), p + klen + 1);
			return;
		}
	}
}

/*
 * Proportional weights, for prioritize().  v1: blkio.weight (CFQ, [10,
 * 1000]) or blkio.bfq.weight (BFQ, [1, 1000]); either counts only while the
 * disk's scheduler is that one.  v2: io.weight ([1, 10000]), "default N"
 * and "MAJ:MIN N" overrides, honoured where the disk has blk-iocost on.
 */
static const char *const v1_weights[] = { "blkio.weight", "blkio.bfq.weight", NULL };

/* A weight line for saved; one of a shape restore() would refuse is left
 * out rather than failing the save: prioritize() then has none to raise. */
static int weight_add(char *saved, size_t size, const char *dir, const char *file,
		      const char *value)
{
	int r = tb_saved_add(saved, size, dir, file, value);

	return r == -EINVAL ? 0 : r;
}

/* v2 io.weight: its "default N" line, and the disk's own override if any. */
static int save_io_weight(struct blkio_state *s, const char *dir, char *buf, char *saved,
			  size_t size)
{
	char line[256];
	int r = tb_cg_files_read(s->files, dir, "io.weight", buf, FILE_MAX);

	if (r == -ENOENT)
		return 0;    /* no iocost in this kernel: nothing to prioritize */
	if (r == 0 && device_line(buf, "default", line, sizeof(line)) == 0)
		r = weight_add(saved, size, dir, "io.weight", line);
	if (r == 0 && device_line(buf, s->devname, line, sizeof(line)) == 0)
		r = weight_add(saved, size, dir, "io.weight", line);
	return r;
}

/*
 * Saved state, one "path<TAB>line" per file apply() writes, where line is
 * exactly what restore() writes back.  v1: the device's previous line, or
 * "MAJ:MIN 0" (which removes a limit) when it had none.  v2: only the keys
 * apply() sets, with their previous values ("max" removes a limit), so that
 * restore() leaves the device's other limits alone.
 */
static int blkio_save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	struct blkio_state *s = state;
	const char *dir = io_dir(s, t);
	char *buf, line[256], value[512];
	int r = 0;

	if (!dir || size == 0)
		return -EINVAL;
	saved[0] = '\0';
	buf = malloc(FILE_MAX);
	if (!buf)
		return -ENOMEM;
	if (tb_cg_files_is_v2(s->files, dir)) {
		const char *kind = s->iops ? "iops" : "bps";
		char key[8], old[64];
		size_t used;

		r = tb_cg_files_read(s->files, dir, "io.max", buf, FILE_MAX);
		if (r == -ENOENT)
			TB_LOG(s->h, TB_LOG_ERROR, "%s: %s has no io.max: is \"io\" in its parent's "
			       "cgroup.subtree_control?", t->id, dir);
		if (r < 0)
			goto out;
		if (device_line(buf, s->devname, line, sizeof(line)) < 0)
			line[0] = '\0';
		used = (size_t)snprintf(value, sizeof(value), "%s", s->devname);
		for (int w = 0; w < 2; w++) {
			if (!(w ? s->write : s->read))
				continue;
			snprintf(key, sizeof(key), "%c%s", w ? 'w' : 'r', kind);
			io_max_value(line, key, old, sizeof(old));
			used += (size_t)snprintf(value + used, sizeof(value) - used, " %s=%s", key,
						 old);
		}
		r = tb_saved_add(saved, size, dir, "io.max", value);
		if (r == 0)
			r = save_io_weight(s, dir, buf, saved, size);
	} else {
		for (int w = 0; w < 2 && r == 0; w++) {
			char file[64];

			if (!(w ? s->write : s->read))
				continue;
			v1_file(s, w, file, sizeof(file));
			r = tb_cg_files_read(s->files, dir, file, buf, FILE_MAX);
			if (r < 0)
				break;
			if (device_line(buf, s->devname, line, sizeof(line)) < 0)
				snprintf(line, sizeof(line), "%s 0", s->devname);
			r = tb_saved_add(saved, size, dir, file, line);
		}
		/* The weight prioritize() raises, where the kernel has one. */
		for (int i = 0; v1_weights[i] && r == 0; i++) {
			if (tb_cg_files_read(s->files, dir, v1_weights[i], buf, FILE_MAX) == 0) {
				r = weight_add(saved, size, dir, v1_weights[i], buf);
				break;
			}
		}
	}
out:
	if (r < 0)
		TB_LOG(s->h, TB_LOG_ERROR, "%s: saving the limits of %s in %s: %s", t->id,
		       s->devname, dir, strerror(-r));
	free(buf);
	return r;
}

/* Limit the configured directions of the instance's disk to limit (>= 1). */
static int set_limit(struct blkio_state *s, const struct tb_target *t, const char *dir,
		     unsigned long long limit)
{
	char value[128];
	int r = 0;

	if (tb_cg_files_is_v2(s->files, dir)) {
		const char *kind = s->iops ? "iops" : "bps";
		int n = snprintf(value, sizeof(value), "%s", s->devname);

		if (s->read)
			n += snprintf(value + n, sizeof(value) - (size_t)n, " r%s=%llu", kind, limit);
		if (s->write)
			snprintf(value + n, sizeof(value) - (size_t)n, " w%s=%llu", kind, limit);
		r = tb_cg_files_write(s->files, dir, "io.max", value);
		if (r < 0)
			TB_LOG(s->h, TB_LOG_ERROR, "%s: writing \"%s\" to %s/io.max: %s", t->id, value,
			       dir, strerror(-r));
		return r;
	}
	snprintf(value, sizeof(value), "%s %llu", s->devname, limit);
	for (int w = 0; w < 2 && r == 0; w++) {
		char file[64];

		if (!(w ? s->write : s->read))
			continue;
		v1_file(s, w, file, sizeof(file));
		r = tb_cg_files_write(s->files, dir, file, value);
		if (r < 0)
			TB_LOG(s->h, TB_LOG_ERROR, "%s: writing \"%s\" to %s/%s: %s", t->id, value, dir,
			       file, strerror(-r));
	}
	return r;
}

static const char *what(const struct blkio_state *s)
{
	return s->read && s->write ? "read+write" : s->read ? "read" : "write";
}

static int blkio_apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct blkio_state *s = state;
	const char *dir = io_dir(s, t);
	unsigned long long limit;
	double cap;
	int r;

	(void)saved;  /* the limit does not depend on what was there */
	if (!dir || !tb_stress_valid(stress))
		return -EINVAL;
	r = capacity(s, &cap);
	if (r < 0)
		return r;
	/* 0 would mean "no limit" to the kernel. */
	limit = (unsigned long long)((1.0 - stress) * cap);
	if (limit < 1)
		limit = 1;
	r = set_limit(s, t, dir, limit);
	if (r == 0)
		TB_LOG(s->h, TB_LOG_DEBUG, "%s: %s %s limited to %llu %s (of %.0f)", t->id,
		       s->devname, what(s), limit, s->iops ? "IO/s" : "bytes/s", cap);
	return r;
}

/*
 * The lowest limit on the disk among the directions the instance throttles
 * (apply and allocate set them alike), in its unit; none is -ENODATA.
 */
static int blkio_allocation(void *state, const struct tb_target *t, double *amount)
{
	struct blkio_state *s = state;
	const char *dir = io_dir(s, t);
	int v2, r = 0, found = 0;
	char *buf, line[256], value[64], key[16], file[64];

	if (!dir)
		return -EINVAL;
	buf = malloc(FILE_MAX);
	if (!buf)
		return -ENOMEM;
	v2 = tb_cg_files_is_v2(s->files, dir);
	if (v2 && (r = tb_cg_files_read(s->files, dir, "io.max", buf, FILE_MAX)) == 0 &&
	    device_line(buf, s->devname, line, sizeof(line)) < 0)
		line[0] = '\0';
	for (int w = 0; w < 2 && r == 0; w++) {
		char *end;
		double v;

		if (!(w ? s->write : s->read))
			continue;
		if (v2) {
			snprintf(key, sizeof(key), "%c%s", w ? 'w' : 'r', s->iops ? "iops" : "bps");
			io_max_value(line, key, value, sizeof(value));
		} else {
			v1_file(s, w, file, sizeof(file));
			r = tb_cg_files_read(s->files, dir, file, buf, FILE_MAX);
			if (r < 0)
				break;
			/* "MAJ:MIN N": the number after the device */
			if (device_line(buf, s->devname, line, sizeof(line)) < 0)
				continue;
			snprintf(value, sizeof(value), "%s", line + strlen(s->devname) + 1);
		}
		v = strtod(value, &end);
		if (end == value || *end || !(v > 0))
			continue;    /* "max", or 0: no limit in this direction */
		if (!found || v < *amount)
			*amount = v;
		found = 1;
	}
	free(buf);
	return r < 0 ? r : found ? 0 : -ENODATA;
}

/* amount bytes/s (IO/s with limit = "iops"), up to the disk's capacity. */
static int blkio_allocate(void *state, const struct tb_target *t, const char *saved, double amount)
{
	struct blkio_state *s = state;
	const char *dir = io_dir(s, t);
	double cap;
	int r;

	(void)saved;  /* an absolute limit: nothing to start from */
	if (!dir || !(amount > 0))
		return -EINVAL;
	r = capacity(s, &cap);
	if (r < 0)
		return r;
	if (amount > cap || amount < 1) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: %.6g %s asked, the disk gives 1 to %.0f", t->id, amount,
		       s->iops ? "IO/s" : "bytes/s", cap);
		return -ERANGE;
	}
	r = set_limit(s, t, dir, (unsigned long long)amount);
	if (r == 0)
		TB_LOG(s->h, TB_LOG_DEBUG, "%s: %s %s limited to %.0f %s", t->id, s->devname, what(s),
		       amount, s->iops ? "IO/s" : "bytes/s");
	return r;
}

/* 1 if the disk's scheduler is one whose weights the v1 file feeds. */
static int weight_counts(const struct blkio_state *s, const char *file)
{
	char dir[64], sched[256];

	snprintf(dir, sizeof(dir), "/sys/dev/block/%s/queue", s->devname);
	if (tb_cg_read(dir, "scheduler", sched, sizeof(sched)) < 0)
		return 0;
	return strstr(sched, "[bfq]") || (!strcmp(file, "blkio.weight") && strstr(sched, "[cfq]"));
}

/* The io.weight line saved for dir: the disk's override, else "default N". */
static int saved_io_weight(const struct blkio_state *s, const char *saved, const char *dir,
			   char *out, size_t size)
{
	char path[TB_SAVED_LINE_MAX], value[TB_SAVED_LINE_MAX], want[4200];
	size_t dlen = strlen(s->devname);
	const char *at = saved;
	int r, found = -ENOENT;

	snprintf(want, sizeof(want), "%s/io.weight", dir);
	while ((r = tb_saved_next(&at, path, value)) != 0) {
		size_t n = strlen(value);

		if (r < 0 || strcmp(path, want) || n >= size)
			continue;
		if (!strncmp(value, s->devname, dlen) && value[dlen] == ' ') {
			memcpy(out, value, n + 1);
			return 0;
		}
		if (!strncmp(value, "default ", 8)) {
			memcpy(out, value, n + 1);
			found = 0;
		}
	}
	return found;
}

/*
 * The saved weight times factor (from the saved value: no compounding).
 * v1: the cgroup's weight, which counts only while the disk's scheduler is
 * the one that reads it, else -EOPNOTSUPP.  v2: the disk's own io.weight
 * override if it has one, else the cgroup's default.
 */
static int blkio_prioritize(void *state, const struct tb_target *t, const char *saved,
			    double factor, char *how, size_t how_size)
{
	struct blkio_state *s = state;
	const char *dir = io_dir(s, t), *file = NULL, *num;
	long long old, lo = 1, hi = 1000, raised;
	char value[256], out[300], *end;
	int v2, r;

	if (!dir || !saved)
		return -EINVAL;
	v2 = tb_cg_files_is_v2(s->files, dir);
	if (v2) {
		if (saved_io_weight(s, saved, dir, value, sizeof(value)) == 0)
			file = "io.weight";
		hi = 10000;
	} else {
		for (int i = 0; v1_weights[i] && !file; i++)
			if (tb_saved_get(saved, dir, v1_weights[i], value, sizeof(value)) == 0)
				file = v1_weights[i];
		lo = file && !strcmp(file, "blkio.weight") ? 10 : 1;
	}
	if (!file) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: %s has no proportional I/O weight", t->id, dir);
		return -EOPNOTSUPP;
	}
	if (!v2 && !weight_counts(s, file)) {
		TB_LOG(s->h, TB_LOG_ERROR, "%s: %s counts only under %s, which %s does not use", t->id,
		       file, strcmp(file, "blkio.weight") ? "BFQ" : "CFQ or BFQ", s->devname);
		return -EOPNOTSUPP;
	}
	num = v2 ? strchr(value, ' ') + 1 : value;
	old = strtoll(num, &end, 10);
	r = tb_weight_raise(old, factor, lo, hi, &raised);
	if (r == -ERANGE)
		TB_LOG(s->h, TB_LOG_ERROR, "%s: %s is %lld already, the highest", t->id, file, old);
	if (r < 0)
		return r;
	snprintf(out, sizeof(out), "%.*s%lld", (int)(num - value), value, raised);
	r = tb_cg_files_write(s->files, dir, file, out);
	if (r == 0)
		snprintf(how, how_size, "%s %s -> %lld", file, value, raised);
	else
		TB_LOG(s->h, TB_LOG_ERROR, "%s: writing \"%s\" to %s/%s: %s", t->id, out, dir, file,
		       strerror(-r));
	return r;
}

/* Every line of saved written back to its file; a vanished cgroup needs nothing. */
static int blkio_restore(void *state, const char *saved)
{
	struct blkio_state *s = state;
	const char *line = saved;
	int first = 0;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *tab = strchr(line, '\t');
		char one[4096 + 512], dir[4096];
		size_t len;
		int r;

		if (!end)
			end = line + strlen(line);
		len = (size_t)(end - line);
		if (!tab || tab > end || len >= sizeof(one)) {
			first = first ? first : -EINVAL;
			line = *end ? end + 1 : NULL;
			continue;
		}
		memcpy(one, line, len);
		one[len] = '\0';
		r = tb_saved_restore_files(s->files, one);
		if (r == -ENOENT) {
			const char *slash = memrchr(line, '/', (size_t)(tab - line));

			snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - line) : 0, line);
			if (access(dir, F_OK) < 0 && errno == ENOENT) {
				TB_LOG(s->h, TB_LOG_WARNING, "%s is gone: nothing to restore", dir);
				r = 0;
			}
		}
		if (r < 0) {
			TB_LOG(s->h, TB_LOG_ERROR, "restoring \"%.*s\" to %.*s: %s",
			       (int)(end - tab - 1), tab + 1, (int)(tab - line), line, strerror(-r));
			if (!first)
				first = r;
		}
		line = *end ? end + 1 : NULL;
	}
	return first;
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "blkio",
		    "limit a target's disk bytes/s or IO/s (blkio.throttle, io.max)",
		    PACKAGE_VERSION, settings },
	.resource = "disk",
	.unit = "bytes/s",
	.init = blkio_init,
	.fini = blkio_fini,
	.probe = blkio_probe,
	.save = blkio_save,
	.apply = blkio_apply,
	.restore = blkio_restore,
	.allocation = blkio_allocation,
	.allocate = blkio_allocate,
	.prioritize = blkio_prioritize,
};
