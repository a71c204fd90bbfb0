/* plugin.c - find plugin files, refuse unsafe or incompatible ones, and dlopen the rest. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "plugin.h"

#ifndef PLUGINDIR
#define PLUGINDIR "/usr/local/lib/throttlebot/plugins"
#endif

const char *tb_kind_name(unsigned kind)
{
	switch (kind) {
	case TB_KIND_ORCHESTRATOR: return "orchestrator";
	case TB_KIND_THROTTLER: return "throttler";
	case TB_KIND_METRIC: return "metric";
	case TB_KIND_STRATEGY: return "strategy";
	default: return "unknown";
	}
}

#ifdef BUILDDIR
/* Run from the build tree, the program finds the plugins built beside it. */
static const char *const build_dirs[] = {
	BUILDDIR "/plugins/orchestrators/.libs", BUILDDIR "/plugins/throttlers/.libs",
	BUILDDIR "/plugins/metrics/.libs", BUILDDIR "/plugins/strategies/.libs",
	BUILDDIR "/plugins/sim/.libs",
};

static int running_uninstalled(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return 0;
	exe[n] = '\0';
	return !strcmp(exe, BUILDDIR "/throttlebot");
}
#else
static const char *const build_dirs[] = { "" };

static int running_uninstalled(void)
{
	return 0;
}
#endif

static int push_dir(char ***dirs, int *n, const char *dir, size_t len)
{
	char **grown;

	if (len == 0)
		return 0;
	grown = realloc(*dirs, sizeof(**dirs) * (size_t)(*n + 1));
	if (!grown)
		return -ENOMEM;
	*dirs = grown;
	grown[*n] = strndup(dir, len);
	if (!grown[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int tb_plugin_dirs(const char *plugin_dir, char ***dirs)
{
	const char *env = getenv("THROTTLEBOT_PLUGIN_PATH");
	int n = 0, r = 0;

	*dirs = NULL;
	while (env && *env && r == 0) {
		const char *colon = strchr(env, ':');
		size_t len = colon ? (size_t)(colon - env) : strlen(env);

		r = push_dir(dirs, &n, env, len);
		env = colon ? colon + 1 : NULL;
	}
	if (r == 0 && plugin_dir)
		r = push_dir(dirs, &n, plugin_dir, strlen(plugin_dir));
	if (r == 0 && running_uninstalled())
		for (size_t i = 0; r == 0 && i < sizeof(build_dirs) / sizeof(*build_dirs); i++)
			r = push_dir(dirs, &n, build_dirs[i], strlen(build_dirs[i]));
	if (r == 0)
		r = push_dir(dirs, &n, PLUGINDIR, strlen(PLUGINDIR));
	if (r < 0) {
		tb_plugin_dirs_free(*dirs, n);
		return r;
	}
	return n;
}

void tb_plugin_dirs_free(char **dirs, int n)
{
	while (n-- > 0)
		free(dirs[n]);
	free(dirs);
}

/* Code that others can rewrite is code they can run as root: the owner must
 * be root or the running user, and nobody else may write (sudo's rule for
 * its plugins).  Returns a description of what is wrong, or NULL. */
static int foreign(const struct stat *st)
{
	return st->st_uid != 0 && st->st_uid != geteuid();
}

static const char *unsafe_owner_or_mode(const struct stat *st, char *how, size_t len)
{
	if (foreign(st))
		snprintf(how, len, "owned by another user (uid %u)", (unsigned)st->st_uid);
	else if (st->st_mode & S_IWOTH)
		snprintf(how, len, "writable by any user (mode %04o)", st->st_mode & 07777);
	else if (st->st_mode & S_IWGRP)
		snprintf(how, len, "writable by group %u (mode %04o)", (unsigned)st->st_gid,
			 st->st_mode & 07777);
	else
		return NULL;
	return how;
}

/*
 * Every directory from dir (absolute, symlinks resolved) up to "/" must be
 * safe, or whoever may write one can rename a plugin's path away and put
 * their own file in its place.  A sticky directory owned by root or by us
 * (/tmp) is accepted on the way up, since nobody else can rename or remove
 * what it holds that is not theirs; it is never accepted as the directory
 * that holds the plugin itself, where anyone could add files.
 */
static int check_dirs(const char *path, const char *dir, char *why, size_t whylen)
{
	char *copy = strdup(dir), how[128];
	size_t end = copy ? strlen(copy) : 0;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (int holder = 1;; holder = 0) {
		const char *at = end ? copy : "/", *bad;
		struct stat st;

		if (lstat(at, &st) < 0) {
			r = -errno;
			snprintf(why, whylen, "%s: directory %s: %s", path, at, strerror(-r));
		} else if (!S_ISDIR(st.st_mode)) {
			snprintf(why, whylen, "%s: refused: %s is not a directory", path, at);
			r = -EPERM;
		} else if ((bad = unsafe_owner_or_mode(&st, how, sizeof(how))) &&
			   (holder || !(st.st_mode & S_ISVTX) || foreign(&st))) {
			snprintf(why, whylen, "%s: refused: directory %s is %s", path, at, bad);
			r = -EPERM;
		}
		if (r < 0 || end == 0)
			break;
		/* Up one: drop the last name, then its slashes ("" is the root). */
		while (end > 0 && copy[end - 1] != '/')
			end--;
		while (end > 0 && copy[end - 1] == '/')
			end--;
		copy[end] = '\0';
	}
	free(copy);
	return r;
}

/* The directory part of path, resolved; NULL with errno set on failure. */
static char *real_dirname(const char *path)
{
	char *copy = strdup(path), *real;

	if (!copy)
		return NULL;
	real = realpath(dirname(copy), NULL);
	free(copy);
	return real;
}

/*
 * Check where the plugin is and what it is, then open it: the descriptor,
 * not the name, is what is checked and what dlopen() loads, so a file swapped
 * in after the checks is never the one loaded.  Returns the descriptor.
 */
static int open_checked(const char *path, char *why, size_t whylen)
{
	char *real = realpath(path, NULL), *dir = NULL, *realdir = NULL, how[128];
	const char *bad;
	struct stat st;
	int fd = -1, r;

	if (!real || !(dir = real_dirname(path)) || !(realdir = real_dirname(real))) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
		goto out;
	}
	/* The directory the name is in, and, for a symlink, the one the file is in. */
	r = check_dirs(path, dir, why, whylen);
	if (r == 0 && strcmp(dir, realdir))
		r = check_dirs(path, realdir, why, whylen);
	if (r < 0)
		goto out;
	/* O_NONBLOCK: a FIFO planted as a plugin must not hang the run. */
	fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-r));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: refused: not a regular file", path);
		r = -EPERM;
	} else if ((bad = unsafe_owner_or_mode(&st, how, sizeof(how)))) {
		snprintf(why, whylen, "%s: refused: %s", path, bad);
		r = -EPERM;
	}
out:
	if (r < 0 && fd >= 0)
		close(fd);
	free(real);
	free(dir);
	free(realdir);
	return r < 0 ? r : fd;
}

/* The members each kind of plugin must fill: a NULL one would crash the run
 * half-way (after the journal is open), so it is refused at load. */
struct required_op {
	unsigned kind;
	const char *member;
	size_t offset;
};
#define REQUIRED(kind, type, member) { kind, #member, offsetof(struct type, member) }
static const struct required_op required_ops[] = {
	REQUIRED(TB_KIND_ORCHESTRATOR, tb_orchestrator, init),
	REQUIRED(TB_KIND_ORCHESTRATOR, tb_orchestrator, fini),
	REQUIRED(TB_KIND_ORCHESTRATOR, tb_orchestrator, discover),
	REQUIRED(TB_KIND_THROTTLER, tb_throttler, init),
	REQUIRED(TB_KIND_THROTTLER, tb_throttler, fini),
	REQUIRED(TB_KIND_THROTTLER, tb_throttler, save),
	REQUIRED(TB_KIND_THROTTLER, tb_throttler, apply),
	REQUIRED(TB_KIND_THROTTLER, tb_throttler, restore),
	REQUIRED(TB_KIND_METRIC, tb_metric, init),
	REQUIRED(TB_KIND_METRIC, tb_metric, fini),
	REQUIRED(TB_KIND_METRIC, tb_metric, count),
	REQUIRED(TB_KIND_METRIC, tb_metric, describe),
	REQUIRED(TB_KIND_METRIC, tb_metric, measure),
	REQUIRED(TB_KIND_STRATEGY, tb_strategy, init),
	REQUIRED(TB_KIND_STRATEGY, tb_strategy, fini),
	REQUIRED(TB_KIND_STRATEGY, tb_strategy, next),
};

/* The first required member h lacks, or NULL. */
static const char *missing_op(const struct tb_plugin_header *h)
{
	for (size_t i = 0; i < sizeof(required_ops) / sizeof(*required_ops); i++) {
		void (*fn)(void);

		if (required_ops[i].kind != h->kind)
			continue;
		memcpy(&fn, (const char *)h + required_ops[i].offset, sizeof(fn));
		if (!fn)
			return required_ops[i].member;
	}
	return NULL;
}

int tb_plugin_load_file(const char *path, unsigned kind, struct tb_loaded *out,
			char *why, size_t whylen)
{
	const struct tb_plugin_header *h;
	const char *missing;
	char fdpath[64];
	void *dl;
	int fd, r = 0;

	memset(out, 0, sizeof(*out));
	fd = open_checked(path, why, whylen);
	if (fd < 0)
		return fd;
	/* The descriptor stays open while the plugin is loaded: the dynamic
	 * linker takes an object already loaded under the same name for the
	 * one asked for, so no two loaded plugins may share a descriptor. */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(why, whylen, "%s: cannot load: %s", path, dlerror());
		close(fd);
		return -ENOEXEC;
	}
	h = dlsym(dl, TB_PLUGIN_SYMBOL);
	if (!h) {
		snprintf(why, whylen, "%s: refused: no '%s' symbol: not a ThrottleBot plugin",
			 path, TB_PLUGIN_SYMBOL);
		r = -ENOEXEC;
	} else if (TB_ABI_VERSION_MAJOR(h->abi) != TB_ABI_MAJOR) {
		snprintf(why, whylen, "%s: refused: plugin ABI %u.%u, this ThrottleBot is ABI %u.%u "
			 "and loads only ABI %u.x plugins (rebuild it against this version's header)",
			 path, TB_ABI_VERSION_MAJOR(h->abi), TB_ABI_VERSION_MINOR(h->abi),
			 TB_ABI_MAJOR, TB_ABI_MINOR, TB_ABI_MAJOR);
		r = -EPROTO;
	} else if (kind && h->kind != kind) {
		snprintf(why, whylen, "%s: refused: a %s plugin, not a %s", path,
			 tb_kind_name(h->kind), tb_kind_name(kind));
		r = -EPROTO;
	} else if (!h->name || !*h->name) {
		snprintf(why, whylen, "%s: refused: the descriptor has no name", path);
		r = -EPROTO;
	} else if (!strcmp(tb_kind_name(h->kind), "unknown")) {
		snprintf(why, whylen, "%s: refused: unknown plugin kind %u", path, (unsigned)h->kind);
		r = -EPROTO;
	} else if ((missing = missing_op(h))) {
		snprintf(why, whylen, "%s: refused: a %s plugin without '%s'", path,
			 tb_kind_name(h->kind), missing);
		r = -EPROTO;
	}
	out->dl = dl;
	out->fd = fd;
	out->header = h;
	if (r == 0 && !(out->path = strdup(path)))
		r = -ENOMEM;
	if (r < 0)
		tb_plugin_unload(out);
	return r;
}

int tb_plugin_find(const char *name, unsigned kind, const char *plugin_dir,
		   struct tb_loaded *out, char *why, size_t whylen)
{
	char **dirs, path[4096];
	int i, n, r = -ENOENT;

	if (!*name || strchr(name, '/') || name[0] == '.') {
		snprintf(why, whylen, "'%s' is not a plugin name", name);
		return -EINVAL;
	}
	n = tb_plugin_dirs(plugin_dir, &dirs);
	if (n < 0)
		return n;
	snprintf(why, whylen, "no %s plugin '%s' (looked for %s.so in", tb_kind_name(kind), name, name);
	for (i = 0; i < n; i++) {
		size_t used = strlen(why);

		snprintf(why + used, whylen - used, "%s%s", i ? ", " : " ", dirs[i]);
		snprintf(path, sizeof(path), "%s/%s.so", dirs[i], name);
		if (access(path, F_OK) == 0) {
			r = tb_plugin_load_file(path, kind, out, why, whylen);
			if (r == 0 && strcmp(out->header->name, name)) {
				snprintf(why, whylen, "%s: refused: it calls itself '%s', not '%s'",
					 path, out->header->name, name);
				tb_plugin_unload(out);
				r = -EPROTO;
			}
			break;
		}
	}
	if (r == -ENOENT) {
		size_t used = strlen(why);

		snprintf(why + used, whylen - used, ")");
	}
	tb_plugin_dirs_free(dirs, n);
	return r;
}

void tb_plugin_unload(struct tb_loaded *p)
{
	char fdpath[64];
	void *still;

	if (p->dl) {
		dlclose(p->dl);
		/* A plugin that cannot be unloaded (marked nodelete, say) keeps
		 * its name, and so its descriptor, for the life of the process. */
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", p->fd);
		still = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
		if (still)
			dlclose(still);
		else
			close(p->fd);
	}
	free(p->path);
	memset(p, 0, sizeof(*p));
}
