/* kube_parse.h - turn Kubernetes pod lists into services, containers and agents, without network I/O. */
#ifndef TB_KUBE_PARSE_H
#define TB_KUBE_PARSE_H

#include <stddef.h>
#include <jansson.h>

/* Kubernetes names: DNS labels and subdomains, at most 253 characters. */
#define KUBE_NAME_MAX 254

/* One running, ready container of a selected pod. */
struct kube_container {
	char service[KUBE_NAME_MAX];
	char ns[KUBE_NAME_MAX], pod[KUBE_NAME_MAX], name[KUBE_NAME_MAX];
	char uid[64];                  /* the pod's */
	char node[KUBE_NAME_MAX];
	char runtime[32];              /* "containerd", "docker", "cri-o" */
	char id[65];                   /* the runtime's container id: 64 hex */
};

/* What a pod list held besides the containers taken. */
struct kube_skipped {
	unsigned not_ready;            /* pods not running and ready, or being deleted */
	unsigned no_group;             /* pods without the grouping label */
	unsigned bad_id;               /* containers whose id is not one we can name */
};

/*
 * The containers of the pods in items (a JSON array of Pods), each with its
 * service: the value of label group_label, or with group_label NULL, the
 * workload owning the pod (the Deployment behind a ReplicaSet, a
 * StatefulSet, a DaemonSet; else the pod itself).  *out is malloc()ed, sorted
 * by service, namespace, pod and container.  Returns the count or -errno.
 */
int kube_select(const json_t *items, const char *group_label, struct kube_container **out,
		struct kube_skipped *skipped);

/* The key of c as the host hands it back: "ns/pod/uid/container-id". */
void kube_key(const struct kube_container *c, char *out, size_t size);
/* Split a key made by kube_key(); -EINVAL on anything else. */
int kube_parse_key(const char *key, struct kube_container *c);

/*
 * Is the container a key names still the one discovered, in pod (a Pod)?
 * 1 yes; 0 the pod was replaced, or the container restarted or is not ready.
 */
int kube_same_container(const json_t *pod, const struct kube_container *c);

/* A node's agent: the ready pod of the agent DaemonSet on it. */
struct kube_agent {
	char node[KUBE_NAME_MAX];
	char ip[64];                   /* status.podIP */
	int port;                      /* its container port named "https", or 0 */
};
/* 1 if the pod is running, ready and not being deleted. */
int kube_pod_ready(const json_t *pod);
/* The ready agent pods in items; *out malloc()ed.  Returns the count or -errno. */
int kube_agents(const json_t *items, struct kube_agent **out);

#endif
