/* improve.c - give the bottleneck more, round by round, each step kept only if the application gains. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "improve.h"
#include "improve_apply.h"
#include "log.h"
#include "tune.h"

/* What is left unallocated of one resource. */
struct budget {
	const char *resource;
	double given, left;
};

struct improve {
	struct tb_run *run;
	double step;
	unsigned npairs;
	uint64_t rng;
	struct budget budget[TB_MAX_PLUGINS];
	size_t nbudget;
	struct tb_tune_set made;       /* the configured allocations, then each kept round */
	double *original;              /* per (service, throttler): before anything; NAN: unknown */
	unsigned char *changed;        /* per pair: set by the configuration or a round */
	unsigned char *tried;          /* per pair: its step did not help, or could not be made */
	json_t *rounds;
};

/* "50M", "2", "1.5Gi": decimal or binary multiples.  -EINVAL otherwise. */
static int parse_amount(const char *text, double *out)
{
	static const char prefixes[] = "kMGT";
	char *end;
	double v = strtod(text, &end);
	const char *p;

	if (end == text || !(v >= 0) || !isfinite(v))
		return -EINVAL;
	if (*end && (p = strchr(prefixes, *end == 'K' ? 'k' : *end)) != NULL) {
		int binary = end[1] == 'i';

		v *= pow(binary ? 1024 : 1000, (double)(p - prefixes + 1));
		end += 1 + binary;
	}
	*out = v;
	return *end ? -EINVAL : 0;
}

/* --budget "cpu=2,disk=50M": every resource named must be one a throttler sets. */
static int parse_budget(struct improve *im, const char *text)
{
	char *copy = strdup(text ? text : ""), *save = NULL;
	int r = copy ? 0 : -ENOMEM;

	for (char *item = strtok_r(copy, ",", &save); item && r == 0; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		struct budget *b = NULL;

		if (eq)
			*eq = '\0';
		for (size_t t = 0; t < im->run->nthrottlers && eq && !b; t++)
			if (!strcmp(im->run->resources[t], item)) {
				b = &im->budget[im->nbudget];
				b->resource = im->run->resources[t];
			}
		for (size_t i = 0; b && i < im->nbudget; i++)
			if (!strcmp(im->budget[i].resource, item))
				b = NULL;
		if (!b || parse_amount(eq + 1, &b->given) < 0) {
			tb_error("--budget: '%s%s%s' is not RESOURCE=AMOUNT for a resource of the "
				 "throttlers, once each (cpu=2,disk=50M)", item, eq ? "=" : "", eq ? eq + 1 : "");
			r = -EINVAL;
		} else {
			b->left = b->given;
			im->nbudget++;
		}
	}
	free(copy);
	return r;
}

static struct budget *budget_for(struct improve *im, const char *resource)
{
	for (size_t i = 0; i < im->nbudget; i++)
		if (!strcmp(im->budget[i].resource, resource))
			return &im->budget[i];
	return NULL;
}

/* The first throttler of a resource (or named so) that is not excluded for
 * the service; -1 when none. */
static long throttler_for(const struct tb_run *run, size_t service, const char *resource)
{
	for (size_t t = 0; t < run->nthrottlers; t++)
		if ((!strcmp(run->resources[t], resource) || !strcmp(run->throttler_names[t], resource)) &&
		    !run->excluded[service * run->nthrottlers + t])
			return (long)t;
	return -1;
}

static double amount_of(struct tb_run *run, size_t s, size_t t)
{
	double a = NAN;
	int r = tb_alloc_read(run, s, t, &a);

	return r == 0 || r == -ENODATA ? a : NAN;
}

/* allocations = ( { service = "x"; resource = "cpu"; amount = 2.0; } ):
 * each set, journalled like any change, before the first round. */
static int configured(struct improve *im)
{
	struct tb_run *run = im->run;
	config_setting_t *list = config_setting_get_member(config_root_setting(&run->conf->cfg),
							   "allocations");
	int n = list ? config_setting_length(list) : 0;

	if (list && !config_setting_is_list(list))
		return tb_conf_error(list, "allocations must be a list ( { service = \"x\"; "
				     "resource = \"cpu\"; amount = 2.0; } )");
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		const char *service = NULL, *resource = NULL;
		double amount = 0, now;
		long s, t;
		struct tb_tune_step st;
		int r;

		config_setting_t *a = config_setting_get_member(g, "amount");
		int type = a ? config_setting_type(a) : CONFIG_TYPE_NONE;

		amount = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(a)
			 : type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64
			 ? (double)config_setting_get_int64(a) : 0;
		if (!config_setting_is_group(g) || !config_setting_lookup_string(g, "service", &service) ||
		    !config_setting_lookup_string(g, "resource", &resource) || !(amount > 0))
			return tb_conf_error(g, "an allocation needs service, resource and a positive "
					     "amount");
		if ((s = tb_run_find_service(run, service)) < 0)
			return tb_conf_error(g, "no service named '%s' (or it is excluded)", service);
		if ((t = throttler_for(run, (size_t)s, resource)) < 0)
			return tb_conf_error(g, "no throttler sets '%s' of '%s'", resource, service);
		now = amount_of(run, (size_t)s, (size_t)t);
		if (!(now > 0))
			return tb_conf_error(g, "%s cannot tell the allocation of '%s'",
					     run->throttler_names[t], service);
		st = (struct tb_tune_step){ (size_t)s, (size_t)t, amount / now };
		if ((r = tb_tune_set_add(run, &im->made, &st, 1)) < 0)
			return r;
		im->changed[(size_t)s * run->nthrottlers + (size_t)t] = 1;
		tb_info("improve: %s %s set to %g %s, as configured", service, run->resources[t], amount,
			tb_throttler_ops(&run->throttlers[t])->unit);
	}
	return 0;
}

/* The MIMR among the pairs not tried yet: the ranking's IMRs come first,
 * in order. */
static const struct tb_pair *target(const struct improve *im, const struct tb_ranking *rk)
{
	for (size_t i = 0; i < rk->npairs; i++) {
		const struct tb_pair *p = &rk->pairs[i];

		if (!p->imr)
			return NULL;
		if (!im->tried[p->service * im->run->nthrottlers + p->throttler])
			return p;
	}
	return NULL;
}

/* The pair of the same throttler that hurt least when throttled (not an
 * IMR, another service), to take amount from; NULL when none can spare it
 * without falling below half of what it has. */
static const struct tb_pair *donor(struct improve *im, const struct tb_ranking *rk,
				   const struct tb_pair *to, double amount, double *factor)
{
	const struct tb_pair *best = NULL;

	for (size_t i = 0; i < rk->npairs; i++) {
		const struct tb_pair *p = &rk->pairs[i];
		double d = tb_pair_headline(p)->degradation, has;

		if (p->throttler != to->throttler || p->service == to->service ||
		    p->verdict != TB_VERDICT_NONE || !isfinite(d))
			continue;
		has = amount_of(im->run, p->service, p->throttler);
		if (!(has > 0) || amount > has / 2)
			continue;
		if (!best || d < tb_pair_headline(best)->degradation) {
			best = p;
			*factor = 1 - amount / has;
		}
	}
	return best;
}

static json_t *pair_amounts(struct tb_run *run, size_t s, size_t t, double from, double to)
{
	json_t *j = tb_tune_pair_json(run, s, t);

	json_object_set_new(j, "from", json_real(from));
	json_object_set_new(j, "to", json_real(to));
	return j;
}

/* One round: 1 when it kept a change, 0 when not, -errno; *why says why to
 * stop (NULL: go on). */
static int round_once(struct improve *im, unsigned round, const char **why)
{
	struct tb_run *run = im->run;
	struct tb_ranking rk;
	struct tb_tune_step st[2];
	struct tb_tune_effect e = { 0 };
	const struct tb_pair *p, *d = NULL;
	struct budget *b;
	double has, more, dfactor = 1, dhas = 0;
	size_t n = 1;
	json_t *j;
	int r = tb_tune_rank(run, &rk), ok;

	if (r < 0)
		return r;
	p = target(im, &rk);
	if (!p) {
		*why = "no IMR is left";
		tb_ranking_free(&rk);
		return 0;
	}
	has = amount_of(run, p->service, p->throttler);
	b = budget_for(im, run->resources[p->throttler]);
	more = has * im->step;
	if (b && b->left > 0 && b->left < more)
		more = b->left;                      /* the rest of the budget */
	st[0] = (struct tb_tune_step){ p->service, p->throttler, 1 + more / has };
	if (!b || b->left <= 0) {
		d = donor(im, &rk, p, more, &dfactor);
		if (d) {
			dhas = amount_of(run, d->service, d->throttler);
			st[n++] = (struct tb_tune_step){ d->service, d->throttler, dfactor };
		}
	}
	j = json_pack("{s:I}", "round", (json_int_t)round);
	json_object_set_new(j, "mimr", pair_amounts(run, p->service, p->throttler, has, has + more));
	json_object_set_new(json_object_get(j, "mimr"), "degradation",
			    json_real(tb_pair_headline(p)->degradation));
	json_object_set_new(j, "source", json_string(d ? "service" : "budget"));
	json_object_set_new(j, "donor", d ? pair_amounts(run, d->service, d->throttler, dhas,
							  dhas * dfactor) : json_null());
	/* The ranking's pairs go with it: only st[] is used below. */
	tb_ranking_free(&rk);
	if (n == 1 && (!b || b->left <= 0)) {
		*why = "the budget is spent and no service can spare some";
		json_decref(j);
		return 0;
	}
	if (!(has > 0)) {
		r = -ERANGE;
	} else {
		r = tb_tune_compare(run, st, n, im->npairs, &im->rng, &e);
		/* Better by its median, not yet shown: as many pairs again decide.
		 * Two looks at the data: each is held to half the significance. */
		if (r == 0 && e.median < 0 && !(e.p_better < run->conf->alpha / 2)) {
			tb_info("improve: %+.1f%% is undecided: %u pairs of trials more", 100 * e.median,
				im->npairs);
			r = tb_tune_compare(run, st, n, im->npairs, &im->rng, &e);
		}
	}
	if (r == -ERANGE || r == -EOPNOTSUPP) {
		/* No headroom, or no way to set it: the next IMR gets a turn. */
		tb_warn("improve: %s %s cannot be given more: %s", run->inv.services[st[0].service].name,
			run->resources[st[0].throttler], strerror(-r));
		im->tried[st[0].service * run->nthrottlers + st[0].throttler] = 1;
		json_object_set_new(j, "error", json_string(strerror(-r)));
		json_array_append_new(im->rounds, j);
		tb_tune_effect_free(&e);
		return 0;
	}
	if (r < 0) {
		json_decref(j);
		tb_tune_effect_free(&e);
		return r;
	}
	/* Kept only when the data show the application better, one-sided. */
	ok = e.n >= 3 && e.median < 0 && e.p_better < run->conf->alpha / 2;
	tb_info("improve: round %u: %s %s %g -> %g (from %s%s%s): %+.1f%% [%+.1f%%, %+.1f%%] %s", round,
		run->inv.services[st[0].service].name, run->resources[st[0].throttler], has, has + more,
		n > 1 ? run->inv.services[st[1].service].name : "the budget", n > 1 ? " " : "",
		n > 1 ? run->resources[st[1].throttler] : "", 100 * e.median, 100 * e.low, 100 * e.high,
		ok ? "kept" : "rolled back");
	json_object_set_new(j, "effect", tb_tune_effect_json(&e));
	tb_tune_effect_free(&e);
	json_object_set_new(j, "kept", json_boolean(ok));
	json_array_append_new(im->rounds, j);
	if (!ok) {
		im->tried[st[0].service * run->nthrottlers + st[0].throttler] = 1;
		return 0;
	}
	r = tb_tune_set_add(run, &im->made, st, n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		im->changed[st[i].service * run->nthrottlers + st[i].throttler] = 1;
	if (b && n == 1)
		b->left -= more;
	/* What it had before is tried afresh: the bottleneck may have moved. */
	memset(im->tried, 0, run->inv.nservices * run->nthrottlers);
	return 1;
}

static json_t *budget_json(const struct improve *im)
{
	json_t *j = json_object();

	for (size_t i = 0; i < im->nbudget; i++)
		json_object_set_new(j, im->budget[i].resource,
				    json_pack("{s:f, s:f}", "given", im->budget[i].given, "left",
					      im->budget[i].left));
	return j;
}

/* Every pair whose allocation can be read, as it is now. */
static json_t *allocation_json(struct improve *im)
{
	struct tb_run *run = im->run;
	json_t *list = json_array();

	for (size_t s = 0; s < run->inv.nservices; s++)
		for (size_t t = 0; t < run->nthrottlers; t++) {
			size_t k = s * run->nthrottlers + t;
			double now = amount_of(run, s, t);
			json_t *a;

			if (run->excluded[k] || !isfinite(im->original[k]) || !isfinite(now))
				continue;
			a = pair_amounts(run, s, t, im->original[k], now);
			json_object_set_new(a, "amount", json_real(now));
			json_object_set_new(a, "changed", json_boolean(im->changed[k]));
			json_array_append_new(list, a);
		}
	return list;
}

static int start(struct improve *im, struct tb_run *run, const char *budget, double step)
{
	size_t np = run->inv.nservices * run->nthrottlers;

	im->run = run;
	im->step = step;
	im->npairs = tb_tune_pairs(run);
	im->rng = run->conf->seed * 0x9e3779b97f4a7c15ull | 1;
	im->rounds = json_array();
	im->original = calloc(np, sizeof(*im->original));
	im->changed = calloc(np, 1);
	im->tried = calloc(np, 1);
	if (!im->rounds || !im->original || !im->changed || !im->tried)
		return -ENOMEM;
	for (size_t k = 0; k < np; k++)
		im->original[k] = run->excluded[k] ? NAN
			: amount_of(run, k / run->nthrottlers, k % run->nthrottlers);
	return parse_budget(im, budget);
}

int tb_improve(struct tb_run *run, const char *budget, unsigned rounds, double step, int keep)
{
	struct improve im = { 0 };
	const char *why = NULL;
	unsigned done = 0, kept = 0;
	json_t *rep;
	int r = start(&im, run, budget, step), u;

	if (r == 0)
		r = configured(&im);
	for (unsigned i = 1; r >= 0 && i <= rounds && !why && !tb_cancelled; i++, done++)
		if ((r = round_once(&im, i, &why)) > 0)
			kept++;
	if (r >= 0 && tb_cancelled)
		r = -EINTR;
	if (r >= 0) {
		r = 0;
		if (!why)
			why = "the rounds are done";
		rep = json_pack("{s:s, s:f, s:I, s:o, s:o, s:s, s:o, s:b}", "metric",
				run->results.values[0].name, "step", step, "pairs_per_step",
				(json_int_t)im.npairs, "budget", budget_json(&im), "rounds", im.rounds,
				"stopped", why, "allocation", allocation_json(&im), "kept", keep);
		im.rounds = NULL;
		printf("Improve: %u round%s, %u change%s kept; stopped: %s\n", done, done == 1 ? "" : "s",
		       kept, kept == 1 ? "" : "s", why);
		r = tb_improve_apply(run, rep);
		if (r == 0)
			r = tb_tune_write(run, "improve.json", rep);
		if (r == 0)
			printf("Report: %s/improve.json\n", run->conf->output_dir);
		json_decref(rep);
	}
	if (r == 0 && keep)
		printf("Kept: the allocation above stays applied (--keep)\n");
	u = tb_tune_set_end(run, &im.made, r == 0 && keep);
	json_decref(im.rounds);
	free(im.original);
	free(im.changed);
	free(im.tried);
	return r ? r : u;
}
