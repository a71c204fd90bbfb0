/* quilt_ps.c - read the machines and containers of a Quilt deployment from a "quilt ps" listing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "quilt_ps.h"

#define MAX_COLUMNS 8

/* Where each heading starts on a heading line; -1 when absent. */
struct columns {
	const char *names[MAX_COLUMNS];
	long at[MAX_COLUMNS];
	size_t n;
};

static void find_columns(const char *line, size_t len, struct columns *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const char *p = memmem(line, len, c->names[i], strlen(c->names[i]));

		c->at[i] = p ? p - line : -1;
	}
}

/* Column i of a row, trimmed, into out; "" past the row's end. */
static int cell(const char *line, size_t len, const struct columns *c, size_t i, char *out, size_t size)
{
	size_t start = (size_t)c->at[i], end = len, n;

	for (size_t j = 0; j < c->n; j++)
		if (c->at[j] > c->at[i] && (size_t)c->at[j] < end)
			end = (size_t)c->at[j];
	if (start >= len) {
		*out = '\0';
		return 0;
	}
	while (start < end && line[start] == ' ')
		start++;
	while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	n = end - start;
	if (n >= size)
		return -EINVAL;
	memcpy(out, line + start, n);
	out[n] = '\0';
	/* A cell that runs into the next column's heading was not aligned by it. */
	return strchr(out, '\t') ? -EINVAL : 0;
}

/* Names go into ids, labels and node names: printable, no separators. */
static int plain(const char *s)
{
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:")] == '\0';
}

static int add_machine(struct quilt_ps *ps, const char *line, size_t len, const struct columns *c)
{
	struct quilt_machine m = { 0 }, *grown;
	char status[32];

	if (cell(line, len, c, 0, m.id, sizeof(m.id)) < 0 || cell(line, len, c, 1, m.role, sizeof(m.role)) < 0 ||
	    cell(line, len, c, 5, m.public_ip, sizeof(m.public_ip)) < 0 ||
	    cell(line, len, c, 6, status, sizeof(status)) < 0 || !*m.id || !plain(m.id) ||
	    !plain(m.public_ip))
		return -EINVAL;
	m.connected = !strcmp(status, "connected");
	if (!(grown = realloc(ps->machines, (ps->nmachines + 1) * sizeof(*grown))))
		return -ENOMEM;
	ps->machines = grown;
	grown[ps->nmachines++] = m;
	return 0;
}

static int add_container(struct quilt_ps *ps, const char *line, size_t len, const struct columns *c)
{
	struct quilt_container k = { 0 }, *grown;
	char labels[QUILT_FIELD_MAX * 4];

	if (cell(line, len, c, 0, k.id, sizeof(k.id)) < 0 || cell(line, len, c, 1, k.machine, sizeof(k.machine)) < 0 ||
	    cell(line, len, c, 3, labels, sizeof(labels)) < 0 || cell(line, len, c, 4, k.status, sizeof(k.status)) < 0 ||
	    !*k.id || !plain(k.id) || !plain(k.machine))
		return -EINVAL;
	/* Labels are joined by ", "; the first names the service. */
	labels[strcspn(labels, ",")] = '\0';
	if (strlen(labels) >= sizeof(k.service) || !plain(labels))
		return -EINVAL;
	strcpy(k.service, labels);
	if (!(grown = realloc(ps->containers, (ps->ncontainers + 1) * sizeof(*grown))))
		return -ENOMEM;
	ps->containers = grown;
	grown[ps->ncontainers++] = k;
	return 0;
}

static int blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return 0;
	return 1;
}

int quilt_parse_ps(const char *text, struct quilt_ps *out, char *err, size_t errlen)
{
	struct columns machines = { { "MACHINE", "ROLE", "PROVIDER", "REGION", "SIZE", "PUBLIC IP", "STATUS" }, { 0 }, 7 };
	struct columns containers = { { "CONTAINER", "MACHINE", "COMMAND", "LABELS", "STATUS", "CREATED",
					"PUBLIC IP" }, { 0 }, 7 };
	const struct columns *table = NULL;
	const char *line = text;
	long lineno = 0;

	memset(out, 0, sizeof(*out));
	while (*line) {
		size_t len = strcspn(line, "\n");
		int r = 0;

		lineno++;
		if (blank(line, len)) {
			/* between the tables, and between machines in the second */
		} else if (!strncmp(line, "MACHINE", 7) && memmem(line, len, "ROLE", 4)) {
			find_columns(line, len, &machines);
			table = &machines;
		} else if (!strncmp(line, "CONTAINER", 9)) {
			find_columns(line, len, &containers);
			table = &containers;
		} else if (!table) {
			r = -EINVAL;
		} else {
			r = table == &machines ? add_machine(out, line, len, table)
					       : add_container(out, line, len, table);
		}
		for (size_t i = 0; table && i < table->n; i++)
			if (table->at[i] < 0)
				r = -EINVAL;
		if (r < 0) {
			snprintf(err, errlen, "line %ld: not a \"quilt ps\" %s: %.*s", lineno,
				 table ? "row" : "heading", (int)(len > 120 ? 120 : len), line);
			quilt_ps_free(out);
			return r == -ENOMEM ? r : -EINVAL;
		}
		line += len + (line[len] == '\n');
	}
	return 0;
}

void quilt_ps_free(struct quilt_ps *ps)
{
	free(ps->machines);
	free(ps->containers);
	memset(ps, 0, sizeof(*ps));
}

const struct quilt_machine *quilt_find_machine(const struct quilt_ps *ps, const char *id)
{
	for (size_t i = 0; i < ps->nmachines; i++)
		if (!strcmp(ps->machines[i].id, id))
			return &ps->machines[i];
	return NULL;
}
