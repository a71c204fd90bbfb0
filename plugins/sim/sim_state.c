/* sim_state.c - read and atomically rewrite the sim plugins' shared state file. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sim_app.h"
#include "sim_state.h"

void sim_state_free(struct sim_state *st)
{
	for (size_t i = 0; i < st->nallow; i++)
		free(st->allow[i].id);
	free(st->allow);
	free(st->model);
	memset(st, 0, sizeof(*st));
}

static int append(struct sim_state *st, const char *id, int resource, double allowance);

int sim_state_load(const char *path, struct sim_state *st)
{
	char line[512], id[256];
	FILE *f;
	int r = 0;

	memset(st, 0, sizeof(*st));
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		uint64_t seed;
		size_t n;
		double a, b;
		int res;

		if (sscanf(line, "app %" SCNu64 " %zu %lf %lf", &seed, &n, &a, &b) == 4) {
			st->have_app = 1;
			st->seed = seed;
			st->nservices = n;
			st->margin = a;
			st->level = b;
		} else if (sscanf(line, "capped %zu %d", &n, &res) == 2 && res >= 0 && res < SIM_NRES) {
			st->have_capped = 1;
			st->capped = n;
			st->capped_resource = res;
		} else if (!strncmp(line, "model ", 6) && !st->model) {
			line[strcspn(line, "\n")] = '\0';
			st->model = strdup(line + 6);
			r = st->model ? 0 : -ENOMEM;
		} else if (sscanf(line, "allow %255s %d %lf", id, &res, &a) == 3) {
			/* sim_state_save() writes each pair once: no search, which
			 * would make loading the state of a large group quadratic. */
			r = append(st, id, res, a);
		} else if (line[0] != '\n' && line[0] != '#') {
			r = -EINVAL;
		}
	}
	if (ferror(f) && r == 0)
		r = -EIO;
	fclose(f);
	if (r < 0)
		sim_state_free(st);
	return r;
}

int sim_state_save(const char *path, const struct sim_state *st)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 8);
	FILE *f;
	int r = 0;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, len + 8, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		r = -errno;
		free(tmp);
		return r;
	}
	if (st->have_app)
		fprintf(f, "app %" PRIu64 " %zu %.17g %.17g\n", st->seed, st->nservices, st->margin,
			st->level);
	if (st->have_capped)
		fprintf(f, "capped %zu %d\n", st->capped, st->capped_resource);
	if (st->model)
		fprintf(f, "model %s\n", st->model);
	for (size_t i = 0; i < st->nallow; i++)
		fprintf(f, "allow %s %d %.17g\n", st->allow[i].id, st->allow[i].resource,
			st->allow[i].allowance);
	if (fflush(f) != 0 || ferror(f))
		r = -errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

int sim_state_get(const struct sim_state *st, const char *id, int resource, double *allowance)
{
	for (size_t i = 0; i < st->nallow; i++)
		if (st->allow[i].resource == resource && strcmp(st->allow[i].id, id) == 0) {
			*allowance = st->allow[i].allowance;
			return 0;
		}
	return -ENOENT;
}

static int append(struct sim_state *st, const char *id, int resource, double allowance)
{
	size_t i = st->nallow;
	struct sim_allow *grown;

	if (i == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 16;

		grown = realloc(st->allow, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		st->allow = grown;
		st->cap = cap;
	}
	st->allow[i].id = strdup(id);
	if (!st->allow[i].id)
		return -ENOMEM;
	st->allow[i].resource = resource;
	st->allow[i].allowance = allowance;
	st->nallow++;
	return 0;
}

int sim_state_set(struct sim_state *st, const char *id, int resource, double allowance)
{
	size_t i;

	for (i = 0; i < st->nallow; i++)
		if (st->allow[i].resource == resource && strcmp(st->allow[i].id, id) == 0)
			break;
	if (isnan(allowance)) {
		if (i < st->nallow) {
			free(st->allow[i].id);
			st->allow[i] = st->allow[--st->nallow];
		}
		return 0;
	}
	if (i == st->nallow)
		return append(st, id, resource, allowance);
	st->allow[i].allowance = allowance;
	return 0;
}

long sim_target_index(const char *id)
{
	char *end;
	long v;

	if (strncmp(id, "sim:", 4) != 0)
		return -1;
	errno = 0;
	v = strtol(id + 4, &end, 10);
	return errno || *end || end == id + 4 || v < 0 ? -1 : v;
}
