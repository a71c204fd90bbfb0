/* report_render.h - render a run's report (the JSON the core writes) as HTML and CSV files. */
#ifndef TB_REPORT_RENDER_H
#define TB_REPORT_RENDER_H

#include <stdio.h>
#include <jansson.h>

/* One self-contained page (inline CSS and SVG, no scripts, no URLs), for
 * every metric: the MIMR, the other IMRs and undecided pairs, the services x
 * resources table and one plot per (service, resource) for the services
 * that matter and the top report_top, the other services one line each in
 * a fold, and the baseline.  0 or -errno. */
int tb_report_write_html(const json_t *report, const char *path);

/* One RFC 4180 row per trial: index, kind, services, throttlers, stress,
 * one column per metric, failed, error, verdict (of the trial's pair),
 * round, warmup, extra, one local_baseline:METRIC column per metric.  The
 * trials of the most important pairs come first (the order of the primary
 * metric's ranking), each pair's by index, then every other trial by
 * index.  0 or -errno. */
int tb_report_write_csv(const json_t *report, const char *path);

/* Both renderers write a temporary file next to path and rename it into
 * place, so a failed write never leaves a truncated report behind. */
struct tb_report_file {
	FILE *f;                       /* write the page here */
	char *buf;
	size_t len;
	int fd;
	char *path;
	char *tmp;
};
int tb_report_file_open(struct tb_report_file *rf, const char *path);
/* Writes, syncs and renames; 0 or -errno, and always releases rf. */
int tb_report_file_commit(struct tb_report_file *rf);
void tb_report_file_abort(struct tb_report_file *rf);

#endif
