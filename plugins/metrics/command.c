/* command.c - metric plugin: run the workload as a command; its wall time, and a number from its output. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "program.h"
#include "workload.h"
#include "strlist.h"


static const struct tb_setting_spec settings[] = {
	{ "command", TB_SETTING_STRINGS, 1, "the workload's argv, run with execvp (no shell)" },
	{ "timeout", TB_SETTING_NUMBER, 0, "seconds before the workload is killed and the trial fails (600)" },
	{ "cwd", TB_SETTING_STRING, 0, "directory the workload runs in" },
	{ "env", TB_SETTING_STRINGS, 0, "\"K=V\" strings added to the workload's environment" },
	{ "pattern", TB_SETTING_STRING, 0, "extended regex with one capture group: its last match in the output is a value" },
	{ "pattern_name", TB_SETTING_STRING, 0, "name of the extracted value (\"value\")" },
	{ "pattern_unit", TB_SETTING_STRING, 0, "unit of the extracted value; a time unit converts 850us, 1.2s, ..." },
	{ "pattern_direction", TB_SETTING_STRING, 0, "\"lower\" (default) or \"higher\" is better" },
	{ NULL, 0, 0, NULL },
};

struct command {
	const struct tb_host *h;
	struct tb_workload w;
	int has_pattern;
	regex_t re;
	char *pattern_name, *pattern_unit;
	struct tb_metric_value values[2];
};

/* Seconds per unit, for the time units a workload may print. */
static double time_unit(const char *u, size_t len)
{
	static const struct { const char *name; double sec; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 }, { "ms", 1e-3 },
		{ "s", 1 }, { "sec", 1 }, { "m", 60 }, { "min", 60 }, { "h", 3600 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len && strncmp(units[i].name, u, len) == 0)
			return units[i].sec;
	return 0;
}

static int is_suffix_char(unsigned char c)
{
	return isalpha(c) || c == '%' || c >= 0x80;
}

/*
 * The number in text[so, eo) of line, converted to the configured unit.  The
 * unit suffix may be inside the capture ("12.34ms") or right after it.
 */
static int convert(struct command *c, const char *line, regoff_t so, regoff_t eo, double *out,
		   char *why, size_t whysize)
{
	char num[128], *end;
	const char *suf;
	size_t len = (size_t)(eo - so), suflen;
	double v, from, to;

	if (len >= sizeof(num))
		len = sizeof(num) - 1;
	memcpy(num, line + so, len);
	num[len] = '\0';
	v = strtod(num, &end);
	if (end == num) {
		snprintf(why, whysize, "'%s' is not a number", num);
		return -EINVAL;
	}
	while (*end == ' ')
		end++;
	suf = end;
	if (!*suf) {
		suf = line + eo;
		for (suflen = 0; suf[suflen] && is_suffix_char((unsigned char)suf[suflen]); suflen++)
			;
	} else {
		suflen = strlen(suf);
	}
	*out = v;
	if (!suflen || !c->pattern_unit)
		return 0;
	to = time_unit(c->pattern_unit, strlen(c->pattern_unit));
	from = time_unit(suf, suflen);
	if (to > 0 && from > 0) {
		*out = v * from / to;
		return 0;
	}
	if (strlen(c->pattern_unit) == suflen && strncmp(c->pattern_unit, suf, suflen) == 0)
		return 0;
	snprintf(why, whysize, "'%s%.*s' has unit '%.*s', not convertible to '%s'", num,
		 (int)(suf == end ? 0 : suflen), suf, (int)suflen, suf, c->pattern_unit);
	return -EINVAL;
}

/* The value of the pattern's last match in the output file path. */
static int extract(struct command *c, const char *path, double *value)
{
	const struct tb_host *h = c->h;
	FILE *f = fopen(path, "re");
	char *line = NULL, *last = NULL;
	size_t cap = 0;
	regoff_t lso = 0, leo = 0;
	unsigned long lineno = 0, lastno = 0;
	char why[256];
	int r;

	if (!f) {
		r = -errno;
		TB_LOG(h, TB_LOG_ERROR, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	while (getline(&line, &cap, f) >= 0) {
		regmatch_t m[2];
		regoff_t off = 0;
		int flags = 0;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		while (line[off] && regexec(&c->re, line + off, 2, m, flags) == 0) {
			if (m[1].rm_so >= 0) {
				free(last);
				last = strdup(line);
				if (!last)
					break;
				lso = off + m[1].rm_so;
				leo = off + m[1].rm_eo;
				lastno = lineno;
			}
			off += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
			flags = REG_NOTBOL;
		}
	}
	free(line);
	fclose(f);
	if (!last) {
		TB_LOG(h, TB_LOG_ERROR, "pattern for '%s' not found in the output (%s)",
		       c->pattern_name, path);
		tb_workload_log_tail(h, TB_LOG_ERROR, path, 5);
		return -ENOENT;
	}
	r = convert(c, last, lso, leo, value, why, sizeof(why));
	if (r < 0)
		TB_LOG(h, TB_LOG_ERROR, "%s:%lu: %s: %s", path, lastno, c->pattern_name, why);
	free(last);
	return r;
}

static void fini(void *state)
{
	struct command *c = state;

	if (!c)
		return;
	tb_workload_free(&c->w);
	free(c->pattern_name);
	free(c->pattern_unit);
	if (c->has_pattern)
		regfree(&c->re);
	free(c);
}

static int configure(struct command *c, const struct tb_config *cfg)
{
	const struct tb_host *h = c->h;
	const char *s;
	int r;

	r = tb_workload_configure(h, cfg, &c->w);
	if (r < 0)
		return r;

	c->values[0] = (struct tb_metric_value){ "jct", "s", TB_LOWER_IS_BETTER };
	if (h->get_string(h, cfg, "pattern", &s) != 0)
		return 0;
	r = regcomp(&c->re, s, REG_EXTENDED);
	if (r != 0) {
		char msg[256];

		regerror(r, &c->re, msg, sizeof(msg));
		return h->config_error(h, cfg, "pattern", "bad regular expression: %s", msg);
	}
	c->has_pattern = 1;
	if (c->re.re_nsub < 1)
		return h->config_error(h, cfg, "pattern", "needs a capture group ( ) around the number");
	c->pattern_name = strdup(h->get_string(h, cfg, "pattern_name", &s) == 0 ? s : "value");
	if (!c->pattern_name)
		return -ENOMEM;
	if (h->get_string(h, cfg, "pattern_unit", &s) == 0 && !(c->pattern_unit = strdup(s)))
		return -ENOMEM;
	c->values[1] = (struct tb_metric_value){ c->pattern_name,
		c->pattern_unit ? c->pattern_unit : "", TB_LOWER_IS_BETTER };
	if (h->get_string(h, cfg, "pattern_direction", &s) == 0) {
		if (strcmp(s, "higher") == 0)
			c->values[1].direction = TB_HIGHER_IS_BETTER;
		else if (strcmp(s, "lower") != 0)
			return h->config_error(h, cfg, "pattern_direction",
					       "must be \"lower\" or \"higher\", not \"%s\"", s);
	}
	if (strcmp(c->pattern_name, "jct") == 0)
		return h->config_error(h, cfg, "pattern_name", "\"jct\" is the wall time's name");
	return 0;
}

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct command *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->h = h;
	c->values[0] = (struct tb_metric_value){ "jct", "s", TB_LOWER_IS_BETTER };
	if (cfg) {
		r = configure(c, cfg);
		if (r < 0) {
			fini(c);
			return r;
		}
	}
	*state = c;
	return 0;
}

static size_t count(void *state)
{
	struct command *c = state;

	return c->has_pattern ? 2 : 1;
}

static const struct tb_metric_value *describe(void *state, size_t i)
{
	struct command *c = state;

	return i < count(c) ? &c->values[i] : NULL;
}

static int measure(void *state, struct tb_trial *trial, double *values)
{
	struct command *c = state;
	const struct tb_host *h = c->h;
	char path[4096];
	struct tb_workload_run run;
	int r, tmp = -1;

	if (!c->w.argv) {
		TB_LOG(h, TB_LOG_ERROR, "no command configured");
		return -EINVAL;
	}
	if (trial->workdir) {
		snprintf(path, sizeof(path), "%s/trial-%u.out", trial->workdir, trial->index);
	} else {
		/* No trial directory: keep the output only as long as it is read. */
		snprintf(path, sizeof(path), "%s/throttlebot-trial-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		tmp = mkstemp(path);
		if (tmp < 0) {
			r = -errno;
			TB_LOG(h, TB_LOG_ERROR, "cannot create %s: %s", path, strerror(-r));
			return r;
		}
		close(tmp);
	}
	run = (struct tb_workload_run){ c->w.argv, c->w.cwd, c->w.env, c->w.timeout, path };
	r = tb_workload_exec(h, &run, trial);
	if (r == 0) {
		values[0] = trial->end - trial->start;
		if (c->has_pattern)
			r = extract(c, path, &values[1]);
	}
	if (tmp >= 0)
		unlink(path);
	return r;
}

TB_PLUGIN_DEFINE(tb_metric) = {
	.header = { TB_ABI_CURRENT, TB_KIND_METRIC, "command",
		    "runs the workload command; its wall time, and a number from its output",
		    PACKAGE_VERSION, settings },
	.drives_workload = 1,
	.init = init,
	.fini = fini,
	.count = count,
	.describe = describe,
	.measure = measure,
};
