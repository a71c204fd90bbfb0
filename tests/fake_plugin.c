/* fake_plugin.c - deliberately good and bad plugin files for the loader's tests. */
#include <errno.h>
#include <stdlib.h>
#include <throttlebot/plugin.h>

#ifndef FAKE_MAJOR
#define FAKE_MAJOR TB_ABI_MAJOR
#endif

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	*state = NULL;
	return 0;
}

static void fini(void *state)
{
}

#ifndef FAKE_NO_SAVE
static int save(void *state, const struct tb_target *t, char *saved, size_t size)
{
	return -ENOTSUP;
}
#endif

static int apply(void *state, const struct tb_target *t, const char *saved, double stress)
{
	return -ENOTSUP;
}

static int restore(void *state, const char *saved)
{
	return 0;
}

#ifndef FAKE_NO_SYMBOL
TB_PLUGIN_DEFINE(tb_throttler) =
#else
const struct tb_throttler not_the_symbol =
#endif
{
	.header = { TB_ABI_VERSION(FAKE_MAJOR, 0), TB_KIND_THROTTLER, FAKE_NAME,
		    "a plugin for the loader's tests", "1", NULL },
	.resource = "test",
	.init = init,
	.fini = fini,
#ifndef FAKE_NO_SAVE
	.save = save,
#endif
	.apply = apply,
	.restore = restore,
};
