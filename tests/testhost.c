/* testhost.c - run a plugin descriptor in-process, with real host services, for unit tests. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "settings.h"
#include "testhost.h"

int tb_test_plugin_open(struct tb_test_plugin *t, const void *descriptor, const char *config_text)
{
	const struct tb_plugin_header *h = descriptor;
	static const char *const reserved[] = { "plugin", "name", NULL };

	memset(t, 0, sizeof(*t));
	config_init(&t->cfg);
	t->in.name = strdup(h->name);
	t->in.lib.header = h;
	t->in.lib.path = strdup("(linked)");
	if (config_text) {
		if (!config_read_string(&t->cfg, config_text)) {
			fprintf(stderr, "test config:%d: %s\n", config_error_line(&t->cfg),
				config_error_text(&t->cfg));
			return -EINVAL;
		}
		t->in.group = config_root_setting(&t->cfg);
		if (tb_settings_check(t->in.group, h->settings, reserved) < 0)
			return -EINVAL;
	}
	tb_instance_bind(&t->in, NULL);
	return 0;
}

const struct tb_config *tb_test_plugin_config(struct tb_test_plugin *t)
{
	return (const struct tb_config *)t->in.group;
}

void tb_test_plugin_close(struct tb_test_plugin *t)
{
	free(t->in.name);
	free(t->in.lib.path);
	config_destroy(&t->cfg);
}

int tb_test_init(const void *descriptor, const char *config_text)
{
	const struct tb_plugin_header *h = descriptor;
	struct tb_test_plugin t;
	tb_init_fn init = NULL;
	tb_fini_fn fini = NULL;
	void *state = NULL;
	int r;

	switch (h->kind) {
	case TB_KIND_ORCHESTRATOR:
		init = ((const struct tb_orchestrator *)h)->init;
		fini = ((const struct tb_orchestrator *)h)->fini;
		break;
	case TB_KIND_THROTTLER:
		init = ((const struct tb_throttler *)h)->init;
		fini = ((const struct tb_throttler *)h)->fini;
		break;
	case TB_KIND_METRIC:
		init = ((const struct tb_metric *)h)->init;
		fini = ((const struct tb_metric *)h)->fini;
		break;
	default:
		return -EINVAL;
	}
	r = tb_test_plugin_open(&t, descriptor, config_text);
	if (r == 0)
		r = init(&t.in.host, tb_test_plugin_config(&t), &state);
	if (r == 0)
		fini(state);
	tb_test_plugin_close(&t);
	return r;
}

int tb_test_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = system(cmd);
	return r == -1 ? -1 : WEXITSTATUS(r);
}

int tb_test_is_root(void)
{
	return geteuid() == 0 && access("/sys/fs/cgroup", W_OK) == 0;
}

char tb_test_last_log[4096];

void tb_test_capture_log(const struct tb_host *h, enum tb_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tb_test_last_log, sizeof(tb_test_last_log), fmt, ap);
	va_end(ap);
	if (level <= TB_LOG_WARNING)
		fprintf(stderr, "%s: %s\n", h->plugin_name, tb_test_last_log);
}
