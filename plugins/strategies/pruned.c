/* pruned.c - find the MIMR in few trials: group testing, branch and bound, then sequential refinement. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "throttlebot/plugin.h"
#include "stress.h"


/*
 * Throttling more can only slow an application down, so a group of pairs
 * throttled together degrades it at least as much as its worst member.  That
 * makes the search a branch and bound at one (high) stress level:
 *
 *   1. Each throttler's pairs start as one group, throttled all at once.
 *   2. The incumbent is the single pair with the best lower confidence bound
 *      so far.  A group (or pair) surely below it, by a one-sided test on
 *      the difference of their medians, cannot hold the MIMR and is dropped
 *      with all its pairs; so is one surely within the baseline's own spread.
 *      Otherwise the most promising group is split (fanout ways) and its
 *      parts measured.  A group left open only by noise first gets another
 *      trial, or the incumbent does, whichever narrows the test more.
 *   3. A single pair is screened with a trial; one that survives gets the
 *      usual trials at once, since it may become the incumbent and prune
 *      whole groups.
 *   4. Once no group is left, the leader and every pair not surely below it
 *      get one more trial at a time until the test separates them (or
 *      max_trials).
 *   5. The finalists, the leader and the best of the other pairs measured,
 *      get the full trials at every level, so the report has their curves
 *      and the ranking, which only uses single-pair points, agrees.
 *
 * Estimates use medians, like the ranking, relative to the baseline median;
 * the noise is the pooled relative spread of every repeated measurement, and
 * the test's quantile is widened while that rests on few trials.  Baseline
 * trials are interleaved to follow drift: a throttled value is kept relative
 * to the median of the last three baselines before it, so that a group
 * measured after the host slowed down is not taken for a bottleneck.
 */

enum node_state { PENDING, OPEN, PRUNED, SPLIT, FINAL };
enum phase { BASELINE, SEARCH, FINALS, DONE };

struct node {
	size_t first, count;       /* a range of pr->pairs */
	double stress;
	double *vals;
	size_t nvals, cap;
	unsigned attempts, failures;
	enum node_state state;
	double d, se;              /* degradation estimate and its standard error */
};

struct pruned {
	const struct tb_host *h;
	const struct tb_space *space;
	size_t *pairs;             /* s * nthrottlers + t, grouped by throttler */
	size_t npairs;
	struct node *nodes;
	size_t nnodes, capnodes;
	size_t *pending;           /* nodes to measure, FIFO */
	size_t npending, pending_head;
	struct tb_throttle *throttles;
	double *base;              /* baseline values */
	size_t nbase, capbase;
	/* settings */
	unsigned long every, fanout, screen, group_trials, trials, max_trials, finalists, budget;
	double level, z;
	/* progress */
	enum phase phase;
	unsigned long emitted, since_base, baseline_left;
	unsigned long spent[3];    /* trials on groups, on single pairs, on the finals */
	size_t splits;
	long cur;                  /* node being measured, -1 for none */
	unsigned long cur_left;
	long last;                 /* node of the last trial handed out, -1: baseline */
	size_t *finals;            /* FINALS: nodes to run, in order, */
	unsigned long *final_n;    /* and how many trials each */
	size_t nfinals, final_at;
	double sigma, floor, median_base;
	int sigma_dof;
	double recent[3];          /* the last baselines, raw */
	unsigned long nseen;       /* baselines seen */
};

static const struct tb_setting_spec settings[] = {
	{ "baseline_every", TB_SETTING_INT, 0,
	  "one baseline trial after every this many trials (default 10, 0: none)" },
	{ "level", TB_SETTING_NUMBER, 0, "stress of the search (default: the highest level)" },
	{ "fanout", TB_SETTING_INT, 0, "parts a group is split into (default 2)" },
	{ "confidence", TB_SETTING_NUMBER, 0, "of the tests that prune and stop (default 0.95)" },
	{ "screen_trials", TB_SETTING_INT, 0, "first trials of a single pair (default 1)" },
	{ "group_trials", TB_SETTING_INT, 0,
	  "most trials of a group before it is split anyway (default 3)" },
	{ "max_trials", TB_SETTING_INT, 0,
	  "most trials of a pair at the search level (default 4 x trials)" },
	{ "budget", TB_SETTING_INT, 0,
	  "most trials in all (default: as many as exhaustive would run)" },
	{ "finalists", TB_SETTING_INT, 0,
	  "leading pairs run at every level at the end (default 3, at most 64)" },
	{ NULL, 0, 0, NULL },
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, size_t n, double *scratch)
{
	if (n == 0)
		return NAN;
	memcpy(scratch, v, n * sizeof(*v));
	qsort(scratch, n, sizeof(*scratch), cmp_double);
	return n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
}

static int push_value(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 4;
		double *grown = realloc(*v, c * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		*v = grown;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* The one-sided normal quantile, by bisection on erfc: called once. */
static double normal_quantile(double p)
{
	double lo = 0, hi = 10;

	for (int i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(mid / sqrt(2)) > 1 - p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static long new_node(struct pruned *pr, size_t first, size_t count, double stress)
{
	struct node *n;

	if (pr->nnodes == pr->capnodes) {
		size_t c = pr->capnodes ? pr->capnodes * 2 : 64;
		struct node *grown = realloc(pr->nodes, c * sizeof(*grown));
		size_t *pend = realloc(pr->pending, c * sizeof(*pend));

		if (pend)
			pr->pending = pend;
		if (!grown || !pend) {
			if (grown)
				pr->nodes = grown;
			return -ENOMEM;
		}
		pr->nodes = grown;
		pr->capnodes = c;
	}
	n = &pr->nodes[pr->nnodes];
	memset(n, 0, sizeof(*n));
	n->first = first;
	n->count = count;
	n->stress = stress;
	n->state = PENDING;
	return (long)pr->nnodes++;
}

static int queue(struct pruned *pr, size_t first, size_t count)
{
	long id = new_node(pr, first, count, pr->level);

	if (id < 0)
		return (int)id;
	pr->pending[pr->npending++] = (size_t)id;
	return 0;
}

/* Child i of fanout parts of [first, first + count): sizes differ by one at most. */
static void part(const struct pruned *pr, size_t first, size_t count, unsigned long i,
		 size_t *cfirst, size_t *ccount)
{
	size_t a = count * i / pr->fanout, b = count * (i + 1) / pr->fanout;

	*cfirst = first + a;
	*ccount = b - a;
}

/* Most trials a subtree of the search can still take. */
static unsigned long subtree_bound(const struct pruned *pr, size_t first, size_t count)
{
	unsigned long sum;

	if (count == 1)
		return pr->max_trials;
	sum = pr->group_trials;
	for (unsigned long i = 0; i < pr->fanout; i++) {
		size_t f, c;

		part(pr, first, count, i, &f, &c);
		if (c)
			sum += subtree_bound(pr, f, c);
	}
	return sum;
}

static int get_uint(const struct tb_host *h, const struct tb_config *cfg, const char *key,
		    long long min, unsigned long *out)
{
	long long v;
	int r;

	if (!cfg || (r = h->get_int(h, cfg, key, &v)) == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (v < min)
		return h->config_error(h, cfg, key, "%s must be %lld or more, not %lld", key, min, v);
	*out = (unsigned long)v;
	return 0;
}

static int read_settings(struct pruned *pr, const struct tb_host *h, const struct tb_config *cfg)
{
	const struct tb_space *sp = pr->space;
	double conf = 0.95;
	int r;

	pr->every = 10;
	pr->fanout = 2;
	pr->screen = 1;
	pr->group_trials = 3;
	pr->trials = sp->trials ? sp->trials : 1;
	pr->max_trials = 4 * pr->trials;
	pr->finalists = 3;
	pr->level = sp->nlevels ? sp->levels[sp->nlevels - 1] : 0.8;
	if ((r = get_uint(h, cfg, "baseline_every", 0, &pr->every)) < 0 ||
	    (r = get_uint(h, cfg, "fanout", 2, &pr->fanout)) < 0 ||
	    (r = get_uint(h, cfg, "screen_trials", 1, &pr->screen)) < 0 ||
	    (r = get_uint(h, cfg, "group_trials", 1, &pr->group_trials)) < 0 ||
	    (r = get_uint(h, cfg, "max_trials", 1, &pr->max_trials)) < 0 ||
	    (r = get_uint(h, cfg, "finalists", 1, &pr->finalists)) < 0)
		return r;
	if ((r = get_uint(h, cfg, "budget", 1, &pr->budget)) < 0)
		return r;
	if (cfg && (r = h->get_number(h, cfg, "level", &pr->level)) < 0 && r != -ENOENT)
		return r;
	if (!tb_stress_level_valid(pr->level))
		return h->config_error(h, cfg, "level", "level must be in (0, 1), not %g", pr->level);
	if (cfg && (r = h->get_number(h, cfg, "confidence", &conf)) < 0 && r != -ENOENT)
		return r;
	if (!(conf >= 0.5 && conf < 1))
		return h->config_error(h, cfg, "confidence", "confidence must be in [0.5, 1), not %g", conf);
	if (pr->finalists > 64)
		pr->finalists = 64;
	if (pr->max_trials < pr->trials)
		pr->max_trials = pr->trials;
	if (pr->screen > pr->max_trials)
		pr->screen = pr->max_trials;
	pr->z = normal_quantile(conf);
	return 0;
}

static int pr_init(const struct tb_host *h, const struct tb_config *cfg,
		   const struct tb_space *space, void **state)
{
	struct pruned *pr = calloc(1, sizeof(*pr));
	size_t s, t, np = space->nservices * space->nthrottlers;
	int r;

	if (!pr)
		return -ENOMEM;
	pr->h = h;
	pr->space = space;
	pr->cur = pr->last = -1;
	if ((r = read_settings(pr, h, cfg)) < 0) {
		free(pr);
		return r;
	}
	pr->pairs = malloc((np ? np : 1) * sizeof(*pr->pairs));
	pr->throttles = malloc((space->nservices ? space->nservices : 1) * sizeof(*pr->throttles));
	pr->finals = malloc((pr->finalists * (space->nlevels + 1)) * sizeof(*pr->finals));
	pr->final_n = malloc((pr->finalists * (space->nlevels + 1)) * sizeof(*pr->final_n));
	if (!pr->pairs || !pr->throttles || !pr->finals || !pr->final_n) {
		r = -ENOMEM;
		goto fail;
	}
	/* One root group per throttler: its pairs are contiguous. */
	for (t = 0; t < space->nthrottlers; t++) {
		size_t first = pr->npairs;

		for (s = 0; s < space->nservices; s++)
			if (!space->excluded || !space->excluded[s * space->nthrottlers + t])
				pr->pairs[pr->npairs++] = s * space->nthrottlers + t;
		if (pr->npairs > first && (r = queue(pr, first, pr->npairs - first)) < 0)
			goto fail;
	}
	if (pr->budget == 0) {
		unsigned long points = (unsigned long)pr->npairs * space->nlevels * pr->trials;

		pr->budget = space->baseline_trials + points + (pr->every ? points / pr->every : 0);
	}
	pr->phase = BASELINE;
	pr->baseline_left = space->baseline_trials;
	*state = pr;
	return 0;
fail:
	free(pr->pairs);
	free(pr->throttles);
	free(pr->finals);
	free(pr->final_n);
	free(pr->nodes);
	free(pr->pending);
	free(pr);
	return r;
}

static void pr_fini(void *state)
{
	struct pruned *pr = state;

	if (!pr)
		return;
	for (size_t i = 0; i < pr->nnodes; i++)
		free(pr->nodes[i].vals);
	free(pr->nodes);
	free(pr->pending);
	free(pr->pairs);
	free(pr->throttles);
	free(pr->finals);
	free(pr->final_n);
	free(pr->base);
	free(pr);
}

/* Degradation of a median relative to the baseline's, positive = worse. */
static double degradation(const struct pruned *pr, double m)
{
	double rel = m / pr->median_base - 1;

	return pr->space->direction == TB_HIGHER_IS_BETTER ? -rel : rel;
}

static int add_spread(const double *v, size_t n, double *ss)
{
	double mean = 0;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		mean += v[i];
	mean /= (double)n;
	if (mean == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		*ss += (v[i] / mean - 1) * (v[i] / mean - 1);
	return (int)n - 1;
}

/* Baseline median, significance floor, pooled noise; every node's estimate. */
static int update_stats(struct pruned *pr)
{
	size_t most = pr->nbase, i;
	double ss = 0, *scratch, worst;
	int dof;

	for (i = 0; i < pr->nnodes; i++)
		most = pr->nodes[i].nvals > most ? pr->nodes[i].nvals : most;
	scratch = malloc((most ? most : 1) * sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	pr->median_base = median(pr->base, pr->nbase, scratch);
	worst = pr->nbase ? (pr->space->direction == TB_HIGHER_IS_BETTER ?
			     scratch[0] : scratch[pr->nbase - 1]) : NAN;
	dof = add_spread(pr->base, pr->nbase, &ss);
	for (i = 0; i < pr->nnodes; i++)
		dof += add_spread(pr->nodes[i].vals, pr->nodes[i].nvals, &ss);
	pr->sigma_dof = dof;
	pr->sigma = dof ? sqrt(ss / dof) : 0.05;
	if (pr->sigma < 1e-4)
		pr->sigma = 1e-4;
	/* Only a median beyond the worst baseline can be an IMR. */
	pr->floor = pr->nbase && isfinite(pr->median_base) && pr->median_base != 0 ?
		    degradation(pr, worst) : 0;
	for (i = 0; i < pr->nnodes; i++) {
		struct node *n = &pr->nodes[i];
		double m;

		if (n->nvals == 0 && n->state != OPEN && n->state != FINAL)
			continue;
		if (n->nvals == 0 || !isfinite(pr->median_base) || pr->median_base == 0) {
			/* Failures under throttling are the worst outcome. */
			n->d = n->failures ? INFINITY : NAN;
			n->se = 0;
			continue;
		}
		/* Node values are multiples of the baseline of their moment. */
		m = median(n->vals, n->nvals, scratch);
		n->d = pr->space->direction == TB_HIGHER_IS_BETTER ? 1 - m : m - 1;
		/* A median of 3 or more is about 1.2 times less precise than a mean. */
		n->se = (n->nvals > 2 ? 1.2 : 1.0) * pr->sigma * fabs(m) / sqrt((double)n->nvals);
	}
	free(scratch);
	return 0;
}

/* The normal quantile widened while the noise estimate rests on little
 * (the first Cornish-Fisher term of Student's t). */
static double quantile(const struct pruned *pr)
{
	double z = pr->z, dof = pr->sigma_dof > 0 ? pr->sigma_dof : 1;

	return z + (z * z * z + z) / (4 * dof);
}

static double lcb(const struct pruned *pr, const struct node *n)
{
	return isnan(n->d) ? -INFINITY : n->d - quantile(pr) * n->se;
}

/* Is x surely below the incumbent (NULL: below the baseline's spread)? */
static int beaten(const struct pruned *pr, const struct node *x, const struct node *inc)
{
	double q = quantile(pr);

	if (isnan(x->d))
		return 0;
	if (x->d + q * x->se < pr->floor)
		return 1;
	return inc && inc != x && !isnan(inc->d) &&
	       inc->d - x->d > q * sqrt(inc->se * inc->se + x->se * x->se);
}

static int start(struct pruned *pr, size_t id, unsigned long ntrials)
{
	pr->cur = (long)id;
	pr->cur_left = ntrials;
	return 1;
}

static int split(struct pruned *pr, size_t id)
{
	size_t first = pr->nodes[id].first, count = pr->nodes[id].count;
	int r;

	pr->nodes[id].state = SPLIT;
	pr->splits++;
	for (unsigned long i = 0; i < pr->fanout; i++) {
		size_t f, c;

		part(pr, first, count, i, &f, &c);
		if (c && (r = queue(pr, f, c)) < 0)
			return r;
	}
	return 0;
}

static void log_pair(struct pruned *pr, const char *what, const struct node *n)
{
	const struct tb_space *sp = pr->space;
	size_t pair = pr->pairs[n->first];

	TB_LOG(pr->h, TB_LOG_INFO, "%s: %s %s, %+.1f%% at stress %g (%zu trial%s)", what,
	       sp->services[pair / sp->nthrottlers], sp->throttlers[pair % sp->nthrottlers],
	       100 * n->d, n->stress, n->nvals, n->nvals == 1 ? "" : "s");
}

/* Queue ntrials more of node id for the finals. */
static void final_trials(struct pruned *pr, size_t id, unsigned long ntrials)
{
	pr->finals[pr->nfinals] = id;
	pr->final_n[pr->nfinals++] = ntrials;
}

/*
 * The search is over.  The finalists are the leader, then the best of the
 * other single pairs measured (pruned ones included: the report wants the
 * next IMRs too); each gets the full trials at the search level and at every
 * other level, so the ranking has their whole curves.
 */
static int finish_search(struct pruned *pr)
{
	const struct tb_space *sp = pr->space;
	size_t chosen[64], nchosen = 0, i, j;

	while (nchosen < pr->finalists) {
		long best = -1;

		for (i = 0; i < pr->nnodes; i++) {
			struct node *n = &pr->nodes[i];
			int taken = 0;

			if (n->count != 1 || isnan(n->d) || n->d <= pr->floor || n->stress != pr->level ||
			    (nchosen == 0 && (n->state != OPEN || n->nvals < pr->trials)))
				continue;
			for (j = 0; j < nchosen; j++)
				taken |= chosen[j] == i;
			if (!taken && (best < 0 || n->d > pr->nodes[best].d))
				best = (long)i;
		}
		if (best < 0)
			break;
		chosen[nchosen++] = (size_t)best;
	}
	if (nchosen == 0)
		TB_LOG(pr->h, TB_LOG_INFO, "no pair degrades the application beyond the baseline's spread");
	else
		log_pair(pr, "leader", &pr->nodes[chosen[0]]);
	if (nchosen > 1)
		log_pair(pr, "runner-up", &pr->nodes[chosen[1]]);
	pr->nfinals = pr->final_at = 0;
	for (i = 0; i < nchosen; i++) {
		struct node *n = &pr->nodes[chosen[i]];

		n->state = FINAL;
		if (n->nvals < pr->trials)
			final_trials(pr, chosen[i], pr->trials - n->nvals);
		for (j = 0; j < sp->nlevels; j++) {
			long id;

			if (fabs(sp->levels[j] - pr->level) < 1e-9)
				continue;
			id = new_node(pr, pr->nodes[chosen[i]].first, 1, sp->levels[j]);
			if (id < 0)
				return (int)id;
			pr->nodes[id].state = FINAL;
			final_trials(pr, (size_t)id, pr->trials);
		}
	}
	pr->phase = FINALS;
	return 0;
}

/* Choose what to measure next: 1 with pr->cur set, 0 when done, or -errno. */
static int decide(struct pruned *pr)
{
	long group = -1, thin = -1, leader = -1, pick = -1, inc = -1;
	size_t i;
	int r;

	if (pr->phase == FINALS) {
		if (pr->final_at < pr->nfinals) {
			pr->final_at++;
			return start(pr, pr->finals[pr->final_at - 1], pr->final_n[pr->final_at - 1]);
		}
		pr->phase = DONE;
		TB_LOG(pr->h, TB_LOG_INFO, "%lu trials: %lu on groups (%zu split), %lu on single pairs, "
		       "%lu on the finalists, %lu baseline", pr->emitted, pr->spent[0],
		       pr->splits, pr->spent[1], pr->spent[2],
		       pr->emitted - pr->spent[0] - pr->spent[1] - pr->spent[2]);
	}
	if (pr->phase == DONE)
		return 0;
	if (pr->pending_head < pr->npending) {
		size_t id = pr->pending[pr->pending_head++];

		pr->nodes[id].state = OPEN;
		return start(pr, id, pr->nodes[id].count == 1 ? pr->screen : 1);
	}
	if ((r = update_stats(pr)) < 0)
		return r;
	/* The incumbent: the single pair with the best lower bound. */
	for (i = 0; i < pr->nnodes; i++) {
		struct node *n = &pr->nodes[i];

		if (n->state == OPEN && n->count == 1 && n->nvals >= pr->trials &&
		    (inc < 0 || lcb(pr, n) > lcb(pr, &pr->nodes[inc])))
			inc = (long)i;
	}
	for (i = 0; i < pr->nnodes; i++) {
		struct node *n = &pr->nodes[i];
		int dead = n->count == 1 && n->nvals == 0 && n->attempts >= pr->max_trials;

		if (n->state != OPEN)
			continue;
		if (dead || beaten(pr, n, inc >= 0 ? &pr->nodes[inc] : NULL)) {
			n->state = PRUNED;
			continue;
		}
		if (n->count > 1) {
			if (group < 0 || n->d + n->se > pr->nodes[group].d + pr->nodes[group].se)
				group = (long)i;
		} else if (n->nvals < pr->trials && n->attempts < pr->max_trials) {
			if (thin < 0 || n->d + n->se > pr->nodes[thin].d + pr->nodes[thin].se)
				thin = (long)i;
		} else if (!isnan(n->d) && (leader < 0 || n->d > pr->nodes[leader].d)) {
			leader = (long)i;
		}
	}
	/* A screened pair that survived gets its full trials first: it may
	 * become the incumbent, which prunes groups wholesale. */
	if (thin >= 0)
		return start(pr, (size_t)thin, 1);
	/* Every group that may hide a better pair is measured more or split.  A
	 * group left only by noise gets another trial, or the incumbent does
	 * (which helps against every group), whichever narrows their difference
	 * more; failing both, it is split. */
	if (group >= 0) {
		struct node *g = &pr->nodes[group], *in = inc >= 0 ? &pr->nodes[inc] : NULL;

		if (in && g->d < in->d) {
			double gain_g = g->attempts < pr->group_trials ? g->se * g->se / (g->nvals + 1) : 0;
			double gain_i = in->attempts < pr->max_trials ? 2 * in->se * in->se / (in->nvals + 1) : 0;

			if (gain_i > 0 && gain_i >= gain_g)
				return start(pr, (size_t)inc, 1);
			if (gain_g > 0)
				return start(pr, (size_t)group, 1);
		} else if (!in && g->d < pr->floor && g->attempts < pr->group_trials) {
			return start(pr, (size_t)group, 1);
		}
		if ((r = split(pr, (size_t)group)) < 0)
			return r;
		return decide(pr);
	}
	/* Refine: the leader against every pair not surely below it. */
	if (leader >= 0) {
		struct node *l = &pr->nodes[leader];
		int contested = 0;

		for (i = 0; i < pr->nnodes; i++) {
			struct node *n = &pr->nodes[i];

			if (n->state != OPEN || n->count != 1 || n == l || beaten(pr, n, l))
				continue;
			contested = 1;
			if (n->attempts < pr->max_trials && (pick < 0 || n->se > pr->nodes[pick].se))
				pick = (long)i;
		}
		if (contested && l->attempts < pr->max_trials && (pick < 0 || l->se >= pr->nodes[pick].se))
			pick = leader;
		if (pick >= 0)
			return start(pr, (size_t)pick, 1);
	}
	if ((r = finish_search(pr)) < 0)
		return r;
	return decide(pr);
}

static int pr_next(void *state, struct tb_experiment *e)
{
	struct pruned *pr = state;
	struct node *n;
	int r;

	e->n = 0;
	e->throttles = NULL;
	if (pr->phase != DONE && pr->emitted >= pr->budget) {
		TB_LOG(pr->h, TB_LOG_WARNING, "the budget of %lu trials is spent: the search stops short",
		       pr->budget);
		pr->phase = DONE;
	}
	if (pr->phase == BASELINE) {
		if (pr->baseline_left > 0) {
			pr->baseline_left--;
			goto baseline;
		}
		pr->phase = SEARCH;
	}
	if (pr->phase == DONE)
		return 0;
	if (pr->every && pr->since_base >= pr->every) {
		pr->since_base = 0;
		goto baseline;
	}
	while (pr->cur < 0 || pr->cur_left == 0) {
		r = decide(pr);
		if (r <= 0) {
			if (r < 0)
				TB_LOG(pr->h, TB_LOG_ERROR, "search stopped: %s", strerror(-r));
			pr->phase = DONE;
			return 0;
		}
	}
	n = &pr->nodes[pr->cur];
	for (size_t i = 0; i < n->count; i++) {
		size_t pair = pr->pairs[n->first + i];

		pr->throttles[i].service = pair / pr->space->nthrottlers;
		pr->throttles[i].throttler = pair % pr->space->nthrottlers;
		pr->throttles[i].stress = n->stress;
	}
	e->n = n->count;
	e->throttles = pr->throttles;
	n->attempts++;
	pr->spent[pr->phase == FINALS ? 2 : n->count > 1 ? 0 : 1]++;
	pr->cur_left--;
	pr->last = pr->cur;
	pr->since_base++;
	pr->emitted++;
	return 1;
baseline:
	pr->last = -1;
	pr->emitted++;
	return 1;
}

/* The host's speed now: the median of the last (up to) three baselines. */
static double local_base(const struct pruned *pr)
{
	double a = pr->recent[0], b = pr->recent[1], c = pr->recent[2];

	switch (pr->nseen < 3 ? pr->nseen : 3) {
	case 0:
		return NAN;
	case 1:
		return a;
	case 2:
		return (a + b) / 2;
	default:
		return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
	}
}

static void pr_observe(void *state, const struct tb_experiment *e, double value, int failed)
{
	struct pruned *pr = state;
	double local = local_base(pr);
	struct node *n;

	if (e->n == 0 || pr->last < 0) {
		if (failed || !isfinite(value))
			return;
		if (push_value(&pr->base, &pr->nbase, &pr->capbase, value) < 0)
			TB_LOG(pr->h, TB_LOG_ERROR, "out of memory: a baseline trial is lost");
		pr->recent[pr->nseen++ % 3] = value;
		return;
	}
	/* As the baseline median's multiple: the host's speed now, taken out. */
	if (isfinite(value) && isfinite(local) && local != 0)
		value /= local;
	n = &pr->nodes[pr->last];
	if (failed || !isfinite(value))
		n->failures++;
	else if (push_value(&n->vals, &n->nvals, &n->cap, value) < 0)
		TB_LOG(pr->h, TB_LOG_ERROR, "out of memory: a trial is lost");
}

/* Trials handed out so far plus the most the rest can take. */
static unsigned long pr_estimate(void *state)
{
	struct pruned *pr = state;
	const struct tb_space *sp = pr->space;
	unsigned long rest = 0, finals = 0, bound;
	size_t i;

	if (pr->phase == DONE)
		return pr->emitted;
	if (pr->phase == FINALS) {
		for (i = pr->final_at; i < pr->nfinals; i++)
			finals += pr->final_n[i];
		finals += pr->cur >= 0 ? pr->cur_left : 0;
	} else {
		for (i = 0; i < pr->nnodes; i++) {
			const struct node *n = &pr->nodes[i];

			if (n->state == PENDING)
				rest += subtree_bound(pr, n->first, n->count);
			else if (n->state == OPEN && n->count == 1)
				rest += pr->max_trials - (n->attempts < pr->max_trials ? n->attempts : pr->max_trials);
			else if (n->state == OPEN)
				rest += subtree_bound(pr, n->first, n->count) -
					(n->attempts < pr->group_trials ? n->attempts : pr->group_trials);
		}
		finals = pr->finalists * sp->nlevels * pr->trials;
	}
	rest += finals;
	bound = pr->emitted + pr->baseline_left + rest +
		(pr->every ? (pr->since_base + rest) / pr->every : 0);
	return bound < pr->budget ? bound : pr->budget;
}

TB_PLUGIN_DEFINE(tb_strategy) = {
	.header = { TB_ABI_CURRENT, TB_KIND_STRATEGY, "pruned",
		    "group testing and branch and bound for the MIMR, then refinement of the leaders",
		    PACKAGE_VERSION, settings },
	.init = pr_init,
	.fini = pr_fini,
	.next = pr_next,
	.observe = pr_observe,
	.estimate = pr_estimate,
};
