/* cpu_weight.c - an out-of-tree throttler: lowers a service's CPU weight (v1 cpu.shares, v2 cpu.weight). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <throttlebot/plugin.h>

/*
 * Under contention, the CFS scheduler splits CPU time in proportion to
 * weights; lowering a service's weight throttles it only when the host is
 * busy, which is what some operators want to test.  Everything this plugin
 * needs comes from <throttlebot/plugin.h>: build it with
 *   cc -shared -fPIC $(pkg-config --cflags throttlebot-plugin) -o cpu_weight.so cpu_weight.c
 * and put cpu_weight.so in a plugin directory.
 */

struct cpu_weight {
	const struct tb_host *h;
	long long min_weight;
};

static const struct tb_setting_spec settings[] = {
	{ "min_weight", TB_SETTING_INT, 0, "never go below this weight (default 2)" },
	{ NULL, 0, 0, NULL },
};

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct cpu_weight *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	st->h = h;
	st->min_weight = 2;
	r = h->get_int(h, cfg, "min_weight", &st->min_weight);
	if (r < 0 && r != -ENOENT) {
		free(st);
		return r;
	}
	*state = st;
	return 0;
}

static void fini(void *state)
{
	free(state);
}

/* v2 directories hold cgroup.controllers; v1 "cpu" directories do not. */
static const char *weight_file(const char *dir, char *path, size_t size)
{
	snprintf(path, size, "%s/cgroup.controllers", dir);
	if (access(path, F_OK) == 0)
		snprintf(path, size, "%s/cpu.weight", dir);
	else
		snprintf(path, size, "%s/cpu.shares", dir);
	return path;
}

static int read_number(const char *path, long long *out)
{
	char buf[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EINVAL;
	buf[n] = '\0';
	*out = strtoll(buf, NULL, 10);
	return 0;
}

static int write_number(const char *path, long long value)
{
	char buf[64];
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), len, r = 0;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lld", value);
	if (write(fd, buf, (size_t)len) != len)
		r = -errno;
	close(fd);
	return r;
}

static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	char path[4096];
	long long weight = 0;
	int r;

	if (!t->cgroup[TB_CG_CPU])
		return -ENOENT;
	r = read_number(weight_file(t->cgroup[TB_CG_CPU], path, sizeof(path)), &weight);
	if (r < 0)
		return r;
	/* Saved state is self-contained: the file and its exact previous value. */
	return snprintf(saved, size, "%s %lld", path, weight) < (int)size ? 0 : -ENOSPC;
}

static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct cpu_weight *st = state;
	char path[4096];
	long long weight;

	if (sscanf(saved, "%4095s %lld", path, &weight) != 2)
		return -EINVAL;
	weight = (long long)((1 - stress) * (double)weight);
	if (weight < st->min_weight)
		weight = st->min_weight;
	TB_LOG(st->h, TB_LOG_DEBUG, "%s: weight %lld", t->id, weight);
	return write_number(path, weight);
}

static int restore(void *state, const char *saved)
{
	char path[4096];
	long long weight;

	if (sscanf(saved, "%4095s %lld", path, &weight) != 2)
		return -EINVAL;
	return write_number(path, weight);
}

TB_PLUGIN_DEFINE(tb_throttler) = {
	.header = { TB_ABI_CURRENT, TB_KIND_THROTTLER, "cpu_weight",
		    "CPU weight under contention (v1 cpu.shares, v2 cpu.weight); an example plugin",
		    "1.0", settings },
	.resource = "cpu",
	.unit = "weight",
	.init = init,
	.fini = fini,
	.save = save,
	.apply = apply,
	.restore = restore,
};
