/* metric_run.c - run one trial of a built metric plugin (.so) with a config text; print its values. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testhost.h"

/*
 * metric_run PLUGIN.so CONFIG_TEXT WORKDIR INDEX [START END WALL_START]
 * The window, for an observing metric, is in the host's monotonic clock and
 * Unix time.  Prints "name value unit direction" lines, then "window START END
 * WALL_START"; exits 1 when the trial fails, 2 on a usage or load error.
 */
int main(int argc, char **argv)
{
	const struct tb_metric *m;
	struct tb_test_plugin t;
	struct tb_trial trial = { 0 };
	double *values;
	void *dl, *st = NULL;
	size_t n;
	int r;

	if (argc != 5 && argc != 8) {
		fprintf(stderr, "usage: %s PLUGIN.so CONFIG_TEXT WORKDIR INDEX [START END WALL_START]\n",
			argv[0]);
		return 2;
	}
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl || !(m = dlsym(dl, TB_PLUGIN_SYMBOL))) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
	if (m->header.kind != TB_KIND_METRIC || tb_test_plugin_open(&t, m, argv[2]) < 0)
		return 2;
	r = m->init(&t.in.host, tb_test_plugin_config(&t), &st);
	if (r < 0) {
		fprintf(stderr, "init: %s\n", strerror(-r));
		return 2;
	}
	trial.workdir = argv[3];
	trial.index = (unsigned)atoi(argv[4]);
	if (argc == 8) {
		trial.start = atof(argv[5]);
		trial.end = atof(argv[6]);
		trial.wall_start = atof(argv[7]);
	}
	n = m->count(st);
	values = calloc(n ? n : 1, sizeof(*values));
	r = values ? m->measure(st, &trial, values) : -1;
	if (r == 0) {
		for (size_t i = 0; i < n; i++) {
			const struct tb_metric_value *v = m->describe(st, i);

			printf("%s %.17g %s %s\n", v->name, values[i], v->unit,
			       v->direction == TB_HIGHER_IS_BETTER ? "higher" : "lower");
		}
		printf("window %.6f %.6f %.6f\n", trial.start, trial.end, trial.wall_start);
	} else {
		fprintf(stderr, "measure failed: %s\n", strerror(r < 0 ? -r : 1));
	}
	free(values);
	m->fini(st);
	tb_test_plugin_close(&t);
	dlclose(dl);
	return r == 0 ? 0 : 1;
}
