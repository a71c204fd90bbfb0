/* report_render_tool.c - render a report.json for the browser test, or write a synthetic one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "report.h"
#include "report_render.h"
#include "report_synth.h"

static int usage(const char *me)
{
	fprintf(stderr, "usage: %s REPORT.json OUT.html [OUT.csv]\n"
			"       %s --table REPORT.json\n"
			"       %s --synthetic NSERVICES OUT.json\n", me, me, me);
	return 2;
}

int main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *report;
	int err;

	if (argc == 4 && !strcmp(argv[1], "--synthetic")) {
		report = synth_report(strtoul(argv[2], NULL, 10));
		err = report && json_dump_file(report, argv[3], JSON_COMPACT) == 0 ? 0 : 1;
		json_decref(report);
		if (err)
			fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[3]);
		return err;
	}
	if (argc < 3 || argc > 4)
		return usage(argv[0]);
	report = json_load_file(argv[argc == 3 && !strcmp(argv[1], "--table") ? 2 : 1], 0, &jerr);
	if (!report) {
		fprintf(stderr, "%s:%d: %s\n", argv[1], jerr.line, jerr.text);
		return 1;
	}
	if (argc == 3 && !strcmp(argv[1], "--table")) {
		tb_report_print_table(stdout, report);
		json_decref(report);
		return 0;
	}
	err = tb_report_write_html(report, argv[2]);
	if (!err && argc == 4)
		err = tb_report_write_csv(report, argv[3]);
	json_decref(report);
	if (err) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-err));
		return 1;
	}
	return 0;
}
