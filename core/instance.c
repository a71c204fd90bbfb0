/* instance.c - start and end a plugin instance, whatever its kind: the one switch over the descriptors' init and fini. */
#include <errno.h>
#include <stddef.h>
#include "instance.h"

/* Every descriptor holds init and fini at its own offset: the strategy's
 * init also takes the search space. */
int tb_instance_init(struct tb_instance *in, const struct tb_space *space)
{
	const struct tb_plugin_header *h = in->lib.header;
	const struct tb_config *cfg = (const struct tb_config *)in->group;
	int r;

	switch (h->kind) {
	case TB_KIND_ORCHESTRATOR:
		r = ((const struct tb_orchestrator *)h)->init(&in->host, cfg, &in->state);
		break;
	case TB_KIND_THROTTLER:
		r = ((const struct tb_throttler *)h)->init(&in->host, cfg, &in->state);
		break;
	case TB_KIND_METRIC:
		r = ((const struct tb_metric *)h)->init(&in->host, cfg, &in->state);
		break;
	case TB_KIND_STRATEGY:
		r = ((const struct tb_strategy *)h)->init(&in->host, cfg, space, &in->state);
		break;
	default:
		r = -EPROTO;      /* the loader refuses other kinds */
		break;
	}
	in->initialised = r == 0;
	return r;
}

void tb_instance_fini(struct tb_instance *in)
{
	const struct tb_plugin_header *h = in->lib.header;
	tb_fini_fn fini = NULL;

	if (!in->initialised)
		return;
	switch (h->kind) {
	case TB_KIND_ORCHESTRATOR: fini = ((const struct tb_orchestrator *)h)->fini; break;
	case TB_KIND_THROTTLER: fini = ((const struct tb_throttler *)h)->fini; break;
	case TB_KIND_METRIC: fini = ((const struct tb_metric *)h)->fini; break;
	case TB_KIND_STRATEGY: fini = ((const struct tb_strategy *)h)->fini; break;
	}
	if (fini)
		fini(in->state);
	in->state = NULL;
	in->initialised = 0;
}
