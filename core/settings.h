/* settings.h - check a configuration group against a table of known keys and types. */
#ifndef TB_SETTINGS_H
#define TB_SETTINGS_H

#include <libconfig.h>
#include <throttlebot/plugin.h>

/* Every member of group must be in spec (or in the NULL-terminated reserved
 * list), of its type; required keys must be there.  Errors as file:line. */
int tb_settings_check(const config_setting_t *group, const struct tb_setting_spec *spec,
		      const char *const *reserved);

#endif
