/* fuzz_agent_request.c - libFuzzer target for the agent's request bodies (hostile, from the network): any body, no crash, only checked fields out. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "agent_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the resolver and the logs rely on: NUL-terminated, printable ASCII. */
static void printable(const char *s, size_t size, int may_be_empty)
{
	size_t n = strnlen(s, size);

	if (n == size || (n == 0 && !may_be_empty))
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			abort();
}

static void accepted(const struct tb_agent_request *rq, enum tb_agent_body what, double max_lease)
{
	if (what == TB_AGENT_BODY_RENEW) {
		if (rq->lease < 0 || rq->lease > max_lease)
			abort();
		return;
	}
	printable(rq->kind, sizeof(rq->kind), 0);
	printable(rq->id, sizeof(rq->id), 0);
	printable(rq->throttler, sizeof(rq->throttler), 0);
	if (what == TB_AGENT_BODY_ALLOCATION)
		return;
	if (*rq->handle && !tb_agent_is_handle(rq->handle, strlen(rq->handle)))
		abort();
	if (!(rq->lease > 0 && rq->lease <= max_lease) || !isfinite(rq->value))
		abort();
	if ((rq->op == TB_AGENT_STRESS && !(rq->value >= 0 && rq->value < 1)) ||
	    (rq->op == TB_AGENT_ALLOCATE && !(rq->value > 0)) ||
	    (rq->op == TB_AGENT_PRIORITIZE && !(rq->value > 1)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the endpoint; the rest is the body, as the agent gets it. */
	enum tb_agent_body what = size ? (enum tb_agent_body)(data[0] % 3) : TB_AGENT_BODY_CHANGE;
	const char *body = size ? (const char *)data + 1 : "";
	size_t len = size ? size - 1 : 0;
	struct tb_agent_request rq;
	char why[1024];

	why[0] = '\0';
	if (tb_agent_request_parse(body, len, what, 120, &rq, why, sizeof(why)) == 0)
		accepted(&rq, what, 120);
	else if (!why[0] || strnlen(why, sizeof(why)) == sizeof(why))
		abort();   /* a refusal always says why */
	return 0;
}
