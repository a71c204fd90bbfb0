/* tune.c - what clampdown and improve share: a change measured against interleaved baselines, a fresh ranking. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "report.h"
#include "stats.h"
#include "tune.h"

int tb_tune_make(struct tb_run *run, const struct tb_tune_step *steps, size_t nsteps,
		 struct tb_change *out)
{
	char err[1024];

	for (size_t i = 0; i < nsteps; i++) {
		int r = tb_change_make(run, steps[i].service, steps[i].throttler, TB_CHANGE_ALLOCATE,
				       steps[i].factor, &out[i], err, sizeof(err));

		if (r < 0) {
			tb_error("%s", err);
			tb_tune_undo(run, out, i);
			return r;
		}
	}
	return 0;
}

int tb_tune_undo(struct tb_run *run, struct tb_change *changes, size_t n)
{
	int first = 0;

	while (n-- > 0) {
		int r = tb_change_undo(run, &changes[n]);

		first = first ? first : r;
		tb_change_free(&changes[n]);
	}
	return first;
}

int tb_tune_keep(struct tb_run *run, struct tb_change *changes, size_t n)
{
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		int r = tb_change_keep(run, &changes[i]);

		first = first ? first : r;
		tb_change_free(&changes[i]);
	}
	return first;
}

int tb_tune_set_add(struct tb_run *run, struct tb_tune_set *set, const struct tb_tune_step *steps,
		    size_t nsteps)
{
	struct tb_tune_step *s = realloc(set->steps, (set->n + nsteps) * sizeof(*s));
	struct tb_change *c;
	int r;

	if (!s)
		return -ENOMEM;
	set->steps = s;
	c = realloc(set->changes, (set->n + nsteps) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	set->changes = c;
	r = tb_tune_make(run, steps, nsteps, &set->changes[set->n]);
	if (r == 0) {
		memcpy(&set->steps[set->n], steps, nsteps * sizeof(*steps));
		set->n += nsteps;
	}
	return r;
}

int tb_tune_set_end(struct tb_run *run, struct tb_tune_set *set, int keep)
{
	int r = keep ? tb_tune_keep(run, set->changes, set->n) : tb_tune_undo(run, set->changes, set->n);

	free(set->steps);
	free(set->changes);
	memset(set, 0, sizeof(*set));
	return r;
}

/* One trial of the host as it is (no throttle): the primary metric, or NAN. */
static int measure_once(struct tb_run *run, double *value)
{
	static const struct tb_experiment none = { 0, NULL };
	struct tb_trial_result t;
	int r = tb_run_trial(run, &none, (unsigned)run->results.ntrials + 1, &t);

	*value = r == 0 && !t.failed ? t.values[0] : NAN;
	free(t.throttles);
	free(t.values);
	free(t.error);
	return r == -EINTR || tb_cancelled ? -EINTR : 0;
}

/* The trial with the steps: made just before, undone just after. */
static int measure_with(struct tb_run *run, const struct tb_tune_step *steps, size_t nsteps,
			struct tb_change *made, double *value)
{
	int r = tb_tune_make(run, steps, nsteps, made), u;

	if (r < 0)
		return r;
	r = measure_once(run, value);
	u = tb_tune_undo(run, made, nsteps);
	return r ? r : u;
}

int tb_tune_compare(struct tb_run *run, const struct tb_tune_step *steps, size_t nsteps,
		    unsigned npairs, uint64_t *rng, struct tb_tune_effect *out)
{
	double sign = run->results.values[0].direction == TB_HIGHER_IS_BETTER ? -1 : 1;
	double *d = realloc(out->d, (out->n + npairs + 1) * sizeof(*d));
	struct tb_change *made = calloc(nsteps ? nsteps : 1, sizeof(*made));
	int r = 0;

	if (d)
		out->d = d;
	if (!d || !made) {
		free(made);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < npairs && r == 0; i++) {
		double base = NAN, with = NAN;

		if (tb_xorshift(rng) & 1) {
			r = measure_once(run, &base);
			if (r == 0)
				r = measure_with(run, steps, nsteps, made, &with);
		} else {
			r = measure_with(run, steps, nsteps, made, &with);
			if (r == 0)
				r = measure_once(run, &base);
		}
		if (r == 0 && isfinite(base) && isfinite(with) && base != 0)
			d[out->n++] = sign * (with / base - 1);
		else if (r == 0)
			out->failed++;
	}
	out->median = out->low = out->high = NAN;
	out->p_worse = out->p_better = 1;
	if (out->n > 0) {
		out->median = tb_median(d, out->n);
		tb_bootstrap_median(d, out->n, 1000, &out->low, &out->high);
		tb_signed_rank(d, out->n, &out->p_worse, &out->p_better);
	}
	free(made);
	return r;
}

void tb_tune_effect_free(struct tb_tune_effect *e)
{
	free(e->d);
	memset(e, 0, sizeof(*e));
}

/* Drop the trials of an earlier ranking; the value descriptions stay. */
static void results_clear(struct tb_results *res)
{
	for (size_t i = 0; i < res->ntrials; i++) {
		free(res->trials[i].throttles);
		free(res->trials[i].values);
		free(res->trials[i].error);
	}
	res->ntrials = 0;
}

int tb_tune_rank(struct tb_run *run, struct tb_ranking *out)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (run->results.ntrials > 0 || run->scheduled > 0) {
		/* The strategy starts over: it has seen the host as it was. */
		results_clear(&run->results);
		run->scheduled = run->extra_used = 0;
		run->round = 0;
		free(run->workdir);       /* made again by the run */
		run->workdir = NULL;
		tb_instance_fini(&run->strategy);
		r = tb_run_init_instance(&run->strategy, &run->space);
	}
	if (r == 0)
		r = tb_run_execute(run);
	tb_run_restore(run);
	if (r == 0)
		r = tb_rank(&run->results, 0, run->conf->alpha, run->conf->min_effect, out);
	return r;
}

unsigned tb_tune_pairs(const struct tb_run *run)
{
	unsigned n = 2 * run->conf->trials;

	return n < 6 ? 6 : n;
}

int tb_tune_fraction(const char *text, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!text)
		return -EINVAL;
	v = strtod(text, &end);
	if (end == text)
		return -EINVAL;
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end || !(v > lo && v < hi))
		return -EINVAL;
	*out = v;
	return 0;
}

int tb_tune_conf_number(const struct tb_run *run, const char *key, double def, double lo, double hi,
			double *out)
{
	config_setting_t *s = config_setting_get_member(config_root_setting(&run->conf->cfg), key);

	*out = def;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_FLOAT && config_setting_type(s) != CONFIG_TYPE_INT)
		return tb_conf_error(s, "%s must be a number", key);
	*out = config_setting_get_float(s);
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		*out = config_setting_get_int(s);
	if (!(*out > lo && *out < hi))
		return tb_conf_error(s, "%s must be more than %g and less than %g, not %g", key, lo, hi,
				     *out);
	return 0;
}

json_t *tb_tune_pair_json(const struct tb_run *run, size_t service, size_t throttler)
{
	const struct tb_throttler *ops = tb_throttler_ops(&run->throttlers[throttler]);

	return json_pack("{s:s, s:s, s:s, s:s}", "service", run->inv.services[service].name,
			 "resource", ops->resource, "throttler", run->throttlers[throttler].name,
			 "unit", ops->unit ? ops->unit : "");
}

/* NAN has no JSON: null. */
static json_t *number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *tb_tune_effect_json(const struct tb_tune_effect *e)
{
	return json_pack("{s:I, s:I, s:o, s:o, s:o, s:f, s:f}", "pairs", (json_int_t)e->n,
			 "failed", (json_int_t)e->failed, "change", number(e->median),
			 "change_low", number(e->low), "change_high", number(e->high),
			 "p_worse", e->p_worse, "p_better", e->p_better);
}

int tb_tune_write(const struct tb_run *run, const char *name, const json_t *j)
{
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/%s", run->conf->output_dir, name);
	r = j ? tb_report_write_json(j, path) : -ENOMEM;
	if (r < 0)
		tb_error("cannot write %s: %s", path, strerror(-r));
	return r;
}
