/* resume.c - the trials an interrupted run recorded in trials.jsonl, handed back in the order its schedule asks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "outdir.h"
#include "resume.h"

#define LINE_MAX_BYTES (4 * 1024 * 1024)
#define THROTTLES_MAX 4096

struct tb_replay {
	char *dir;
	int fd;                         /* trials.jsonl, or -1 when there was none */
	struct tb_trial_result *t;
	long *line;                     /* each trial's line, for messages */
	off_t *end;                     /* the byte after each trial's line */
	size_t n, at;
	off_t kept;                     /* bytes of the trials taken so far */
};

static void free_trial(struct tb_trial_result *t)
{
	free(t->throttles);
	free(t->values);
	free(t->error);
}

static int get_bool(const json_t *j, const char *key, int dflt, int *out)
{
	const json_t *v = json_object_get(j, key);

	*out = v ? json_is_true(v) : dflt;
	return !v || json_is_boolean(v) ? 0 : -EINVAL;
}

static double number(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int get_throttles(const struct tb_run *run, const json_t *a, struct tb_trial_result *t,
			 const char **why)
{
	const json_t *th;
	size_t i;

	t->n = json_array_size(a);
	if (!json_is_array(a) || t->n > THROTTLES_MAX)
		return *why = "no list of throttles", -EINVAL;
	t->throttles = calloc(t->n ? t->n : 1, sizeof(*t->throttles));
	if (!t->throttles)
		return -ENOMEM;
	json_array_foreach(a, i, th) {
		const char *service = json_string_value(json_object_get(th, "service"));
		const char *throttler = json_string_value(json_object_get(th, "throttler"));
		long s = service ? tb_run_find_service(run, service) : -1;
		long k = throttler ? tb_run_find_throttler(run, throttler) : -1;
		double stress = number(json_object_get(th, "stress"));

		if (s < 0 || k < 0)
			return *why = "a throttle names a service or throttler this run does not have",
			       -EINVAL;
		if (!(stress > 0 && stress < 1))
			return *why = "a throttle's stress is not between 0 and 1", -EINVAL;
		t->throttles[i] = (struct tb_throttle){ (size_t)s, (size_t)k, stress };
	}
	return 0;
}

/* One line of trials.jsonl, as loop.c wrote it (report.c's tb_report_trial). */
static int parse_trial(const struct tb_run *run, const json_t *j, struct tb_trial_result *t,
		       const char **why)
{
	json_int_t index = json_integer_value(json_object_get(j, "index"));
	json_int_t round = json_integer_value(json_object_get(j, "round"));
	const json_t *values = json_object_get(j, "values"), *error = json_object_get(j, "error");
	const char *kind = json_string_value(json_object_get(j, "kind"));
	int r, extra;

	memset(t, 0, sizeof(*t));
	*why = "a field is missing or has the wrong type";
	if (!json_is_object(j) || index < 1 || index > (json_int_t)UINT32_MAX || round < 0 ||
	    round > (json_int_t)UINT32_MAX || !json_is_integer(json_object_get(j, "round")) ||
	    !json_is_object(values) || !kind || (error && !json_is_null(error) && !json_is_string(error)))
		return -EINVAL;
	t->index = (unsigned)index;
	t->round = (unsigned)round;
	if ((r = get_bool(j, "failed", -1, &t->failed)) < 0 || (r = get_bool(j, "warmup", -1, &t->warmup)) < 0 ||
	    (r = get_bool(j, "extra", -1, &extra)) < 0 || (r = get_bool(j, "resumed", 0, &t->resumed)) < 0 ||
	    (r = get_bool(j, "rejoin", 0, &t->rejoin)) < 0 || t->failed < 0 || t->warmup < 0 || extra < 0)
		return -EINVAL;
	t->extra = (unsigned)extra;
	t->start = number(json_object_get(j, "start"));
	t->duration = number(json_object_get(j, "duration_s"));
	if (!isfinite(t->start) || !isfinite(t->duration))
		return -EINVAL;
	if (json_is_string(error) && !(t->error = strdup(json_string_value(error))))
		return -ENOMEM;
	if ((r = get_throttles(run, json_object_get(j, "throttles"), t, why)) < 0)
		return r;
	if (strcmp(kind, t->n ? "throttle" : "baseline"))
		return *why = "its kind does not match its throttles", -EINVAL;
	t->values = malloc(run->results.nvalues * sizeof(double));
	if (!t->values)
		return -ENOMEM;
	for (size_t v = 0; v < run->results.nvalues; v++) {
		const json_t *x = json_object_get(values, run->results.values[v].name);

		if (!x || !(json_is_number(x) || json_is_null(x)))
			return *why = "a value this run measures is missing", -EINVAL;
		t->values[v] = t->failed ? NAN : number(x);
	}
	return 0;
}

static int grow(struct tb_replay *r)
{
	size_t cap = r->n + 1;
	struct tb_trial_result *t = realloc(r->t, cap * sizeof(*t));
	long *line;
	off_t *end;

	if (!t)
		return -ENOMEM;
	r->t = t;
	line = realloc(r->line, cap * sizeof(*line));
	if (!line)
		return -ENOMEM;
	r->line = line;
	end = realloc(r->end, cap * sizeof(*end));
	if (!end)
		return -ENOMEM;
	r->end = end;
	return 0;
}

/* Read every complete line; a torn last one (no newline: the run died
 * writing it) is left out, anything else unreadable refuses the directory. */
static int read_trials(const struct tb_run *run, struct tb_replay *r)
{
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	off_t at = 0;
	long line = 0;
	int dupfd = dup(r->fd), err = 0;

	if (dupfd < 0 || !(f = fdopen(dupfd, "r"))) {
		if (dupfd >= 0)
			close(dupfd);
		return -errno;
	}
	while (err == 0 && (len = getline(&buf, &cap, f)) > 0) {
		const char *why = "it is not JSON";
		json_t *j;

		line++;
		if (buf[len - 1] != '\n') {
			tb_warn("%s/trials.jsonl:%ld: torn last line (%zd bytes, the run died writing "
				"it): ignored, its trial is run again", r->dir, line, len);
			break;
		}
		if (len > LINE_MAX_BYTES) {
			err = -EFBIG;
			why = "the line is too long";
		} else if ((err = grow(r)) == 0) {
			j = json_loadb(buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
			err = j ? parse_trial(run, j, &r->t[r->n], &why) : -EINVAL;
			json_decref(j);
			if (err < 0 && err != -ENOMEM)
				free_trial(&r->t[r->n]);
		}
		if (err < 0 && err != -ENOMEM) {
			tb_error("%s/trials.jsonl:%ld: cannot be read (%s): refused", r->dir, line, why);
			err = -EINVAL;
		} else if (err == 0) {
			at += len;
			r->line[r->n] = line;
			r->end[r->n++] = at;
		}
	}
	free(buf);
	fclose(f);
	return err;
}

int tb_replay_load(const struct tb_run *run, const char *dir, struct tb_replay **out)
{
	struct tb_replay *r = calloc(1, sizeof(*r));
	int err;

	*out = NULL;
	if (!r || !(r->dir = strdup(dir))) {
		free(r);
		return -ENOMEM;
	}
	r->fd = tb_outdir_open_file(dir, "trials.jsonl", O_RDWR);
	if (r->fd == -ENOENT) {
		tb_info("%s: no trial was recorded: the run starts from the beginning", dir);
		*out = r;
		return 0;
	}
	err = r->fd < 0 ? r->fd : read_trials(run, r);
	if (err < 0) {
		tb_replay_free(r);
		return err;
	}
	tb_info("%s: %zu trial%s recorded", dir, r->n, r->n == 1 ? "" : "s");
	*out = r;
	return 0;
}

size_t tb_replay_left(const struct tb_replay *r)
{
	size_t n = 0;

	for (size_t i = r->at; i < r->n; i++)
		n += !r->t[i].rejoin;
	return n;
}

/* Hand over trial at, checked to stand where it was taken. */
static int take(struct tb_replay *r, unsigned index, struct tb_trial_result *out)
{
	if (r->t[r->at].index != index) {
		tb_error("%s/trials.jsonl:%ld: trial %u where the schedule has trial %u: refused",
			 r->dir, r->line[r->at], r->t[r->at].index, index);
		return -EINVAL;
	}
	*out = r->t[r->at];
	r->kept = r->end[r->at++];
	return 1;
}

int tb_replay_take_rejoin(struct tb_replay *r, unsigned index, struct tb_trial_result *out)
{
	return r->at < r->n && r->t[r->at].rejoin ? take(r, index, out) : 0;
}

static int same_trial(const struct tb_trial_result *t, const struct tb_experiment *e, int warmup,
		      unsigned extra, unsigned round)
{
	if (t->n != e->n || !t->warmup != !warmup || !t->extra != !extra || t->round != round)
		return 0;
	for (size_t i = 0; i < e->n; i++)
		if (t->throttles[i].service != e->throttles[i].service ||
		    t->throttles[i].throttler != e->throttles[i].throttler ||
		    fabs(t->throttles[i].stress - e->throttles[i].stress) > 1e-9)
			return 0;
	return 1;
}

int tb_replay_take(struct tb_replay *r, const struct tb_experiment *e, int warmup, unsigned extra,
		   unsigned index, unsigned round, struct tb_trial_result *out)
{
	if (r->at == r->n)
		return 0;
	if (!same_trial(&r->t[r->at], e, warmup, extra, round)) {
		tb_error("%s/trials.jsonl:%ld: trial %u is not the trial this configuration's "
			 "schedule holds there (a %s%s, round %u): the directory is not a run of it: "
			 "refused", r->dir, r->line[r->at], r->t[r->at].index,
			 warmup ? "warm-up " : extra ? "replication " : "", e->n ? "throttle" : "baseline",
			 round);
		return -EINVAL;
	}
	return take(r, index, out);
}

void tb_replay_drop_rest(struct tb_replay *r, const char *why)
{
	for (; r->at < r->n; r->at++) {
		tb_warn("trial %u (%s/trials.jsonl:%ld) dropped: %s", r->t[r->at].index, r->dir,
			r->line[r->at], why);
		free_trial(&r->t[r->at]);
	}
}

int tb_replay_end(struct tb_replay *r, FILE **log)
{
	int fd;

	if (r->at < r->n) {
		tb_error("%s/trials.jsonl:%ld: %zu recorded trial%s beyond the end of this "
			 "configuration's schedule: refused", r->dir, r->line[r->at], r->n - r->at,
			 r->n - r->at == 1 ? "" : "s");
		return -EINVAL;
	}
	/* What follows the trials kept (a torn line, a dropped trial) goes;
	 * new trials are appended after them. */
	if (r->fd >= 0 && (ftruncate(r->fd, r->kept) < 0 || lseek(r->fd, 0, SEEK_END) < 0))
		return -errno;
	fd = r->fd;
	if (fd < 0) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/trials.jsonl", r->dir);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
	}
	*log = fdopen(fd, "a");
	if (!*log)
		return -ENOMEM;
	r->fd = -1;             /* the stream has it now */
	return 0;
}

void tb_replay_free(struct tb_replay *r)
{
	if (!r)
		return;
	for (size_t i = r->at; i < r->n; i++)
		free_trial(&r->t[i]);
	if (r->fd >= 0)
		close(r->fd);
	free(r->t);
	free(r->line);
	free(r->end);
	free(r->dir);
	free(r);
}
