/* memory.c - throttle a target's memory through its cgroup limit (v1 memory.limit_in_bytes, v2 memory.high/max) and tell an OOM kill. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "cgroup_file.h"
#include "stress.h"

/*
 * Stress k limits the target to (1 - k) of its memory: the configured
 * capacity, else its usage when save() ran (v1 memory.usage_in_bytes, v2
 * memory.current: the working set with its page cache), never below the
 * floor and never above a limit it already had.  Under v2 the limit is
 * memory.high, which reclaims and slows the service down but never kills;
 * memory.max, the hard limit whose excess is an OOM kill, is set too only
 * with hard = true.  v1 has no such soft limit: memory.limit_in_bytes is
 * always hard, and the kernel refuses it (EBUSY) below what it cannot
 * reclaim, such as anonymous memory without swap.
 *
 * Saved text: the memory files' lines ("path<TAB>value", as the other cgroup
 * throttlers keep them) plus two of this throttler's own, for apply() and
 * check(): "usage<TAB>BYTES" and "oom<TAB>FILE<TAB>COUNT", the OOM counter
 * and the file it was read from.
 */

#define DEFAULT_FLOOR (16LL << 20)
/* v1 shows "no limit" as its page counter's maximum (9223372036854771712 on
 * 4 KiB pages); anything this high is no limit on any machine. */
#define UNLIMITED_FROM (1LL << 62)
#define SAVED_LINES 8
#define VALUE_MAX 32

struct memory {
	const struct tb_host *h;
	long long capacity;          /* configured, bytes; 0: the usage */
	long long floor;
	int hard;
	long long page;
	struct tb_cg_files *files;   /* the targets' memory files, kept open */
};

static const struct tb_setting_spec settings[] = {
	{ "capacity", TB_SETTING_NUMBER, 0,
	  "bytes the service may use: stress k limits it to (1 - k) of this (default: its usage)" },
	{ "floor", TB_SETTING_NUMBER, 0, "never limit below this many bytes (default 16 MiB)" },
	{ "hard", TB_SETTING_BOOL, 0,
	  "cgroup v2: set memory.max too, which OOM-kills (default false: memory.high only)" },
	{ NULL, 0, 0, NULL },
};

/* The files of one cgroup version. */
struct files {
	const char *limit;       /* v1 memory.limit_in_bytes, v2 memory.high */
	const char *hard;        /* v1 memory.memsw.limit_in_bytes, v2 memory.max */
	const char *usage;
	const char *protect;     /* what prioritize raises */
};

static const struct files v1_files = { "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
				       "memory.usage_in_bytes", "memory.soft_limit_in_bytes" };
static const struct files v2_files = { "memory.high", "memory.max", "memory.current", "memory.low" };

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct memory *st = calloc(1, sizeof(*st));
	double capacity = 0, floor = (double)DEFAULT_FLOOR;
	int r;

	if (!st)
		return -ENOMEM;
	st->h = h;
	st->page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
	r = h->get_number(h, cfg, "capacity", &capacity);
	if (r == 0 && !(capacity >= 1 << 20 && capacity < (double)UNLIMITED_FROM))
		r = h->config_error(h, cfg, "capacity", "capacity must be at least 1 MiB (in bytes)");
	if (r == 0 || r == -ENOENT)
		r = h->get_number(h, cfg, "floor", &floor);
	if (r == 0 && !(floor >= 0 && floor < (double)UNLIMITED_FROM))
		r = h->config_error(h, cfg, "floor", "floor must be 0 or more bytes");
	if (r == 0 || r == -ENOENT)
		r = h->get_bool(h, cfg, "hard", &st->hard);
	if (r < 0 && r != -ENOENT) {
		free(st);
		return r;
	}
	st->capacity = (long long)capacity;
	/* A floor inside a page would be rounded away by the kernel: up to the next. */
	st->floor = ((long long)floor + st->page - 1) / st->page * st->page;
	st->files = tb_cg_files_new();
	if (!st->files) {
		free(st);
		return -ENOMEM;
	}
	*state = st;
	return 0;
}

static void fini(void *state)
{
	struct memory *st = state;

	if (st)
		tb_cg_files_free(st->files);
	free(st);
}

/* Digits only, at most 19 of them, into *out. */
static int parse_count(const char *s, long long *out)
{
	size_t n = strspn(s, "0123456789");
	char *end;

	if (n == 0 || n > 19 || s[n])
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno ? -EINVAL : 0;
}

/* A limit's text: bytes, or -1 for none ("max", v1's "-1" or its huge number). */
static int parse_limit(const char *s, long long *out)
{
	if (!strcmp(s, "max") || !strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	if (parse_count(s, out) < 0)
		return -EINVAL;
	if (*out >= UNLIMITED_FROM)
		*out = -1;
	return 0;
}

static int read_value(struct memory *st, const char *dir, const char *file, long long *out)
{
	char buf[VALUE_MAX];
	int r = tb_cg_files_read(st->files, dir, file, buf, sizeof(buf));

	return r < 0 ? r : parse_limit(buf, out);
}

static int write_bytes(struct memory *st, const char *dir, const char *file, long long bytes)
{
	char value[VALUE_MAX];

	snprintf(value, sizeof(value), "%lld", bytes);
	return tb_cg_files_write(st->files, dir, file, value);
}

/* The value of "key N" in a flat-keyed file's text (memory.events, memory.oom_control). */
static int keyed(const char *text, const char *key, long long *out)
{
	size_t n = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, key, n) && line[n] == ' ') {
			char num[VALUE_MAX];
			size_t len = strcspn(line + n + 1, "\n");

			if (len >= sizeof(num))
				return -EINVAL;
			memcpy(num, line + n + 1, len);
			num[len] = '\0';
			return parse_count(num, out);
		}
	return -ENOENT;
}

/* The target's count of OOM kills, and the file it comes from: v2
 * memory.events, v1 memory.oom_control (Linux 4.13+), else v1 memory.failcnt
 * (how often it hit its limit: the nearest older kernels have). */
static int read_counter(struct memory *st, const char *dir, const char *file, long long *out)
{
	char buf[1024];
	int r = tb_cg_files_read(st->files, dir, file, buf, sizeof(buf));

	if (r < 0)
		return r;
	if (!strcmp(file, "memory.failcnt"))
		return parse_count(buf, out);
	return keyed(buf, "oom_kill", out);
}

static const char *const counters[] = { "memory.events", "memory.oom_control", "memory.failcnt" };

static int find_counter(struct memory *st, const char *dir, int v2, const char **file,
			long long *out)
{
	int r = -ENOENT;

	for (size_t i = v2 ? 0 : 1; i < (v2 ? 1u : 3u) && r == -ENOENT; i++) {
		*file = counters[i];
		r = read_counter(st, dir, *file, out);
	}
	return r;
}

/* ---- saved text ---- */

struct line {
	char path[4096];
	char value[VALUE_MAX];
};

struct parsed {
	struct line files[SAVED_LINES];
	size_t nfiles;
	long long usage;             /* -1: none saved */
	const char *counter;         /* one of counters[], or NULL */
	long long count;
};

/* Append one of this throttler's own lines, "key<TAB>...": -ENOSPC when full. */
static int meta_add(char *saved, size_t size, const char *line)
{
	size_t used = strlen(saved), len = strlen(line);

	if (len >= size - used)
		return -ENOSPC;
	memcpy(saved + used, line, len + 1);
	return 0;
}

/*
 * Every line checked before anything is acted on (restore runs as root on
 * text from the journal): memory files of one directory with values of
 * their shape, at most one usage and one counter, nothing else.
 */
static int parse_saved(const char *saved, struct parsed *p)
{
	const char *at = saved;
	size_t dirlen = 0;

	p->nfiles = 0;
	p->usage = -1;
	p->counter = NULL;
	while (at && *at) {
		size_t len = strcspn(at, "\n");
		char line[4096 + VALUE_MAX + 2], *tab, *file;

		if (len >= sizeof(line))
			return -EINVAL;
		memcpy(line, at, len);
		line[len] = '\0';
		at += len + (at[len] == '\n');
		tab = strchr(line, '\t');
		if (!tab)
			return -EINVAL;
		*tab++ = '\0';
		if (line[0] == '/') {
			struct line *l = &p->files[p->nfiles];

			file = strrchr(line, '/');
			if (p->nfiles == SAVED_LINES || strncmp(file + 1, "memory.", 7) ||
			    strlen(line) >= sizeof(l->path) || strlen(tab) >= sizeof(l->value) ||
			    tb_saved_check(line, tab) < 0)
				return -EINVAL;
			/* One target's lines: one directory. */
			if (p->nfiles && ((size_t)(file - line) != dirlen ||
					  strncmp(line, p->files[0].path, dirlen)))
				return -EINVAL;
			dirlen = (size_t)(file - line);
			strcpy(l->path, line);
			strcpy(l->value, tab);
			p->nfiles++;
		} else if (!strcmp(line, "usage") && p->usage < 0) {
			if (parse_count(tab, &p->usage) < 0)
				return -EINVAL;
		} else if (!strcmp(line, "oom") && !p->counter) {
			char *count = strchr(tab, '\t');

			if (!count)
				return -EINVAL;
			*count++ = '\0';
			for (size_t i = 0; i < sizeof(counters) / sizeof(*counters); i++)
				if (!strcmp(tab, counters[i]))
					p->counter = counters[i];
			if (!p->counter || parse_count(count, &p->count) < 0)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/* The value saved for dir/file, as a limit (-1: none); -ENOENT if not saved. */
static int saved_limit(const struct parsed *p, const char *dir, const char *file, long long *out)
{
	size_t n = strlen(dir);

	for (size_t i = 0; i < p->nfiles; i++)
		if (!strncmp(p->files[i].path, dir, n) && p->files[i].path[n] == '/' &&
		    !strcmp(p->files[i].path + n + 1, file))
			return parse_limit(p->files[i].value, out);
	return -ENOENT;
}

static const char *memory_dir(const struct tb_target *t)
{
	return t->cgroup[TB_CG_MEMORY];
}

static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	struct memory *st = state;
	const char *dir = memory_dir(t), *counter;
	const struct files *f;
	char value[VALUE_MAX], line[64];
	const char *names[3];
	long long usage = 0, count;
	int r, v2;

	if (!dir)
		return -ENOENT;
	v2 = tb_cg_files_is_v2(st->files, dir);
	f = v2 ? &v2_files : &v1_files;
	saved[0] = '\0';
	/* v1's memsw exists only with swap accounting: kept when there, since
	 * allocate() may have to raise it above the memory limit. */
	names[0] = f->hard;
	names[1] = f->limit;
	names[2] = f->protect;
	for (size_t i = 0; i < 3; i++) {
		r = tb_cg_files_read(st->files, dir, names[i], value, sizeof(value));
		if (r == -ENOENT && names[i] == v1_files.hard)
			continue;
		if (r == 0)
			r = tb_saved_add(saved, size, dir, names[i], value);
		if (r < 0)
			return r;
	}
	r = read_value(st, dir, f->usage, &usage);
	snprintf(line, sizeof(line), "usage\t%lld\n", usage < 0 ? 0 : usage);
	if (r == 0)
		r = meta_add(saved, size, line);
	/* No counter (an old v1 kernel without one): check() then cannot tell. */
	if (r == 0 && find_counter(st, dir, v2, &counter, &count) == 0) {
		snprintf(line, sizeof(line), "oom\t%s\t%lld\n", counter, count);
		r = meta_add(saved, size, line);
	}
	return r;
}

static long long page_down(const struct memory *st, long long bytes)
{
	return bytes / st->page * st->page;
}

/* min(a, b) where -1 is no limit. */
static long long lower(long long a, long long b)
{
	return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

static int set_limit(struct memory *st, const struct tb_target *t, const char *file,
		     long long bytes)
{
	int r = write_bytes(st, memory_dir(t), file, bytes);

	if (r == -EBUSY)
		TB_LOG(st->h, TB_LOG_ERROR, "%s: the kernel cannot bring its memory down to %lld bytes "
		       "(%s): what it holds cannot be reclaimed (anonymous memory without swap?)",
		       t->id, bytes, file);
	return r;
}

static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct memory *st = state;
	const char *dir = memory_dir(t);
	const struct files *f;
	struct parsed *p;
	long long base, target, prev, prev_hard = -1;
	int r, v2;

	if (!dir || !tb_stress_valid(stress))
		return -EINVAL;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	v2 = tb_cg_files_is_v2(st->files, dir);
	f = v2 ? &v2_files : &v1_files;
	/* From what save() saw, not the current values: successive applies
	 * without a restore between them do not compound. */
	r = parse_saved(saved ? saved : "", p);
	if (r == 0 && (p->usage < 0 || saved_limit(p, dir, f->limit, &prev) < 0)) {
		r = read_value(st, dir, f->usage, &p->usage);
		if (r == 0)
			r = read_value(st, dir, f->limit, &prev);
	}
	if (r == 0 && v2 && st->hard && saved_limit(p, dir, f->hard, &prev_hard) < 0)
		r = read_value(st, dir, f->hard, &prev_hard);
	if (r < 0) {
		free(p);
		return r;
	}
	base = st->capacity > 0 ? st->capacity : p->usage;
	free(p);
	target = page_down(st, llround((1 - stress) * (double)base));
	if (target < st->floor)
		target = st->floor;
	/* A throttle never loosens: a limit the target already had stays if lower. */
	r = set_limit(st, t, f->limit, lower(target, prev));
	if (r == 0 && v2 && st->hard)
		r = set_limit(st, t, f->hard, lower(target, prev_hard));
	if (r == 0)
		TB_LOG(st->h, TB_LOG_DEBUG, "%s: %s %lld bytes%s (stress %.2f of %lld)", t->id, f->limit,
		       lower(target, prev), v2 && st->hard ? ", memory.max too" : "", stress, base);
	return r;
}

static int restore(void *state, const char *saved)
{
	struct memory *st = state;
	struct parsed *p = malloc(sizeof(*p));
	int r, err[SAVED_LINES] = { 0 }, first = 0, gone = 0;

	if (!p)
		return -ENOMEM;
	r = parse_saved(saved, p);
	if (r < 0) {
		TB_LOG(st->h, TB_LOG_ERROR, "refused saved state: not this throttler's");
		free(p);
		return r;
	}
	/* v1 wants memory.limit_in_bytes <= memory.memsw.limit_in_bytes at
	 * every step, so which goes first depends on the direction: a line the
	 * kernel refused is written again once the others are back. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->nfiles; i++) {
			if (pass == 1 && (err[i] == 0 || err[i] == -ENOENT))
				continue;
			const char *slash = strrchr(p->files[i].path, '/');
			char dir[4096];

			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - p->files[i].path), p->files[i].path);
			err[i] = tb_cg_files_write(st->files, dir, slash + 1, p->files[i].value);
		}
	for (size_t i = 0; i < p->nfiles; i++) {
		gone += err[i] == -ENOENT;
		if (err[i] < 0 && err[i] != -ENOENT && !first)
			first = err[i];
	}
	r = first ? first : gone && (size_t)gone == p->nfiles ? -ENOENT : 0;
	free(p);
	return r;
}

/* ---- capacity, allocations, priority, harm ---- */

static long long physical(const struct memory *st)
{
	long pages = sysconf(_SC_PHYS_PAGES);

	return pages > 0 ? (long long)pages * st->page : -1;
}

/* The target's own limit: v1 memory.limit_in_bytes, v2 the lower of memory.high and memory.max. */
static int own_limit(struct memory *st, const char *dir, long long *out)
{
	int v2 = tb_cg_files_is_v2(st->files, dir);
	long long high = -1, max = -1;
	int r = read_value(st, dir, v2 ? v2_files.limit : v1_files.limit, &high);

	if (r == 0 && v2)
		r = read_value(st, dir, v2_files.hard, &max);
	*out = lower(high, max);
	return r;
}

static int probe(void *state, const struct tb_target *t, double *capacity)
{
	struct memory *st = state;
	long long limit;
	int r;

	if (!memory_dir(t))
		return -ENOENT;
	r = own_limit(st, memory_dir(t), &limit);
	if (r < 0)
		return r;
	*capacity = (double)(st->capacity > 0 ? st->capacity : limit > 0 ? limit : physical(st));
	return 0;
}

static int allocation(void *state, const struct tb_target *t, double *amount)
{
	long long limit;
	int r;

	if (!memory_dir(t))
		return -ENOENT;
	r = own_limit(state, memory_dir(t), &limit);
	if (r < 0)
		return r;
	if (limit < 0)
		return -ENODATA;
	*amount = (double)limit;
	return 0;
}

static int allocate(void *state, const struct tb_target *t, const char *saved, double amount)
{
	struct memory *st = state;
	const char *dir = memory_dir(t);
	long long bytes, cap = st->capacity > 0 ? st->capacity : physical(st), hard;
	int r, v2;

	(void)saved;     /* restore() puts back all it recorded */
	if (!dir)
		return -ENOENT;
	if (!(amount > 0))
		return -EINVAL;
	if (cap > 0 && amount > (double)cap)
		return -ERANGE;
	bytes = page_down(st, (long long)amount);
	if (bytes < st->floor)
		bytes = st->floor;
	v2 = tb_cg_files_is_v2(st->files, dir);
	/* v1: the memory limit may not pass memory+swap's; v2: a memory.max
	 * below memory.high would still hold the target down. */
	r = read_value(st, dir, v2 ? v2_files.hard : v1_files.hard, &hard);
	if (r == 0 && ((hard >= 0 && hard < bytes) || (v2 && st->hard)))
		r = set_limit(st, t, v2 ? v2_files.hard : v1_files.hard, bytes);
	else if (r == -ENOENT && !v2)
		r = 0;     /* no swap accounting */
	if (r == 0)
		r = set_limit(st, t, v2 ? v2_files.limit : v1_files.limit, bytes);
	return r;
}

static int prioritize(void *state, const struct tb_target *t, const char *saved, double factor,
		      char *how, size_t how_size)
{
	struct memory *st = state;
	const char *dir = memory_dir(t);
	const struct files *f;
	long long was, cur, usage, limit, want;
	int r;

	(void)saved;
	if (!dir)
		return -ENOENT;
	if (!(factor > 1))
		return -EINVAL;
	f = tb_cg_files_is_v2(st->files, dir) ? &v2_files : &v1_files;
	r = read_value(st, dir, f->protect, &cur);
	if (r < 0)
		return r;
	was = cur;
	if (cur < 0) {
		/* v1's soft limit is unlimited by default: never reclaimed first. */
		snprintf(how, how_size, "%s already unlimited", f->protect);
		return 0;
	}
	/* Protection from nothing starts from what the target uses. */
	if (cur == 0) {
		r = read_value(st, dir, f->usage, &usage);
		if (r < 0)
			return r;
		cur = usage > st->page ? usage : st->page;
	}
	want = (double)cur * factor >= (double)UNLIMITED_FROM ? UNLIMITED_FROM
		: page_down(st, llround((double)cur * factor));
	if (own_limit(st, dir, &limit) == 0)
		want = lower(want, limit);
	r = write_bytes(st, dir, f->protect, want);
	if (r == 0)
		snprintf(how, how_size, "%s %lld -> %lld", f->protect, was, want);
	return r;
}

static int check(void *state, const struct tb_target *t, const char *saved, char *why,
		 size_t why_size)
{
	struct memory *st = state;
	struct parsed *p;
	long long now;
	int r;

	if (!memory_dir(t))
		return -ENOENT;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	r = parse_saved(saved ? saved : "", p);
	if (r == 0 && !p->counter)
		r = -ENODATA;     /* nothing to compare with: no counter when saved */
	if (r == 0)
		r = read_counter(st, memory_dir(t), p->counter, &now);
	if (r == 0 && now > p->count) {
		snprintf(why, why_size, "%s %lld (%s)",
			 strcmp(p->counter, "memory.failcnt") ? "oom_kill" : "failcnt", now - p->count,
			 p->counter);
		r = 1;
	}
	free(p);
	return r;
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "memory",
		    "memory through the cgroup limit (v1 memory.limit_in_bytes, v2 memory.high, memory.max)",
		    PACKAGE_VERSION, settings },
	.resource = "memory",
	.unit = "bytes",
	.init = init,
	.fini = fini,
	.probe = probe,
	.save = save,
	.apply = apply,
	.restore = restore,
	.allocation = allocation,
	.allocate = allocate,
	.prioritize = prioritize,
	.check = check,
};
