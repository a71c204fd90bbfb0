/* config.c - parse the run configuration with libconfig and check every key before anything runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "conf.h"
#include "log.h"
#include "settings.h"
#include "stress.h"

static const double default_levels[] = { 0.2, 0.4, 0.6, 0.8 };

/* The top level; plugin groups are checked against each plugin's own table later. */
static const struct tb_setting_spec top_keys[] = {
	{ "application", TB_SETTING_STRING, 0, "a name for the application, used in reports" },
	{ "output_dir", TB_SETTING_STRING, 0, "where reports are written" },
	{ "plugin_dir", TB_SETTING_STRING, 0, "a directory searched for plugins" },
	{ "orchestrator", TB_SETTING_GROUP, 1, "how services are found" },
	{ "throttlers", TB_SETTING_ANY, 1, "list of throttler groups" },
	{ "metrics", TB_SETTING_ANY, 1, "list of metric groups; the first is primary" },
	{ "strategy", TB_SETTING_GROUP, 0, "the search strategy" },
	{ "stress_levels", TB_SETTING_NUMBERS, 0, "fractions of capacity taken away" },
	{ "trials", TB_SETTING_INT, 0, "trials per (service, throttler, level)" },
	{ "baseline_trials", TB_SETTING_INT, 0, "untouched trials before the search" },
	{ "significance", TB_SETTING_NUMBER, 0, "the test's significance level" },
	{ "min_effect", TB_SETTING_NUMBER, 0, "smallest relative degradation that makes an IMR" },
	{ "trial_seconds", TB_SETTING_NUMBER, 0, "estimated duration of one trial, for plan" },
	{ "exclude", TB_SETTING_GROUP, 0, "services, resources, nodes, pairs left alone" },
	{ "warmup_trials", TB_SETTING_INT, 0, "untouched runs before the first baseline, never ranked" },
	{ "seed", TB_SETTING_INT, 0, "of the randomized schedule (default: drawn at start)" },
	{ "max_extra_trials", TB_SETTING_INT, 0,
	  "most trials added where a verdict is undecided (default: half the schedule)" },
	{ "report_top", TB_SETTING_INT, 0, "services shown in full in the table and HTML" },
	{ "boost", TB_SETTING_BOOL, 0, "after the search, give pairs more and measure the gain" },
	{ "boost_factor", TB_SETTING_NUMBER, 0, "a boosted limit is the old one times this (1.5)" },
	{ "boost_priority", TB_SETTING_NUMBER, 0,
	  "without a limit or headroom, the share where it contends times this (10)" },
	{ "boost_trials", TB_SETTING_INT, 0, "boosted trials per pair, each with a baseline" },
	{ "boost_pairs", TB_SETTING_STRING, 0, "\"imr\": the IMRs; \"all\": then the other pairs" },
	{ "boost_max_pairs", TB_SETTING_INT, 0, "most pairs boosted, IMRs first (10)" },
	{ "clampdown_step", TB_SETTING_NUMBER, 0, "clampdown: the fraction each cut takes (default 0.2)" },
	{ "clampdown_floor", TB_SETTING_NUMBER, 0,
	  "clampdown: never below this fraction of the starting allocation (default 0.25)" },
	{ "allocations", TB_SETTING_ANY, 0,
	  "improve: the starting allocations, ( { service; resource; amount; } )" },
	{ "agents", TB_SETTING_ANY, 0, "nodes whose throttles go to their agent: { node; url; ... }" },
	{ NULL, 0, 0, NULL },
};

static const struct tb_setting_spec exclude_keys[] = {
	{ "services", TB_SETTING_STRINGS, 0, "service names or glob patterns" },
	{ "resources", TB_SETTING_STRINGS, 0, "resources: cpu, disk, net, ..." },
	{ "throttlers", TB_SETTING_STRINGS, 0, "throttler instance names" },
	{ "nodes", TB_SETTING_STRINGS, 0, "machines whose targets are left alone" },
	{ "pairs", TB_SETTING_STRINGS, 0, "\"service:resource\" pairs" },
	{ NULL, 0, 0, NULL },
};

/* The file being read: libconfig names included files, not the one it was
 * handed as a stream (see tb_conf_load). */
static const char *main_file;

int tb_conf_error(const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	const char *file = s ? config_setting_source_file(s) : NULL;

	if (!file)
		file = main_file;
	fprintf(stderr, "%s:%u: ", file ? file : "(config)",
		s ? config_setting_source_line(s) : 0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int get_plugin_ref(config_setting_t *group, struct tb_plugin_ref *ref)
{
	config_setting_t *p;

	if (!config_setting_is_group(group))
		return tb_conf_error(group, "expected a group { plugin = \"...\"; ... }");
	p = config_setting_get_member(group, "plugin");
	if (!p)
		return tb_conf_error(group, "missing key 'plugin'");
	if (config_setting_type(p) != CONFIG_TYPE_STRING)
		return tb_conf_error(p, "'plugin' must be a string");
	ref->plugin = config_setting_get_string(p);
	ref->name = ref->plugin;
	p = config_setting_get_member(group, "name");
	if (p) {
		if (config_setting_type(p) != CONFIG_TYPE_STRING)
			return tb_conf_error(p, "'name' must be a string");
		ref->name = config_setting_get_string(p);
	}
	ref->group = group;
	return 0;
}

int tb_conf_plugin_list(config_setting_t *root, const char *key, struct tb_plugin_ref *refs,
			size_t *n)
{
	config_setting_t *list = config_setting_get_member(root, key);
	int count, i, r;

	if (config_setting_is_group(list)) {      /* one plugin given bare */
		*n = 1;
		return get_plugin_ref(list, &refs[0]);
	}
	if (!config_setting_is_list(list))
		return tb_conf_error(list, "'%s' must be a list of groups ( { plugin = \"...\"; } )", key);
	count = config_setting_length(list);
	if (count == 0)
		return tb_conf_error(list, "'%s' is empty", key);
	if (count > TB_MAX_PLUGINS)
		return tb_conf_error(list, "'%s' has more than %d entries", key, TB_MAX_PLUGINS);
	for (i = 0; i < count; i++) {
		r = get_plugin_ref(config_setting_get_elem(list, i), &refs[i]);
		if (r < 0)
			return r;
		for (int j = 0; j < i; j++)
			if (!strcmp(refs[j].name, refs[i].name))
				return tb_conf_error(refs[i].group,
					"two %s are named '%s': give one a distinct 'name'", key, refs[i].name);
	}
	*n = (size_t)count;
	return 0;
}

static int get_levels(struct tb_conf *c, config_setting_t *root)
{
	config_setting_t *s = config_setting_get_member(root, "stress_levels");
	int i, n;

	if (!s) {
		memcpy(c->levels, default_levels, sizeof(default_levels));
		c->nlevels = sizeof(default_levels) / sizeof(*default_levels);
		return 0;
	}
	n = config_setting_length(s);
	if (n == 0 || n > TB_MAX_LEVELS)
		return tb_conf_error(s, "stress_levels needs 1 to %d levels", TB_MAX_LEVELS);
	for (i = 0; i < n; i++) {
		double v = config_setting_get_float_elem(s, i);

		if (config_setting_type(config_setting_get_elem(s, i)) == CONFIG_TYPE_INT)
			v = config_setting_get_int_elem(s, i);
		if (!tb_stress_level_valid(v))
			return tb_conf_error(s, "stress level %g is out of range: each %s", v,
					     TB_STRESS_LEVEL_RULE);
		if (i > 0 && v <= c->levels[i - 1])
			return tb_conf_error(s, "stress_levels must be strictly ascending (%g after %g)",
					     v, c->levels[i - 1]);
		c->levels[i] = v;
	}
	c->nlevels = (size_t)n;
	return 0;
}

static int get_uint(config_setting_t *root, const char *key, unsigned lo, unsigned hi,
		    unsigned *out)
{
	config_setting_t *s = config_setting_get_member(root, key);
	long long v;

	if (!s)
		return 0;
	v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return tb_conf_error(s, "'%s' = %lld is out of range (%u to %u)", key, v, lo, hi);
	*out = (unsigned)v;
	return 0;
}

/* A seed given in the configuration repeats a schedule; else one is drawn. */
static int get_seed(struct tb_conf *c, config_setting_t *root)
{
	config_setting_t *s = config_setting_get_member(root, "seed");
	struct timespec now;

	if (s) {
		long long v = config_setting_get_int64(s);

		if (v < 0)
			return tb_conf_error(s, "seed must be 0 or more, not %lld", v);
		c->seed = (uint64_t)v;
		c->seed_given = 1;
		return 0;
	}
	if (getrandom(&c->seed, sizeof(c->seed), GRND_NONBLOCK) != sizeof(c->seed)) {
		clock_gettime(CLOCK_REALTIME, &now);
		c->seed = (uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec << 20 ^ (uint64_t)getpid();
	}
	/* Kept to 53 bits, so report.json (a JSON number) holds it exactly. */
	c->seed &= (1ull << 53) - 1;
	return 0;
}

double tb_conf_double(config_setting_t *root, const char *key, double dflt)
{
	config_setting_t *s = config_setting_get_member(root, key);

	if (!s)
		return dflt;
	return config_setting_type(s) == CONFIG_TYPE_INT ? config_setting_get_int64(s)
							  : config_setting_get_float(s);
}

const char *tb_conf_string(config_setting_t *root, const char *key, const char *dflt)
{
	config_setting_t *s = config_setting_get_member(root, key);

	return s ? config_setting_get_string(s) : dflt;
}

static int get_boost(struct tb_conf *c, config_setting_t *root)
{
	config_setting_t *s = config_setting_get_member(root, "boost");
	const char *pairs = tb_conf_string(root, "boost_pairs", "all");
	int r;

	c->boost = s && config_setting_get_bool(s);
	c->boost_factor = tb_conf_double(root, "boost_factor", 1.5);
	if (!(c->boost_factor > 1 && c->boost_factor <= 100))
		return tb_conf_error(config_setting_get_member(root, "boost_factor"),
				     "boost_factor %g is out of range (1 < f <= 100)", c->boost_factor);
	c->boost_priority = tb_conf_double(root, "boost_priority", 10);
	if (!(c->boost_priority > 1 && c->boost_priority <= 10000))
		return tb_conf_error(config_setting_get_member(root, "boost_priority"),
				     "boost_priority %g is out of range (1 < f <= 10000)",
				     c->boost_priority);
	if (strcmp(pairs, "all") && strcmp(pairs, "imr"))
		return tb_conf_error(config_setting_get_member(root, "boost_pairs"),
				     "boost_pairs must be \"imr\" or \"all\", not \"%s\"", pairs);
	c->boost_all = !strcmp(pairs, "all");
	c->boost_max_pairs = 10;
	if ((r = get_uint(root, "boost_trials", 2, 1000, &c->boost_trials)) < 0 ||
	    (r = get_uint(root, "boost_max_pairs", 1, 100000, &c->boost_max_pairs)) < 0)
		return r;
	return 0;
}

static int check_structure(struct tb_conf *c, config_setting_t *root)
{
	int r;

	r = tb_settings_check(root, top_keys, NULL);
	if (r < 0)
		return r;
	c->exclude = config_setting_get_member(root, "exclude");
	if (c->exclude && (r = tb_settings_check(c->exclude, exclude_keys, NULL)) < 0)
		return r;
	r = get_plugin_ref(config_setting_get_member(root, "orchestrator"), &c->orchestrator);
	if (r < 0)
		return r;
	r = tb_conf_plugin_list(root, "throttlers", c->throttlers, &c->nthrottlers);
	if (r < 0)
		return r;
	r = tb_conf_plugin_list(root, "metrics", c->metrics, &c->nmetrics);
	if (r < 0)
		return r;
	if (config_setting_get_member(root, "strategy")) {
		r = get_plugin_ref(config_setting_get_member(root, "strategy"), &c->strategy);
		if (r < 0)
			return r;
	} else {
		c->strategy.plugin = c->strategy.name = "exhaustive";
	}
	r = get_levels(c, root);
	if (r < 0)
		return r;
	r = tb_agents_parse(root, &c->agents);
	if (r < 0)
		return r;
	c->trials = 3;
	c->baseline_trials = 5;
	c->warmup_trials = 1;
	c->report_top = 10;
	if ((r = get_uint(root, "trials", 1, 1000, &c->trials)) < 0 ||
	    (r = get_uint(root, "baseline_trials", 2, 1000, &c->baseline_trials)) < 0 ||
	    (r = get_uint(root, "warmup_trials", 0, 1000, &c->warmup_trials)) < 0 ||
	    (r = get_uint(root, "report_top", 1, 100000, &c->report_top)) < 0)
		return r;
	r = get_seed(c, root);
	if (r < 0)
		return r;
	c->max_extra_trials = -1;
	if (config_setting_get_member(root, "max_extra_trials")) {
		unsigned extra = 0;

		if ((r = get_uint(root, "max_extra_trials", 0, 10000000, &extra)) < 0)
			return r;
		c->max_extra_trials = extra;
	}
	r = get_boost(c, root);
	if (r < 0)
		return r;
	c->alpha = tb_conf_double(root, "significance", 0.05);
	if (!(c->alpha > 0 && c->alpha < 0.5))
		return tb_conf_error(config_setting_get_member(root, "significance"),
				     "significance %g is out of range (0 < a < 0.5)", c->alpha);
	c->min_effect = tb_conf_double(root, "min_effect", 0.05);
	if (!(c->min_effect >= 0 && c->min_effect < 10))
		return tb_conf_error(config_setting_get_member(root, "min_effect"),
				     "min_effect %g is out of range (0 <= e < 10)", c->min_effect);
	c->trial_seconds = tb_conf_double(root, "trial_seconds", 10.0);
	/* Bounded, as it is multiplied and converted to whole seconds. */
	if (!(c->trial_seconds > 0 && c->trial_seconds <= TB_TRIAL_SECONDS_MAX))
		return tb_conf_error(config_setting_get_member(root, "trial_seconds"),
				     "trial_seconds must be positive and at most %g",
				     TB_TRIAL_SECONDS_MAX);
	c->application = tb_conf_string(root, "application", "application");
	c->output_dir = tb_conf_string(root, "output_dir", "throttlebot-out");
	c->plugin_dir = tb_conf_string(root, "plugin_dir", NULL);
	return 0;
}

/*
 * Parse the open file f.  A relative @include names a file beside the
 * configuration, not in the working directory: libconfig 1.5 resolves it
 * against the working directory (and its include_dir setting would break
 * absolute ones), so the configuration's directory is made the working
 * directory while libconfig reads.
 */
static int parse_beside(struct tb_conf *c, FILE *f)
{
	char *copy = strdup(c->path);
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (!copy || cwd < 0 || chdir(dirname(copy)) < 0)
		r = -errno;
	else if (!config_read(&c->cfg, f))
		r = -EINVAL;
	if (cwd >= 0 && fchdir(cwd) < 0 && r == 0)
		r = -errno;
	if (cwd >= 0)
		close(cwd);
	free(copy);
	if (r == -EINVAL)
		fprintf(stderr, "%s:%d: %s\n",
			config_error_file(&c->cfg) ? config_error_file(&c->cfg) : c->path,
			config_error_line(&c->cfg), config_error_text(&c->cfg));
	else if (r < 0)
		fprintf(stderr, "%s: cannot read the configuration: %s\n", c->path, strerror(-r));
	return r;
}

int tb_conf_load(struct tb_conf *c, const char *path)
{
	struct stat st;
	FILE *f;
	int r;

	memset(c, 0, sizeof(*c));
	config_init(&c->cfg);
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	main_file = c->path;
	f = fopen(path, "re");
	if (!f || fstat(fileno(f), &st) < 0) {
		r = -errno;
		fprintf(stderr, "%s: cannot read the configuration: %s\n", path, strerror(-r));
		if (f)
			fclose(f);
		return r;
	}
	/* libconfig's time grows with the square of a long string's length. */
	if (!S_ISREG(st.st_mode) || st.st_size > TB_CONF_MAX_BYTES) {
		if (S_ISREG(st.st_mode))
			fprintf(stderr, "%s: refused: %lld bytes, more than a configuration may have "
				"(%d)\n", path, (long long)st.st_size, TB_CONF_MAX_BYTES);
		else
			fprintf(stderr, "%s: refused: not a regular file\n", path);
		fclose(f);
		return -EINVAL;
	}
	r = parse_beside(c, f);
	fclose(f);
	return r < 0 ? r : check_structure(c, config_root_setting(&c->cfg));
}

void tb_conf_free(struct tb_conf *c)
{
	if (main_file == c->path)
		main_file = NULL;
	config_destroy(&c->cfg);
	free(c->path);
	c->path = NULL;
}

int tb_conf_excluded(const struct tb_conf *c, const char *key, const char *value)
{
	config_setting_t *list = c->exclude ? config_setting_get_member(c->exclude, key) : NULL;
	int i, n = list ? config_setting_length(list) : 0;

	for (i = 0; i < n; i++) {
		const char *pattern = config_setting_get_string_elem(list, i);

		if (pattern && fnmatch(pattern, value, 0) == 0)
			return 1;
	}
	return 0;
}
