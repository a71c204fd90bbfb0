/* jmeter.c - metric plugin: run a JMeter plan (or any load generator writing a JTL) and summarise its samples. */
#define _GNU_SOURCE
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <throttlebot/plugin.h>
#include "jtl.h"
#include "program.h"
#include "workload.h"
#include "strlist.h"


static const struct tb_setting_spec settings[] = {
	{ "command", TB_SETTING_STRINGS, 1, "the load generator's argv; @JTL@ is the result file, @WORKDIR@ the trial's directory" },
	{ "jtl", TB_SETTING_STRING, 0, "a fixed result file the command writes, instead of @JTL@" },
	{ "timeout", TB_SETTING_NUMBER, 0, "seconds before the run is killed and the trial fails (600)" },
	{ "cwd", TB_SETTING_STRING, 0, "directory the command runs in" },
	{ "env", TB_SETTING_STRINGS, 0, "\"K=V\" strings added to the command's environment" },
	{ "label", TB_SETTING_STRING, 0, "extended regex: count only samples whose label matches" },
	{ "values", TB_SETTING_STRINGS, 0, "which of mean, median, p90, p95, p99, throughput, error_rate to report (all)" },
	{ NULL, 0, 0, NULL },
};

enum value { V_MEAN, V_MEDIAN, V_P90, V_P95, V_P99, V_THROUGHPUT, V_ERROR_RATE, V_COUNT };

static const struct tb_metric_value all_values[V_COUNT] = {
	{ "mean", "ms", TB_LOWER_IS_BETTER },
	{ "median", "ms", TB_LOWER_IS_BETTER },
	{ "p90", "ms", TB_LOWER_IS_BETTER },
	{ "p95", "ms", TB_LOWER_IS_BETTER },
	{ "p99", "ms", TB_LOWER_IS_BETTER },
	{ "throughput", "samples/s", TB_HIGHER_IS_BETTER },
	{ "error_rate", "fraction", TB_LOWER_IS_BETTER },
};

struct jmeter {
	const struct tb_host *h;
	struct tb_workload w;     /* argv with @JTL@ and @WORKDIR@ still in */
	char *jtl;
	int has_label;
	regex_t label;
	size_t nvalues;
	enum value values[V_COUNT];
};

static void fini(void *state)
{
	struct jmeter *j = state;

	if (!j)
		return;
	tb_workload_free(&j->w);
	free(j->jtl);
	if (j->has_label)
		regfree(&j->label);
	free(j);
}

static int mentions(char **argv, const char *word)
{
	for (size_t i = 0; argv[i]; i++)
		if (strstr(argv[i], word))
			return 1;
	return 0;
}

static int configure(struct jmeter *j, const struct tb_config *cfg)
{
	const struct tb_host *h = j->h;
	char **names = NULL;
	const char *s;
	int r;

	r = tb_workload_configure(h, cfg, &j->w);
	if (r < 0)
		return r;
	if (h->get_string(h, cfg, "jtl", &s) == 0) {
		if (!*s)
			return h->config_error(h, cfg, "jtl", "must be a file name");
		if (!(j->jtl = strdup(s)))
			return -ENOMEM;
	} else if (!mentions(j->w.argv, "@JTL@")) {
		return h->config_error(h, cfg, "command",
				       "must write its results to @JTL@ (\"-l\", \"@JTL@\"), or set jtl");
	}
	if (h->get_string(h, cfg, "label", &s) == 0) {
		r = regcomp(&j->label, s, REG_EXTENDED | REG_NOSUB);
		if (r != 0) {
			char msg[256];

			regerror(r, &j->label, msg, sizeof(msg));
			return h->config_error(h, cfg, "label", "bad regular expression: %s", msg);
		}
		j->has_label = 1;
	}

	r = tb_strlist_get(h, cfg, "values", &names);
	if (r == -ENOENT) {
		for (int v = 0; v < V_COUNT; v++)
			j->values[j->nvalues++] = (enum value)v;
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; names[i]; i++) {
		int v, dup = 0;

		for (v = 0; v < V_COUNT && strcmp(names[i], all_values[v].name) != 0; v++)
			;
		for (size_t k = 0; k < j->nvalues; k++)
			dup |= (int)j->values[k] == v;
		if (v == V_COUNT || dup) {
			r = h->config_error(h, cfg, "values", v == V_COUNT ?
					    "unknown value \"%s\" (mean, median, p90, p95, p99, "
					    "throughput, error_rate)" : "\"%s\" is named twice", names[i]);
			break;
		}
		j->values[j->nvalues++] = (enum value)v;
	}
	if (r == 0 && j->nvalues == 0)
		r = h->config_error(h, cfg, "values", "names no value");
	tb_strlist_free(names);
	return r;
}

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct jmeter *j = calloc(1, sizeof(*j));
	int r;

	if (!j)
		return -ENOMEM;
	j->h = h;
	if (cfg) {
		r = configure(j, cfg);
		if (r < 0) {
			fini(j);
			return r;
		}
	}
	*state = j;
	return 0;
}

static size_t count(void *state)
{
	struct jmeter *j = state;

	return j->nvalues;
}

static const struct tb_metric_value *describe(void *state, size_t i)
{
	struct jmeter *j = state;

	return i < j->nvalues ? &all_values[j->values[i]] : NULL;
}

/* s with every @JTL@ and @WORKDIR@ replaced; malloc'd. */
static char *expand(const char *s, const char *jtl, const char *workdir)
{
	size_t cap = strlen(s) + 1, len = 0;
	char *out = malloc(cap);

	while (out && *s) {
		const char *with = NULL;
		size_t skip = 1, n;

		if (strncmp(s, "@JTL@", 5) == 0) {
			with = jtl;
			skip = 5;
		} else if (strncmp(s, "@WORKDIR@", 9) == 0) {
			with = workdir;
			skip = 9;
		}
		n = with ? strlen(with) : 1;
		if (len + n + 1 > cap) {
			char *p = realloc(out, cap = (len + n + 1) * 2);

			if (!p) {
				free(out);
				return NULL;
			}
			out = p;
		}
		memcpy(out + len, with ? with : s, n);
		len += n;
		s += skip;
	}
	if (out)
		out[len] = '\0';
	return out;
}

static int measure(void *state, struct tb_trial *trial, double *values)
{
	struct jmeter *j = state;
	const struct tb_host *h = j->h;
	const char *workdir = trial->workdir ? trial->workdir : ".";
	char jtl[4096], out[4096], err[1024];
	struct jtl_stats st;
	struct tb_workload_run run;
	char **argv;
	size_t n = 0;
	int r;

	if (!j->w.argv) {
		TB_LOG(h, TB_LOG_ERROR, "no command configured");
		return -EINVAL;
	}
	if (j->jtl)
		snprintf(jtl, sizeof(jtl), "%s", j->jtl);
	else
		snprintf(jtl, sizeof(jtl), "%s/trial-%u.jtl", workdir, trial->index);
	snprintf(out, sizeof(out), "%s/trial-%u.out", workdir, trial->index);
	while (j->w.argv[n])
		n++;
	argv = calloc(n + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(argv[i] = expand(j->w.argv[i], jtl, workdir))) {
			tb_strlist_free(argv);
			return -ENOMEM;
		}
	/* JMeter appends to an existing result file: start each trial afresh. */
	if (unlink(jtl) < 0 && errno != ENOENT) {
		r = -errno;
		TB_LOG(h, TB_LOG_ERROR, "cannot remove the previous %s: %s", jtl, strerror(-r));
		tb_strlist_free(argv);
		return r;
	}
	run = (struct tb_workload_run){ argv, j->w.cwd, j->w.env, j->w.timeout, out };
	r = tb_workload_exec(h, &run, trial);
	tb_strlist_free(argv);
	if (r < 0)
		return r;
	r = jtl_read(jtl, j->has_label ? &j->label : NULL, &st, err, sizeof(err));
	if (r == -ENOENT) {
		TB_LOG(h, TB_LOG_ERROR, "%s: %s wrote no results there (is it given @JTL@?)", jtl,
		       j->w.argv[0]);
		tb_workload_log_tail(h, TB_LOG_ERROR, out, 5);
		return r;
	}
	if (r < 0) {
		TB_LOG(h, TB_LOG_ERROR, "%s", err);
		return r;
	}
	for (size_t i = 0; i < j->nvalues; i++) {
		switch (j->values[i]) {
		case V_MEAN: values[i] = jtl_mean(&st); break;
		case V_MEDIAN: values[i] = jtl_percentile(&st, 50); break;
		case V_P90: values[i] = jtl_percentile(&st, 90); break;
		case V_P95: values[i] = jtl_percentile(&st, 95); break;
		case V_P99: values[i] = jtl_percentile(&st, 99); break;
		case V_THROUGHPUT: values[i] = jtl_throughput(&st); break;
		case V_ERROR_RATE: values[i] = jtl_error_rate(&st); break;
		case V_COUNT: break;
		}
	}
	TB_LOG(h, TB_LOG_DEBUG, "%s: %llu samples, %llu errors", jtl, st.samples, st.errors);
	jtl_stats_free(&st);
	return 0;
}

TB_PLUGIN_DEFINE(tb_metric) = {
	.header = { TB_ABI_CURRENT, TB_KIND_METRIC, "jmeter",
		    "runs a JMeter plan; latency percentiles, throughput and error rate from its JTL",
		    PACKAGE_VERSION, settings },
	.drives_workload = 1,
	.init = init,
	.fini = fini,
	.count = count,
	.describe = describe,
	.measure = measure,
};
