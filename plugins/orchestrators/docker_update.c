/* docker_update.c - throttle a container through its engine's own API (POST /containers/ID/update), for a node without an agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cgroup_file.h"
#include "docker.h"
#include "docker_api.h"
#include "docker_record.h"
#include "stress.h"

#define NANO_MIN (DK_NANO_PER_CPU / 100)   /* the Engine's least: 0.01 CPU */

static long long int_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static const char *string_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* The container's HostConfig (a reference into *root, which the caller frees). */
static int host_config(struct docker *d, struct dk_client *cli, const char *id, json_t **root,
		       const json_t **hc)
{
	char path[128], err[1024];
	int r;

	snprintf(path, sizeof(path), "/containers/%s/json", id);
	r = dk_get(cli, path, root, err, sizeof(err));
	if (r < 0) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
		return r;
	}
	*hc = json_object_get(*root, "HostConfig");
	if (!json_is_object(*hc)) {
		TB_LOG(d->h, TB_LOG_ERROR, "container %.12s at %s: no HostConfig in its inspect answer",
		       id, dk_client_display(cli));
		return -EPROTO;
	}
	return 0;
}

/* The engine's CPUs (GET /info NCPU): what a container without a cpuset may use. */
static int engine_cpus(struct docker *d, struct dk_client *cli, int *ncpu)
{
	char err[1024];
	json_t *info;
	long long n;
	int r = dk_get(cli, "/info", &info, err, sizeof(err));

	if (r < 0) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
		return r;
	}
	n = int_of(info, "NCPU");
	json_decref(info);
	if (n < 1 || n > TB_CPU_LIMIT) {
		TB_LOG(d->h, TB_LOG_ERROR, "engine at %s: NCPU %lld in GET /info", dk_client_display(cli), n);
		return -EPROTO;
	}
	*ncpu = (int)n;
	return 0;
}

/* Where dm is and how to trust it, as the record keeps it. */
static int record_engine(struct dk_daemon *dm, struct dk_record *rec)
{
	if (dk_client_url(dm->cli, rec->url, sizeof(rec->url)) < 0)
		return -ENAMETOOLONG;
	if (dm->tls) {
		snprintf(rec->ca, sizeof(rec->ca), "%s", dm->tlsconf.ca ? dm->tlsconf.ca : "");
		snprintf(rec->cert, sizeof(rec->cert), "%s", dm->tlsconf.cert ? dm->tlsconf.cert : "");
		snprintf(rec->key, sizeof(rec->key), "%s", dm->tlsconf.key ? dm->tlsconf.key : "");
		rec->verify = dm->tlsconf.verify;
	}
	return 0;
}

/* Only what the Engine's container update really applies is taken on. */
static enum dk_knob knob_of(struct docker *d, const struct tb_target *t, const char *throttler)
{
	if (!strcmp(throttler, "cpu_quota"))
		return DK_CPU_QUOTA;
	if (!strcmp(throttler, "cpuset"))
		return DK_CPUSET;
	if (!strcmp(throttler, "blkio"))
		TB_LOG(d->h, TB_LOG_ERROR, "%s: blkio cannot go through the Docker Engine API: its "
		       "container update applied only BlkioWeight, silently ignoring per-device limits, "
		       "until 2026 engines", t->id);
	else
		TB_LOG(d->h, TB_LOG_ERROR, "%s: the Docker Engine API throttles cpu_quota and cpuset, "
		       "not %s", t->id, throttler);
	return 0;
}

int dk_throttle_save(void *state, const struct tb_target *t, const char *throttler, char *saved,
		     size_t size)
{
	struct docker *d = state;
	struct dk_daemon *dm = dk_daemon_of(d->daemons, d->ndaemons, t->node);
	struct dk_record rec = { .knob = knob_of(d, t, throttler) };
	const char *id;
	const json_t *hc;
	json_t *root = NULL;
	char err[512];
	int r;

	if (!rec.knob)
		return -EOPNOTSUPP;
	if (!(id = dk_container_of(d, t)))
		return -EINVAL;
	if (!dm) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s: no engine of node %s configured", t->id,
		       t->node ? t->node : "(this one)");
		return -ENOENT;
	}
	if ((!dm->cli && (r = dk_use(d, dm)) < 0) || (r = engine_cpus(d, dm->cli, &rec.ncpu)) < 0 ||
	    (r = host_config(d, dm->cli, id, &root, &hc)) < 0 || (r = record_engine(dm, &rec)) < 0)
		goto out;
	snprintf(rec.id, sizeof(rec.id), "%s", id);
	rec.period = int_of(hc, "CpuPeriod");
	rec.quota = int_of(hc, "CpuQuota");
	rec.nano = int_of(hc, "NanoCpus");
	snprintf(rec.cpus, sizeof(rec.cpus), "%s", string_of(hc, "CpusetCpus"));
	rec.cores = rec.cpus[0] ? tb_cpulist_count(rec.cpus) : rec.ncpu;
	if (rec.knob == DK_CPU_QUOTA)
		rec.cpus[0] = '\0';
	r = dk_record_format(&rec, saved, size, err, sizeof(err));
	if (r < 0)
		TB_LOG(d->h, TB_LOG_ERROR, "%s: refused the engine's settings: %s", t->id, err);
out:
	json_decref(root);
	return r;
}

/* The record's text, checked, saying what is wrong with it. */
static int read_record(struct docker *d, const char *saved, struct dk_record *rec)
{
	char err[512];

	if (dk_record_parse(saved, rec, err, sizeof(err)) == 0)
		return 0;
	TB_LOG(d->h, TB_LOG_ERROR, "refused a saved engine throttle: %s", err);
	return -EINVAL;
}

/* Every CPU of the engine, as a cpu list: what a container without a cpuset may use. */
static const char *all_cpus(const struct dk_record *rec, char *buf, size_t size)
{
	snprintf(buf, size, "0-%d", rec->ncpu - 1);
	return buf;
}

/*
 * The new settings for stress, from the saved ones so that they never
 * compound; as the cpu_quota and cpuset throttlers reckon (stress leaves
 * 1 - stress of the container's quota, else of its CPUs; of its CPUs, the
 * lowest-numbered).
 */
static int throttled(const struct dk_record *rec, double stress, json_t *body)
{
	char all[32], list[1024];
	long long period = rec->period ? rec->period : DK_DEFAULT_PERIOD;
	double allowance = rec->quota > 0 ? (double)rec->quota : (double)rec->cores * (double)period;
	int r;

	/* NanoCpus conflicts with a quota in the Engine: a container that has
	 * one is throttled through it. */
	if (rec->knob == DK_CPU_QUOTA && rec->nano > 0)
		r = json_object_set_new(body, "NanoCpus",
					json_integer(tb_stress_left((double)rec->nano, stress, NANO_MIN)));
	else if (rec->knob == DK_CPU_QUOTA)
		r = json_object_set_new(body, "CpuQuota",
					json_integer(tb_stress_left(allowance, stress, DK_MIN_QUOTA)));
	else {
		r = tb_cpulist_shrink(rec->cpus[0] ? rec->cpus : all_cpus(rec, all, sizeof(all)), stress,
				      0, list, sizeof(list));
		if (r < 0)
			return r;
		r = json_object_set_new(body, "CpusetCpus", json_string(list));
	}
	return r < 0 ? -ENOMEM : 0;
}

/* The settings as they were.  CpuQuota 0 ("none") is "leave as is" to the
 * update, so none is put back as -1, which the Engine takes as no quota;
 * an empty CpusetCpus is ignored likewise, so every CPU is named. */
static int previous(const struct dk_record *rec, json_t *body)
{
	char all[32];

	if (rec->knob == DK_CPUSET)
		return json_object_set_new(body, "CpusetCpus", json_string(rec->cpus[0] ? rec->cpus
					   : all_cpus(rec, all, sizeof(all))));
	if (rec->nano > 0)
		return json_object_set_new(body, "NanoCpus", json_integer(rec->nano));
	if (rec->period > 0 && json_object_set_new(body, "CpuPeriod", json_integer(rec->period)) < 0)
		return -ENOMEM;
	return json_object_set_new(body, "CpuQuota", json_integer(rec->quota > 0 ? rec->quota : -1));
}

/* POST the update; the Engine's warnings are said. */
static int update(struct docker *d, struct dk_client *cli, const char *id, const json_t *body)
{
	char path[128], err[1024];
	json_t *answer = NULL, *w;
	size_t i;
	int r;

	snprintf(path, sizeof(path), "/containers/%s/update", id);
	r = dk_post_json(cli, path, body, &answer, err, sizeof(err));
	if (r < 0 && r != -ENOENT)
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
	json_array_foreach(json_object_get(answer, "Warnings"), i, w)
		if (json_is_string(w))
			TB_LOG(d->h, TB_LOG_WARNING, "container %.12s at %s: %s", id,
			       dk_client_display(cli), json_string_value(w));
	json_decref(answer);
	return r;
}

/* Did the engine take every setting of body?  An engine may answer 200 and
 * leave one alone, which would throttle nothing. */
static int took(struct docker *d, struct dk_client *cli, const char *id, const json_t *body)
{
	const char *key;
	const json_t *hc, *want;
	json_t *root = NULL;
	int r = host_config(d, cli, id, &root, &hc);

	json_object_foreach((json_t *)body, key, want) {
		if (r < 0)
			break;
		if (!json_equal((json_t *)want, json_object_get(hc, key))) {
			char *now = json_dumps(json_object_get(hc, key), JSON_ENCODE_ANY);

			TB_LOG(d->h, TB_LOG_ERROR, "container %.12s at %s: the update answered OK but "
			       "HostConfig.%s is %s: the engine did not apply it", id,
			       dk_client_display(cli), key, now ? now : "absent");
			free(now);
			r = -EIO;
		}
	}
	json_decref(root);
	return r;
}

int dk_throttle_apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	struct docker *d = state;
	struct dk_daemon *dm = dk_daemon_of(d->daemons, d->ndaemons, t->node);
	const char *id = dk_container_of(d, t);
	struct dk_record rec;
	json_t *body;
	int r;

	if (!id || !dm || !tb_stress_valid(stress) || (r = read_record(d, saved, &rec)) < 0)
		return -EINVAL;
	if (strcmp(rec.id, id)) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s: the saved settings are another container's", t->id);
		return -EINVAL;
	}
	if (!dm->cli && (r = dk_use(d, dm)) < 0)
		return r;
	if (!(body = json_object()))
		return -ENOMEM;
	r = throttled(&rec, stress, body);
	if (r == 0)
		r = update(d, dm->cli, id, body);
	if (r == 0)
		r = took(d, dm->cli, id, body);
	if (r == 0) {
		char *what = json_dumps(body, JSON_COMPACT);

		TB_LOG(d->h, TB_LOG_DEBUG, "%s: %s (stress %.2f)", t->id, what ? what : "", stress);
		free(what);
	}
	json_decref(body);
	return r;
}

/* A client for the record's engine: after a crash, the configuration is not read. */
static int record_client(struct docker *d, const struct dk_record *rec, struct dk_client **out)
{
	int https = !strncmp(rec->url, "https://", 8), r;
	struct dk_tls tls = { rec->ca[0] ? rec->ca : NULL, rec->cert[0] ? rec->cert : NULL,
			      rec->key[0] ? rec->key : NULL, rec->verify };
	struct dk_endpoint ep;
	char host[320], err[1024];

	if (strncmp(rec->url, "unix://", 7))
		snprintf(host, sizeof(host), "tcp://%s", rec->url + (https ? 8 : 7));
	else
		snprintf(host, sizeof(host), "%s", rec->url);
	if (dk_parse_endpoint(host, &ep, err, sizeof(err)) < 0) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
		return -EINVAL;
	}
	r = dk_client_new(&ep, https ? &tls : NULL, d->timeout, out);
	if (r == 0 && (r = dk_connect(*out, err, sizeof(err))) < 0) {
		TB_LOG(d->h, TB_LOG_ERROR, "%s", err);
		dk_client_free(*out);
	}
	return r;
}

/* During a run, the configured engine the record names, already connected; else NULL. */
static struct dk_client *configured_client(struct docker *d, const char *url)
{
	char own[sizeof(((struct dk_record *)0)->url)];

	for (size_t i = 0; i < d->ndaemons; i++)
		if (d->daemons[i].cli && dk_client_url(d->daemons[i].cli, own, sizeof(own)) == 0 &&
		    !strcmp(own, url))
			return d->daemons[i].cli;
	return NULL;
}

int dk_throttle_restore(void *state, const char *saved)
{
	struct docker *d = state;
	struct dk_client *cli, *mine;
	struct dk_record rec;
	json_t *body;
	int r;

	if (read_record(d, saved, &rec) < 0)
		return -EINVAL;
	mine = configured_client(d, rec.url);
	if (!(cli = mine) && (r = record_client(d, &rec, &cli)) < 0)
		return r;
	body = json_object();
	r = !body || previous(&rec, body) < 0 ? -ENOMEM : update(d, cli, rec.id, body);
	if (r == -ENOENT)
		TB_LOG(d->h, TB_LOG_WARNING, "container %.12s is gone from %s: nothing to restore",
		       rec.id, rec.url);
	json_decref(body);
	if (cli != mine)
		dk_client_free(cli);
	return r;
}
