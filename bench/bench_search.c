/* bench_search.c - how often and how cheaply each search strategy finds the MIMR of simulated applications. */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "throttlebot/plugin.h"
#include "sim_app.h"
#include "stats.h"

/*
 * The strategies are loaded from their plugin files and driven in-process
 * against sim_app models: a trial is one evaluation of the model, with
 * multiplicative gaussian noise, so thousands of trials take milliseconds.
 * The MIMR is decided from the trials a strategy ran with the ranking's rule:
 * per (service, throttler) the median relative degradation at its worst
 * level; significant when a one-sided Mann-Whitney test against the baseline
 * gives p < 0.05 and the median lies beyond the worst baseline trial; MIMR =
 * the significant pair with the largest degradation.
 */

#define NTHROTTLERS SIM_NRES
#define MAX_SETTINGS 16

struct bench_opts {
	unsigned apps, exhaustive_apps_1000, trials, baseline_trials;
	double noise, margin;
	const char *settings[MAX_SETTINGS];   /* "key=value", handed to the strategies */
	size_t nsettings;
	int verbose;
};

struct series {
	double *v;
	size_t n, cap;
};

struct run {
	const struct sim_app *app;
	size_t nlevels;
	const double *levels;
	struct series base;
	struct series *points;     /* pair * nlevels + level */
	unsigned long trials, estimate0;
	int estimate_low;          /* the estimate was exceeded */
	long leader;               /* what the strategy logged as its leader, -1 if nothing */
	const char *const *services;
};

struct bench_host {
	struct tb_host h;
	const struct bench_opts *o;
	struct run *run;
};

static const double default_levels[] = { 0.2, 0.4, 0.6, 0.8 };

static int push(struct series *s, double x)
{
	if (s->n == s->cap) {
		size_t c = s->cap ? 2 * s->cap : 8;
		double *g = realloc(s->v, c * sizeof(*g));

		if (!g)
			return -ENOMEM;
		s->v = g;
		s->cap = c;
	}
	s->v[s->n++] = x;
	return 0;
}

/* The strategies announce their answer as "leader: SERVICE THROTTLER, ...". */
static void host_log(const struct tb_host *h, enum tb_log_level level, const char *fmt, ...)
{
	const struct bench_host *b = (const struct bench_host *)h;
	char msg[512], service[128], throttler[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->o->verbose || level <= TB_LOG_WARNING)
		fprintf(stderr, "%s: %s\n", h->plugin_name, msg);
	if (b->run && sscanf(msg, "leader: %127s %63[^,]", service, throttler) == 2) {
		size_t s = strtoul(service + 3, NULL, 10);

		for (size_t t = 0; t < NTHROTTLERS; t++)
			if (strcmp(throttler, sim_resource_names[t]) == 0)
				b->run->leader = (long)(s * NTHROTTLERS + t);
	}
}

static double host_now(const struct tb_host *h)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *lookup(const struct tb_host *h, const char *key)
{
	const struct bench_opts *o = ((const struct bench_host *)h)->o;
	size_t len = strlen(key);

	for (size_t i = 0; i < o->nsettings; i++)
		if (strncmp(o->settings[i], key, len) == 0 && o->settings[i][len] == '=')
			return o->settings[i] + len + 1;
	return NULL;
}

static int host_get_int(const struct tb_host *h, const struct tb_config *c, const char *key,
			long long *out)
{
	const char *v = lookup(h, key);

	if (!v)
		return -ENOENT;
	*out = strtoll(v, NULL, 10);
	return 0;
}

static int host_get_number(const struct tb_host *h, const struct tb_config *c, const char *key,
			   double *out)
{
	const char *v = lookup(h, key);

	if (!v)
		return -ENOENT;
	*out = strtod(v, NULL);
	return 0;
}

static int host_absent(void)
{
	return -ENOENT;
}

static int host_get_string(const struct tb_host *h, const struct tb_config *c, const char *key,
			   const char **out)
{
	return host_absent();
}

static int host_get_bool(const struct tb_host *h, const struct tb_config *c, const char *key, int *out)
{
	return host_absent();
}

static int host_get_count(const struct tb_host *h, const struct tb_config *c, const char *key)
{
	return host_absent();
}

static int host_config_error(const struct tb_host *h, const struct tb_config *c, const char *key,
			     const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: setting %s: ", h->plugin_name, key);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int host_cancelled(const struct tb_host *h)
{
	return 0;
}

/* The ranking's verdict on the trials of one run: the MIMR pair or -1. */
static long rank_mimr(const struct run *r)
{
	size_t np = r->app->n * NTHROTTLERS, p, l;
	double bmed, bmax, best = -INFINITY;
	long mimr = -1;

	if (r->base.n == 0)
		return -1;
	bmed = tb_median(r->base.v, r->base.n);
	bmax = tb_max(r->base.v, r->base.n);
	for (p = 0; p < np; p++) {
		double headline = -INFINITY;
		int imr = 0;

		for (l = 0; l < r->nlevels; l++) {
			const struct series *s = &r->points[p * r->nlevels + l];
			double med, deg;
			int sig;

			if (s->n == 0)
				continue;
			med = tb_median(s->v, s->n);
			deg = (med - bmed) / fabs(bmed);
			/* The cheap half of the test first: most points fail it. */
			sig = med > bmax && tb_mann_whitney_greater(s->v, s->n, r->base.v, r->base.n) < 0.05;
			if (sig && (!imr || deg > headline)) {
				imr = 1;
				headline = deg;
			} else if (!imr && deg > headline) {
				headline = deg;
			}
		}
		if (imr && headline > best) {
			best = headline;
			mimr = (long)p;
		}
	}
	return mimr;
}

struct stat_row {
	unsigned apps, right, agree, estimate_low;
	double trials, trials_max, seconds;
};

static int run_one(const struct tb_strategy *st, struct bench_host *bh, struct sim_app *app,
		   const struct bench_opts *o, uint64_t noise_seed, struct run *r, char **names)
{
	static const char *const throttlers[NTHROTTLERS] = { "cpu", "disk", "net" };
	struct tb_space sp = {
		.nservices = app->n, .services = (const char *const *)names,
		.nthrottlers = NTHROTTLERS, .throttlers = throttlers, .resources = sim_resource_names,
		.excluded = NULL, .nlevels = 4, .levels = default_levels,
		.trials = o->trials, .baseline_trials = o->baseline_trials,
		.direction = TB_LOWER_IS_BETTER,
	};
	struct tb_experiment e;
	struct sim_rng g;
	size_t *pairs = malloc(app->n * NTHROTTLERS * sizeof(*pairs));
	double *allow = malloc(app->n * NTHROTTLERS * sizeof(*allow));
	unsigned long cap;
	void *state = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	r->app = app;
	r->nlevels = sp.nlevels;
	r->levels = sp.levels;
	r->leader = -1;
	r->points = calloc(app->n * NTHROTTLERS * sp.nlevels, sizeof(*r->points));
	if (!pairs || !allow || !r->points) {
		free(pairs);
		free(allow);
		return -ENOMEM;
	}
	bh->run = r;
	err = st->init(&bh->h, (const struct tb_config *)o, &sp, &state);
	if (err < 0)
		goto out;
	r->estimate0 = st->estimate(state);
	cap = 10 * r->estimate0 + 1000;
	sim_rng_seed(&g, noise_seed);
	while (r->trials < cap && st->next(state, &e) == 1) {
		double v;
		size_t i;

		for (i = 0; i < e.n; i++) {
			pairs[i] = e.throttles[i].service * NTHROTTLERS + e.throttles[i].throttler;
			allow[i] = 1 - e.throttles[i].stress;
		}
		v = sim_app_eval_sparse(app, e.n, pairs, allow) * sim_noise_factor(&g, o->noise);
		r->trials++;
		if (e.n == 0) {
			err = push(&r->base, v);
		} else if (e.n == 1) {
			size_t l;

			for (l = 0; l < sp.nlevels && fabs(sp.levels[l] - e.throttles[0].stress) > 1e-9; l++)
				;
			if (l < sp.nlevels)
				err = push(&r->points[pairs[0] * sp.nlevels + l], v);
		}
		if (err < 0)
			break;
		st->observe(state, &e, v, 0);
	}
	r->estimate_low = r->trials > r->estimate0;
	st->fini(state);
out:
	bh->run = NULL;
	free(pairs);
	free(allow);
	return err;
}

static void free_run(struct run *r)
{
	size_t np = r->app->n * NTHROTTLERS * r->nlevels;

	for (size_t i = 0; i < np; i++)
		free(r->points[i].v);
	free(r->points);
	free(r->base.v);
}

static int bench(const struct tb_strategy *st, const char *name, size_t n, unsigned apps,
		 const struct bench_opts *o, struct stat_row *row)
{
	struct bench_host bh = {
		.h = {
			.abi = TB_ABI_CURRENT, .plugin_name = name, .log = host_log, .now = host_now,
			.get_string = host_get_string, .get_int = host_get_int,
			.get_number = host_get_number, .get_bool = host_get_bool,
			.get_count = host_get_count, .config_error = host_config_error,
			.cancelled = host_cancelled,
		},
		.o = o,
	};
	char **names = calloc(n, sizeof(*names));
	double t0 = host_now(NULL);
	int err = 0;

	memset(row, 0, sizeof(*row));
	if (!names)
		return -ENOMEM;
	for (size_t s = 0; s < n && err == 0; s++)
		if (!(names[s] = malloc(24)))
			err = -ENOMEM;
		else
			snprintf(names[s], 24, "svc%zu", s);
	for (unsigned i = 0; i < apps && err == 0; i++) {
		struct sim_app app;
		struct run r;
		long mimr;

		/* The same applications, and noise streams, for every strategy. */
		err = sim_app_generate(&app, 7919 * n + i, n, o->margin, default_levels[3]);
		if (err < 0)
			break;
		err = run_one(st, &bh, &app, o, 104729 * n + i, &r, names);
		if (err == 0) {
			mimr = rank_mimr(&r);
			row->apps++;
			row->right += mimr == (long)app.mimr;
			row->agree += mimr == r.leader;
			row->estimate_low += r.estimate_low;
			row->trials += (double)r.trials;
			if (r.trials > row->trials_max)
				row->trials_max = (double)r.trials;
			if (o->verbose && mimr != (long)app.mimr)
				fprintf(stderr, "%s n=%zu app %u: ranked %ld, truth %zu (%.3f vs runner-up %.3f)\n",
					name, n, i, mimr, app.mimr, app.truth[app.mimr], app.truth[app.runner_up]);
			free_run(&r);
		}
		sim_app_free(&app);
	}
	row->seconds = host_now(NULL) - t0;
	for (size_t s = 0; s < n; s++)
		free(names[s]);
	free(names);
	return err;
}

static const struct tb_strategy *load(const char *dir, const char *name)
{
	char path[4096];
	const struct tb_strategy *st;
	void *lib;

	snprintf(path, sizeof(path), "%s/%s.so", dir, name);
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "bench_search: %s\n", dlerror());
		return NULL;
	}
	st = dlsym(lib, TB_PLUGIN_SYMBOL);
	if (!st || st->header.kind != TB_KIND_STRATEGY ||
	    TB_ABI_VERSION_MAJOR(st->header.abi) != TB_ABI_MAJOR) {
		fprintf(stderr, "bench_search: %s is not a strategy plugin of this ABI\n", path);
		return NULL;
	}
	return st;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_search [-a APPS] [-x EXHAUSTIVE_APPS_AT_1000] [-s SIZES] [-e NOISE]\n"
		"                    [-m MARGIN] [-o KEY=VALUE]... [-v] PLUGIN_DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .apps = 200, .exhaustive_apps_1000 = 200, .trials = 3,
				.baseline_trials = 5, .noise = 0.05, .margin = 0.25 };
	const char *sizes = "10,100,1000", *dir;
	const struct tb_strategy *ex, *pr;
	int c, failed = 0;

	while ((c = getopt(argc, argv, "a:x:s:e:m:o:v")) != -1) {
		switch (c) {
		case 'a': o.apps = (unsigned)atoi(optarg); break;
		case 'x': o.exhaustive_apps_1000 = (unsigned)atoi(optarg); break;
		case 's': sizes = optarg; break;
		case 'e': o.noise = atof(optarg); break;
		case 'm': o.margin = atof(optarg); break;
		case 'o':
			if (o.nsettings == MAX_SETTINGS)
				usage();
			o.settings[o.nsettings++] = optarg;
			break;
		case 'v': o.verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	dir = argv[optind];
	ex = load(dir, "exhaustive");
	pr = load(dir, "pruned");
	if (!ex || !pr)
		return 1;
	printf("Search strategies on simulated applications: %.0f%% noise, MIMR planted %.2f above the\n"
	       "runner-up, 3 resources, levels 0.2 0.4 0.6 0.8, %u trials, %u baseline trials.\n\n",
	       100 * o.noise, o.margin, o.trials, o.baseline_trials);
	printf("%8s  %-10s  %5s  %8s  %8s  %11s  %9s  %10s  %7s\n", "services", "strategy", "apps",
	       "right", "agrees", "mean trials", "max", "vs exhaus.", "seconds");
	for (const char *p = sizes; *p;) {
		size_t n = strtoul(p, NULL, 10);
		struct stat_row er, prr;
		unsigned eapps = n >= 1000 && o.exhaustive_apps_1000 < o.apps ? o.exhaustive_apps_1000 : o.apps;

		if (n == 0 || bench(ex, "exhaustive", n, eapps, &o, &er) < 0 ||
		    bench(pr, "pruned", n, o.apps, &o, &prr) < 0) {
			fprintf(stderr, "bench_search: failed at %zu services\n", n);
			return 1;
		}
		printf("%8zu  %-10s  %5u  %7.1f%%  %8s  %11.0f  %9.0f  %9.1f%%  %7.1f\n", n, "exhaustive",
		       er.apps, 100.0 * er.right / er.apps, "-", er.trials / er.apps, er.trials_max, 100.0,
		       er.seconds);
		printf("%8s  %-10s  %5u  %7.1f%%  %7.1f%%  %11.0f  %9.0f  %9.1f%%  %7.1f\n", "", "pruned",
		       prr.apps, 100.0 * prr.right / prr.apps, 100.0 * prr.agree / prr.apps,
		       prr.trials / prr.apps, prr.trials_max,
		       100.0 * (prr.trials / prr.apps) / (er.trials / er.apps), prr.seconds);
		if (er.estimate_low || prr.estimate_low) {
			printf("          estimate exceeded: exhaustive %u, pruned %u runs\n",
			       er.estimate_low, prr.estimate_low);
			failed = 1;
		}
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return failed;
}
