/* kube_parse.c - turn Kubernetes pod lists into services, containers and agents, without network I/O. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kube_parse.h"

static const char *text(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *path_text(const json_t *o, const char *a, const char *b)
{
	return text(json_object_get(o, a), b);
}

/* A DNS-1123 name (or label value) we are willing to copy: it is printed,
 * joined into keys with '/' and sent back in URLs. */
static int copy_name(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n == 0 || n >= size || n != strspn(src, "abcdefghijklmnopqrstuvwxyz"
						     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._"))
		return -EINVAL;
	memcpy(dst, src, n + 1);
	return 0;
}

static int condition_true(const json_t *pod, const char *type)
{
	const json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
	size_t i;
	json_t *c;

	json_array_foreach(conds, i, c)
		if (!strcmp(text(c, "type") ? text(c, "type") : "", type))
			return !strcmp(text(c, "status") ? text(c, "status") : "", "True");
	return 0;
}

int kube_pod_ready(const json_t *pod)
{
	const char *phase = path_text(pod, "status", "phase");

	return phase && !strcmp(phase, "Running") && condition_true(pod, "Ready") &&
	       !json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp");
}

/* The workload that owns the pod, as people name it. */
static int owner_name(const json_t *pod, char *out, size_t size)
{
	const json_t *meta = json_object_get(pod, "metadata"), *refs = json_object_get(meta, "ownerReferences");
	const char *hash = path_text(meta, "labels", "pod-template-hash");
	size_t i;
	json_t *ref;

	json_array_foreach(refs, i, ref) {
		const char *kind = text(ref, "kind"), *name = text(ref, "name");
		size_t n;

		if (!json_is_true(json_object_get(ref, "controller")) || !kind || !name)
			continue;
		if (copy_name(out, size, name) < 0)
			return -EINVAL;
		/* A ReplicaSet is its Deployment's name, "-", the template's hash. */
		n = strlen(out);
		if (!strcmp(kind, "ReplicaSet") && hash && n > strlen(hash) + 1 &&
		    !strcmp(out + n - strlen(hash), hash) && out[n - strlen(hash) - 1] == '-')
			out[n - strlen(hash) - 1] = '\0';
		return 0;
	}
	return copy_name(out, size, text(meta, "name"));
}

/* "containerd://<64 hex>": the runtime and the id, or -EINVAL. */
static int split_container_id(const char *full, char *runtime, size_t rsize, char *id)
{
	const char *sep = full ? strstr(full, "://") : NULL;
	const char *hex;

	if (!sep || (size_t)(sep - full) >= rsize || sep == full)
		return -EINVAL;
	hex = sep + 3;
	if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
		return -EINVAL;
	memcpy(runtime, full, (size_t)(sep - full));
	runtime[sep - full] = '\0';
	memcpy(id, hex, 65);
	return 0;
}

static int add(struct kube_container **out, size_t *n, const struct kube_container *c)
{
	struct kube_container *grown = realloc(*out, (*n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	*out = grown;
	grown[(*n)++] = *c;
	return 0;
}

static int by_place(const void *a, const void *b)
{
	const struct kube_container *x = a, *y = b;
	int r = strcmp(x->service, y->service);

	if (!r)
		r = strcmp(x->ns, y->ns);
	if (!r)
		r = strcmp(x->pod, y->pod);
	return r ? r : strcmp(x->name, y->name);
}

/* The pod's ready containers, all with the pod's service and place. */
static int take_pod(const json_t *pod, const struct kube_container *proto, struct kube_container **out,
		    size_t *n, struct kube_skipped *skipped)
{
	const json_t *statuses = json_object_get(json_object_get(pod, "status"), "containerStatuses");
	size_t i;
	json_t *s;

	json_array_foreach(statuses, i, s) {
		struct kube_container c = *proto;
		int r;

		if (!json_is_true(json_object_get(s, "ready")) ||
		    !json_object_get(json_object_get(s, "state"), "running"))
			continue;
		if (copy_name(c.name, sizeof(c.name), text(s, "name")) < 0 ||
		    split_container_id(text(s, "containerID"), c.runtime, sizeof(c.runtime), c.id) < 0) {
			skipped->bad_id++;
			continue;
		}
		if ((r = add(out, n, &c)) < 0)
			return r;
	}
	return 0;
}

int kube_select(const json_t *items, const char *group_label, struct kube_container **out,
		struct kube_skipped *skipped)
{
	size_t n = 0, i;
	json_t *pod;

	*out = NULL;
	memset(skipped, 0, sizeof(*skipped));
	if (!json_is_array(items))
		return -EINVAL;
	json_array_foreach(items, i, pod) {
		const json_t *meta = json_object_get(pod, "metadata");
		struct kube_container proto = { 0 };
		int r;

		if (!kube_pod_ready(pod)) {
			skipped->not_ready++;
			continue;
		}
		r = group_label ? copy_name(proto.service, sizeof(proto.service),
					    path_text(meta, "labels", group_label))
				: owner_name(pod, proto.service, sizeof(proto.service));
		if (r < 0) {
			skipped->no_group++;
			continue;
		}
		if (copy_name(proto.ns, sizeof(proto.ns), text(meta, "namespace")) < 0 ||
		    copy_name(proto.pod, sizeof(proto.pod), text(meta, "name")) < 0 ||
		    copy_name(proto.uid, sizeof(proto.uid), text(meta, "uid")) < 0 ||
		    copy_name(proto.node, sizeof(proto.node), path_text(pod, "spec", "nodeName")) < 0) {
			skipped->bad_id++;
			continue;
		}
		if ((r = take_pod(pod, &proto, out, &n, skipped)) < 0) {
			free(*out);
			*out = NULL;
			return r;
		}
	}
	if (n > 1)
		qsort(*out, n, sizeof(**out), by_place);
	return (int)n;
}

void kube_key(const struct kube_container *c, char *out, size_t size)
{
	snprintf(out, size, "%s/%s/%s/%s", c->ns, c->pod, c->uid, c->id);
}

int kube_parse_key(const char *key, struct kube_container *c)
{
	char copy[4 * KUBE_NAME_MAX], *parts[4], *save = NULL, *p;
	int n = 0;

	memset(c, 0, sizeof(*c));
	if (!key || strlen(key) >= sizeof(copy))
		return -EINVAL;
	strcpy(copy, key);
	for (p = strtok_r(copy, "/", &save); p && n < 4; p = strtok_r(NULL, "/", &save))
		parts[n++] = p;
	if (n != 4 || p || copy_name(c->ns, sizeof(c->ns), parts[0]) < 0 ||
	    copy_name(c->pod, sizeof(c->pod), parts[1]) < 0 ||
	    copy_name(c->uid, sizeof(c->uid), parts[2]) < 0 ||
	    strlen(parts[3]) != 64 || strspn(parts[3], "0123456789abcdef") != 64)
		return -EINVAL;
	memcpy(c->id, parts[3], 65);
	return 0;
}

int kube_same_container(const json_t *pod, const struct kube_container *c)
{
	const json_t *statuses = json_object_get(json_object_get(pod, "status"), "containerStatuses");
	const char *uid = path_text(pod, "metadata", "uid");
	size_t i;
	json_t *s;

	if (!uid || strcmp(uid, c->uid) || !kube_pod_ready(pod))
		return 0;
	json_array_foreach(statuses, i, s) {
		char runtime[32], id[65];

		if (split_container_id(text(s, "containerID"), runtime, sizeof(runtime), id) == 0 &&
		    !strcmp(id, c->id))
			return json_is_true(json_object_get(s, "ready"));
	}
	return 0;
}

/* The port the agent's container names "https", as the DaemonSet declares it. */
static int https_port(const json_t *pod)
{
	const json_t *containers = json_object_get(json_object_get(pod, "spec"), "containers");
	size_t i, j;
	json_t *c, *p;

	json_array_foreach(containers, i, c) {
		json_array_foreach(json_object_get(c, "ports"), j, p) {
			json_int_t port = json_integer_value(json_object_get(p, "containerPort"));
			const char *name = text(p, "name");

			if (name && !strcmp(name, "https") && port > 0 && port < 65536)
				return (int)port;
		}
	}
	return 0;
}

int kube_agents(const json_t *items, struct kube_agent **out)
{
	size_t n = 0, i;
	json_t *pod;

	*out = NULL;
	json_array_foreach(items, i, pod) {
		struct kube_agent a = { 0 }, *grown;
		const char *ip = path_text(pod, "status", "podIP");

		if (!kube_pod_ready(pod) || copy_name(a.node, sizeof(a.node), path_text(pod, "spec", "nodeName")) < 0 ||
		    !ip || strlen(ip) >= sizeof(a.ip) || strspn(ip, "0123456789abcdef.:") != strlen(ip))
			continue;
		strcpy(a.ip, ip);
		a.port = https_port(pod);
		if (!(grown = realloc(*out, (n + 1) * sizeof(*grown)))) {
			free(*out);
			*out = NULL;
			return -ENOMEM;
		}
		*out = grown;
		grown[n++] = a;
	}
	return (int)n;
}
