/* jtl.c - a streaming reader of JMeter result files (JTL: CSV or XML) into latency statistics. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/xmlreader.h>
#include "jtl.h"

/* A CSV record (header or sample) longer than this is not a JMeter JTL. */
#define MAX_RECORD (4u << 20)

struct reader {
	const char *path;
	const regex_t *label;
	struct jtl_stats *st;
	char *err;
	size_t errsize;
	int failed;
	xmlTextReaderPtr xml;     /* while reading XML: where its errors are */
};

static int fail(struct reader *r, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, unsigned long line, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (r->failed++)
		return -EINVAL;
	n = (size_t)snprintf(r->err, r->errsize, "%s:%lu: ", r->path, line);
	if (n < r->errsize) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errsize - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int add_sample(struct jtl_stats *st, long long ts, long long elapsed, int ok)
{
	double start = (double)ts, end = (double)ts + (double)elapsed;

	if (!st->hist && !(st->hist = calloc(JTL_HIST_MS, sizeof(*st->hist))))
		return -ENOMEM;
	if (elapsed < JTL_HIST_MS) {
		st->hist[elapsed]++;
	} else {
		if (st->nover == st->over_cap) {
			size_t cap = st->over_cap ? st->over_cap * 2 : 1024;
			uint32_t *p = realloc(st->over, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			st->over = p;
			st->over_cap = cap;
		}
		st->over[st->nover++] = elapsed > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed;
		st->over_sorted = 0;
	}
	if (!st->samples || start < st->first_start_ms)
		st->first_start_ms = start;
	if (!st->samples || end > st->last_end_ms)
		st->last_end_ms = end;
	st->samples++;
	st->errors += !ok;
	st->sum_ms += (double)elapsed;
	return 0;
}

/* A whole field as an integer; 0 or -1. */
static int integer(const char *s, long long *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* The sample's fields, as text, however they were written. */
struct fields {
	const char *ts, *elapsed, *label, *success, *code;
};

static int sample(struct reader *r, unsigned long line, const struct fields *f)
{
	long long ts, elapsed;
	int ok, e;

	if (r->label && f->label && regexec(r->label, f->label, 0, NULL, 0) != 0)
		return 0;
	if (!f->ts)
		return fail(r, line, "sample without a timestamp");
	if (!f->elapsed)
		return fail(r, line, "sample without an elapsed time");
	if (integer(f->ts, &ts) < 0 || ts < 0)
		return fail(r, line, "timestamp '%.40s' is not milliseconds since 1970 "
			    "(jmeter.save.saveservice.timestamp_format=ms)", f->ts);
	if (integer(f->elapsed, &elapsed) < 0 || elapsed < 0)
		return fail(r, line, "elapsed '%.40s' is not a number of milliseconds", f->elapsed);
	if (f->success) {
		if (strcasecmp(f->success, "true") == 0)
			ok = 1;
		else if (strcasecmp(f->success, "false") == 0)
			ok = 0;
		else
			return fail(r, line, "success '%.40s' is neither true nor false", f->success);
	} else if (f->code) {
		long long code;

		/* Non-HTTP failures ("Non HTTP response code: ...") are not numbers. */
		ok = integer(f->code, &code) == 0 && code >= 200 && code < 400;
	} else {
		ok = 1;
	}
	e = add_sample(r->st, ts, elapsed, ok);
	if (e < 0)
		return fail(r, line, "out of memory"), e;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* CSV                                                                        */

struct csv {
	FILE *f;
	char *line;
	size_t linecap;
	char *rec;                /* one record, possibly over several lines */
	size_t len, cap;
	unsigned long lineno;     /* physical lines read */
	char **field;
	size_t nfield, fieldcap;
	char delim;
};

static int append(struct csv *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *p;

		while (cap < c->len + n + 1)
			cap *= 2;
		p = realloc(c->rec, cap);
		if (!p)
			return -ENOMEM;
		c->rec = p;
		c->cap = cap;
	}
	memcpy(c->rec + c->len, s, n);
	c->len += n;
	c->rec[c->len] = '\0';
	return 0;
}

/*
 * The next record into c->rec (line ending stripped); *first is its first
 * line.  1: a record, 0: end of file, < 0: error (reported).
 */
static int next_record(struct reader *r, struct csv *c, unsigned long *first)
{
	int inq = 0;
	ssize_t n;

	c->len = 0;
	*first = c->lineno + 1;
	while ((n = getline(&c->line, &c->linecap, c->f)) > 0) {
		c->lineno++;
		for (ssize_t i = 0; i < n; i++)
			if (c->line[i] == '"')
				inq = !inq;
		if (append(c, c->line, (size_t)n) < 0)
			return fail(r, *first, "out of memory"), -ENOMEM;
		if (c->len > MAX_RECORD)
			return fail(r, *first, "record longer than %u bytes", MAX_RECORD);
		if (!inq)
			break;
	}
	if (ferror(c->f))
		return fail(r, c->lineno, "read error: %s", strerror(errno));
	if (c->len == 0)
		return 0;
	if (inq)
		return fail(r, *first, "quoted field not closed before the end of the file");
	if (c->len && c->rec[c->len - 1] == '\n')
		c->rec[--c->len] = '\0';
	if (c->len && c->rec[c->len - 1] == '\r')
		c->rec[--c->len] = '\0';
	return 1;
}

static int push_field(struct csv *c, char *s)
{
	if (c->nfield == c->fieldcap) {
		size_t cap = c->fieldcap ? c->fieldcap * 2 : 32;
		char **p = realloc(c->field, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->field = p;
		c->fieldcap = cap;
	}
	c->field[c->nfield++] = s;
	return 0;
}

/* Split c->rec in place into NUL-terminated, unquoted fields. */
static int split(struct reader *r, struct csv *c, unsigned long line)
{
	char *p = c->rec, *end = c->rec + c->len;

	c->nfield = 0;
	for (;;) {
		char *start = p, *next;

		if (*p == '"') {
			char *w = p, *q = p + 1;

			for (;;) {
				if (q >= end)
					return fail(r, line, "field %zu: quote not closed", c->nfield + 1);
				if (*q == '"') {
					if (q + 1 < end && q[1] == '"') {
						*w++ = '"';
						q += 2;
						continue;
					}
					break;
				}
				*w++ = *q++;
			}
			q++;
			if (q < end && *q != c->delim)
				return fail(r, line, "field %zu: text after the closing quote",
					    c->nfield + 1);
			*w = '\0';
			next = q;
		} else {
			next = memchr(p, c->delim, (size_t)(end - p));
			if (!next)
				next = end;
		}
		if (push_field(c, start) < 0)
			return fail(r, line, "out of memory"), -ENOMEM;
		if (next >= end) {
			*next = '\0';
			return 0;
		}
		*next = '\0';
		p = next + 1;
	}
}

static char guess_delim(const char *header)
{
	static const char cand[] = ",;\t|";
	const char *t = strstr(header, "timeStamp");
	size_t best = 0, bestn = 0;

	if (t && t[9] && strchr(cand, t[9]))
		return t[9];
	for (size_t i = 0; cand[i]; i++) {
		size_t n = 0;

		for (const char *p = header; *p; p++)
			n += *p == cand[i];
		if (n > bestn) {
			best = i;
			bestn = n;
		}
	}
	return cand[best];
}

/*
 * Without a header line (JMeter 2.13's default), the columns are JMeter's
 * default order, whose first eight have not changed across versions:
 * timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success.
 */
static int headerless(const char *rec)
{
	if (!isdigit((unsigned char)*rec))
		return 0;
	while (isdigit((unsigned char)*rec))
		rec++;
	return *rec && strchr(",;\t|", *rec);
}

static int csv_sample(struct reader *r, struct csv *c, unsigned long line, const int col[5])
{
	const char *v[5];

	for (int i = 0; i < 5; i++)
		v[i] = col[i] >= 0 ? c->field[col[i]] : NULL;
	return sample(r, line, &(struct fields){ v[0], v[1], v[2], v[3], v[4] });
}

static int read_csv(struct reader *r, FILE *f)
{
	struct csv c = { .f = f };
	/* timeStamp, elapsed, label, success, responseCode */
	int col[5] = { -1, -1, -1, -1, -1 }, named;
	static const char *const names[5] = { "timeStamp", "elapsed", "label", "success",
					       "responseCode" };
	unsigned long line;
	size_t nheader;
	char *rec;
	int e;

	e = next_record(r, &c, &line);
	if (e == 0)
		e = fail(r, 1, "empty file");
	if (e < 0)
		goto out;
	rec = c.rec;
	if ((unsigned char)rec[0] == 0xef && (unsigned char)rec[1] == 0xbb &&
	    (unsigned char)rec[2] == 0xbf) {
		memmove(rec, rec + 3, c.len - 2);
		c.len -= 3;
	}
	named = !headerless(rec);
	if (named) {
		c.delim = guess_delim(rec);
	} else {
		c.delim = rec[strspn(rec, "0123456789")];
	}
	e = split(r, &c, line);
	if (e < 0)
		goto out;
	nheader = c.nfield;
	if (named) {
		for (size_t i = 0; i < nheader && i < INT_MAX; i++)
			for (int k = 0; k < 5; k++)
				if (strcmp(c.field[i], names[k]) == 0)
					col[k] = (int)i;
		if (col[0] < 0 || col[1] < 0) {
			e = fail(r, line, "the header line names no '%s' column",
				 names[col[0] < 0 ? 0 : 1]);
			goto out;
		}
	} else {
		if (nheader < 8) {
			e = fail(r, line, "no header line, and %zu fields are too few for JMeter's "
				 "default columns (jmeter.save.saveservice.print_field_names=true "
				 "writes a header)", nheader);
			goto out;
		}
		for (int k = 0; k < 4; k++)
			col[k] = (int)(k == 3 ? 7 : k);
		col[4] = 3;
		e = csv_sample(r, &c, line, col);
		if (e < 0)
			goto out;
	}
	if (r->label && col[2] < 0) {
		e = fail(r, line, "no 'label' column to filter by label");
		goto out;
	}
	while ((e = next_record(r, &c, &line)) > 0) {
		if (c.len == 0)
			continue;
		e = split(r, &c, line);
		if (e < 0)
			break;
		if (c.nfield != nheader) {
			e = fail(r, line, "%zu fields where the %s has %zu%s", c.nfield,
				 named ? "header" : "first line", nheader,
				 c.nfield < nheader ? " (truncated?)" : "");
			break;
		}
		e = csv_sample(r, &c, line, col);
		if (e < 0)
			break;
	}
	if (e == 0 && r->st->samples == 0)
		e = fail(r, c.lineno + 1, r->label ? "no sample matches the label filter" : "no samples");
out:
	free(c.line);
	free(c.rec);
	free(c.field);
	return e < 0 ? e : 0;
}

/* ------------------------------------------------------------------------ */
/* XML                                                                        */

static void xml_error(void *arg, const char *msg, xmlParserSeverities severity,
		      xmlTextReaderLocatorPtr loc)
{
	struct reader *r = arg;
	size_t n = strlen(msg);

	if (severity == XML_PARSER_SEVERITY_VALIDITY_WARNING ||
	    severity == XML_PARSER_SEVERITY_WARNING)
		return;
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	/* The locator names the enclosing node's line; the parser knows where it stopped. */
	fail(r, (unsigned long)(r->xml ? xmlTextReaderGetParserLineNumber(r->xml)
			       : xmlTextReaderLocatorLineNumber(loc)), "%.*s", (int)n, msg);
}

static const char *attr(xmlTextReaderPtr x, const char *name, char **keep)
{
	*keep = (char *)xmlTextReaderGetAttribute(x, (const xmlChar *)name);
	return *keep;
}

static int read_xml(struct reader *r)
{
	xmlTextReaderPtr x = xmlReaderForFile(r->path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	int e = 0, root = 0;

	if (!x)
		return fail(r, 1, "cannot parse as XML");
	r->xml = x;
	xmlTextReaderSetErrorHandler(x, xml_error, r);
	while (!r->failed && (e = xmlTextReaderRead(x)) == 1) {
		const char *name;
		unsigned long line;
		int depth;

		if (xmlTextReaderNodeType(x) != XML_READER_TYPE_ELEMENT)
			continue;
		name = (const char *)xmlTextReaderConstLocalName(x);
		depth = xmlTextReaderDepth(x);
		line = (unsigned long)xmlGetLineNo(xmlTextReaderCurrentNode(x));
		if (depth == 0) {
			if (strcmp(name, "testResults") != 0) {
				e = fail(r, line, "root element <%s> is not <testResults>", name);
				break;
			}
			root = 1;
			continue;
		}
		/* Deeper samples are sub-results (redirects, embedded resources). */
		if (depth == 1 && (strcmp(name, "httpSample") == 0 || strcmp(name, "sample") == 0)) {
			char *k[5];
			struct fields fl = {
				attr(x, "ts", &k[0]), attr(x, "t", &k[1]), attr(x, "lb", &k[2]),
				attr(x, "s", &k[3]), attr(x, "rc", &k[4]),
			};

			if (r->label && !fl.label)
				fl.label = "";
			e = sample(r, line, &fl);
			for (int i = 0; i < 5; i++)
				xmlFree(k[i]);
			if (e < 0)
				break;
		}
	}
	if (e < 0 || r->failed) {
		if (!r->failed)
			fail(r, (unsigned long)xmlTextReaderGetParserLineNumber(x), "malformed XML");
		e = -EINVAL;
	} else if (!root) {
		e = fail(r, 1, "no <testResults> element");
	} else if (r->st->samples == 0) {
		e = fail(r, (unsigned long)xmlTextReaderGetParserLineNumber(x),
			 r->label ? "no sample matches the label filter" : "no samples");
	}
	r->xml = NULL;
	xmlFreeTextReader(x);
	return e < 0 ? e : 0;
}

/* ------------------------------------------------------------------------ */

int jtl_read(const char *path, const regex_t *label, struct jtl_stats *st, char *err,
	     size_t errsize)
{
	struct reader r = { path, label, st, err, errsize, 0, NULL };
	unsigned long line = 1;
	FILE *f;
	int ch, e;

	memset(st, 0, sizeof(*st));
	if (errsize)
		err[0] = '\0';
	f = fopen(path, "re");
	if (!f) {
		e = -errno;
		snprintf(err, errsize, "%s: %s", path, strerror(-e));
		return e;
	}
	/* A UTF-8 byte order mark, then blank space, may come before either format. */
	while ((ch = getc(f)) != EOF && (isspace(ch) || ch == 0xef || ch == 0xbb || ch == 0xbf))
		line += ch == '\n';
	if (ch == EOF) {
		e = ferror(f) ? fail(&r, line, "read error") : fail(&r, line, "empty file");
	} else if (ch == '<') {
		fclose(f);
		f = NULL;
		e = read_xml(&r);
	} else {
		rewind(f);
		e = read_csv(&r, f);
	}
	if (f)
		fclose(f);
	if (e < 0)
		jtl_stats_free(st);
	return e;
}

void jtl_stats_free(struct jtl_stats *st)
{
	free(st->hist);
	free(st->over);
	st->hist = NULL;
	st->over = NULL;
	st->nover = st->over_cap = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

double jtl_percentile(struct jtl_stats *st, double p)
{
	unsigned long long rank, seen = 0;

	if (!st->samples || !st->hist)
		return NAN;
	/* The rank is ceil(p% of n), at least 1; the epsilon keeps 90% of 10 at 9. */
	rank = (unsigned long long)ceil(p / 100.0 * (double)st->samples - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > st->samples)
		rank = st->samples;
	for (size_t i = 0; i < JTL_HIST_MS; i++) {
		seen += st->hist[i];
		if (seen >= rank)
			return (double)i;
	}
	if (!st->over_sorted) {
		qsort(st->over, st->nover, sizeof(*st->over), cmp_u32);
		st->over_sorted = 1;
	}
	return (double)st->over[rank - seen - 1];
}

double jtl_mean(const struct jtl_stats *st)
{
	return st->samples ? st->sum_ms / (double)st->samples : NAN;
}

double jtl_throughput(const struct jtl_stats *st)
{
	double window = (st->last_end_ms - st->first_start_ms) / 1000.0;

	/* One instant sample: count it over a millisecond rather than divide by zero. */
	if (window < 0.001)
		window = 0.001;
	return st->samples ? (double)st->samples / window : NAN;
}

double jtl_error_rate(const struct jtl_stats *st)
{
	return st->samples ? (double)st->errors / (double)st->samples : NAN;
}
