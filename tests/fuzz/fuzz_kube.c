/* fuzz_kube.c - libFuzzer target for the Kubernetes parsers: any pod list or kubeconfig, no crash, only names we can use. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "fuzz_file.h"
#include "kube_config.h"
#include "kube_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A key made of what was taken must read back as the same container. */
static void check(const struct kube_container *c)
{
	struct kube_container back;
	char key[4 * KUBE_NAME_MAX + 64];

	if (!c->service[0] || !c->node[0] || strlen(c->id) != 64 || strchr(c->pod, '/'))
		abort();
	kube_key(c, key, sizeof(key));
	if (kube_parse_key(key, &back) < 0 || strcmp(back.pod, c->pod) || strcmp(back.id, c->id))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	struct kube_container *c = NULL, parsed;
	struct kube_skipped skipped;
	struct kube_agent *agents = NULL;
	struct kube_creds creds;
	char err[512], *text;
	int n;

	if (root) {
		const json_t *items = json_object_get(root, "items");

		for (int by_owner = 0; by_owner < 2; by_owner++) {
			n = kube_select(items, by_owner ? NULL : "app.kubernetes.io/name", &c, &skipped);
			for (int i = 0; i < n; i++) {
				check(&c[i]);
				kube_same_container(root, &c[i]);
			}
			free(c);
		}
		free(agents);
		if (kube_agents(items, &agents) < 0 && agents)
			abort();
		free(agents);
		json_decref(root);
	}
	text = fuzz_string(data, size);
	kube_parse_key(text, &parsed);
	free(text);
	if (kube_config_load(fuzz_file(data, size), NULL, &creds, err, sizeof(err)) == 0) {
		if (!creds.server || strncmp(creds.server, "https://", 8))
			abort();
		kube_creds_free(&creds);
	}
	return 0;
}
