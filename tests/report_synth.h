/* report_synth.h - a synthetic report.json of a large application, for the renderers' tests. */
#ifndef TB_REPORT_SYNTH_H
#define TB_REPORT_SYNTH_H

#include <stddef.h>
#include <jansson.h>

/* What the synthetic report holds: nservices (at least 20) x 3 throttlers
 * (cpu_quota/cpu, blkio/disk, tc/net), 4 stress levels, 3 trials per point,
 * its ranking in name order.  The pairs that matter are far from the top
 * of the name order so that only ordering by importance finds them. */
#define SYNTH_MIMR_SERVICE(n)      ((n) * 737 / 1000)   /* cpu */
#define SYNTH_RUNNER_UP_SERVICE(n) ((n) * 311 / 1000)   /* net, an IMR */
#define SYNTH_IMRS 5                                     /* the MIMR and runner-up among them */
#define SYNTH_UNDECIDED 3
#define SYNTH_PARADOXES 2

json_t *synth_report(size_t nservices);
/* "svc-0737" */
void synth_service_name(char *buf, size_t len, size_t i);

#endif
