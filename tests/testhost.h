/* testhost.h - run a plugin descriptor in-process, with real host services, for unit tests. */
#ifndef TB_TESTHOST_H
#define TB_TESTHOST_H

#include <libconfig.h>
#include "instance.h"

struct tb_test_plugin {
	config_t cfg;
	struct tb_instance in;
};

/* Bind header (a plugin's descriptor, linked into the test) to host services
 * and parse config_text ("key = value; ...", may be NULL) as its settings
 * group, checked against its settings table.  0 or -errno. */
int tb_test_plugin_open(struct tb_test_plugin *t, const void *descriptor, const char *config_text);
/* The settings group to hand to init(): NULL when config_text was NULL. */
const struct tb_config *tb_test_plugin_config(struct tb_test_plugin *t);
void tb_test_plugin_close(struct tb_test_plugin *t);

/* Check config_text and init() an orchestrator, throttler or metric with it,
 * then fini() it: what failed first (the settings check or init), or 0. */
int tb_test_init(const void *descriptor, const char *config_text);

/* A host log function that keeps the last message in tb_test_last_log (and
 * shows warnings and errors on stderr): set it as t->in.host.log to assert
 * on what a plugin said. */
extern char tb_test_last_log[4096];
void tb_test_capture_log(const struct tb_host *h, enum tb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Run a shell command (tests only), return its exit status. */
int tb_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 when running as root with real cgroups; tests that need it skip otherwise. */
int tb_test_is_root(void);

#endif
