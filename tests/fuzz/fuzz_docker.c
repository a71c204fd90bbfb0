/* fuzz_docker.c - libFuzzer target for the Docker Engine API answer parsers and the engine throttle record: no crash, only full ids and bounded paths. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "docker_parse.h"
#include "docker_record.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every container dk_select returns, through inspect and both cgroup drivers. */
static void containers(const json_t *root, const struct dk_selector *sel)
{
	static const struct dk_engine engines[] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0, 0, 1 },
						     { 1, 0, 1 }, { 0, 1, 0 } };
	struct dk_container *c = NULL;
	char dir[512], err[256];
	int n = dk_select(root, sel, &c);

	if (n < 0 && n != -EPROTO && n != -EBADMSG && n != -ENOMEM)
		abort();
	for (int i = 0; i < n; i++) {
		if (!dk_valid_id(c[i].id) || !c[i].service[0])
			abort();
		dk_parse_inspect(root, &c[i], err, sizeof(err));
		for (size_t e = 0; e < sizeof(engines) / sizeof(engines[0]); e++)
			if (dk_cgroup_dir(&engines[e], "/sys/fs/cgroup/cpu", &c[i], dir,
					  sizeof(dir)) == 0 && strlen(dir) >= sizeof(dir))
				abort();
	}
	free(c);
}

/* A record read back is one that would be written again the same. */
static void record(const char *text)
{
	struct dk_record r;
	char again[8192], err[256];

	if (dk_record_parse(text, &r, err, sizeof(err)) < 0)
		return;
	if (!dk_valid_id(r.id) || dk_record_format(&r, again, sizeof(again), err, sizeof(err)) < 0 ||
	    dk_record_parse(again, &r, err, sizeof(err)) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const labels[] = { "tier=web", "role" };
	static const char *const patterns[] = { "web*", "db_[0-9]" };
	const struct dk_selector by_project = { "tbtest", NULL, 0, NULL, 0, NULL };
	const struct dk_selector by_label = { NULL, labels, 2, patterns, 2, "role" };
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	struct dk_container one = { .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" };
	struct dk_engine e;
	struct dk_endpoint ep;
	char err[256], *text;
	int major, minor;

	if (root) {
		if (dk_negotiate(root, &major, &minor, err, sizeof(err)) == 0 &&
		    (major < DK_API_OURS_MAJOR ||
		     (major == DK_API_OURS_MAJOR && minor < DK_API_OLDEST_MINOR)))
			abort();
		dk_parse_info(root, &e, err, sizeof(err));
		dk_error_message(root);
		dk_parse_inspect(root, &one, err, sizeof(err));
		containers(root, &by_project);
		containers(root, &by_label);
		json_decref(root);
	}
	/* /proc/PID/net/dev, DOCKER_HOST and the journal's records are outside text too. */
	text = fuzz_string(data, size);
	record(text);
	dk_net_has_iface(text, "eth0");
	if (dk_parse_endpoint(text, &ep, err, sizeof(err)) == 0 && !ep.base[0])
		abort();
	free(text);
	return 0;
}
