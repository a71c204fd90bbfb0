/* bench_search.c - false IMRs, power and MIMRs of the real `throttlebot run` on simulated apps under noise. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_run.h"
#include "sim_app.h"

/*
 * Each run is the built program on a generated application, the sim_jct
 * metric disturbed by one noise model; its report.json is judged against
 * the model's exact degradation of every pair at every level.  Nothing here
 * ranks: the verdicts are the core's.
 */

#define NLEVELS 4
#define NULL_EFFECT 0.005      /* below this at the top level, a pair has no effect */
#define SMALL_EFFECT 0.10
#define LARGE_EFFECT 0.25

struct model {
	const char *name, *metric;
};

/* Each on top of 5% i.i.d. noise. */
static const struct model models[] = {
	{ "iid", "noise = 0.05;" },
	{ "drift", "noise = 0.05; drift = 0.01;" },
	{ "steps", "noise = 0.05; steps = 0.002; step_size = 0.3;" },
	{ "outliers", "noise = 0.05; outliers = 0.01;" },
	{ "slow_start", "noise = 0.05; slow_start = 2.0;" },
};
#define NMODELS (sizeof(models) / sizeof(models[0]))

static const char *const strategies[] = { "exhaustive", "pruned" };
#define NSTRATEGIES 2

struct opts {
	unsigned apps, pruned_apps, trials;
	size_t services;
	double margin, timeout;
	const char *only_models, *extra;
	int verbose;
};

/* The model's degradation of every pair at every level. */
struct truth {
	struct sim_app app;
	double *deg;               /* pair * NLEVELS + level */
};

struct tally {
	unsigned runs, failed, with_false_imr, mimr_right;
	unsigned long nulls, false_imrs, large, large_found, small, small_found;
	unsigned long undecided, paradoxes, ranked;
	double trials, extra_trials, seconds, error;
	int verdicts;              /* the reports carry `verdict` */
};

static int truth_make(struct truth *t, unsigned long long seed, const struct opts *o)
{
	size_t np = o->services * SIM_NRES;
	int r = sim_app_generate(&t->app, seed, o->services, o->margin, bench_levels[NLEVELS - 1]);

	if (r < 0)
		return r;
	t->deg = malloc(np * NLEVELS * sizeof(*t->deg));
	if (!t->deg) {
		sim_app_free(&t->app);
		return -ENOMEM;
	}
	for (size_t p = 0; p < np; p++)
		for (size_t l = 0; l < NLEVELS; l++) {
			double allow = 1 - bench_levels[l];

			t->deg[p * NLEVELS + l] = sim_app_eval_sparse(&t->app, 1, &p, &allow) / t->app.base - 1;
		}
	return 0;
}

static void truth_free(struct truth *t)
{
	sim_app_free(&t->app);
	free(t->deg);
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long level_of(double stress)
{
	for (long l = 0; l < NLEVELS; l++)
		if (fabs(stress - bench_levels[l]) < 1e-6)
			return l;
	return -1;
}

/* One ranked pair: is it an IMR, and how far off is its degradation. */
static int judge_pair(const struct truth *t, const json_t *p, long k, struct tally *y)
{
	const char *verdict = str(p, "verdict");
	const json_t *deg = json_object_get(p, "degradation");
	long l = level_of(json_number_value(json_object_get(p, "stress")));

	y->ranked++;
	if (l >= 0 && json_is_number(deg))
		y->error += fabs(json_number_value(deg) - t->deg[k * NLEVELS + l]);
	if (!verdict) {
		y->paradoxes += json_is_true(json_object_get(p, "paradox"));
		return json_is_true(json_object_get(p, "imr"));
	}
	y->verdicts = 1;
	y->undecided += strcmp(verdict, "undecided") == 0;
	y->paradoxes += strcmp(verdict, "paradox") == 0;
	return strcmp(verdict, "imr") == 0;
}

static int score(const struct truth *t, const json_t *rep, struct tally *y)
{
	const json_t *ranking = json_object_get(rep, "ranking"), *p, *mimr = json_object_get(rep, "mimr");
	size_t np = t->app.n * SIM_NRES, i;
	unsigned char *imr = calloc(np, 1);
	int any_false = 0;

	if (!imr)
		return -ENOMEM;
	json_array_foreach(ranking, i, p) {
		long k = bench_pair(str(p, "service"), str(p, "resource"));

		if (k >= 0 && (size_t)k < np)
			imr[k] = (unsigned char)judge_pair(t, p, k, y);
	}
	/* Pairs a strategy never ranked are not IMRs. */
	for (size_t k = 0; k < np; k++) {
		double top = t->deg[k * NLEVELS + NLEVELS - 1];

		if (top < NULL_EFFECT) {
			y->nulls++;
			y->false_imrs += imr[k];
			any_false |= imr[k];
		} else if (top >= LARGE_EFFECT) {
			y->large++;
			y->large_found += imr[k];
		} else if (top >= SMALL_EFFECT) {
			y->small++;
			y->small_found += imr[k];
		}
	}
	y->with_false_imr += any_false;
	y->mimr_right += bench_pair(str(mimr, "service"), str(mimr, "resource")) == (long)t->app.mimr;
	y->trials += (double)json_array_size(json_object_get(rep, "trials"));
	y->extra_trials += (double)json_integer_value(json_object_get(rep, "extra_trials"));
	free(imr);
	return 0;
}

static double pct(unsigned long a, unsigned long b)
{
	return b ? 100.0 * a / b : NAN;
}

/* "12% 3/25", or "- 0/0" when there was nothing to count. */
static void ratio_cell(char *out, size_t size, unsigned long a, unsigned long b, int decimals)
{
	if (b)
		snprintf(out, size, "%.*f%% %lu/%lu", decimals, pct(a, b), a, b);
	else
		snprintf(out, size, "- 0/0");
}

static void row(const char *model, const char *strategy, const struct tally *y)
{
	unsigned n = y->runs - y->failed;
	double fp = pct(y->false_imrs, y->nulls), fw = pct(y->with_false_imr, n);
	double p25 = pct(y->large_found, y->large), p10 = pct(y->small_found, y->small);
	double right = pct(y->mimr_right, n);
	char cell[5][32], undecided[16] = "-";

	if (n == 0) {
		printf("%-10s %-10s %4u %4u  no report to judge\n", model, strategy, y->runs, y->failed);
		return;
	}
	ratio_cell(cell[0], sizeof(cell[0]), y->false_imrs, y->nulls, 2);
	ratio_cell(cell[1], sizeof(cell[1]), y->with_false_imr, n, 0);
	ratio_cell(cell[2], sizeof(cell[2]), y->large_found, y->large, 0);
	ratio_cell(cell[3], sizeof(cell[3]), y->small_found, y->small, 0);
	ratio_cell(cell[4], sizeof(cell[4]), y->mimr_right, n, 0);
	if (y->verdicts)
		snprintf(undecided, sizeof(undecided), "%.1f", (double)y->undecided / n);
	printf("%-10s %-10s %4u %4u  %-16s %-11s %-13s %-13s %-11s %6s %6.1f %6.1f %7.0f %5.0f %6.1f ",
	       model, strategy, y->runs, y->failed, cell[0], cell[1], cell[2], cell[3], cell[4],
	       undecided, (double)y->paradoxes / n, y->ranked ? 100 * y->error / y->ranked : 0,
	       y->trials / n, y->extra_trials / n, y->seconds / y->runs);
	/* NaN (nothing to measure) misses nothing. */
	printf("%s%s%s%s%s\n", fp > 1 ? " fp" : "", fw > 5 ? " fw" : "", p25 < 95 ? " p25" : "",
	       p10 < 80 ? " p10" : "", right < 95 ? " mimr" : "");
}

static void header(const struct opts *o)
{
	printf("Search through `throttlebot run` on simulated applications: %zu services, 3\n"
	       "resources, levels 0.2 0.4 0.6 0.8, %u trials, MIMR planted %.2f above the\n"
	       "runner-up; every noise model on top of 5%% i.i.d. noise.  Each pair is judged by\n"
	       "its `verdict` (else `imr`) against the model's degradation at stress 0.8: null\n"
	       "below %.1f%%, effects of 10-25%% and 25%% or more.  Per run: undecided pairs,\n"
	       "paradoxes (all false: throttling never speeds the model up), mean |error| of the\n"
	       "ranked degradations (points), trials and extra trials.\n\n",
	       o->services, o->trials, o->margin, 100 * NULL_EFFECT);
	printf("%-10s %-10s %4s %4s  %-16s %-11s %-13s %-13s %-11s %6s %6s %6s %7s %5s %6s %s\n",
	       "model", "strategy", "runs", "fail", "false IMR", "family", "power>=25%",
	       "power10-25%", "MIMR right", "undec", "parad", "err", "trials", "extra", "s/run",
	       "missed");
	printf("%-10s %-10s %4s %4s  %-16s %-11s %-13s %-13s %-11s\n", "target", "", "", "",
	       "<= 1%", "<= 5%", ">= 95%", ">= 80%", ">= 95%");
}

/* Every strategy of one model, each on its own apps. */
static int bench_model(const char *bin, const char *dir, const struct model *m,
		       const struct truth *truths, const struct opts *o, int core_seed,
		       struct tally *tallies)
{
	for (size_t s = 0; s < NSTRATEGIES; s++) {
		unsigned apps = s == 0 ? o->apps : o->pruned_apps;
		struct tally *y = &tallies[s];

		for (unsigned k = 0; k < apps && !bench_interrupted(); k++) {
			char extra[512], name[64];
			struct bench_sim sim = {
				.strategy = strategies[s], .services = o->services,
				.app_seed = 1 + k, .noise_seed = 1000 + k, .margin = o->margin,
				.trials = o->trials, .metric = m->metric, .extra = extra,
			};
			struct bench_result res;
			int r;

			/* The same noise and schedule for every strategy and model. */
			if (core_seed)
				snprintf(extra, sizeof(extra), "seed = %u; %s", 1 + k, o->extra ? o->extra : "");
			else
				snprintf(extra, sizeof(extra), "%s", o->extra ? o->extra : "");
			snprintf(name, sizeof(name), "%s-%s-%u", m->name, strategies[s], k);
			if ((r = bench_run(bin, dir, name, &sim, o->timeout, &res)) < 0)
				return r;
			y->runs++;
			y->seconds += res.seconds;
			if (!res.ok) {
				y->failed++;
				fprintf(stderr, "bench_search: %s %s\n", name,
					res.timed_out ? "timed out" : "failed");
			} else if ((r = score(&truths[k], res.report, y)) < 0) {
				bench_result_free(&res);
				return r;
			}
			if (o->verbose)
				fprintf(stderr, "bench_search: %s: %.1f s\n", name, res.seconds);
			bench_result_free(&res);
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_search [-a APPS] [-p PRUNED_APPS] [-n SERVICES] [-t TRIALS] [-m MODELS]\n"
		"                    [-c 'KEY = VALUE;'] [-T TIMEOUT] [-v] THROTTLEBOT PLUGIN_PATH\n"
		"models: iid,drift,steps,outliers,slow_start (default all); APPS and PRUNED_APPS\n"
		"default to $BENCH_SEARCH_APPS and $BENCH_SEARCH_PRUNED_APPS, else 1 and 20.\n");
	exit(2);
}

static unsigned env_count(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static int selected(const struct opts *o, const char *name)
{
	size_t len = strlen(name);

	if (!o->only_models)
		return 1;
	for (const char *p = o->only_models; (p = strstr(p, name)); p += len)
		if ((p == o->only_models || p[-1] == ',') && (p[len] == ',' || p[len] == 0))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .apps = env_count("BENCH_SEARCH_APPS", 1),
			  .pruned_apps = env_count("BENCH_SEARCH_PRUNED_APPS", 20),
			  .trials = 3, .services = 100, .margin = 0.25, .timeout = 600 };
	struct tally tallies[NMODELS][NSTRATEGIES];
	struct truth *truths;
	unsigned napps;
	char dir[4096];
	int c, r = 0, core_seed, failed = 0;

	while ((c = getopt(argc, argv, "a:p:n:t:m:c:T:v")) != -1) {
		switch (c) {
		case 'a': o.apps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'p': o.pruned_apps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': o.services = strtoul(optarg, NULL, 10); break;
		case 't': o.trials = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': o.only_models = optarg; break;
		case 'c': o.extra = optarg; break;
		case 'T': o.timeout = strtod(optarg, NULL); break;
		case 'v': o.verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 2 || o.services == 0 || o.trials == 0 || !(o.timeout > 0))
		usage();
	napps = o.apps > o.pruned_apps ? o.apps : o.pruned_apps;
	truths = calloc(napps ? napps : 1, sizeof(*truths));
	if (!truths)
		return 1;
	for (unsigned k = 0; k < napps; k++)
		if ((r = truth_make(&truths[k], 1 + k, &o)) < 0) {
			fprintf(stderr, "bench_search: cannot generate application %u: %s\n", k, strerror(-r));
			return 1;
		}
	if ((r = bench_setup(argv[optind + 1], dir, sizeof(dir))) < 0) {
		fprintf(stderr, "bench_search: cannot make a scratch directory: %s\n", strerror(-r));
		bench_cleanup();
		return 1;
	}
	/* A core that takes a schedule seed gets one: runs repeat exactly. */
	core_seed = bench_accepts(argv[optind], dir, "seed = 1;") == 1;
	memset(tallies, 0, sizeof(tallies));
	header(&o);
	fflush(stdout);
	for (size_t m = 0; m < NMODELS && r == 0 && !bench_interrupted(); m++) {
		if (!selected(&o, models[m].name))
			continue;
		r = bench_model(argv[optind], dir, &models[m], truths, &o, core_seed, tallies[m]);
		for (size_t s = 0; s < NSTRATEGIES && r == 0; s++) {
			row(models[m].name, strategies[s], &tallies[m][s]);
			failed |= tallies[m][s].failed != 0;
		}
		fflush(stdout);
	}
	bench_cleanup();
	for (unsigned k = 0; k < napps; k++)
		truth_free(&truths[k]);
	free(truths);
	if (r < 0)
		fprintf(stderr, "bench_search: %s\n", strerror(-r));
	if (bench_interrupted())
		return 130;
	return r < 0 || failed;
}
