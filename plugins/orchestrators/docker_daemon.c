/* docker_daemon.c - the Docker engines an application runs on: where each is, how to trust it, which node it is. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "docker_daemon.h"

#define DEFAULT_HOST "unix:///var/run/docker.sock"

const struct tb_setting_spec dk_daemon_keys[] = {
	{ "host", TB_SETTING_STRING, 1, "the engine's address, unix:///path or tcp://host:port" },
	{ "node", TB_SETTING_STRING, 0, "the machine it runs on, as the agents know it (default: "
	  "this one)" },
	{ "tls_ca", TB_SETTING_STRING, 0, "PEM file of the CAs for the daemon's certificate" },
	{ "tls_cert", TB_SETTING_STRING, 0, "PEM file of our client certificate" },
	{ "tls_key", TB_SETTING_STRING, 0, "PEM file of its private key" },
	{ "tls_verify", TB_SETTING_BOOL, 0, "check the daemon's certificate and name (default true)" },
	{ "insecure", TB_SETTING_BOOL, 0, "allow plain HTTP to a tcp:// daemon (default false)" },
	{ NULL, 0, 0, NULL }
};

static int setting(const struct tb_host *h, const struct tb_config *cfg, const char *key, char **out)
{
	const char *s;
	int r = h->get_string(h, cfg, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!*s)
		return h->config_error(h, cfg, key, "'%s' must not be empty", key);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* A PEM file the client will read: say now, not at the first request. */
static int tls_file(const struct tb_host *h, const struct tb_config *cfg, const char *key,
		    const char *path)
{
	if (!path || access(path, R_OK) == 0)
		return 0;
	if (cfg)
		return h->config_error(h, cfg, key, "%s: %s", path, strerror(errno));
	TB_LOG(h, TB_LOG_ERROR, "%s (from DOCKER_CERT_PATH): %s", path, strerror(errno));
	return -EINVAL;
}

/* The Docker CLI's environment: DOCKER_TLS_VERIFY (any value) turns on TLS
 * with ca.pem, cert.pem and key.pem from DOCKER_CERT_PATH (else ~/.docker). */
static int tls_from_env(const struct tb_host *h, struct dk_daemon *d)
{
	const char *on = getenv("DOCKER_TLS_VERIFY"), *dir = getenv("DOCKER_CERT_PATH");
	const char *home = getenv("HOME");
	char path[1024];
	char **files[] = { &d->ca, &d->cert, &d->key };
	static const char *const names[] = { "ca.pem", "cert.pem", "key.pem" };

	if (!on || !*on)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (dir && *dir)
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		else
			snprintf(path, sizeof(path), "%s/.docker/%s", home ? home : "", names[i]);
		if (!(*files[i] = strdup(path)))
			return -ENOMEM;
		if (tls_file(h, NULL, names[i], *files[i]) < 0)
			return -EINVAL;
	}
	d->tls = 1;
	return 0;
}

/*
 * TLS from the tls_* keys, else (the group's own engine only) from the Docker
 * CLI's environment.  A tcp:// daemon without TLS is refused unless insecure
 * = true: whoever answers there names the containers, and so the cgroup
 * directories and network namespaces a root process writes to.
 */
static int read_tls(const struct tb_host *h, const struct tb_config *cfg, struct dk_daemon *d,
		    int use_env)
{
	int r, insecure = 0, from_config;

	d->tlsconf.verify = 1;
	if ((r = setting(h, cfg, "tls_ca", &d->ca)) < 0 || (r = setting(h, cfg, "tls_cert", &d->cert)) < 0 ||
	    (r = setting(h, cfg, "tls_key", &d->key)) < 0)
		return r;
	r = h->get_bool(h, cfg, "tls_verify", &d->tlsconf.verify);
	if (r < 0 && r != -ENOENT)
		return r;
	from_config = d->ca || d->cert || d->key || r == 0;
	r = h->get_bool(h, cfg, "insecure", &insecure);
	if (r < 0 && r != -ENOENT)
		return r;
	if (d->ep.socket[0]) {
		if (from_config)
			return h->config_error(h, cfg, d->ca ? "tls_ca" : d->cert ? "tls_cert" :
					       d->key ? "tls_key" : "tls_verify",
					       "TLS applies to a tcp:// host, not to %s", d->ep.display);
		return 0;    /* the Docker CLI, too, ignores its TLS variables there */
	}
	if (!d->cert != !d->key)
		return h->config_error(h, cfg, d->cert ? "tls_cert" : "tls_key",
				       "tls_cert and tls_key go together");
	if (from_config) {
		d->tls = 1;
		if ((r = tls_file(h, cfg, "tls_ca", d->ca)) < 0 ||
		    (r = tls_file(h, cfg, "tls_cert", d->cert)) < 0 ||
		    (r = tls_file(h, cfg, "tls_key", d->key)) < 0)
			return r;
	} else if (use_env && (r = tls_from_env(h, d)) < 0) {
		return r;
	}
	if (!d->tls && !insecure)
		return h->config_error(h, cfg, "host", "%s is plain HTTP: anyone who can reach or "
				       "intercept it would choose which cgroups and namespaces this "
				       "root process writes to.  Set tls_ca, tls_cert and tls_key (or "
				       "DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), or insecure = true",
				       d->ep.display);
	if (!d->tls)
		TB_LOG(h, TB_LOG_WARNING, "%s: plain HTTP (insecure = true): the daemon is not "
		       "authenticated, yet it names the cgroups and namespaces this root process "
		       "writes to", d->ep.display);
	else if (!d->tlsconf.verify)
		TB_LOG(h, TB_LOG_WARNING, "%s: TLS without checking the daemon's certificate "
		       "(tls_verify = false): whoever answers is trusted", d->ep.display);
	d->tlsconf.ca = d->ca;
	d->tlsconf.cert = d->cert;
	d->tlsconf.key = d->key;
	return 0;
}

/* One engine from cfg: an entry of "engines", or (own) the group itself. */
static int read_daemon(const struct tb_host *h, const struct tb_config *cfg, int own,
		       struct dk_daemon *d)
{
	const char *host = NULL, *from = "host setting";
	char err[512];
	int r = h->get_string(h, cfg, "host", &host);

	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT) {
		host = getenv("DOCKER_HOST");
		from = "DOCKER_HOST";
		if (!host || !*host)
			host = DEFAULT_HOST;
	}
	if (dk_parse_endpoint(host, &d->ep, err, sizeof(err)) < 0) {
		if (r == 0)
			return h->config_error(h, cfg, "host", "%s", err);
		TB_LOG(h, TB_LOG_ERROR, "%s (from %s)", err, from);
		return -EINVAL;
	}
	if (!own && (r = setting(h, cfg, "node", &d->node)) < 0)
		return r;
	/* A unix socket is an engine of this machine, whatever node says. */
	if (d->node && d->ep.socket[0])
		return h->config_error(h, cfg, "node", "%s is a unix socket, so on this machine: "
				       "leave out node", d->ep.display);
	return read_tls(h, cfg, d, own);
}

int dk_daemons_read(const struct tb_host *h, const struct tb_config *cfg, struct dk_daemon **out,
		    size_t *n)
{
	int count = h->get_count(h, cfg, "engines"), r = 0;

	*out = NULL;
	*n = 0;
	if (count < 0 && count != -ENOENT)
		return count;
	if (count == 0)
		return h->config_error(h, cfg, "engines", "'engines' is empty");
	if (count > 0 && h->get_count(h, cfg, "host") != -ENOENT)
		return h->config_error(h, cfg, "host", "give host or engines, not both");
	if (!(*out = calloc(count > 0 ? (size_t)count : 1, sizeof(**out))))
		return -ENOMEM;
	if (count < 0) {
		*n = 1;
		return read_daemon(h, cfg, 1, *out);
	}
	for (int i = 0; i < count && r == 0; i++) {
		const struct tb_config *e = h->get_group(h, cfg, "engines", i);

		if (!e)
			return h->config_error(h, cfg, "engines", "each entry of 'engines' is a group");
		(*n)++;
		if ((r = h->check_group(h, e, dk_daemon_keys)) == 0)
			r = read_daemon(h, e, 0, &(*out)[i]);
		/* Two engines on one node would leave the agents not knowing which. */
		for (int j = 0; r == 0 && j < i; j++)
			if (!(*out)[i].node == !(*out)[j].node &&
			    (!(*out)[i].node || !strcmp((*out)[i].node, (*out)[j].node)))
				r = h->config_error(h, e, "node", "two engines on node %s",
						    (*out)[i].node ? (*out)[i].node : "(this one)");
	}
	return r;
}

void dk_daemons_free(struct dk_daemon *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dk_client_free(d[i].cli);
		free(d[i].node);
		free(d[i].ca);
		free(d[i].cert);
		free(d[i].key);
	}
	free(d);
}

struct dk_daemon *dk_daemon_of(struct dk_daemon *d, size_t n, const char *node)
{
	for (size_t i = 0; i < n; i++)
		if (!d[i].node == !node && (!node || !strcmp(d[i].node, node)))
			return &d[i];
	return NULL;
}
