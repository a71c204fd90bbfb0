/* clampdown.c - take resources away from the pairs that do not limit the application, one verified cut at a time. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clampdown.h"
#include "log.h"
#include "tune.h"

/* A pair clampdown may cut, with what it had before the first cut. */
struct candidate {
	size_t service, throttler;
	double degradation;            /* when the ranking throttled it; 0 if it did not */
	double from;
	int had_limit;
};

struct clamp {
	struct tb_run *run;
	double tolerance, step, floor;
	double spent;                  /* the kept cuts' significant median effects, summed */
	unsigned npairs;
	uint64_t rng;
	struct tb_tune_set kept;       /* the kept cuts, in the order made */
	json_t *attempts;
};

static int by_degradation(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	return (x->degradation > y->degradation) - (x->degradation < y->degradation);
}

/* Every pair the ranking did not find limiting (no IMR, paradox or
 * undecided verdict) whose allocation the throttler can set; the least
 * harmful first, so the cuts that matter least are taken first. */
static int candidates(struct clamp *c, const struct tb_ranking *rk, struct candidate **out, size_t *n)
{
	struct tb_run *run = c->run;
	size_t ns = run->inv.nservices, nt = run->nthrottlers;
	struct candidate *v = calloc(ns * nt + 1, sizeof(*v));

	*n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t s = 0; s < ns; s++)
		for (size_t t = 0; t < nt; t++) {
			const struct tb_pair *p = NULL;
			struct candidate *k = &v[*n];
			int r;

			if (run->excluded[s * nt + t])
				continue;
			for (size_t i = 0; i < rk->npairs && !p; i++)
				if (rk->pairs[i].service == s && rk->pairs[i].throttler == t)
					p = &rk->pairs[i];
			if (p && p->verdict != TB_VERDICT_NONE)
				continue;
			r = tb_alloc_read(run, s, t, &k->from);
			if (r < 0 && r != -ENODATA)
				continue;          /* the throttler cannot set an allocation */
			k->had_limit = r == 0;
			k->service = s;
			k->throttler = t;
			k->degradation = p && isfinite(tb_pair_headline(p)->degradation)
					 ? tb_pair_headline(p)->degradation : 0;
			(*n)++;
		}
	qsort(v, *n, sizeof(*v), by_degradation);
	*out = v;
	return 0;
}

/* A cut is kept only when the data show it within the tolerance: the upper
 * end of its effect's interval, not merely "no significant harm".  Each cut
 * is measured against the host with the earlier cuts made, so what those
 * already cost is taken from the tolerance (left: the tolerance less it). */
static int within(const struct clamp *c, const struct tb_tune_effect *e, double left)
{
	return e->n >= 3 && e->failed * 4 <= e->n && isfinite(e->high) && e->high <= left;
}

/* Measure steps; where the interval straddles what is left of the
 * tolerance (its median within), once as many pairs again decide: more data
 * narrow it, which a noisy host needs before anything can be shown within. */
static int measure(struct clamp *c, const struct tb_tune_step *steps, size_t n, double left,
		   struct tb_tune_effect *e)
{
	int r = tb_tune_compare(c->run, steps, n, c->npairs, &c->rng, e);

	if (r == 0 && !within(c, e, left) && e->median <= left && e->low <= left) {
		tb_info("clampdown: %+.1f%% [%+.1f%%, %+.1f%%] is undecided: %u pairs of trials more",
			100 * e->median, 100 * e->low, 100 * e->high, c->npairs);
		r = tb_tune_compare(c->run, steps, n, c->npairs, &c->rng, e);
	}
	return r;
}

/* Cut one pair, step by step, while each cut stays within the tolerance. */
static int clamp_pair(struct clamp *c, const struct candidate *k)
{
	struct tb_run *run = c->run;
	struct tb_tune_step st = { k->service, k->throttler, 1 - c->step };
	double left = 1;
	int r = 0;

	while (r == 0 && left * st.factor >= c->floor && !tb_cancelled) {
		struct tb_tune_effect e = { 0 };
		double now = 0;
		json_t *a;
		int ok;

		tb_alloc_read(run, k->service, k->throttler, &now);
		r = measure(c, &st, 1, c->tolerance - c->spent, &e);
		if (r < 0) {
			tb_tune_effect_free(&e);
			break;
		}
		ok = within(c, &e, c->tolerance - c->spent);
		tb_info("clampdown: %s %s %g -> %g: %+.1f%% [%+.1f%%, %+.1f%%] %s",
			run->inv.services[k->service].name, run->resources[k->throttler], now,
			now * st.factor, 100 * e.median, 100 * e.low, 100 * e.high,
			ok ? "kept" : "rolled back");
		a = tb_tune_pair_json(run, k->service, k->throttler);
		json_object_set_new(a, "from", json_real(now));
		json_object_set_new(a, "to", json_real(now * st.factor));
		json_object_set_new(a, "effect", tb_tune_effect_json(&e));
		json_object_set_new(a, "kept", json_boolean(ok));
		json_array_append_new(c->attempts, a);
		/* Only what shows: noise summed over many cuts would eat it all. */
		if (ok)
			c->spent += e.median > 0 && e.p_worse < run->conf->alpha ? e.median : 0;
		tb_tune_effect_free(&e);
		if (!ok)
			break;
		r = tb_tune_set_add(run, &c->kept, &st, 1);
		left *= st.factor;
	}
	return r;
}

/*
 * Cuts interact (two services freed of their slack may meet on the same
 * path): all the kept cuts together against the host as it was, the newest
 * dropped while they are not within the tolerance.
 */
static int verify_all(struct clamp *c, json_t *out)
{
	struct tb_tune_effect e = { 0 };
	size_t dropped = 0;
	int r = 0, ok = 1;

	for (size_t round = 0, most = c->kept.n; c->kept.n > 0 && round <= most && r == 0; round++) {
		struct tb_tune_step *steps = c->kept.steps;
		size_t n = c->kept.n;

		/* The steps outlive the set's end: they are made again below. */
		c->kept.steps = NULL;
		r = tb_tune_set_end(c->run, &c->kept, 0);
		tb_tune_effect_free(&e);
		if (r == 0)
			r = measure(c, steps, n, c->tolerance, &e);
		ok = r == 0 && within(c, &e, c->tolerance);
		/* The newest cut goes when they hurt together. */
		if (r == 0 && !ok) {
			n--;
			dropped++;
		}
		if (r == 0)
			r = tb_tune_set_add(c->run, &c->kept, steps, n);
		free(steps);
		tb_info("clampdown: all %zu cuts together: %+.1f%% [%+.1f%%, %+.1f%%]%s", n + !ok,
			100 * e.median, 100 * e.low, 100 * e.high,
			ok ? "" : ", the newest is dropped");
		if (ok)
			break;
	}
	json_object_set_new(out, "effect", tb_tune_effect_json(&e));
	tb_tune_effect_free(&e);
	json_object_set_new(out, "within_tolerance", json_boolean(ok));
	json_object_set_new(out, "dropped", json_integer((json_int_t)dropped));
	return r;
}

/* What each pair gives back: from its amount before the first cut to now. */
static json_t *give_back(struct clamp *c, const struct candidate *k, size_t nk)
{
	struct tb_run *run = c->run;
	json_t *list = json_array();

	for (size_t i = 0; i < nk; i++) {
		double to = 0;
		json_t *g;
		int cut = 0;

		for (size_t j = 0; j < c->kept.n; j++)
			cut |= c->kept.steps[j].service == k[i].service &&
			       c->kept.steps[j].throttler == k[i].throttler;
		if (!cut || tb_alloc_read(run, k[i].service, k[i].throttler, &to) < 0)
			continue;
		g = tb_tune_pair_json(run, k[i].service, k[i].throttler);
		json_object_set_new(g, "from", json_real(k[i].from));
		json_object_set_new(g, "to", json_real(to));
		json_object_set_new(g, "freed", json_real(k[i].from - to));
		json_object_set_new(g, "from_limit", json_boolean(k[i].had_limit));
		json_array_append_new(list, g);
	}
	return list;
}

static json_t *ranking_json(const struct tb_run *run, const struct tb_ranking *rk)
{
	json_t *list = json_array();

	for (size_t i = 0; i < rk->npairs; i++) {
		const struct tb_pair *p = &rk->pairs[i];
		json_t *j = tb_tune_pair_json(run, p->service, p->throttler);
		double d = tb_pair_headline(p)->degradation;

		json_object_set_new(j, "verdict", json_string(tb_verdict_name(p->verdict)));
		json_object_set_new(j, "degradation", isfinite(d) ? json_real(d) : json_null());
		json_array_append_new(list, j);
	}
	return list;
}

static void print_table(const struct clamp *c, json_t *rep)
{
	json_t *g, *fin = json_object_get(rep, "final");
	size_t i;

	printf("Clampdown (tolerance %.1f%% of %s):\n", 100 * c->tolerance,
	       c->run->results.values[0].name);
	if (json_array_size(json_object_get(rep, "give_back")) == 0)
		printf("  nothing can be given back within the tolerance\n");
	else
		printf("  %-20s %-8s %14s %14s %14s\n", "service", "resource", "from", "to", "freed");
	json_array_foreach(json_object_get(rep, "give_back"), i, g)
		printf("  %-20s %-8s %14.6g %14.6g %14.6g %s\n",
		       json_string_value(json_object_get(g, "service")),
		       json_string_value(json_object_get(g, "resource")),
		       json_number_value(json_object_get(g, "from")),
		       json_number_value(json_object_get(g, "to")),
		       json_number_value(json_object_get(g, "freed")),
		       json_string_value(json_object_get(g, "unit")));
	if (fin && json_array_size(json_object_get(rep, "give_back")) > 0) {
		json_t *e = json_object_get(fin, "effect");

		printf("  all cuts together: %+.1f%% [%+.1f%%, %+.1f%%] over %lld pairs of trials\n",
		       100 * json_number_value(json_object_get(e, "change")),
		       100 * json_number_value(json_object_get(e, "change_low")),
		       100 * json_number_value(json_object_get(e, "change_high")),
		       (long long)json_integer_value(json_object_get(e, "pairs")));
	}
}

static int settings(struct clamp *c)
{
	int r = tb_tune_conf_number(c->run, "clampdown_step", 0.2, 0, 1, &c->step);

	if (r == 0)
		r = tb_tune_conf_number(c->run, "clampdown_floor", 0.25, 0, 1, &c->floor);
	return r;
}

int tb_clampdown(struct tb_run *run, double tolerance, int keep)
{
	struct clamp c = { .run = run, .tolerance = tolerance };
	struct tb_ranking rk;
	struct candidate *k = NULL;
	size_t nk = 0;
	json_t *rep = json_object(), *fin = json_object();
	int r;

	c.rng = run->conf->seed * 0x9e3779b97f4a7c15ull | 1;
	c.npairs = tb_tune_pairs(run);
	c.attempts = json_array();
	r = settings(&c);
	if (r == 0)
		r = tb_tune_rank(run, &rk);
	if (r < 0) {
		json_decref(rep);
		json_decref(fin);
		json_decref(c.attempts);
		return r;
	}
	json_object_set_new(rep, "ranking", ranking_json(run, &rk));
	r = candidates(&c, &rk, &k, &nk);
	tb_ranking_free(&rk);
	tb_info("clampdown: %zu pairs to try, %u pairs of trials each cut", nk, c.npairs);
	for (size_t i = 0; r == 0 && i < nk && !tb_cancelled; i++)
		r = clamp_pair(&c, &k[i]);
	if (r == 0 && tb_cancelled)
		r = -EINTR;
	if (r == 0)
		r = verify_all(&c, fin);
	json_object_set_new(rep, "metric", json_string(run->results.values[0].name));
	json_object_set_new(rep, "tolerance", json_real(tolerance));
	json_object_set_new(rep, "step", json_real(c.step));
	json_object_set_new(rep, "floor", json_real(c.floor));
	json_object_set_new(rep, "pairs_per_step", json_integer(c.npairs));
	json_object_set_new(rep, "steps", c.attempts);
	json_object_set_new(rep, "final", fin);
	json_object_set_new(rep, "give_back", give_back(&c, k, nk));
	json_object_set_new(rep, "kept", json_boolean(r == 0 && keep));
	if (r == 0) {
		print_table(&c, rep);
		r = tb_tune_write(run, "clampdown.json", rep);
		printf("Report: %s/clampdown.json\n", run->conf->output_dir);
	}
	if (r == 0 && keep)
		printf("Kept: the cuts above stay applied (--keep)\n");
	{
		int u = tb_tune_set_end(run, &c.kept, r == 0 && keep);

		r = r ? r : u;
	}
	json_decref(rep);
	free(k);
	return r;
}
