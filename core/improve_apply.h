/* improve_apply.h - an allocation in ready-to-apply forms: docker update lines, a compose deploy.resources snippet. */
#ifndef TB_IMPROVE_APPLY_H
#define TB_IMPROVE_APPLY_H

#include <jansson.h>
#include "run.h"

/*
 * From improve's report (its "allocation", the changed pairs): add
 * "docker_update" (command lines) and "compose" (YAML text, made by libyaml's
 * emitter) to it, write them to output_dir/improve-docker.sh and
 * improve-compose.yaml, and print them.  0 or -errno.
 */
int tb_improve_apply(const struct tb_run *run, json_t *report);

#endif
