/* progress.c - the "trial i/N, ETA" line: redrawn in place on a terminal, one line per trial otherwise. */
#define _GNU_SOURCE
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "progress.h"

static int line_shown;

static void clear_line(void)
{
	if (line_shown) {
		fputs("\r\033[K", stderr);
		line_shown = 0;
	}
}

double tb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double tb_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tb_format_duration(double seconds, char *buf, unsigned long len)
{
	unsigned long s = seconds > 0 ? (unsigned long)(seconds + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

void tb_progress_start(struct tb_progress *p, unsigned long total)
{
	p->total = total;
	p->started = tb_now();
	p->tty = isatty(STDERR_FILENO);
	if (p->tty)
		tb_log_set_progress_clear(clear_line);
}

void tb_progress_update(struct tb_progress *p, unsigned index, const char *what)
{
	double elapsed = tb_now() - p->started;
	char el[32], eta[32] = "?";

	if (tb_verbosity < TB_LOG_INFO)
		return;
	tb_format_duration(elapsed, el, sizeof(el));
	if (index > 1 && p->total >= index)
		tb_format_duration(elapsed / (index - 1) * (double)(p->total - index + 1), eta,
				   sizeof(eta));
	if (p->tty) {
		clear_line();
		fprintf(stderr, "[trial %u/%lu] %3lu%%  %-40.40s elapsed %s  ETA %s", index, p->total,
			p->total ? 100ul * (index - 1) / p->total : 0, what, el, eta);
		line_shown = 1;
	} else {
		fprintf(stderr, "[trial %u/%lu] %s (elapsed %s, ETA %s)\n", index, p->total, what, el,
			eta);
	}
	fflush(stderr);
}

void tb_progress_done(struct tb_progress *p)
{
	if (p->tty) {
		clear_line();
		tb_log_set_progress_clear(NULL);
	}
}
