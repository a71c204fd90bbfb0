/* kube_config.c - where the Kubernetes API is and how to prove who we are: a kubeconfig or the pod's service account. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <yaml.h>
#include "kube_config.h"
#include "small_file.h"

/* A kubeconfig is a few KiB; certificates and tokens, a few more. */
#define KUBE_FILE_MAX (1u << 20)

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* The whole of a regular file, NUL-terminated, at most KUBE_FILE_MAX. */
static int read_file(const char *path, struct kube_blob *b)
{
	char *data;
	int r = tb_read_small_file(path, KUBE_FILE_MAX, &data, &b->len, NULL);

	if (r == 0)
		b->data = (unsigned char *)data;
	return r;
}

/* ------------------------------------------------------------------------ */
/* The few shapes of a kubeconfig we read, over libyaml's document tree.      */

static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *member(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(d, yaml_document_get_node(d, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *member_text(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	return scalar(d, member(d, map, key));
}

/* The `what` (cluster, user, context) of the entry named name in list key. */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *key, const char *what,
			  const char *name)
{
	yaml_node_t *list = member(d, root, key);

	if (!list || list->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(d, *i);
		const char *n = member_text(d, e, "name");

		if (n && !strcmp(n, name))
			return member(d, e, what);
	}
	return NULL;
}

static int decode_base64(const char *text, struct kube_blob *b)
{
	gnutls_datum_t in = { (unsigned char *)text, (unsigned)strlen(text) }, out = { NULL, 0 };

	if (gnutls_base64_decode2(&in, &out) < 0)
		return -EINVAL;
	b->data = malloc(out.size + 1);
	if (b->data) {
		memcpy(b->data, out.data, out.size);
		b->data[out.size] = '\0';
		b->len = out.size;
	}
	gnutls_free(out.data);
	return b->data ? 0 : -ENOMEM;
}

/* A path as kubectl takes it: relative to the kubeconfig's directory. */
static char *resolve(const char *dir, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	return asprintf(&out, "%s/%s", dir, path) < 0 ? NULL : out;
}

/* PEM material given inline (key-data, base64) or by file (key). */
static int blob(yaml_document_t *d, yaml_node_t *map, const char *key, const char *dir,
		struct kube_blob *b, char *err, size_t errlen)
{
	char data_key[64];
	const char *text, *path;
	char *full;
	int r;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	if ((text = member_text(d, map, data_key))) {
		r = decode_base64(text, b);
		return r < 0 ? fail(err, errlen, r, "%s is not base64", data_key) : 0;
	}
	if (!(path = member_text(d, map, key)))
		return 0;
	if (!(full = resolve(dir, path)))
		return -ENOMEM;
	r = read_file(full, b);
	if (r < 0)
		fail(err, errlen, r, "%s %s: %s", key, full, strerror(-r));
	free(full);
	return r;
}

static int dup_into(char **dst, const char *src)
{
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* The server's URL without its trailing slashes. */
static int set_server(struct kube_creds *c, const char *server, char *err, size_t errlen)
{
	size_t n;

	if (!server || strncmp(server, "https://", 8) || strlen(server) <= 8 ||
	    strpbrk(server, " \t\r\n"))
		return fail(err, errlen, -EINVAL, "the cluster's server must be an https:// URL (got %s)",
			    server ? server : "none");
	if (dup_into(&c->server, server) < 0)
		return -ENOMEM;
	for (n = strlen(c->server); n > 8 && c->server[n - 1] == '/'; n--)
		c->server[n - 1] = '\0';
	return 0;
}

static int load_context(yaml_document_t *d, yaml_node_t *root, const char *dir, const char *want,
			struct kube_creds *c, char *err, size_t errlen)
{
	const char *name = want ? want : member_text(d, root, "current-context");
	yaml_node_t *ctx, *cluster, *user;
	const char *cname, *uname, *v;
	int r;

	if (!name || !*name)
		return fail(err, errlen, -EINVAL, "no context named and no current-context");
	if (!(ctx = named(d, root, "contexts", "context", name)))
		return fail(err, errlen, -ENOENT, "no context '%s'", name);
	cname = member_text(d, ctx, "cluster");
	uname = member_text(d, ctx, "user");
	if (!cname || !(cluster = named(d, root, "clusters", "cluster", cname)))
		return fail(err, errlen, -ENOENT, "context '%s': no cluster '%s'", name,
			    cname ? cname : "");
	if ((r = set_server(c, member_text(d, cluster, "server"), err, errlen)) < 0 ||
	    (r = dup_into(&c->namespace, member_text(d, ctx, "namespace"))) < 0 ||
	    (r = blob(d, cluster, "certificate-authority", dir, &c->ca, err, errlen)) < 0)
		return r;
	v = member_text(d, cluster, "insecure-skip-tls-verify");
	c->insecure = v && !strcmp(v, "true");
	user = uname ? named(d, root, "users", "user", uname) : NULL;
	if (!user)
		return fail(err, errlen, -ENOENT, "context '%s': no user '%s'", name, uname ? uname : "");
	if (member(d, user, "exec") || member(d, user, "auth-provider"))
		return fail(err, errlen, -EOPNOTSUPP, "user '%s' authenticates through a plugin "
			    "(exec/auth-provider), which ThrottleBot does not run: give it a token or "
			    "a client certificate", uname);
	if ((r = dup_into(&c->token, member_text(d, user, "token"))) < 0 ||
	    (r = blob(d, user, "client-certificate", dir, &c->cert, err, errlen)) < 0 ||
	    (r = blob(d, user, "client-key", dir, &c->key, err, errlen)) < 0)
		return r;
	if ((v = member_text(d, user, "tokenFile")) && !(c->token_file = resolve(dir, v)))
		return -ENOMEM;
	if (!c->cert.data != !c->key.data)
		return fail(err, errlen, -EINVAL, "user '%s': a client certificate needs its key", uname);
	return 0;
}

int kube_config_load(const char *path, const char *context, struct kube_creds *c,
		     char *err, size_t errlen)
{
	struct kube_blob text = { 0 };
	yaml_parser_t parser;
	yaml_document_t doc;
	char *copy, *dir;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = read_file(path, &text)) < 0)
		return fail(err, errlen, r, "%s: %s", path, strerror(-r));
	if (!yaml_parser_initialize(&parser)) {
		free(text.data);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, text.data, text.len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = fail(err, errlen, -EINVAL, "%s:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		free(text.data);
		return r;
	}
	copy = strdup(path);
	dir = copy ? dirname(copy) : NULL;
	if (!dir) {
		r = -ENOMEM;
	} else if (!yaml_document_get_root_node(&doc)) {
		r = fail(err, errlen, -EINVAL, "%s: empty", path);
	} else {
		char why[512] = "";

		r = load_context(&doc, yaml_document_get_root_node(&doc), dir, context, c, why, sizeof(why));
		if (r < 0)
			fail(err, errlen, r, "%s: %s", path, why[0] ? why : strerror(-r));
	}
	free(copy);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	free(text.data);
	if (r < 0)
		kube_creds_free(c);
	return r;
}

int kube_config_incluster(const char *dir, struct kube_creds *c, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	struct kube_blob ns = { 0 };
	char *server = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	if (!host || !*host || !port || !*port)
		return fail(err, errlen, -ENOENT, "not in a pod: KUBERNETES_SERVICE_HOST/PORT unset");
	/* An IPv6 service address is written in brackets in a URL. */
	if (asprintf(&server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0)
		return -ENOMEM;
	r = set_server(c, server, err, errlen);
	free(server);
	if (r == 0 && asprintf(&c->token_file, "%s/token", dir) < 0)
		r = -ENOMEM;
	if (r == 0) {
		struct kube_blob token = { 0 };
		char ca[4096];

		snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
		r = read_file(c->token_file, &token);
		c->token = (char *)token.data;
		if (r == 0)
			r = read_file(ca, &c->ca);
		if (r < 0)
			fail(err, errlen, r, "the service account under %s: %s", dir, strerror(-r));
	}
	if (r == 0) {
		char nsp[4096];

		snprintf(nsp, sizeof(nsp), "%s/namespace", dir);
		if (read_file(nsp, &ns) == 0)
			c->namespace = (char *)ns.data;
	}
	if (r < 0)
		kube_creds_free(c);
	return r;
}

int kube_config_default_path(char *buf, size_t size)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	int n;

	if (env && *env) {
		size_t len = strcspn(env, ":");

		n = snprintf(buf, size, "%.*s", (int)len, env);
	} else if (home && *home) {
		n = snprintf(buf, size, "%s/.kube/config", home);
	} else {
		return -ENOENT;
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void kube_creds_free(struct kube_creds *c)
{
	free(c->server);
	free(c->namespace);
	free(c->ca.data);
	free(c->cert.data);
	if (c->key.data)
		explicit_bzero(c->key.data, c->key.len);
	free(c->key.data);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	memset(c, 0, sizeof(*c));
}
