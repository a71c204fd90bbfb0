/* fake_metric.c - a metric plugin without measure(), for the loader's tests. */
#include <stdlib.h>
#include <throttlebot/plugin.h>

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	*state = NULL;
	return 0;
}

static void fini(void *state)
{
}

static size_t count(void *state)
{
	return 0;
}

static const struct tb_metric_value *describe(void *state, size_t i)
{
	return NULL;
}

TB_PLUGIN_DEFINE(tb_metric) = {
	.header = { TB_ABI_CURRENT, TB_KIND_METRIC, "fake_nomeasure", "a metric that cannot measure",
		    "1", NULL },
	.init = init,
	.fini = fini,
	.count = count,
	.describe = describe,
};
