/* bench_scale.c - how `throttlebot run` scales with the number of services: trials, time, memory. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench_run.h"

/*
 * The sim application at each size, with each strategy, through the built
 * program: what a trial costs the core (the model itself evaluates in
 * microseconds), and the memory the run needs.  A run past the timeout is
 * stopped and reported as such.
 */

static const char *const strategies[] = { "exhaustive", "pruned" };
#define NSTRATEGIES 2
#define MAX_SIZES 8

struct cell {
	int ran, ok, timed_out;
	double seconds, per_trial;
	size_t trials;
	long rss_kb;
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_scale [-s SIZES] [-T TIMEOUT] THROTTLEBOT PLUGIN_PATH\n"
		"SIZES: services per application, comma separated (default 10,100,1000);\n"
		"TIMEOUT: seconds a run may take (default 600).\n");
	exit(2);
}

static void print_cell(size_t n, const char *strategy, const struct cell *c)
{
	printf("%8zu  %-10s  ", n, strategy);
	if (c->ok)
		printf("%8zu  %9.2f  %10.2f  %8.1f\n", c->trials, c->seconds, 1000 * c->per_trial,
		       c->rss_kb / 1024.0);
	else if (c->timed_out && c->trials)
		printf("%8zu  %9.1f  %10s  %8.1f  stopped at the timeout; wall / trials run: %.2f ms\n",
		       c->trials, c->seconds, "-", c->rss_kb / 1024.0, 1000 * c->seconds / c->trials);
	else
		printf("%8s  %9.1f  %10s  %8.1f  %s\n", "-", c->seconds, "-", c->rss_kb / 1024.0,
		       c->timed_out ? "stopped at the timeout" : "failed");
}

int main(int argc, char **argv)
{
	struct cell cells[MAX_SIZES][NSTRATEGIES];
	size_t sizes[MAX_SIZES], nsizes = 0;
	const char *list = "10,100,1000";
	double timeout = 600;
	char dir[4096];
	int c, r = 0, failed = 0;

	while ((c = getopt(argc, argv, "s:T:")) != -1) {
		switch (c) {
		case 's': list = optarg; break;
		case 'T': timeout = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (optind != argc - 2 || !(timeout > 0))
		usage();
	for (const char *p = list; *p && nsizes < MAX_SIZES;) {
		char *end;

		sizes[nsizes] = strtoul(p, &end, 10);
		if (end == p || sizes[nsizes] == 0)
			usage();
		nsizes++;
		p = *end == ',' ? end + 1 : end;
	}
	if ((r = bench_setup(argv[optind + 1], dir, sizeof(dir))) < 0) {
		fprintf(stderr, "bench_scale: cannot make a scratch directory: %s\n", strerror(-r));
		bench_cleanup();
		return 1;
	}
	memset(cells, 0, sizeof(cells));
	printf("`throttlebot run` on the sim application (5%% noise, 3 resources, 4 levels,\n"
	       "3 trials), one run per size and strategy, at most %.0f s each.  Wall time covers the\n"
	       "whole run, ranking and reports included; memory is the run's peak resident set.\n"
	       "Journal and reports in %s (TMPDIR chooses).\n\n", timeout, dir);
	printf("%8s  %-10s  %8s  %9s  %10s  %8s\n", "services", "strategy", "trials", "wall (s)",
	       "ms/trial", "peak MiB");
	fflush(stdout);
	for (size_t i = 0; i < nsizes && r == 0 && !bench_interrupted(); i++)
		for (size_t s = 0; s < NSTRATEGIES && r == 0 && !bench_interrupted(); s++) {
			struct bench_sim sim = {
				.strategy = strategies[s], .services = sizes[i], .app_seed = 1,
				.noise_seed = 1, .margin = 0.25, .trials = 3, .metric = "noise = 0.05;",
			};
			struct bench_result res;
			struct cell *cl = &cells[i][s];
			char name[64];

			snprintf(name, sizeof(name), "scale-%zu-%s", sizes[i], strategies[s]);
			if ((r = bench_run(argv[optind], dir, name, &sim, timeout, &res)) < 0)
				break;
			cl->ran = 1;
			cl->ok = res.ok;
			cl->timed_out = res.timed_out;
			cl->seconds = res.seconds;
			cl->rss_kb = res.usage.ru_maxrss;
			cl->trials = json_array_size(json_object_get(res.report, "trials"));
			if (!res.ok && !cl->trials)
				cl->trials = res.progress;
			if (res.ok)
				cl->per_trial = cl->trials ? res.seconds / cl->trials : NAN;
			else if (!res.timed_out)
				failed = 1;
			bench_result_free(&res);
			print_cell(sizes[i], strategies[s], cl);
			fflush(stdout);
		}
	bench_cleanup();
	if (r < 0)
		fprintf(stderr, "bench_scale: %s\n", strerror(-r));
	/* The core's cost per trial, largest against smallest application. */
	if (nsizes > 1) {
		printf("\n");
		for (size_t s = 0; s < NSTRATEGIES; s++) {
			const struct cell *a = &cells[0][s], *b = &cells[nsizes - 1][s];

			if (a->ok && b->ok)
				printf("%-10s  time per trial at %zu services / at %zu: %.1f\n", strategies[s],
				       sizes[nsizes - 1], sizes[0], b->per_trial / a->per_trial);
			else
				printf("%-10s  time per trial at %zu services / at %zu: - (a run did not finish)\n",
				       strategies[s], sizes[nsizes - 1], sizes[0]);
		}
	}
	if (bench_interrupted())
		return 130;
	return r < 0 || failed;
}
