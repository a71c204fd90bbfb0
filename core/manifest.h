/* manifest.h - run.json: which configuration, seed and services a run's output directory belongs to. */
#ifndef TB_MANIFEST_H
#define TB_MANIFEST_H

#include <jansson.h>
#include "run.h"

/* The configuration as parsed (included files in), without the keys that
 * change nothing measured (output_dir, seed, report_top, trial_seconds). */
json_t *tb_manifest_effective_config(const struct tb_conf *c);
/* "fnv1a64:<16 hex digits>" of it; 0 or -ENOMEM. */
int tb_manifest_hash(const json_t *effective, char *out, size_t len);
/* Write output_dir/run.json (atomically): before the first trial, and with
 * finished set once the schedule is done.  started: the run's wall-clock
 * start, seconds since the epoch.  0 or -errno. */
int tb_manifest_write(const struct tb_run *run, double started, int finished);

/* Read dir/run.json after checking dir and the file as output dirs are
 * checked (tb_outdir_check); 0 or -errno, the reason logged. */
int tb_manifest_load(const char *dir, json_t **m);
const char *tb_manifest_config(const json_t *m);
double tb_manifest_started(const json_t *m);
int tb_manifest_finished(const json_t *m);
/* Refuse (-EINVAL, said why) a configuration whose effective hash or given
 * seed differs from the run's; else give c the run's seed. */
int tb_manifest_match_conf(const json_t *m, const char *dir, struct tb_conf *c);
/* Refuse services other than the run's, or in another order. */
int tb_manifest_match_services(const json_t *m, const char *dir, const struct tb_run *run);

#endif
