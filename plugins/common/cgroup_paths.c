/* cgroup_paths.c - map a process or a cgroup path to its directory in each controller's hierarchy. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroup_file.h"
#include "cgroup_paths.h"

/*
 * Mounts are read from mountinfo rather than through libcgroup: the same
 * code then serves a cgroupfs-shaped test tree, it needs no library-wide
 * initialisation, and it tells which hierarchy is v2 and what its root offers.
 */

static const char *const v1_names[] = {
	[TB_CG_CPU] = "cpu", [TB_CG_CPUSET] = "cpuset", [TB_CG_IO] = "blkio", [TB_CG_MEMORY] = "memory",
};
static const char *const v2_names[] = {
	[TB_CG_CPU] = "cpu", [TB_CG_CPUSET] = "cpuset", [TB_CG_IO] = "io", [TB_CG_MEMORY] = "memory",
};
#define NCTL ((int)(sizeof(v1_names) / sizeof(v1_names[0])))

const char *tb_cg_v1_name(int ctl)
{
	return ctl >= 0 && ctl < NCTL ? v1_names[ctl] : NULL;
}

const char *tb_cg_v2_name(int ctl)
{
	return ctl >= 0 && ctl < NCTL ? v2_names[ctl] : NULL;
}

/* Whether word is one of the separated tokens of list. */
static int has_token(const char *list, const char *word, const char *seps)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, seps);

		if (len == n && !strncmp(p, word, n))
			return 1;
		p += len;
		p += strspn(p, seps);
	}
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static int set_str(char **slot, const char *raw)
{
	char *v = unescape(raw);

	if (!v)
		return -ENOMEM;
	free(*slot);
	*slot = v;
	return 0;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [tags] - fstype source superopts". */
static int parse_mount(struct tb_cg_mounts *m, char *line)
{
	char *f[6], *save = NULL, *sep, *fstype, *superopts;
	int r = 0;

	sep = strstr(line, " - ");
	if (!sep)
		return 0;
	*sep = '\0';
	for (int i = 0; i < 6; i++) {
		f[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!f[i] && i < 5)
			return 0;
	}
	fstype = strtok_r(sep + 3, " \n", &save);
	(void)strtok_r(NULL, " \n", &save);     /* source */
	superopts = strtok_r(NULL, " \n", &save);
	if (!fstype)
		return 0;
	if (!strcmp(fstype, "cgroup2")) {
		r = set_str(&m->v2, f[4]);
		if (r == 0)
			r = set_str(&m->v2_root, f[3]);
	} else if (!strcmp(fstype, "cgroup") && superopts) {
		for (int c = 0; c < NCTL && r == 0; c++)
			if (has_token(superopts, v1_names[c], ",")) {
				r = set_str(&m->v1[c], f[4]);
				if (r == 0)
					r = set_str(&m->v1_root[c], f[3]);
			}
		if (r == 0 && has_token(superopts, "cpuacct", ","))
			r = set_str(&m->cpuacct, f[4]);
	}
	return r;
}

int tb_cg_mounts_read(const char *mountinfo, struct tb_cg_mounts *m)
{
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	char *line = NULL, buf[1024];
	size_t cap = 0;
	int r = 0;

	memset(m, 0, sizeof(*m));
	if (!f)
		return -errno;
	while (r == 0 && getline(&line, &cap, f) > 0)
		r = parse_mount(m, line);
	free(line);
	fclose(f);
	if (r == 0 && m->v2 && tb_cg_read(m->v2, "cgroup.controllers", buf, sizeof(buf)) == 0)
		for (int c = 0; c < NCTL; c++)
			m->in_v2[c] = !m->v1[c] && has_token(buf, v2_names[c], " ");
	if (r < 0)
		tb_cg_mounts_free(m);
	return r;
}

void tb_cg_mounts_free(struct tb_cg_mounts *m)
{
	for (int c = 0; c < TB_CG_SLOTS; c++) {
		free(m->v1[c]);
		free(m->v1_root[c]);
	}
	free(m->v2);
	free(m->v2_root);
	free(m->cpuacct);
	memset(m, 0, sizeof(*m));
}

const char *tb_cg_mount_of(const struct tb_cg_mounts *m, int ctl, int *v2)
{
	if (ctl < 0 || ctl >= NCTL)
		return NULL;
	if (v2)
		*v2 = !m->v1[ctl] && m->in_v2[ctl];
	if (m->v1[ctl])
		return m->v1[ctl];
	return m->in_v2[ctl] ? m->v2 : NULL;
}

/* mount + path, with the mount's own root taken off path (a mount of a sub-tree). */
static char *join(const char *mount, const char *root, const char *path)
{
	size_t rl = root ? strlen(root) : 0;
	char *out;

	if (rl > 1 && !strncmp(path, root, rl) && (path[rl] == '/' || path[rl] == '\0'))
		path += rl;
	while (*path == '/')
		path++;
	if (asprintf(&out, "%s%s%s", mount, *path ? "/" : "", path) < 0)
		return NULL;
	return out;
}

/* Whether the resolved path lies in the resolved directory root. */
static int inside(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return 1;
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

int tb_cg_confine(const char *mount, const char *dir)
{
	char *root = realpath(mount, NULL), *copy = strdup(dir), *real = NULL, *slash;
	struct stat st;
	int r = 0;

	if (!root || !copy) {
		r = root ? -ENOMEM : -errno;
		goto out;
	}
	/* What does not exist yet is confined by its name: plain components
	 * below the deepest part that exists, which is resolved. */
	while (!(real = realpath(copy, NULL)) && errno == ENOENT && (slash = strrchr(copy, '/'))) {
		if (!strcmp(slash + 1, "..") || !strcmp(slash + 1, ".") ||
		    lstat(copy, &st) == 0) {   /* a dangling symlink */
			r = -EXDEV;
			goto out;
		}
		slash[slash == copy] = '\0';
	}
	if (!real)
		r = -errno;
	else if (!inside(root, real))
		r = -EXDEV;
out:
	free(root);
	free(copy);
	free(real);
	return r;
}

/* mount + path (see join), unless that leads outside the mount. */
static int join_confined(const char *mount, const char *root, const char *path, char **out)
{
	int r;

	*out = join(mount, root, path);
	if (!*out)
		return -ENOMEM;
	r = tb_cg_confine(mount, *out);
	if (r == -EXDEV) {
		free(*out);
		*out = NULL;
	}
	return r == -EXDEV ? r : 0;
}

int tb_cg_paths_parse(const struct tb_cg_mounts *m, const char *proc_cgroup,
		      char *dirs[TB_CG_SLOTS])
{
	FILE *f = fopen(proc_cgroup, "re");
	char *line = NULL;
	size_t cap = 0;
	int r = 0;

	for (int c = 0; c < TB_CG_SLOTS; c++)
		dirs[c] = NULL;
	if (!f)
		return -errno;
	while (r == 0 && getline(&line, &cap, f) > 0) {
		char *ctls = strchr(line, ':'), *path;

		if (!ctls || !(path = strchr(ctls + 1, ':')))
			continue;
		*ctls++ = '\0';
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		for (int c = 0; c < NCTL && r == 0; c++) {
			int v2 = 0;
			const char *mnt = tb_cg_mount_of(m, c, &v2);
			int match = v2 ? *ctls == '\0' && !strcmp(line, "0")
				       : has_token(ctls, v1_names[c], ",");

			if (!mnt || !match || dirs[c])
				continue;
			r = join_confined(mnt, v2 ? m->v2_root : m->v1_root[c], path, &dirs[c]);
		}
	}
	free(line);
	fclose(f);
	if (r < 0)
		tb_cg_paths_free(dirs);
	return r;
}

int tb_cg_paths_of_pid(const struct tb_cg_mounts *m, pid_t pid, char *dirs[TB_CG_SLOTS])
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
	return tb_cg_paths_parse(m, path, dirs);
}

int tb_cg_paths_of_cgroup(const struct tb_cg_mounts *m, const char *path,
			  char *dirs[TB_CG_SLOTS])
{
	int found = 0, r;

	for (int c = 0; c < TB_CG_SLOTS; c++) {
		const char *mnt = tb_cg_mount_of(m, c, NULL);
		struct stat st;

		dirs[c] = NULL;
		if (!mnt)
			continue;
		/* The path is given relative to each hierarchy's top, as the
		 * user sees it in /proc/PID/cgroup: no mount root to strip. */
		r = join_confined(mnt, NULL, path, &dirs[c]);
		if (r < 0) {
			tb_cg_paths_free(dirs);
			return r;
		}
		if (stat(dirs[c], &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(dirs[c]);
			dirs[c] = NULL;
		} else {
			found = 1;
		}
	}
	return found ? 0 : -ENOENT;
}

void tb_cg_paths_free(char *dirs[TB_CG_SLOTS])
{
	for (int c = 0; c < TB_CG_SLOTS; c++) {
		free(dirs[c]);
		dirs[c] = NULL;
	}
}

int tb_cg_procs(const char *dir, pid_t *pids, size_t max)
{
	char path[4096];
	FILE *f;
	long pid;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < max && fscanf(f, "%ld", &pid) == 1)
		pids[n++] = (pid_t)pid;
	fclose(f);
	return (int)n;
}
