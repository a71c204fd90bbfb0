/* host.c - the services ThrottleBot hands each plugin instance: log, clock, configuration, journal. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "conf.h"
#include "instance.h"
#include "inventory.h"
#include "journal.h"
#include "log.h"
#include "settings.h"

volatile sig_atomic_t tb_cancelled;

static const char *const reserved_keys[] = { "plugin", "name", NULL };

static struct tb_instance *self(const struct tb_host *h)
{
	return h->host_private;
}

static void host_log(const struct tb_host *h, enum tb_log_level level, const char *fmt, ...)
{
	struct tb_instance *in = self(h);
	va_list ap;

	if (level == TB_LOG_ERROR && in && !in->first_error[0]) {
		va_start(ap, fmt);
		vsnprintf(in->first_error, sizeof(in->first_error), fmt, ap);
		va_end(ap);
	}
	va_start(ap, fmt);
	tb_vlog(level, h->plugin_name, fmt, ap);
	va_end(ap);
}

static double host_now(const struct tb_host *h)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static config_setting_t *member(const struct tb_config *c, const char *key)
{
	return c && key ? config_setting_get_member((const config_setting_t *)c, key) : NULL;
}

static int wrong_type(const struct tb_host *h, config_setting_t *s, const char *want)
{
	tb_conf_error(s, "%s: '%s' must be %s", h->plugin_name, config_setting_name(s), want);
	return -EINVAL;
}

static int is_num(const config_setting_t *s)
{
	int t = config_setting_type(s);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static double num(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
							   : (double)config_setting_get_int64(s);
}

static int get_string(const struct tb_host *h, const struct tb_config *c, const char *key,
		      const char **out)
{
	config_setting_t *s = member(c, key);

	if (!s)
		return -ENOENT;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return wrong_type(h, s, "a string");
	*out = config_setting_get_string(s);
	return 0;
}

static int get_int(const struct tb_host *h, const struct tb_config *c, const char *key,
		   long long *out)
{
	config_setting_t *s = member(c, key);

	if (!s)
		return -ENOENT;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return wrong_type(h, s, "an integer");
	*out = config_setting_get_int64(s);
	return 0;
}

static int get_number(const struct tb_host *h, const struct tb_config *c, const char *key,
		      double *out)
{
	config_setting_t *s = member(c, key);

	if (!s)
		return -ENOENT;
	if (!is_num(s))
		return wrong_type(h, s, "a number");
	*out = num(s);
	return 0;
}

static int get_bool(const struct tb_host *h, const struct tb_config *c, const char *key, int *out)
{
	config_setting_t *s = member(c, key);

	if (!s)
		return -ENOENT;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return wrong_type(h, s, "true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

static int get_count(const struct tb_host *h, const struct tb_config *c, const char *key)
{
	config_setting_t *s = member(c, key);

	if (!s)
		return -ENOENT;
	if (!config_setting_is_aggregate(s))
		return wrong_type(h, s, "a list");
	return config_setting_length(s);
}

static config_setting_t *element(const struct tb_config *c, const char *key, int i)
{
	config_setting_t *s = member(c, key);

	return s && config_setting_is_aggregate(s) ? config_setting_get_elem(s, (unsigned)i) : NULL;
}

static int get_string_at(const struct tb_host *h, const struct tb_config *c, const char *key,
			 int i, const char **out)
{
	config_setting_t *e = element(c, key, i);

	if (!e)
		return -ENOENT;
	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return wrong_type(h, e, "a string");
	*out = config_setting_get_string(e);
	return 0;
}

static int get_number_at(const struct tb_host *h, const struct tb_config *c, const char *key,
			 int i, double *out)
{
	config_setting_t *e = element(c, key, i);

	if (!e)
		return -ENOENT;
	if (!is_num(e))
		return wrong_type(h, e, "a number");
	*out = num(e);
	return 0;
}

static const struct tb_config *get_group(const struct tb_host *h, const struct tb_config *c,
					 const char *key, int i)
{
	config_setting_t *s = i < 0 ? member(c, key) : element(c, key, i);

	return s && config_setting_is_group(s) ? (const struct tb_config *)s : NULL;
}

static int check_group(const struct tb_host *h, const struct tb_config *c,
		       const struct tb_setting_spec *spec)
{
	return c ? tb_settings_check((const config_setting_t *)c, spec, NULL) : 0;
}

static int config_error(const struct tb_host *h, const struct tb_config *c, const char *key,
			const char *fmt, ...)
{
	config_setting_t *s = member(c, key);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return tb_conf_error(s ? s : (config_setting_t *)c, "%s: %s", h->plugin_name, msg);
}

static long remember(const struct tb_host *h, const char *target, const char *saved)
{
	struct tb_instance *in = self(h);

	if (!in->journal)
		return -ENOTCONN;
	return tb_journal_add(in->journal, tb_kind_name(in->lib.header->kind),
			      in->lib.header->name, in->lib.path, target, saved);
}

static int forget(const struct tb_host *h, long handle)
{
	struct tb_instance *in = self(h);

	return in->journal ? tb_journal_done(in->journal, handle) : -ENOTCONN;
}

/* An orchestrator built before 1.2 hands a target that ends before key. */
static int add_service(const struct tb_host *h, struct tb_inventory *inv, const char *service,
		       const struct tb_target *t)
{
	struct tb_target old;

	if (t && TB_ABI_VERSION_MINOR(self(h)->lib.header->abi) < 2) {
		memset(&old, 0, sizeof(old));
		memcpy(&old, t, offsetof(struct tb_target, key));
		t = &old;
	}
	return tb_inventory_add(h, inv, service, t);
}

static int add_agent(const struct tb_host *h, struct tb_inventory *inv, const char *node,
		     const char *url)
{
	int r = tb_inventory_add_agent(inv, node, url);

	if (r == -EINVAL)
		TB_LOG(h, TB_LOG_WARNING, "agent of node '%s' at '%s' refused: not a node name and "
		       "an https://host:port address", node ? node : "(none)", url ? url : "(none)");
	return r;
}

static int cancelled(const struct tb_host *h)
{
	return tb_cancelled;
}

void tb_instance_bind(struct tb_instance *in, struct tb_journal *journal)
{
	struct tb_host *h = &in->host;

	memset(h, 0, sizeof(*h));
	h->abi = TB_ABI_CURRENT;
	h->plugin_name = in->name;
	h->log = host_log;
	h->now = host_now;
	h->get_string = get_string;
	h->get_int = get_int;
	h->get_number = get_number;
	h->get_bool = get_bool;
	h->get_count = get_count;
	h->get_string_at = get_string_at;
	h->get_number_at = get_number_at;
	h->get_group = get_group;
	h->check_group = check_group;
	h->config_error = config_error;
	h->add_service = add_service;
	h->remember = remember;
	h->forget = forget;
	h->cancelled = cancelled;
	h->host_private = in;
	h->add_agent = add_agent;
	in->journal = journal;
}

int tb_instance_load(struct tb_instance *in, const char *plugin, const char *name,
		     unsigned kind, config_setting_t *group, const char *plugin_dir)
{
	char why[2048];
	int r;

	memset(in, 0, sizeof(*in));
	in->name = strdup(name ? name : plugin);
	if (!in->name)
		return -ENOMEM;
	in->group = group;
	r = tb_plugin_find(plugin, kind, plugin_dir, &in->lib, why, sizeof(why));
	if (r < 0) {
		config_setting_t *at = group ? config_setting_get_member(group, "plugin") : NULL;

		if (at || group)
			tb_conf_error(at ? at : group, "%s", why);
		else
			tb_error("%s", why);
		return r;
	}
	tb_instance_bind(in, NULL);
	return 0;
}

int tb_instance_check_settings(struct tb_instance *in)
{
	if (!in->group)
		return 0;
	return tb_settings_check(in->group, in->lib.header->settings, reserved_keys);
}

void tb_instance_unload(struct tb_instance *in)
{
	tb_plugin_unload(&in->lib);
	free(in->name);
	in->name = NULL;
}
