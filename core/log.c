/* log.c - leveled logging to standard error, with a plugin-name prefix. */
#define _GNU_SOURCE
#include <stdio.h>
#include "log.h"

int tb_verbosity = TB_LOG_INFO;
static void (*progress_clear)(void);

void tb_log_set_progress_clear(void (*clear)(void))
{
	progress_clear = clear;
}

void tb_vlog(enum tb_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "", "debug" };

	if ((int)level > tb_verbosity)
		return;
	if (progress_clear)
		progress_clear();
	fputs("throttlebot: ", stderr);
	if (prefix)
		fprintf(stderr, "%s: ", prefix);
	if (*names[level])
		fprintf(stderr, "%s: ", names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void tb_log(enum tb_log_level level, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tb_vlog(level, prefix, fmt, ap);
	va_end(ap);
}
