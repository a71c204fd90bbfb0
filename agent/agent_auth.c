/* agent_auth.c - who may talk to the agent: a bearer token compared in constant time, and/or a client certificate verified against a CA. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agent.h"
#include "small_file.h"
#include "log.h"

#define PEM_MAX (256 * 1024)
#define TOKEN_MIN 16

/* Read a whole small file; secret: nobody but its owner and group may read it. */
static int read_file(const char *path, int secret, char **out, size_t *len)
{
	struct stat st;
	int r = tb_read_small_file(path, PEM_MAX, out, len, &st);

	if (r < 0) {
		tb_error("%s: %s", path, r == -EINVAL ? "refused: not a regular file"
			 : r == -EFBIG ? "refused: too large" : strerror(-r));
		return r == -EIO || r == -ENOMEM ? r : -EACCES;
	}
	if (secret && (st.st_mode & 0007)) {
		tb_error("%s: refused: others may read it (chmod o-rwx)", path);
		free(*out);
		*out = NULL;
		return -EACCES;
	}
	return 0;
}

static int load_token(struct tb_agent *a, const char *path)
{
	char *tok;
	size_t len;
	int r = read_file(path, 1, &tok, &len);

	if (r < 0)
		return r;
	while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
		len--;
	if (len < TOKEN_MIN || memchr(tok, '\0', len)) {
		tb_error("%s: refused: a token is at least %d characters, on one line", path, TOKEN_MIN);
		r = -EINVAL;
	} else if (gnutls_hash_fast(GNUTLS_DIG_SHA256, tok, len, a->token_hash) < 0) {
		r = -EIO;
	} else {
		a->have_token = 1;
	}
	explicit_bzero(tok, len);
	free(tok);
	return r;
}

int tb_agent_auth_load(struct tb_agent *a)
{
	const struct tb_agent_conf *c = a->conf;
	int r;

	r = read_file(c->certificate, 0, &a->cert_pem, NULL);
	if (r == 0)
		r = read_file(c->key, 1, &a->key_pem, NULL);
	if (r == 0 && c->client_ca)
		r = read_file(c->client_ca, 0, &a->ca_pem, NULL);
	if (r == 0 && c->token_file)
		r = load_token(a, c->token_file);
	return r;
}

void tb_agent_auth_free(struct tb_agent *a)
{
	if (a->key_pem)
		explicit_bzero(a->key_pem, strlen(a->key_pem));
	free(a->cert_pem);
	free(a->key_pem);
	free(a->ca_pem);
	a->cert_pem = a->key_pem = a->ca_pem = NULL;
	explicit_bzero(a->token_hash, sizeof(a->token_hash));
}

/* Both sides hashed first: the comparison takes as long whatever the
 * length or the first differing byte of what was sent. */
static int token_ok(const struct tb_agent *a, const char *header)
{
	static const char bearer[] = "Bearer ";
	unsigned char got[32];
	unsigned diff = 0;

	if (!header || strncmp(header, bearer, sizeof(bearer) - 1))
		return 0;
	header += sizeof(bearer) - 1;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, header, strlen(header), got) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(got); i++)
		diff |= got[i] ^ a->token_hash[i];
	return diff == 0;
}

/* The TLS handshake asked for a certificate; this checks one came and
 * chains to client_ca (verify_peers checks signature, dates and usage). */
static int cert_ok(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
	unsigned int n = 0, status = 0;

	if (!s || !gnutls_certificate_get_peers(s, &n) || n == 0)
		return 0;
	return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

unsigned tb_agent_auth_check(const struct tb_agent *a, struct MHD_Connection *c)
{
	if (a->ca_pem && !cert_ok(c))
		return MHD_HTTP_FORBIDDEN;
	if (a->have_token &&
	    !token_ok(a, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
		return MHD_HTTP_UNAUTHORIZED;
	return 0;
}
