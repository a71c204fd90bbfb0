/* log.h - the host's logging, shared by the core and handed to plugins. */
#ifndef TB_LOG_H
#define TB_LOG_H

#include <stdarg.h>
#include <throttlebot/plugin.h>

extern int tb_verbosity;   /* TB_LOG_INFO by default; -v adds, -q removes */

void tb_vlog(enum tb_log_level level, const char *prefix, const char *fmt, va_list ap);
void tb_log(enum tb_log_level level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define tb_error(...) tb_log(TB_LOG_ERROR, NULL, __VA_ARGS__)
#define tb_warn(...) tb_log(TB_LOG_WARNING, NULL, __VA_ARGS__)
#define tb_info(...) tb_log(TB_LOG_INFO, NULL, __VA_ARGS__)
#define tb_debug(...) tb_log(TB_LOG_DEBUG, NULL, __VA_ARGS__)

/* Clears a progress line on the terminal before a log line is printed. */
void tb_log_set_progress_clear(void (*clear)(void));

#endif
