/* strlist.c - a configuration list of strings as a NULL-terminated, owned argv-style array. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "strlist.h"

int tb_strlist_get(const struct tb_host *h, const struct tb_config *cfg, const char *key,
		   char ***out)
{
	int n = h->get_count(h, cfg, key);
	char **list;

	*out = NULL;
	if (n < 0)
		return n;
	list = calloc((size_t)n + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *s;
		int r = h->get_string_at(h, cfg, key, i, &s);

		if (r == 0 && !(list[i] = strdup(s)))
			r = -ENOMEM;
		if (r < 0) {
			tb_strlist_free(list);
			return r;
		}
	}
	*out = list;
	return 0;
}

void tb_strlist_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
}
