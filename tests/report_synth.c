/* report_synth.c - build a synthetic report.json of a large application, shaped like the core's. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "report_synth.h"

static const char *const thr[3][2] = { { "cpu_quota", "cpu" }, { "blkio", "disk" }, { "tc", "net" } };
static const double levels[4] = { 0.2, 0.4, 0.6, 0.8 };

enum { TRIALS = 3, BASELINES = 10 };

/* A fixed sequence, so every run of a test sees the same report. */
static double rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

void synth_service_name(char *buf, size_t len, size_t i)
{
	snprintf(buf, len, "svc-%04zu", i);
}

/* What each pair is: verdict and its degradation at the highest level. */
static const char *pair_kind(size_t n, size_t s, size_t t, double *deg)
{
	static const size_t imr[SYNTH_IMRS][2] = { { 737, 0 }, { 311, 2 }, { 52, 1 }, { 903, 0 }, { 480, 2 } };
	static const double imr_deg[SYNTH_IMRS] = { 1.8, 0.9, 0.6, 0.45, 0.3 };
	static const size_t und[SYNTH_UNDECIDED][2] = { { 15, 1 }, { 640, 0 }, { 998, 2 } };
	static const size_t par[SYNTH_PARADOXES][2] = { { 200, 0 }, { 820, 1 } };
	size_t k;

	for (k = 0; k < SYNTH_IMRS; k++)
		if (s == n * imr[k][0] / 1000 && t == imr[k][1]) {
			*deg = imr_deg[k];
			return "imr";
		}
	for (k = 0; k < SYNTH_UNDECIDED; k++)
		if (s == n * und[k][0] / 1000 && t == und[k][1]) {
			*deg = 0.08;
			return "undecided";
		}
	for (k = 0; k < SYNTH_PARADOXES; k++)
		if (s == n * par[k][0] / 1000 && t == par[k][1]) {
			*deg = -0.15;
			return "paradox";
		}
	return "none";
}

static json_t *values(uint64_t *seed, double median, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(median * (1 + 0.03 * (rnd(seed) - 0.5))));
	return a;
}

static json_t *pair(uint64_t *seed, size_t n, size_t s, size_t t)
{
	char name[32];
	double deg = 0.04 * (rnd(seed) - 0.4), p;
	const char *verdict = pair_kind(n, s, t, &deg);
	int imr = verdict[0] == 'i', paradox = verdict[0] == 'p';
	json_t *points = json_array(), *o;

	p = imr || paradox ? 0.002 : verdict[0] == 'u' ? 0.06 : 0.3 + 0.6 * rnd(seed);
	for (size_t l = 0; l < 4; l++) {
		double d = deg * levels[l] / levels[3], local = 1 + 0.01 * (rnd(seed) - 0.5);

		json_array_append_new(points, json_pack("{s:f, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:b, s:i, s:o, s:f}",
			"stress", levels[l], "n", TRIALS, "median", local * (1 + d), "delta", d,
			"degradation", d, "ci_low", d - 0.02, "ci_high", d + 0.02, "p_value", p,
			"significant", imr || paradox, "paradox", paradox, "failed", 0,
			"values", values(seed, local * (1 + d), TRIALS), "local_baseline", local));
	}
	synth_service_name(name, sizeof(name), s);
	o = json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:b, s:b, s:b, s:s, s:o}",
		"service", name, "resource", thr[t][1], "throttler", thr[t][0], "stress", levels[3],
		"delta", deg, "degradation", deg, "ci_low", deg - 0.02, "ci_high", deg + 0.02,
		"p_value", p, "trend_p", p / 2, "adjusted_p", fmin(1, p * 3 * (double)n),
		"significant", imr || paradox, "imr", imr, "paradox", paradox, "verdict", verdict,
		"points", points);
	if (imr || paradox)
		json_object_set_new(o, "adjusted_p", json_real(0.004));
	return o;
}

static json_t *pair_id(const json_t *p)
{
	return json_pack("{s:O, s:O, s:O, s:O}", "service", json_object_get(p, "service"),
			 "resource", json_object_get(p, "resource"), "throttler", json_object_get(p, "throttler"),
			 "degradation", json_object_get(p, "degradation"));
}

static json_t *trial(size_t index, const char *service, size_t t, double stress, int warmup,
		     int extra, size_t round, double value, double local)
{
	json_t *throttles = json_array();
	json_t *lb = isfinite(local) ? json_pack("{s:f}", "jct", local) : json_pack("{s:n}", "jct");

	if (service)
		json_array_append_new(throttles, json_pack("{s:s, s:s, s:s, s:f}", "service", service,
			"throttler", thr[t][0], "resource", thr[t][1], "stress", stress));
	return json_pack("{s:I, s:s, s:o, s:{s:f}, s:b, s:n, s:f, s:f, s:b, s:i, s:b, s:o}",
		"index", (json_int_t)index, "kind", service ? "throttle" : "baseline",
		"throttles", throttles, "values", "jct", value, "failed", 0, "error",
		"start", 1700000000.0 + index, "duration_s", 1.0, "warmup", warmup, "round", (int)round,
		"extra", extra, "local_baseline", lb);
}

static size_t thr_index(const json_t *p)
{
	const char *name = json_string_value(json_object_get(p, "throttler"));

	for (size_t t = 0; t < 2; t++)
		if (name && !strcmp(name, thr[t][0]))
			return t;
	return 2;
}

/* Every pair's trials, round by round, and a few extra ones for the
 * undecided pairs, as an adaptive run would add them. */
static json_t *trials(const json_t *ranking, uint64_t *seed)
{
	json_t *a = json_array();
	size_t i, r, l, k = 0;

	json_array_append_new(a, trial(k++, NULL, 0, 0, 1, 0, 0, 1.0, NAN));
	for (r = 0; r < TRIALS; r++) {
		for (i = 0; i < BASELINES / TRIALS + 1; i++)
			json_array_append_new(a, trial(k++, NULL, 0, 0, 0, 0, r, 1 + 0.03 * (rnd(seed) - 0.5), 1));
		for (i = 0; i < json_array_size(ranking); i++) {
			const json_t *p = json_array_get(ranking, i);
			const char *svc = json_string_value(json_object_get(p, "service"));
			size_t t = thr_index(p);
			double deg = json_real_value(json_object_get(p, "degradation"));

			for (l = 0; l < 4; l++)
				json_array_append_new(a, trial(k++, svc, t, levels[l], 0, 0, r,
					(1 + deg * levels[l] / levels[3]) * (1 + 0.03 * (rnd(seed) - 0.5)), 1));
		}
	}
	for (i = 0; i < json_array_size(ranking); i++) {
		const json_t *p = json_array_get(ranking, i);
		size_t t = thr_index(p);

		if (json_string_value(json_object_get(p, "verdict"))[0] == 'u')
			for (l = 0; l < 2; l++)
				json_array_append_new(a, trial(k++, json_string_value(json_object_get(p, "service")),
							       t, levels[3], 0, 1, TRIALS, 1.08, 1));
	}
	return a;
}

json_t *synth_report(size_t n)
{
	uint64_t seed = 42;
	json_t *services = json_array(), *ranking = json_array(), *imrs = json_array();
	json_t *undecided = json_array(), *mimr = NULL, *ru = NULL, *sec, *rep, *tr;
	size_t s, t, i;
	char name[32];

	if (n < 20)
		return NULL;
	for (s = 0; s < n; s++) {
		synth_service_name(name, sizeof(name), s);
		json_array_append_new(services, json_pack("{s:s, s:[{s:s, s:i}]}", "name", name,
			"targets", "id", name, "pid", (int)(1000 + s)));
		for (t = 0; t < 3; t++) {
			json_t *p = pair(&seed, n, s, t);
			const char *v = json_string_value(json_object_get(p, "verdict"));

			if (v[0] == 'i')
				json_array_append_new(imrs, pair_id(p));
			if (v[0] == 'u')
				json_array_append_new(undecided, pair_id(p));
			if (s == SYNTH_MIMR_SERVICE(n) && t == 0)
				mimr = p;
			if (s == SYNTH_RUNNER_UP_SERVICE(n) && t == 2)
				ru = p;
			json_array_append_new(ranking, p);
		}
	}
	mimr = json_pack("{s:O, s:O, s:O, s:f, s:O, s:O, s:f, s:{s:O, s:O, s:O, s:O, s:b}}",
		"service", json_object_get(mimr, "service"), "resource", json_object_get(mimr, "resource"),
		"throttler", json_object_get(mimr, "throttler"), "stress", levels[3],
		"delta", json_object_get(mimr, "delta"), "degradation", json_object_get(mimr, "degradation"),
		"margin", 0.9, "runner_up", "service", json_object_get(ru, "service"),
		"resource", json_object_get(ru, "resource"), "throttler", json_object_get(ru, "throttler"),
		"degradation", json_object_get(ru, "degradation"), "imr", 1);
	sec = json_pack("{s:s, s:s, s:s, s:{s:s, s:i, s:f, s:f, s:f, s:[f, f], s:o}, s:o, s:o, s:o, s:o}",
		"metric", "jct", "unit", "s", "direction", "lower", "baseline", "metric", "jct",
		"n", BASELINES, "median", 1.0, "min", 0.97, "max", 1.04, "band", -0.03, 0.04,
		"values", values(&seed, 1.0, BASELINES), "mimr", mimr, "ranking", ranking, "imrs", imrs,
		"undecided", undecided);
	tr = trials(ranking, &seed);
	rep = json_pack("{s:{s:s}, s:s, s:s, s:s, s:f, s:[f, f, f, f], s:i, s:i, s:f, s:f, s:s,"
			" s:o, s:[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}],"
			" s:[{s:s, s:s, s:s, s:s}], s:[], s:i, s:i, s:i, s:i, s:i}",
		"throttlebot", "version", "0.1.0", "application", "synthetic", "config", "synthetic.conf",
		"started", "2026-11-27T08:00:00Z", "duration_s", 86400.0, "stress_levels",
		levels[0], levels[1], levels[2], levels[3], "trials_per_point", TRIALS,
		"baseline_trials", BASELINES, "significance", 0.05, "min_effect", 0.1, "strategy", "exhaustive",
		"services", services, "throttlers",
		"name", thr[0][0], "plugin", thr[0][0], "resource", thr[0][1], "unit", "cores",
		"name", thr[1][0], "plugin", thr[1][0], "resource", thr[1][1], "unit", "bytes/s",
		"name", thr[2][0], "plugin", thr[2][0], "resource", thr[2][1], "unit", "bit/s",
		"metrics", "name", "jct", "plugin", "command", "unit", "s", "direction", "lower",
		"excluded", "seed", 12345, "warmup_trials", 1, "max_extra_trials", 100,
		"extra_trials", 2 * SYNTH_UNDECIDED, "report_top", 10);
	if (!rep || !sec || !tr)
		return NULL;
	for (i = 0; i < 5; i++) {
		static const char *const k[] = { "baseline", "mimr", "ranking", "imrs", "undecided" };
		json_object_set(rep, k[i], json_object_get(sec, k[i]));
	}
	json_object_set_new(rep, "by_metric", json_pack("[o]", sec));
	json_object_set_new(rep, "trials", tr);
	return rep;
}
