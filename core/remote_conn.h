/* remote_conn.h - one kept-alive libcurl handle per agent, so that a process's requests to an agent reuse one TLS connection. */
#ifndef TB_REMOTE_CONN_H
#define TB_REMOTE_CONN_H

#include <curl/curl.h>

struct tb_conn;

/*
 * A handle for a request to the agent at url, at libcurl's defaults but for
 * the connection it keeps open from the request before; the caller has it
 * alone (other threads wait) until tb_conn_give().  *slot is NULL when no
 * handle could be kept (a fresh one, dropped after).  NULL: out of memory.
 */
CURL *tb_conn_take(const char *url, struct tb_conn **slot);
void tb_conn_give(CURL *c, struct tb_conn *slot);
/* Close every kept connection, when no request runs any more (the end of a
 * run, with the renewals stopped, or of a restore). */
void tb_conn_close_all(void);

#endif
