/* manifest.c - run.json: which configuration, seed and services a run's output directory belongs to. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "manifest.h"
#include "outdir.h"
#include "report_render.h"

#define FORMAT "throttlebot-run"
#define FORMAT_VERSION 1
#define MANIFEST_MAX_BYTES (16 * 1024 * 1024)

/* Top-level keys that change nothing measured: where reports go, how many
 * services they show, plan's estimate; the seed is compared on its own. */
static int inert_key(const char *name)
{
	static const char *const inert[] = { "output_dir", "seed", "report_top", "trial_seconds" };

	for (size_t i = 0; i < sizeof(inert) / sizeof(*inert); i++)
		if (!strcmp(name, inert[i]))
			return 1;
	return 0;
}

static json_t *setting_json(const config_setting_t *s, int top)
{
	json_t *o;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return json_integer(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_real(config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return json_boolean(config_setting_get_bool(s));
	case CONFIG_TYPE_STRING:
		return json_string_nocheck(config_setting_get_string(s));
	case CONFIG_TYPE_GROUP:
		o = json_object();
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);

			if (!(top && inert_key(config_setting_name(m))))
				json_object_set_new_nocheck(o, config_setting_name(m), setting_json(m, 0));
		}
		return o;
	default:        /* lists and arrays: their order counts */
		o = json_array();
		for (int i = 0; i < config_setting_length(s); i++)
			json_array_append_new(o, setting_json(config_setting_get_elem(s, (unsigned)i), 0));
		return o;
	}
}

json_t *tb_manifest_effective_config(const struct tb_conf *c)
{
	return setting_json(config_root_setting(&c->cfg), 1);
}

/* FNV-1a, 64 bits, of the canonical text (keys sorted): it tells two
 * configurations apart; it is no defence against a forger, the directory's
 * owner and mode checks are. */
int tb_manifest_hash(const json_t *effective, char *out, size_t len)
{
	char *text = json_dumps(effective, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	uint64_t h = 0xcbf29ce484222325ull;

	if (!text)
		return -ENOMEM;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	free(text);
	snprintf(out, len, "fnv1a64:%016" PRIx64, h);
	return 0;
}

int tb_manifest_write(const struct tb_run *run, double started, int finished)
{
	struct tb_report_file rf;
	json_t *m, *services = json_array(), *effective = tb_manifest_effective_config(run->conf);
	char path[4096], hash[32], *config = realpath(run->conf->path, NULL);
	int r;

	for (size_t i = 0; i < run->inv.nservices; i++)
		json_array_append_new(services, json_string(run->inv.services[i].name));
	r = tb_manifest_hash(effective, hash, sizeof(hash));
	m = json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:I, s:s, s:o, s:f, s:b}",
		      "format", FORMAT, "format_version", FORMAT_VERSION, "throttlebot", PACKAGE_VERSION,
		      "config", config ? config : run->conf->path, "config_hash", hash,
		      "effective_config", effective, "seed", (json_int_t)run->conf->seed,
		      "strategy", run->strategy.name, "services", services, "started", started,
		      "finished", finished);
	free(config);
	if (r < 0 || !m) {
		json_decref(m);
		return r < 0 ? r : -ENOMEM;
	}
	json_object_set_new(m, "resumed_at_trial", run->resumed_at ? json_integer(run->resumed_at)
								   : json_null());
	snprintf(path, sizeof(path), "%s/run.json", run->conf->output_dir);
	r = tb_report_file_open(&rf, path);
	if (r == 0 && json_dumpf(m, rf.f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) < 0) {
		tb_report_file_abort(&rf);
		r = -EIO;
	} else if (r == 0) {
		r = tb_report_file_commit(&rf);
	}
	json_decref(m);
	return r;
}

int tb_manifest_load(const char *dir, json_t **out)
{
	struct stat st;
	json_error_t err;
	json_t *m;
	int fd;

	*out = NULL;
	if (tb_outdir_check(dir) < 0)
		return -EPERM;
	fd = tb_outdir_open_file(dir, "run.json", O_RDONLY);
	if (fd == -ENOENT)
		tb_error("%s: not the output directory of a throttlebot run (no run.json): nothing to "
			 "resume", dir);
	if (fd < 0)
		return fd == -ENOENT ? -EINVAL : fd;
	if (fstat(fd, &st) < 0 || st.st_size > MANIFEST_MAX_BYTES) {
		tb_error("%s/run.json: refused: larger than %d bytes", dir, MANIFEST_MAX_BYTES);
		close(fd);
		return -EFBIG;
	}
	m = json_loadfd(fd, JSON_REJECT_DUPLICATES, &err);
	close(fd);
	if (!m || !json_is_object(m) || json_integer_value(json_object_get(m, "format_version")) !=
	    FORMAT_VERSION || !json_is_string(json_object_get(m, "format")) ||
	    strcmp(json_string_value(json_object_get(m, "format")), FORMAT) ||
	    !json_is_string(json_object_get(m, "config")) ||
	    !json_is_string(json_object_get(m, "config_hash")) ||
	    !json_is_object(json_object_get(m, "effective_config")) ||
	    !json_is_integer(json_object_get(m, "seed")) || json_integer_value(json_object_get(m, "seed")) < 0 ||
	    !json_is_array(json_object_get(m, "services")) ||
	    !json_is_number(json_object_get(m, "started")) ||
	    !json_is_boolean(json_object_get(m, "finished"))) {
		tb_error("%s/run.json: not a run description this throttlebot can read%s%s", dir,
			 m ? "" : ": ", m ? "" : err.text);
		json_decref(m);
		return -EINVAL;
	}
	*out = m;
	return 0;
}

const char *tb_manifest_config(const json_t *m)
{
	return json_string_value(json_object_get(m, "config"));
}

double tb_manifest_started(const json_t *m)
{
	return json_number_value(json_object_get(m, "started"));
}

int tb_manifest_finished(const json_t *m)
{
	return json_is_true(json_object_get(m, "finished"));
}

/* Name the first top-level key where two effective configurations differ. */
static const char *first_difference(const json_t *was, const json_t *now)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)was, key, v)
		if (!json_equal(v, json_object_get(now, key)))
			return key;
	json_object_foreach((json_t *)now, key, v)
		if (!json_object_get(was, key))
			return key;
	return "(none)";
}

int tb_manifest_match_conf(const json_t *m, const char *dir, struct tb_conf *c)
{
	uint64_t seed = (uint64_t)json_integer_value(json_object_get(m, "seed"));
	json_t *was = json_object_get(m, "effective_config"), *now = tb_manifest_effective_config(c);
	char hash[32];
	int r = tb_manifest_hash(now, hash, sizeof(hash));

	if (r == 0 && strcmp(hash, json_string_value(json_object_get(m, "config_hash")))) {
		tb_error("%s was run with another configuration than %s (config hash %s, now %s; "
			 "'%s' differs): refused, its trials would not belong to this run", dir, c->path,
			 json_string_value(json_object_get(m, "config_hash")), hash,
			 first_difference(was, now));
		r = -EINVAL;
	} else if (r == 0 && c->seed_given && c->seed != seed) {
		tb_error("%s was run with seed %" PRIu64 ", %s sets seed %" PRIu64 ": refused, the "
			 "schedule would not be the same", dir, seed, c->path, c->seed);
		r = -EINVAL;
	}
	json_decref(now);
	c->seed = seed;         /* a drawn seed is the earlier run's */
	c->seed_given = 1;
	return r;
}

int tb_manifest_match_services(const json_t *m, const char *dir, const struct tb_run *run)
{
	const json_t *was = json_object_get(m, "services");
	size_t n = json_array_size(was);

	for (size_t i = 0; i < n || i < run->inv.nservices; i++) {
		const char *old = i < n ? json_string_value(json_array_get(was, i)) : NULL;
		const char *now = i < run->inv.nservices ? run->inv.services[i].name : NULL;

		if (old && now && !strcmp(old, now))
			continue;
		tb_error("%s: the services found differ from the earlier run's (service %zu was '%s', "
			 "is now '%s'): refused, its trials name services by their place in the "
			 "schedule", dir, i + 1, old ? old : "(none)", now ? now : "(none)");
		return -EINVAL;
	}
	return 0;
}
