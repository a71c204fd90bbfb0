/* strlist.h - a configuration list of strings as a NULL-terminated, owned argv-style array. */
#ifndef TB_METRICS_STRLIST_H
#define TB_METRICS_STRLIST_H

#include <throttlebot/plugin.h>

/* Copy list key of cfg into *out (NULL-terminated).  0, -ENOENT when the key
 * is absent (*out = NULL), -EINVAL (reported) or -ENOMEM. */
int tb_strlist_get(const struct tb_host *h, const struct tb_config *cfg, const char *key,
		   char ***out);
void tb_strlist_free(char **list);

#endif
