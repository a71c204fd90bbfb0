/* report.h - report.json (the scripting contract, report.c) and the terminal table (report_table.c). */
#ifndef TB_REPORT_H
#define TB_REPORT_H

#include <jansson.h>
#include <stdio.h>
#include "rank.h"
#include "run.h"

/* rankings: one per ranked value (run->results.nvalues), the first primary. */
json_t *tb_report_build(const struct tb_run *run, const struct tb_ranking *rankings);
/* One trial as report.json and trials.jsonl hold it; rankings (NULL while
 * the run goes on) add the local baselines it was judged against. */
json_t *tb_report_trial(const struct tb_run *run, const struct tb_trial_result *t,
			const struct tb_ranking *rankings);
int tb_report_write_json(const json_t *report, const char *path);
/* The services x resources table of the primary metric, like the paper's Table 1. */
void tb_report_print_table(FILE *f, const json_t *report);

#endif
