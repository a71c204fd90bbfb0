/* agent_request.h - a request body as the agent takes it: parsed and checked into a plain struct, no I/O. */
#ifndef TB_AGENT_REQUEST_H
#define TB_AGENT_REQUEST_H

#include <stddef.h>

#define TB_AGENT_HANDLE_LEN 32          /* hex digits of a handle */
#define TB_AGENT_ID_MAX 80              /* a target's id as given */
#define TB_AGENT_NAME_MAX 63            /* a throttler's instance name */

/* What a POST /v1/throttles asks for. */
enum tb_agent_op {
	TB_AGENT_STRESS,       /* "stress": apply() */
	TB_AGENT_ALLOCATE,     /* "allocate": allocate() to that amount */
	TB_AGENT_PRIORITIZE,   /* "prioritize": prioritize() by that factor */
};

/* Which body is expected: each names the fields it requires. */
enum tb_agent_body {
	TB_AGENT_BODY_CHANGE,      /* POST /v1/throttles: target, throttler, one op, lease_seconds */
	TB_AGENT_BODY_ALLOCATION,  /* POST /v1/allocation: target, throttler */
	TB_AGENT_BODY_RENEW,       /* POST .../renew: lease_seconds, optional */
};

struct tb_agent_request {
	char kind[16];                       /* "pid" or "container" */
	char id[TB_AGENT_ID_MAX + 1];        /* printable; what it names is the resolver's to check */
	char throttler[TB_AGENT_NAME_MAX + 1];
	char handle[TB_AGENT_HANDLE_LEN + 1];   /* "" when the client chose none */
	enum tb_agent_op op;
	double value;                        /* the stress, amount or factor */
	double lease;                        /* seconds; 0 when not given (renew) */
};

int tb_agent_is_handle(const char *s, size_t len);

/*
 * Parse body (len bytes, not NUL-terminated; empty is {}) as the request
 * what expects, taking leases up to max_lease seconds.  0, or -EINVAL with
 * why saying which field is wrong.  Pure: no allocation survives it.
 */
int tb_agent_request_parse(const char *body, size_t len, enum tb_agent_body what,
			   double max_lease, struct tb_agent_request *out, char *why, size_t whylen);

#endif
