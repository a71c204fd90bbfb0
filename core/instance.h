/* instance.h - a loaded plugin with its host services and per-instance state. */
#ifndef TB_INSTANCE_H
#define TB_INSTANCE_H

#include <libconfig.h>
#include <signal.h>
#include "plugin.h"

struct tb_journal;
struct tb_inventory;

struct tb_instance {
	struct tb_loaded lib;
	struct tb_host host;
	void *state;
	char *name;                   /* instance name, the log prefix */
	config_setting_t *group;      /* its configuration, NULL in restore mode */
	struct tb_journal *journal;   /* for remember()/forget() */
	int initialised;
	/* The first error the plugin logged since tb_instance_clear_error(): a
	 * failed trial reports it rather than "see above". */
	char first_error[512];
};

static inline void tb_instance_clear_error(struct tb_instance *in)
{
	in->first_error[0] = '\0';
}

/* Load plugin (kind) named in ref-like terms; errors name file:line of group. */
int tb_instance_load(struct tb_instance *in, const char *plugin, const char *name,
		     unsigned kind, config_setting_t *group, const char *plugin_dir);
/* Check the group against the plugin's settings table (unknown keys, types). */
int tb_instance_check_settings(struct tb_instance *in);
/* Fill the host services; journal may be NULL. */
void tb_instance_bind(struct tb_instance *in, struct tb_journal *journal);
void tb_instance_unload(struct tb_instance *in);
/* init() the plugin with its group (NULL in restore mode) and, for a strategy,
 * space; marks it initialised.  0 or the plugin's -errno. */
int tb_instance_init(struct tb_instance *in, const struct tb_space *space);
/* fini() it, if initialised. */
void tb_instance_fini(struct tb_instance *in);

/* The signal that asked the run to stop, or 0; plugins see it through
 * h->cancelled(). */
extern volatile sig_atomic_t tb_cancelled;

#endif
