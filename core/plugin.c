/* plugin.c - find plugin files, refuse unsafe or incompatible ones, and dlopen the rest. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
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

/* Code that others can rewrite is code they can run as root. */
static int unsafe_mode(const char *path, const struct stat *st, char *why, size_t whylen)
{
	if (st->st_mode & S_IWOTH) {
		snprintf(why, whylen, "%s: refused: writable by any user (mode %04o)", path,
			 st->st_mode & 07777);
		return 1;
	}
	if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != getegid()) {
		snprintf(why, whylen, "%s: refused: writable by group %u (mode %04o)", path,
			 (unsigned)st->st_gid, st->st_mode & 07777);
		return 1;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(why, whylen, "%s: refused: owned by another user (uid %u)", path,
			 (unsigned)st->st_uid);
		return 1;
	}
	return 0;
}

static int check_file(const char *path, char *why, size_t whylen)
{
	struct stat st;
	char *copy;
	int bad;

	if (stat(path, &st) < 0) {
		int e = errno;

		snprintf(why, whylen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: refused: not a regular file", path);
		return -EPERM;
	}
	if (unsafe_mode(path, &st, why, whylen))
		return -EPERM;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	bad = stat(dirname(copy), &st) == 0 && unsafe_mode(dirname(copy), &st, why, whylen);
	if (bad) {
		/* dirname() may have changed the buffer: say which directory. */
		char dir[512];

		snprintf(dir, sizeof(dir), "%s", why);
		snprintf(why, whylen, "%s: refused: its directory is unsafe (%s)", path, dir);
	}
	free(copy);
	return bad ? -EPERM : 0;
}

int tb_plugin_load_file(const char *path, unsigned kind, struct tb_loaded *out,
			char *why, size_t whylen)
{
	const struct tb_plugin_header *h;
	void *dl;
	int r;

	memset(out, 0, sizeof(*out));
	r = check_file(path, why, whylen);
	if (r < 0)
		return r;
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(why, whylen, "%s: cannot load: %s", path, dlerror());
		return -ENOEXEC;
	}
	h = dlsym(dl, TB_PLUGIN_SYMBOL);
	if (!h) {
		snprintf(why, whylen, "%s: refused: no '%s' symbol: not a ThrottleBot plugin",
			 path, TB_PLUGIN_SYMBOL);
		r = -ENOEXEC;
	} else if (TB_ABI_VERSION_MAJOR(h->abi) != TB_ABI_MAJOR) {
		snprintf(why, whylen, "%s: refused: plugin ABI %u.%u, this ThrottleBot speaks %u.x",
			 path, TB_ABI_VERSION_MAJOR(h->abi), TB_ABI_VERSION_MINOR(h->abi),
			 TB_ABI_MAJOR);
		r = -EPROTO;
	} else if (kind && h->kind != kind) {
		snprintf(why, whylen, "%s: refused: a %s plugin, not a %s", path,
			 tb_kind_name(h->kind), tb_kind_name(kind));
		r = -EPROTO;
	} else if (!h->name || !*h->name) {
		snprintf(why, whylen, "%s: refused: the descriptor has no name", path);
		r = -EPROTO;
	}
	if (r < 0) {
		dlclose(dl);
		return r;
	}
	out->path = strdup(path);
	if (!out->path) {
		dlclose(dl);
		return -ENOMEM;
	}
	out->dl = dl;
	out->header = h;
	return 0;
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
	if (p->dl)
		dlclose(p->dl);
	free(p->path);
	memset(p, 0, sizeof(*p));
}
