/* kube_config.h - where the Kubernetes API is and how to prove who we are: a kubeconfig or the pod's service account. */
#ifndef TB_KUBE_CONFIG_H
#define TB_KUBE_CONFIG_H

#include <stddef.h>

/* A PEM blob: from a *-data field (base64-decoded) or read from a file. */
struct kube_blob {
	unsigned char *data;
	size_t len;
};

struct kube_creds {
	char *server;              /* "https://host:port", no trailing "/" */
	char *namespace;           /* the context's namespace, or NULL */
	struct kube_blob ca;       /* the cluster's CA, or empty: the system's */
	struct kube_blob cert, key;/* a client certificate and key, or empty */
	char *token;               /* a bearer token, or NULL */
	char *token_file;          /* re-read on a 401: service account tokens rotate */
	int insecure;              /* insecure-skip-tls-verify: refused unless allowed */
};

/*
 * Read the kubeconfig at path and the context named (NULL: its
 * current-context).  Paths in it are relative to its directory, as kubectl
 * takes them.  0, or -errno with err saying what is wrong and where.
 */
int kube_config_load(const char *path, const char *context, struct kube_creds *c,
		     char *err, size_t errlen);

/* The pod's own service account (KUBERNETES_SERVICE_HOST/PORT and the files
 * under dir, "/var/run/secrets/kubernetes.io/serviceaccount" in a pod). */
int kube_config_incluster(const char *dir, struct kube_creds *c, char *err, size_t errlen);

/* The kubeconfig kubectl would read: $KUBECONFIG (its first entry) or
 * ~/.kube/config, into buf; -ENOENT when neither is set. */
int kube_config_default_path(char *buf, size_t size);

void kube_creds_free(struct kube_creds *c);

#endif
