/* quilt_ps.h - read the machines and containers of a Quilt deployment from a "quilt ps" listing. */
#ifndef TB_QUILT_PS_H
#define TB_QUILT_PS_H

#include <stddef.h>

#define QUILT_FIELD_MAX 256

struct quilt_machine {
	char id[QUILT_FIELD_MAX];          /* the short id "quilt ps" prints */
	char role[32];                     /* "Master", "Worker" */
	char public_ip[64];
	int connected;
};

struct quilt_container {
	char id[QUILT_FIELD_MAX];          /* its short stitch id */
	char machine[QUILT_FIELD_MAX];     /* the short id of its machine, or "" */
	char service[QUILT_FIELD_MAX];     /* its first label, or "" */
	char status[32];                   /* "running", "scheduled", ... */
};

struct quilt_ps {
	size_t nmachines, ncontainers;
	struct quilt_machine *machines;
	struct quilt_container *containers;
};

/*
 * Parse the two tables "quilt ps" prints (columns aligned by Go's
 * tabwriter, so a column starts where its heading does): MACHINE ... STATUS,
 * a blank line, then CONTAINER MACHINE COMMAND LABELS STATUS CREATED PUBLIC IP.
 * 0, or -EINVAL with err naming the line that could not be read.
 */
int quilt_parse_ps(const char *text, struct quilt_ps *out, char *err, size_t errlen);
void quilt_ps_free(struct quilt_ps *ps);

/* The machine with short id id, or NULL. */
const struct quilt_machine *quilt_find_machine(const struct quilt_ps *ps, const char *id);

#endif
