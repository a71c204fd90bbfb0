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
