/* plugin.h - find, check and dlopen plugins. */
#ifndef TB_CORE_PLUGIN_H
#define TB_CORE_PLUGIN_H

#include <throttlebot/plugin.h>

struct tb_loaded {
	char *path;
	void *dl;
	int fd;                    /* the checked file, open while loaded */
	const struct tb_plugin_header *header;
};

/* The directories searched, in order: $THROTTLEBOT_PLUGIN_PATH (colon
 * separated), plugin_dir (may be NULL), the built-in directory.  Returns the
 * count; free with tb_plugin_dirs_free. */
int tb_plugin_dirs(const char *plugin_dir, char ***dirs);
void tb_plugin_dirs_free(char **dirs, int n);

/*
 * Load the plugin file at path; kind 0 accepts any kind.  The file (symlinks
 * resolved) and every directory above it must be owned by root or the running
 * user and writable by nobody else (a sticky directory is accepted above the
 * plugin's own); what is loaded is the descriptor those checks were made on.
 * The descriptor must carry every member its kind requires.  On failure, why
 * holds "path: reason" and -errno is returned.
 */
int tb_plugin_load_file(const char *path, unsigned kind, struct tb_loaded *out,
			char *why, size_t whylen);

/* Find NAME.so in the search directories and load it as kind. */
int tb_plugin_find(const char *name, unsigned kind, const char *plugin_dir,
		   struct tb_loaded *out, char *why, size_t whylen);

void tb_plugin_unload(struct tb_loaded *p);

const char *tb_kind_name(unsigned kind);

/* A descriptor member appended in ABI 1.minor, or NULL when the plugin was
 * built against an older minor (its descriptor ends before the member). */
#define TB_SINCE(desc, minor, member) \
	(TB_ABI_VERSION_MINOR((desc)->header.abi) >= (minor) ? (desc)->member : NULL)

#endif
