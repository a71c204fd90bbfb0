/* kubernetes.c - the "kubernetes" orchestrator: services and targets from the ready pods a label selector names. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <throttlebot/plugin.h>
#include "kube_api.h"
#include "kube_config.h"
#include "kube_parse.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define DEFAULT_GROUP_LABEL "app.kubernetes.io/name"
#define DEFAULT_AGENT_NAMESPACE "throttlebot"
#define DEFAULT_AGENT_SELECTOR "app.kubernetes.io/name=throttlebot-agent"
#define DEFAULT_AGENT_PORT 7443

struct kube {
	const struct tb_host *h;
	struct kube_creds creds;
	struct kube_client *cli;
	char *namespace, *selector, *group_label;   /* group_label NULL: by owner */
	char *agent_namespace, *agent_selector;
	unsigned page_size;
	int agent_port;
	double revive_timeout;
};

static const struct tb_setting_spec settings[] = {
	{ "kubeconfig", TB_SETTING_STRING, 0,
	  "kubeconfig file (default: the pod's service account inside a pod, else $KUBECONFIG, "
	  "else ~/.kube/config)" },
	{ "context", TB_SETTING_STRING, 0, "kubeconfig context (default its current-context)" },
	{ "namespace", TB_SETTING_STRING, 0, "namespace of the application (default the context's, "
	  "else \"default\")" },
	{ "selector", TB_SETTING_STRING, 1, "label selector of the application's pods, "
	  "\"app.kubernetes.io/part-of=shop\"" },
	{ "group_by", TB_SETTING_STRING, 0, "label whose value names each pod's service, or \"owner\" "
	  "for its Deployment/StatefulSet/DaemonSet (default " DEFAULT_GROUP_LABEL ")" },
	{ "agent_namespace", TB_SETTING_STRING, 0, "namespace of the agent DaemonSet (default "
	  DEFAULT_AGENT_NAMESPACE ")" },
	{ "agent_selector", TB_SETTING_STRING, 0, "label selector of the agent's pods (default "
	  DEFAULT_AGENT_SELECTOR ")" },
	{ "agent_port", TB_SETTING_INT, 0, "the agents' port when their pod names none \"https\" "
	  "(default 7443)" },
	{ "allow_insecure", TB_SETTING_BOOL, 0, "accept a kubeconfig's insecure-skip-tls-verify "
	  "(default false: refused)" },
	{ "page_size", TB_SETTING_INT, 0, "items per list request (default 500)" },
	{ "timeout", TB_SETTING_NUMBER, 0, "seconds to wait for each API request (default 10)" },
	{ "revive_timeout", TB_SETTING_NUMBER, 0, "seconds to wait for a pod whose container died in "
	  "a trial to be ready again (default 120)" },
	{ NULL, 0, 0, NULL }
};

static void kube_fini(void *state)
{
	struct kube *k = state;

	if (!k)
		return;
	kube_client_free(k->cli);
	kube_creds_free(&k->creds);
	free(k->namespace);
	free(k->selector);
	free(k->group_label);
	free(k->agent_namespace);
	free(k->agent_selector);
	free(k);
}

/* A string setting, or dflt (may be NULL) when absent; empty is refused. */
static int opt_string(struct kube *k, const struct tb_config *cfg, const char *key, const char *dflt,
		      char **out)
{
	const char *s = dflt;
	int r = cfg ? k->h->get_string(k->h, cfg, key, &s) : -ENOENT;

	if (r == -ENOENT)
		s = dflt;
	else if (r < 0)
		return r;
	else if (!*s)
		return k->h->config_error(k->h, cfg, key, "'%s' must not be empty", key);
	*out = s ? strdup(s) : NULL;
	return !s || *out ? 0 : -ENOMEM;
}

static int credentials(struct kube *k, const struct tb_config *cfg)
{
	const struct tb_host *h = k->h;
	const char *path = NULL, *context = NULL;
	char def[4096], err[1024] = "";
	int allow = 0, r;

	if ((r = h->get_string(h, cfg, "kubeconfig", &path)) < 0 && r != -ENOENT)
		return r;
	if ((r = h->get_string(h, cfg, "context", &context)) < 0 && r != -ENOENT)
		return r;
	if ((r = h->get_bool(h, cfg, "allow_insecure", &allow)) < 0 && r != -ENOENT)
		return r;
	if (!path && getenv("KUBERNETES_SERVICE_HOST"))
		r = kube_config_incluster(SA_DIR, &k->creds, err, sizeof(err));
	else if (!path && kube_config_default_path(def, sizeof(def)) < 0)
		return h->config_error(h, cfg, "kubeconfig", "no kubeconfig: set 'kubeconfig', "
				       "$KUBECONFIG or $HOME");
	else
		r = kube_config_load(path ? path : def, context, &k->creds, err, sizeof(err));
	if (r < 0)
		return h->config_error(h, cfg, path ? "kubeconfig" : NULL, "%s", err);
	if (k->creds.insecure && !allow)
		return h->config_error(h, cfg, "kubeconfig", "the cluster's certificate is not checked "
				       "(insecure-skip-tls-verify): anyone between us and it could name "
				       "the targets a root ThrottleBot throttles; set allow_insecure = "
				       "true to accept that");
	if (!k->creds.token && !k->creds.token_file && !k->creds.cert.data)
		return h->config_error(h, cfg, NULL, "no credentials for %s: the kubeconfig's user "
				       "has neither a token nor a client certificate", k->creds.server);
	return 0;
}

static int kube_init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct kube *k = calloc(1, sizeof(*k));
	long long page = 500, port = DEFAULT_AGENT_PORT;
	double timeout = 10;
	char *group = NULL;
	int r;

	if (!k)
		return -ENOMEM;
	k->h = h;
	*state = k;
	if (!cfg)              /* restore only: nothing of ours to undo */
		return 0;
	if ((r = credentials(k, cfg)) < 0 ||
	    (r = opt_string(k, cfg, "namespace", k->creds.namespace ? k->creds.namespace : "default",
			    &k->namespace)) < 0 ||
	    (r = opt_string(k, cfg, "selector", NULL, &k->selector)) < 0 ||
	    (r = opt_string(k, cfg, "group_by", DEFAULT_GROUP_LABEL, &group)) < 0 ||
	    (r = opt_string(k, cfg, "agent_namespace", DEFAULT_AGENT_NAMESPACE, &k->agent_namespace)) < 0 ||
	    (r = opt_string(k, cfg, "agent_selector", DEFAULT_AGENT_SELECTOR, &k->agent_selector)) < 0)
		return r;
	if (strcmp(group, "owner"))
		k->group_label = group;
	else
		free(group);
	if ((r = h->get_int(h, cfg, "page_size", &page)) < 0 && r != -ENOENT)
		return r;
	if (page < 1 || page > 10000)
		return h->config_error(h, cfg, "page_size", "page_size must be 1 to 10000");
	k->page_size = (unsigned)page;
	if ((r = h->get_int(h, cfg, "agent_port", &port)) < 0 && r != -ENOENT)
		return r;
	if (port < 1 || port > 65535)
		return h->config_error(h, cfg, "agent_port", "agent_port must be 1 to 65535");
	k->agent_port = (int)port;
	if ((r = h->get_number(h, cfg, "timeout", &timeout)) < 0 && r != -ENOENT)
		return r;
	if (!(timeout > 0 && timeout <= 600))
		return h->config_error(h, cfg, "timeout", "timeout must be in (0, 600] seconds");
	k->revive_timeout = 120;
	if ((r = h->get_number(h, cfg, "revive_timeout", &k->revive_timeout)) < 0 && r != -ENOENT)
		return r;
	if (!(k->revive_timeout > 0 && k->revive_timeout <= 3600))
		return h->config_error(h, cfg, "revive_timeout", "revive_timeout must be in (0, 3600] "
				       "seconds");
	return kube_client_new(&k->creds, timeout, &k->cli);
}

static int list_pods(struct kube *k, const char *ns, const char *selector, json_t **items)
{
	char path[512], query[2048], err[1024];
	char *esc = kube_escape(k->cli, selector);
	int r;

	if (!esc)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
	snprintf(query, sizeof(query), "labelSelector=%s", esc);
	free(esc);
	r = kube_list(k->cli, path, query, k->page_size, items, err, sizeof(err));
	if (r < 0)
		TB_LOG(k->h, TB_LOG_ERROR, "%s", err);
	return r;
}

/* The agent pod's address: the host's, since the DaemonSet runs on the host network. */
static void agent_url(const struct kube *k, const struct kube_agent *a, char *url, size_t size)
{
	int v6 = strchr(a->ip, ':') != NULL;

	snprintf(url, size, "https://%s%s%s:%d", v6 ? "[" : "", a->ip, v6 ? "]" : "",
		 a->port ? a->port : k->agent_port);
}

/* Declare the ready agent of each node the targets are on, and name the nodes without one. */
static int declare_agents(struct kube *k, struct tb_inventory *inv, const struct kube_container *c,
			  int n)
{
	struct kube_agent *agents = NULL;
	json_t *items = NULL;
	int na = list_pods(k, k->agent_namespace, k->agent_selector, &items) < 0 ? -1
		 : kube_agents(items, &agents), r = 0;

	json_decref(items);
	for (int i = 0; i < n && r == 0; i++) {
		const struct kube_agent *found = NULL;
		char url[128];

		if (i > 0 && !strcmp(c[i].node, c[i - 1].node))
			continue;
		for (int a = 0; a < na && !found; a++)
			if (!strcmp(agents[a].node, c[i].node))
				found = &agents[a];
		if (!found) {
			TB_LOG(k->h, TB_LOG_WARNING, "node %s runs %s but no ready agent (pods %s in "
			       "namespace %s): its targets cannot be throttled", c[i].node, c[i].pod,
			       k->agent_selector, k->agent_namespace);
			continue;
		}
		agent_url(k, found, url, sizeof(url));
		if (TB_ABI_VERSION_MINOR(k->h->abi) >= 3)
			r = k->h->add_agent(k->h, inv, found->node, url);
	}
	free(agents);
	return r;
}

static int kube_discover(void *state, struct tb_inventory *inv)
{
	struct kube *k = state;
	struct kube_container *c = NULL;
	struct kube_skipped skipped;
	json_t *items = NULL;
	int n, r;

	if ((r = list_pods(k, k->namespace, k->selector, &items)) < 0)
		return r;
	n = kube_select(items, k->group_label, &c, &skipped);
	json_decref(items);
	if (n < 0)
		return n;
	if (skipped.not_ready || skipped.no_group || skipped.bad_id)
		TB_LOG(k->h, TB_LOG_INFO, "left out: %u pods not ready, %u without label %s, %u "
		       "containers without a usable id", skipped.not_ready, skipped.no_group,
		       k->group_label ? k->group_label : "(owner)", skipped.bad_id);
	if (n == 0) {
		TB_LOG(k->h, TB_LOG_ERROR, "no ready pod matches %s in namespace %s", k->selector,
		       k->namespace);
		free(c);
		return -ENOENT;
	}
	for (int i = 0; i < n && r == 0; i++) {
		char id[3 * KUBE_NAME_MAX + 2], key[4 * KUBE_NAME_MAX + 64];
		struct tb_target t = { .id = id, .node = c[i].node, .key = key };

		snprintf(id, sizeof(id), "%s/%s/%s", c[i].ns, c[i].pod, c[i].name);
		kube_key(&c[i], key, sizeof(key));
		r = k->h->add_service(k->h, inv, c[i].service, &t);
	}
	if (r == 0)
		r = declare_agents(k, inv, c, n);
	free(c);
	return r;
}

/* The same pod (uid), and the same container still running and ready? */
static int kube_alive(void *state, const struct tb_target *t)
{
	struct kube *k = state;
	struct kube_container c;
	char path[1024], err[1024];
	json_t *pod;
	int r;

	if (kube_parse_key(t->key, &c) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", c.ns, c.pod);
	r = kube_get(k->cli, path, &pod, err, sizeof(err));
	if (r == -ENOENT)
		return 0;          /* deleted: rescheduled under another name, or gone */
	if (r < 0)
		return r;
	r = kube_same_container(pod, &c);
	json_decref(pod);
	return r;
}

/*
 * The kubelet restarts a container that died (an OOM kill in a trial): wait,
 * within revive_timeout, for its pod to be ready again, so that the next
 * trial measures the service and not its restart.  A pod deleted meanwhile
 * was replaced under another name: the discovery after this finds it.
 */
static int kube_revive(void *state, const struct tb_target *t)
{
	struct kube *k = state;
	struct kube_container c;
	char path[1024], err[1024] = "";
	double start = k->h->now(k->h);
	int r;

	if (kube_parse_key(t->key, &c) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", c.ns, c.pod);
	for (;;) {
		json_t *pod = NULL;
		struct timespec second = { 1, 0 };

		r = kube_get(k->cli, path, &pod, err, sizeof(err));
		r = r == -ENOENT ? 0 : r < 0 ? r : kube_pod_ready(pod) ? 0 : -EAGAIN;
		json_decref(pod);
		if (r != -EAGAIN && r != -EIO)
			break;
		if (k->h->cancelled(k->h))
			return -EINTR;
		if (k->h->now(k->h) - start >= k->revive_timeout) {
			TB_LOG(k->h, TB_LOG_ERROR, "pod %s/%s not ready again after %.0f s%s%s", c.ns,
			       c.pod, k->revive_timeout, *err ? ": " : "", err);
			return -ETIMEDOUT;
		}
		nanosleep(&second, NULL);
	}
	if (r == 0)
		TB_LOG(k->h, TB_LOG_INFO, "pod %s/%s ready again after %.1f s", c.ns, c.pod,
		       k->h->now(k->h) - start);
	return r;
}

TB_PLUGIN_DEFINE(tb_orchestrator) = {
	.header = { TB_ABI_CURRENT, TB_KIND_ORCHESTRATOR, "kubernetes",
		    "services from the ready pods of a Kubernetes namespace and label selector",
		    PACKAGE_VERSION, settings, 0 },
	.init = kube_init,
	.fini = kube_fini,
	.discover = kube_discover,
	.alive = kube_alive,
	.revive = kube_revive,
};
