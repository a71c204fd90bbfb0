/* prometheus.c - metric plugin: observe a trial through a PromQL query, instant or over the trial's window. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <throttlebot/plugin.h>
#include "http_body.h"
#include "promjson.h"


/* An answer larger than this is not one series of one trial. */

static const struct tb_setting_spec settings[] = {
	{ "url", TB_SETTING_STRING, 1, "Prometheus' base URL, e.g. \"http://127.0.0.1:9090\"" },
	{ "query", TB_SETTING_STRING, 1, "the PromQL expression; it must yield one series" },
	{ "mode", TB_SETTING_STRING, 0, "\"instant\" (at the trial's end, default) or \"range\" (over the trial)" },
	{ "step", TB_SETTING_NUMBER, 0, "range mode: seconds between points (1)" },
	{ "aggregation", TB_SETTING_STRING, 0, "range mode: mean (default), max, min, last, first, sum, median, p99, ..." },
	{ "name", TB_SETTING_STRING, 0, "the value's name (also the instance's); \"value\" when absent" },
	{ "unit", TB_SETTING_STRING, 0, "the value's unit, for reports" },
	{ "direction", TB_SETTING_STRING, 0, "\"lower\" (default) or \"higher\" is better" },
	{ "timeout", TB_SETTING_NUMBER, 0, "seconds for the HTTP request (10)" },
	{ "bearer_token", TB_SETTING_STRING, 0, "sent as \"Authorization: Bearer ...\"" },
	{ "bearer_token_file", TB_SETTING_STRING, 0, "a file holding the bearer token, read at each query" },
	{ "delay", TB_SETTING_NUMBER, 0, "seconds to wait after the trial before querying, for scrape lag (0)" },
	{ NULL, 0, 0, NULL },
};

struct prom {
	const struct tb_host *h;
	char *url, *query, *name, *unit, *token, *token_file;
	int range;
	double step, timeout, delay;
	struct prom_agg agg;
	struct tb_metric_value value;
};

static void fini(void *state)
{
	struct prom *p = state;

	if (!p)
		return;
	free(p->url);
	free(p->query);
	free(p->name);
	free(p->unit);
	if (p->token)
		memset(p->token, 0, strlen(p->token));
	free(p->token);
	free(p->token_file);
	free(p);
}

/* Copy string key into *out when present; 0, or < 0. */
static int opt_string(struct prom *p, const struct tb_config *cfg, const char *key, char **out)
{
	const char *s;
	int r = p->h->get_string(p->h, cfg, key, &s);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int opt_number(struct prom *p, const struct tb_config *cfg, const char *key, double *out,
		      int positive)
{
	int r = p->h->get_number(p->h, cfg, key, out);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (positive ? *out <= 0 : *out < 0)
		return p->h->config_error(p->h, cfg, key, "must be %s 0 seconds", positive ? ">" : ">=");
	return 0;
}

static int configure(struct prom *p, const struct tb_config *cfg)
{
	const struct tb_host *h = p->h;
	char *mode = NULL, *agg = NULL, *dir = NULL;
	int r;

	p->step = 1;
	p->timeout = 10;
	p->agg.kind = PROM_MEAN;
	if ((r = opt_string(p, cfg, "url", &p->url)) < 0 ||
	    (r = opt_string(p, cfg, "query", &p->query)) < 0 ||
	    (r = opt_string(p, cfg, "name", &p->name)) < 0 ||
	    (r = opt_string(p, cfg, "unit", &p->unit)) < 0 ||
	    (r = opt_string(p, cfg, "bearer_token", &p->token)) < 0 ||
	    (r = opt_string(p, cfg, "bearer_token_file", &p->token_file)) < 0 ||
	    (r = opt_string(p, cfg, "mode", &mode)) < 0 ||
	    (r = opt_string(p, cfg, "aggregation", &agg)) < 0 ||
	    (r = opt_string(p, cfg, "direction", &dir)) < 0 ||
	    (r = opt_number(p, cfg, "step", &p->step, 1)) < 0 ||
	    (r = opt_number(p, cfg, "timeout", &p->timeout, 1)) < 0 ||
	    (r = opt_number(p, cfg, "delay", &p->delay, 0)) < 0)
		goto out;
	r = -EINVAL;
	if (!p->url || (strncmp(p->url, "http://", 7) != 0 && strncmp(p->url, "https://", 8) != 0)) {
		h->config_error(h, cfg, "url", "must be an http:// or https:// URL");
		goto out;
	}
	if (!p->query || !*p->query) {
		h->config_error(h, cfg, "query", "must be a PromQL expression");
		goto out;
	}
	if (p->token && p->token_file) {
		h->config_error(h, cfg, "bearer_token_file", "give bearer_token or bearer_token_file, not both");
		goto out;
	}
	if (mode && strcmp(mode, "range") == 0) {
		p->range = 1;
	} else if (mode && strcmp(mode, "instant") != 0) {
		h->config_error(h, cfg, "mode", "must be \"instant\" or \"range\", not \"%s\"", mode);
		goto out;
	}
	if (agg && prom_agg_parse(agg, &p->agg) < 0) {
		h->config_error(h, cfg, "aggregation", "\"%s\" is not one of mean, max, min, last, "
				"first, sum, median, pNN (p99, p99.9)", agg);
		goto out;
	}
	if (agg && !p->range) {
		h->config_error(h, cfg, "aggregation", "only applies with mode = \"range\"");
		goto out;
	}
	p->value = (struct tb_metric_value){ p->name ? p->name : "value", p->unit ? p->unit : "",
					     TB_LOWER_IS_BETTER };
	if (dir && strcmp(dir, "higher") == 0) {
		p->value.direction = TB_HIGHER_IS_BETTER;
	} else if (dir && strcmp(dir, "lower") != 0) {
		h->config_error(h, cfg, "direction", "must be \"lower\" or \"higher\", not \"%s\"", dir);
		goto out;
	}
	/* A trailing slash would make "//api/v1/query", which Prometheus redirects. */
	while (strlen(p->url) > 8 && p->url[strlen(p->url) - 1] == '/')
		p->url[strlen(p->url) - 1] = '\0';
	r = 0;
out:
	free(mode);
	free(agg);
	free(dir);
	return r;
}

static int init(const struct tb_host *h, const struct tb_config *cfg, void **state)
{
	struct prom *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->h = h;
	p->value = (struct tb_metric_value){ "value", "", TB_LOWER_IS_BETTER };
	if (cfg) {
		r = configure(p, cfg);
		if (r < 0) {
			fini(p);
			return r;
		}
	}
	*state = p;
	return 0;
}

static size_t count(void *state)
{
	return 1;
}

static const struct tb_metric_value *describe(void *state, size_t i)
{
	struct prom *p = state;

	return i == 0 ? &p->value : NULL;
}

/* The token in p->token_file, without surrounding blanks; malloc'd. */
static char *read_token(struct prom *p)
{
	FILE *f = fopen(p->token_file, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		TB_LOG(p->h, TB_LOG_ERROR, "cannot read bearer_token_file %s: %s", p->token_file,
		       strerror(errno));
		return NULL;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		TB_LOG(p->h, TB_LOG_ERROR, "bearer_token_file %s is empty", p->token_file);
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	return line;
}

/* Wait until the host clock reaches t, or cancel: 0 or -EINTR. */
static int wait_until(struct prom *p, double t)
{
	while (p->h->now(p->h) < t) {
		double left = t - p->h->now(p->h);

		if (p->h->cancelled(p->h))
			return -EINTR;
		poll(NULL, 0, left > 0.1 ? 100 : (int)(left * 1000) + 1);
	}
	return p->h->cancelled(p->h) ? -EINTR : 0;
}

/* GET url into b; HTTP status in *status.  0, or < 0 (logged). */
static int fetch(struct prom *p, CURL *c, const char *url, struct tb_http_body *b, long *status)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char *token = p->token_file ? read_token(p) : NULL;
	CURLcode rc;

	if (p->token_file && !token)
		return -EACCES;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tb_http_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(p->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "throttlebot/" PACKAGE_VERSION);
	if (token || p->token) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, token ? token : p->token);
	}
	rc = curl_easy_perform(c);
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	if (rc != CURLE_OK) {
		TB_LOG(p->h, TB_LOG_ERROR, "cannot query %s: %s", p->url,
		       b->too_big ? "the answer is too large" : errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

static int measure(void *state, struct tb_trial *trial, double *values)
{
	struct prom *p = state;
	const struct tb_host *h = p->h;
	/* The trial's window in Unix time, from its monotonic bounds. */
	double t_start = trial->wall_start, t_end = trial->wall_start + (trial->end - trial->start);
	struct tb_http_body b = { 0 };
	char *q = NULL, url[8192], err[1024];
	long status = 0;
	CURL *c;
	int r;

	if (!p->url) {
		TB_LOG(h, TB_LOG_ERROR, "no url configured");
		return -EINVAL;
	}
	if (trial->end < trial->start || trial->wall_start <= 0) {
		TB_LOG(h, TB_LOG_ERROR, "the trial has no window to observe (no workload ran before)");
		return -EINVAL;
	}
	r = wait_until(p, trial->end + p->delay);
	if (r < 0)
		return r;
	c = curl_easy_init();
	if (!c || !(q = curl_easy_escape(c, p->query, 0))) {
		curl_easy_cleanup(c);
		return -ENOMEM;
	}
	if (p->range)
		snprintf(url, sizeof(url), "%s/api/v1/query_range?query=%s&start=%.3f&end=%.3f&step=%g",
			 p->url, q, t_start, t_end, p->step);
	else
		snprintf(url, sizeof(url), "%s/api/v1/query?query=%s&time=%.3f", p->url, q, t_end);
	curl_free(q);
	TB_LOG(h, TB_LOG_DEBUG, "GET %s", url);
	r = fetch(p, c, url, &b, &status);
	curl_easy_cleanup(c);
	if (r == 0) {
		r = prom_parse(b.data ? b.data : "", b.len, status, p->range, &p->agg, &values[0],
			       err, sizeof(err));
		if (r < 0)
			TB_LOG(h, TB_LOG_ERROR, "%s: %s", p->query, err);
	}
	free(b.data);
	return r;
}

TB_PLUGIN_DEFINE(tb_metric) = {
	.header = { TB_ABI_CURRENT, TB_KIND_METRIC, "prometheus",
		    "observes a trial through a PromQL query, at its end or over its window",
		    PACKAGE_VERSION, settings },
	.drives_workload = 0,
	.init = init,
	.fini = fini,
	.count = count,
	.describe = describe,
	.measure = measure,
};
