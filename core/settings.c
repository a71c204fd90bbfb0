/* settings.c - check a configuration group against a table of known keys and types. */
#define _GNU_SOURCE
#include <string.h>
#include "conf.h"
#include "settings.h"

static const char *type_name(enum tb_setting_type t)
{
	switch (t) {
	case TB_SETTING_STRING: return "a string";
	case TB_SETTING_INT: return "an integer";
	case TB_SETTING_NUMBER: return "a number";
	case TB_SETTING_BOOL: return "true or false";
	case TB_SETTING_STRINGS: return "a list of strings [\"a\", \"b\"]";
	case TB_SETTING_NUMBERS: return "a list of numbers [1, 2]";
	case TB_SETTING_GROUP: return "a group { ... }";
	default: return "anything";
	}
}

static int is_number(const config_setting_t *s)
{
	int t = config_setting_type(s);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static int all_elements(const config_setting_t *s, int want_string)
{
	int i, n;

	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return 0;
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (want_string ? config_setting_type(e) != CONFIG_TYPE_STRING : !is_number(e))
			return 0;
	}
	return 1;
}

static int type_ok(const config_setting_t *s, enum tb_setting_type t)
{
	switch (t) {
	case TB_SETTING_STRING: return config_setting_type(s) == CONFIG_TYPE_STRING;
	case TB_SETTING_INT: {
		int ty = config_setting_type(s);
		return ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64;
	}
	case TB_SETTING_NUMBER: return is_number(s);
	case TB_SETTING_BOOL: return config_setting_type(s) == CONFIG_TYPE_BOOL;
	case TB_SETTING_STRINGS: return all_elements(s, 1);
	case TB_SETTING_NUMBERS: return all_elements(s, 0);
	case TB_SETTING_GROUP: return config_setting_is_group(s);
	default: return 1;
	}
}

static const struct tb_setting_spec *find(const struct tb_setting_spec *spec, const char *name)
{
	for (; spec && spec->name; spec++)
		if (!strcmp(spec->name, name))
			return spec;
	return NULL;
}

static int reserved_key(const char *const *reserved, const char *name)
{
	for (; reserved && *reserved; reserved++)
		if (!strcmp(*reserved, name))
			return 1;
	return 0;
}

int tb_settings_check(const config_setting_t *group, const struct tb_setting_spec *spec,
		      const char *const *reserved)
{
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const struct tb_setting_spec *k = find(spec, name);

		if (reserved_key(reserved, name))
			continue;
		if (!k)
			return tb_conf_error(s, "unknown key '%s'", name);
		if (!type_ok(s, k->type))
			return tb_conf_error(s, "'%s' must be %s", name, type_name(k->type));
	}
	for (; spec && spec->name; spec++)
		if (spec->required && !config_setting_get_member(group, spec->name))
			return tb_conf_error(group, "missing key '%s' (%s)", spec->name,
					     spec->doc ? spec->doc : type_name(spec->type));
	return 0;
}
