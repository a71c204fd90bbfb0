/* improve_apply.c - an allocation in ready-to-apply forms: docker update lines, a compose deploy.resources snippet. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "improve_apply.h"
#include "log.h"
#include "report_render.h"

/* The docker and compose name of a resource's limit; NULL: neither has one. */
static const char *limit_name(const char *resource, int compose)
{
	if (!strcmp(resource, "cpu"))
		return compose ? "cpus" : "--cpus";
	if (!strcmp(resource, "memory"))
		return compose ? "memory" : "--memory";
	return NULL;
}

static void format_amount(const char *resource, double v, char *buf, size_t len)
{
	if (!strcmp(resource, "memory"))
		snprintf(buf, len, "%.0f", v);         /* bytes */
	else
		snprintf(buf, len, "%.3f", v);
}

/* The changed entries of one service, after index i; the next service's first, or n. */
static size_t service_end(json_t *alloc, size_t i)
{
	const char *name = json_string_value(json_object_get(json_array_get(alloc, i), "service"));
	size_t n = json_array_size(alloc), j = i;

	while (j < n && !strcmp(name, json_string_value(json_object_get(json_array_get(alloc, j),
									  "service"))))
		j++;
	return j;
}

static int changed(json_t *a)
{
	return json_is_true(json_object_get(a, "changed"));
}

/* docker update can set cpus and memory; the rest is said in a comment. */
static json_t *docker_lines(json_t *alloc)
{
	json_t *lines = json_array();
	size_t n = json_array_size(alloc);

	for (size_t i = 0, end; i < n; i = end) {
		char *line = NULL, *grown;
		const char *service = json_string_value(json_object_get(json_array_get(alloc, i), "service"));

		end = service_end(alloc, i);
		for (size_t j = i; j < end; j++) {
			json_t *a = json_array_get(alloc, j);
			const char *res = json_string_value(json_object_get(a, "resource"));
			const char *flag = limit_name(res, 0);
			char v[64];

			if (!changed(a))
				continue;
			format_amount(res, json_number_value(json_object_get(a, "amount")), v, sizeof(v));
			if (!flag) {
				if (asprintf(&grown, "# %s: %s %s %s (docker update has no option for it)",
					     service, res, v, json_string_value(json_object_get(a, "unit"))) >= 0)
					json_array_append_new(lines, json_string(grown));
				free(grown);
				continue;
			}
			if (asprintf(&grown, "%s %s %s", line ? line : "docker update", flag, v) < 0)
				break;
			free(line);
			line = grown;
		}
		if (line && asprintf(&grown, "%s %s", line, service) >= 0) {
			json_array_append_new(lines, json_string(grown));
			free(grown);
		}
		free(line);
	}
	return lines;
}

static int scalar(yaml_emitter_t *e, const char *text)
{
	yaml_event_t ev;

	return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1,
					    YAML_ANY_SCALAR_STYLE) && yaml_emitter_emit(e, &ev);
}

static int map_start(yaml_emitter_t *e)
{
	yaml_event_t ev;

	return yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) &&
	       yaml_emitter_emit(e, &ev);
}

static int map_end(yaml_emitter_t *e)
{
	yaml_event_t ev;

	return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
}

/* One service: deploy.resources.limits for what compose can limit, the
 * rest under x-throttlebot-allocation (compose ignores x- keys). */
static int compose_service(yaml_emitter_t *e, json_t *alloc, size_t i, size_t end)
{
	int ok = 1, limits = 0, others = 0;

	for (size_t j = i; j < end; j++) {
		const char *res = json_string_value(json_object_get(json_array_get(alloc, j), "resource"));

		limits += changed(json_array_get(alloc, j)) && limit_name(res, 1) != NULL;
		others += changed(json_array_get(alloc, j)) && limit_name(res, 1) == NULL;
	}
	if (!limits && !others)
		return 1;
	ok = scalar(e, json_string_value(json_object_get(json_array_get(alloc, i), "service"))) &&
	     map_start(e);
	for (int pass = 0; ok && pass < 2; pass++) {
		if (pass == 0 && limits)
			ok = scalar(e, "deploy") && map_start(e) && scalar(e, "resources") && map_start(e) &&
			     scalar(e, "limits") && map_start(e);
		else if (pass == 1 && others)
			ok = scalar(e, "x-throttlebot-allocation") && map_start(e);
		else
			continue;
		for (size_t j = i; ok && j < end; j++) {
			json_t *a = json_array_get(alloc, j);
			const char *res = json_string_value(json_object_get(a, "resource"));
			char v[96];

			if (!changed(a) || (limit_name(res, 1) != NULL) == pass)
				continue;
			format_amount(res, json_number_value(json_object_get(a, "amount")), v, sizeof(v));
			if (pass == 1)
				snprintf(v + strlen(v), sizeof(v) - strlen(v), " %s",
					 json_string_value(json_object_get(a, "unit")));
			ok = scalar(e, pass == 0 ? limit_name(res, 1) : res) && scalar(e, v);
		}
		ok = ok && map_end(e) && (pass == 1 || (map_end(e) && map_end(e)));
	}
	return ok && map_end(e);
}

/* services: NAME: deploy: resources: limits: ..., by libyaml's emitter. */
static char *compose_text(json_t *alloc)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	char *buf = NULL;
	size_t len = 0, n = json_array_size(alloc);
	FILE *f = open_memstream(&buf, &len);
	int ok = f && yaml_emitter_initialize(&e);

	if (!ok) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	yaml_emitter_set_output_file(&e, f);
	yaml_emitter_set_unicode(&e, 1);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
	     yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	     yaml_emitter_emit(&e, &ev) && map_start(&e) && scalar(&e, "services") && map_start(&e);
	for (size_t i = 0, end; ok && i < n; i = end) {
		end = service_end(alloc, i);
		ok = compose_service(&e, alloc, i, end);
	}
	ok = ok && map_end(&e) && map_end(&e) && yaml_document_end_event_initialize(&ev, 1) &&
	     yaml_emitter_emit(&e, &ev) && yaml_stream_end_event_initialize(&ev) &&
	     yaml_emitter_emit(&e, &ev) && yaml_emitter_flush(&e);
	yaml_emitter_delete(&e);
	if (fclose(f) != 0 || !ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_text(const struct tb_run *run, const char *name, const char *text)
{
	struct tb_report_file rf;
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/%s", run->conf->output_dir, name);
	r = tb_report_file_open(&rf, path);
	if (r == 0) {
		fputs(text, rf.f);
		r = tb_report_file_commit(&rf);
	}
	if (r < 0)
		tb_error("cannot write %s: %s", path, strerror(-r));
	return r;
}

int tb_improve_apply(const struct tb_run *run, json_t *report)
{
	json_t *alloc = json_object_get(report, "allocation"), *lines = docker_lines(alloc), *l;
	char *yaml = compose_text(alloc), *sh = NULL;
	size_t i, len = 0;
	FILE *f = open_memstream(&sh, &len);
	int r = 0;

	if (!lines || !yaml || !f) {
		if (f)
			fclose(f);
		free(sh);
		free(yaml);
		json_decref(lines);
		return -ENOMEM;
	}
	fputs("#!/bin/sh\n# The allocation throttlebot improve found, for docker.\n", f);
	json_array_foreach(lines, i, l)
		fprintf(f, "%s\n", json_string_value(l));
	fclose(f);
	printf("Ready to apply (docker):\n%s\nReady to apply (compose):\n%s", sh, yaml);
	json_object_set_new(report, "docker_update", lines);
	json_object_set_new(report, "compose", json_string(yaml));
	r = write_text(run, "improve-docker.sh", sh);
	if (r == 0)
		r = write_text(run, "improve-compose.yaml", yaml);
	free(sh);
	free(yaml);
	return r;
}
