/* busy.c - tb-busy: the webstack's busy service off the request path; it burns a share of one core and serves nobody. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "wsnet.h"

#define SLICE_S 0.010           /* one spin + sleep cycle */

static volatile uint64_t sink;  /* so the spinning is not optimised away */

int main(int argc, char **argv)
{
	struct ws_opts o = { .duty = 0.5, .max_seconds = 3600 };
	double deadline;
	uint64_t x = 1;

	if (ws_parse(argc, argv, &o, "tb-busy [--duty FRACTION] [--ready-file PATH] [--max-seconds S]") < 0)
		return 2;
	ws_signals();
	if (ws_ready("tb-busy", o.ready_file) < 0)
		return 1;
	fprintf(stderr, "tb-busy: %.0f%% of one core, for at most %g s\n", 100 * o.duty, o.max_seconds);
	deadline = ws_now() + o.max_seconds;
	while (!ws_stop && ws_now() < deadline) {
		double start = ws_now(), idle = SLICE_S * (1 - o.duty);
		struct timespec ts = { 0, (long)(idle * 1e9) };

		while (ws_now() - start < SLICE_S * o.duty) {
			for (int i = 0; i < 1000; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
			}
			sink = x;
		}
		if (idle > 0)
			nanosleep(&ts, NULL);
	}
	ws_unready(o.ready_file);
	return 0;
}
