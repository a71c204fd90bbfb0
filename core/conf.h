/* config.h - the run configuration, parsed and checked from a libconfig file. */
#ifndef TB_CONF_H
#define TB_CONF_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>
#include "agents.h"

#define TB_MAX_PLUGINS 16
#define TB_MAX_LEVELS 32
#define TB_CONF_MAX_BYTES (1024 * 1024)  /* a configuration file's size */
#define TB_TRIAL_SECONDS_MAX 1e6

/* A plugin group of the configuration: { plugin = "name"; ...settings }. */
struct tb_plugin_ref {
	const char *plugin;        /* the plugin's name */
	const char *name;          /* the instance's name (defaults to plugin) */
	config_setting_t *group;
};

struct tb_conf {
	config_t cfg;
	char *path;
	const char *application;
	const char *output_dir;
	const char *plugin_dir;
	struct tb_plugin_ref orchestrator;
	struct tb_plugin_ref throttlers[TB_MAX_PLUGINS];
	size_t nthrottlers;
	struct tb_plugin_ref metrics[TB_MAX_PLUGINS];
	size_t nmetrics;
	struct tb_plugin_ref strategy;
	double levels[TB_MAX_LEVELS];
	size_t nlevels;
	unsigned trials;
	unsigned baseline_trials;
	double alpha;                   /* significance level */
	double min_effect;              /* smallest degradation that counts */
	double trial_seconds;           /* an estimate, for plan */
	unsigned warmup_trials;         /* untouched runs first, never ranked */
	uint64_t seed;                  /* of the randomized schedule */
	int seed_given;
	long max_extra_trials;          /* -1: half the schedule */
	unsigned report_top;            /* services shown in full */
	/* The boost phase (boost.c): give pairs more and measure the gain. */
	int boost;                      /* run it after the search */
	double boost_factor;            /* a limit of its own x this */
	double boost_priority;          /* else its share where it contends x this */
	unsigned boost_trials;          /* pairs of trials per boosted pair; 0: chosen */
	int boost_all;                  /* boost_pairs = "all": IMRs, then the other pairs */
	unsigned boost_max_pairs;       /* most pairs boosted */
	config_setting_t *exclude;      /* services, resources, nodes, pairs */
	struct tb_agents agents;        /* nodes throttled through their agent */
};

/* Parse and check path; errors are printed as file:line.  0 or -EINVAL/-errno. */
int tb_conf_load(struct tb_conf *c, const char *path);
void tb_conf_free(struct tb_conf *c);

/* Print "file:line: message" for setting s and return -EINVAL. */
int tb_conf_error(const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The list of plugin groups under key (or one bare group), at most
 * TB_MAX_PLUGINS, names distinct.  Errors as file:line. */
int tb_conf_plugin_list(config_setting_t *root, const char *key, struct tb_plugin_ref *refs,
			size_t *n);

/* A checked member's value, or dflt when it is absent. */
double tb_conf_double(config_setting_t *root, const char *key, double dflt);
const char *tb_conf_string(config_setting_t *root, const char *key, const char *dflt);

/* Is value listed in the exclude group's list key (or does a pattern match)? */
int tb_conf_excluded(const struct tb_conf *c, const char *key, const char *value);

#endif
