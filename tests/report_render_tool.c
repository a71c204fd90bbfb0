/* report_render_tool.c - render a report.json to report.html (and report.csv) for the browser test. */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "report_render.h"

int main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *report;
	int err;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s REPORT.json OUT.html [OUT.csv]\n", argv[0]);
		return 2;
	}
	report = json_load_file(argv[1], 0, &jerr);
	if (!report) {
		fprintf(stderr, "%s:%d: %s\n", argv[1], jerr.line, jerr.text);
		return 1;
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
