/* docker_record.c - the saved text of a throttle through a Docker engine's API: self-contained, checked field by field when read back. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup_file.h"
#include "docker_parse.h"
#include "docker_record.h"

/* The most CPUs a count may say: the bound of every cpu list we read. */
#define MAX_CPUS TB_CPU_LIMIT

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* host:port, as a name or an address; no user, path or query. */
static int valid_hostport(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t n = strlen(s);

	return n > 0 && n < 256 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-:[]") == n &&
	       colon && colon > s && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	       strlen(colon + 1) <= 5;
}

/* An absolute path that does not climb (a socket, a PEM file). */
static int valid_path(const char *p, size_t max)
{
	size_t n = strlen(p);

	return p[0] == '/' && n < max && !strstr(p, "/../") &&
	       !(n >= 3 && !strcmp(p + n - 3, "/.."));
}

static int valid_url(const char *url)
{
	if (!strncmp(url, "unix://", 7))
		return valid_path(url + 7, 256);
	if (!strncmp(url, "https://", 8))
		return valid_hostport(url + 8);
	if (!strncmp(url, "http://", 7))
		return valid_hostport(url + 7);
	return 0;
}

/* A cpu list of the Engine's: digits, '-' and ',' only, at least one CPU. */
static int valid_cpus(const char *s)
{
	return strspn(s, "0123456789-,") == strlen(s) && tb_cpulist_count(s) > 0;
}

static int check(const struct dk_record *r, char *err, size_t errlen)
{
	int https = !strncmp(r->url, "https://", 8);

	if (!valid_url(r->url))
		return fail(err, errlen, "bad engine url \"%s\"", r->url);
	/* A record that names TLS files yet a plain URL was not written by us:
	 * it would send to an unauthenticated engine what TLS should protect. */
	if (!https && (r->ca[0] || r->cert[0] || r->key[0]))
		return fail(err, errlen, "TLS files recorded for %s, which is not https://", r->url);
	if (!r->cert[0] != !r->key[0])
		return fail(err, errlen, "tls_cert and tls_key go together");
	if ((r->ca[0] && !valid_path(r->ca, sizeof(r->ca))) ||
	    (r->cert[0] && !valid_path(r->cert, sizeof(r->cert))) ||
	    (r->key[0] && !valid_path(r->key, sizeof(r->key))))
		return fail(err, errlen, "a TLS file that is not an absolute path");
	if (!dk_valid_id(r->id))
		return fail(err, errlen, "container \"%.80s\" is not a 64-hex-digit id", r->id);
	if (r->knob == DK_CPU_QUOTA) {
		if (r->period && (r->period < DK_MIN_PERIOD || r->period > DK_MAX_PERIOD))
			return fail(err, errlen, "cpu_period %lld out of range", r->period);
		if (r->quota < -1 || (r->quota > 0 && r->quota < DK_MIN_QUOTA) ||
		    r->quota > DK_MAX_PERIOD * MAX_CPUS)
			return fail(err, errlen, "cpu_quota %lld out of range", r->quota);
		if (r->nano < 0 || r->nano > DK_NANO_PER_CPU * MAX_CPUS)
			return fail(err, errlen, "nano_cpus %lld out of range", r->nano);
		/* The Engine refuses the two together. */
		if (r->nano > 0 && (r->quota > 0 || r->period > 0))
			return fail(err, errlen, "nano_cpus with cpu_quota or cpu_period");
		if (r->cores < 1 || r->cores > MAX_CPUS)
			return fail(err, errlen, "cores %d out of range", r->cores);
		return 0;
	}
	if (r->knob == DK_CPUSET) {
		if (r->cpus[0] && !valid_cpus(r->cpus))
			return fail(err, errlen, "bad cpuset_cpus \"%.80s\"", r->cpus);
		if (r->ncpu < 1 || r->ncpu > MAX_CPUS)
			return fail(err, errlen, "ncpu %d out of range", r->ncpu);
		return 0;
	}
	return fail(err, errlen, "no throttler recorded");
}

int dk_record_format(const struct dk_record *r, char *out, size_t size, char *err, size_t errlen)
{
	int https = !strncmp(r->url, "https://", 8), n, m = 0;

	if (check(r, err, errlen) < 0)
		return -EINVAL;
	n = snprintf(out, size, DK_RECORD_VERSION "\nurl %s\n", r->url);
	if (n >= 0 && (size_t)n < size && https)
		n += m = snprintf(out + n, size - (size_t)n, "%s%s%s%s%s%s%s%s%stls_verify %d\n",
				  r->ca[0] ? "tls_ca " : "", r->ca, r->ca[0] ? "\n" : "",
				  r->cert[0] ? "tls_cert " : "", r->cert, r->cert[0] ? "\n" : "",
				  r->key[0] ? "tls_key " : "", r->key, r->key[0] ? "\n" : "",
				  r->verify ? 1 : 0);
	if (n >= 0 && m >= 0 && (size_t)n < size) {
		if (r->knob == DK_CPU_QUOTA)
			m = snprintf(out + n, size - (size_t)n, "container %s\nthrottler cpu_quota\n"
				     "cpu_period %lld\ncpu_quota %lld\nnano_cpus %lld\ncores %d\n",
				     r->id, r->period, r->quota, r->nano, r->cores);
		else
			m = snprintf(out + n, size - (size_t)n, "container %s\nthrottler cpuset\n"
				     "cpuset_cpus%s%s\nncpu %d\n", r->id, r->cpus[0] ? " " : "",
				     r->cpus, r->ncpu);
		n += m;
	}
	if (n < 0 || m < 0 || (size_t)n >= size) {
		fail(err, errlen, "the record does not fit in %zu bytes", size);
		return -ENOSPC;
	}
	return 0;
}

/* A decimal number, the whole of s, within [lo, hi]. */
static int number(const char *s, long long lo, long long hi, long long *out)
{
	char *end;

	if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')) ||
	    strlen(s) > 20)
		return -EINVAL;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end || *out < lo || *out > hi ? -EINVAL : 0;
}

static int copy(char *dst, size_t size, const char *value)
{
	if (strlen(value) >= size)
		return -EINVAL;
	strcpy(dst, value);
	return 0;
}

static const char *const keys[] = {
	"url", "tls_ca", "tls_cert", "tls_key", "tls_verify", "container", "throttler",
	"cpu_period", "cpu_quota", "nano_cpus", "cores", "cpuset_cpus", "ncpu",
};
#define NKEYS (sizeof(keys) / sizeof(*keys))

/* Which keys each throttler's record holds, beyond url and container. */
#define BIT(k) (1u << (k))
#define QUOTA_KEYS (BIT(7) | BIT(8) | BIT(9) | BIT(10))
#define CPUSET_KEYS (BIT(11) | BIT(12))

static int field(struct dk_record *r, size_t k, const char *v)
{
	long long n;
	int bad = 0;

	switch (k) {
	case 0: return copy(r->url, sizeof(r->url), v);
	case 1: return copy(r->ca, sizeof(r->ca), v);
	case 2: return copy(r->cert, sizeof(r->cert), v);
	case 3: return copy(r->key, sizeof(r->key), v);
	case 4:
		bad = number(v, 0, 1, &n);
		r->verify = (int)n;
		return bad;
	case 5: return copy(r->id, sizeof(r->id), v);
	case 6:
		r->knob = !strcmp(v, "cpu_quota") ? DK_CPU_QUOTA : !strcmp(v, "cpuset") ? DK_CPUSET : 0;
		return r->knob ? 0 : -EINVAL;
	case 7: return number(v, 0, DK_MAX_PERIOD, &r->period);
	case 8: return number(v, -1, DK_MAX_PERIOD * MAX_CPUS, &r->quota);
	case 9: return number(v, 0, DK_NANO_PER_CPU * MAX_CPUS, &r->nano);
	case 10:
	case 12:
		bad = number(v, 1, MAX_CPUS, &n);
		*(k == 10 ? &r->cores : &r->ncpu) = (int)n;
		return bad;
	case 11: return copy(r->cpus, sizeof(r->cpus), v);
	}
	return -EINVAL;
}

/* One line "key value" (cpuset_cpus alone: every CPU) into r. */
static int line(struct dk_record *r, char *s, unsigned *seen, char *err, size_t errlen)
{
	char *sp = strchr(s, ' ');
	const char *value = sp ? sp + 1 : "";

	if (sp)
		*sp = '\0';
	for (size_t k = 0; k < NKEYS; k++) {
		if (strcmp(s, keys[k]))
			continue;
		if (*seen & BIT(k))
			return fail(err, errlen, "%s given twice", s);
		*seen |= BIT(k);
		if ((!*value && k != 11) || field(r, k, value) < 0)
			return fail(err, errlen, "bad %s \"%.80s\"", s, value);
		return 0;
	}
	return fail(err, errlen, "unknown key \"%.40s\"", s);
}

int dk_record_parse(const char *text, struct dk_record *r, char *err, size_t errlen)
{
	static const size_t vlen = sizeof(DK_RECORD_VERSION) - 1;
	char buf[8192], *s, *next;
	unsigned seen = 0, want;
	size_t n = strlen(text);

	memset(r, 0, sizeof(*r));
	r->verify = 1;
	if (n >= sizeof(buf))
		return fail(err, errlen, "record too long");
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || (unsigned char)text[i] >= 0x7f)
			return fail(err, errlen, "control or non-ASCII character at byte %zu", i);
	if (strncmp(text, DK_RECORD_VERSION, vlen) || text[vlen] != '\n')
		return fail(err, errlen, "not a record of this version (\"" DK_RECORD_VERSION "\")");
	memcpy(buf, text + vlen + 1, n - vlen);
	for (s = buf; *s; s = next) {
		next = strchr(s, '\n');
		if (!next)
			return fail(err, errlen, "last line without its newline");
		*next++ = '\0';
		if (line(r, s, &seen, err, errlen) < 0)
			return -EINVAL;
	}
	/* Said first: a downgrade from TLS is the likeliest tampering. */
	if (strncmp(r->url, "https://", 8) && (seen & (BIT(1) | BIT(2) | BIT(3))))
		return fail(err, errlen, "TLS files recorded for %.300s, which is not https://", r->url);
	want = BIT(0) | BIT(5) | BIT(6) | (r->knob == DK_CPU_QUOTA ? QUOTA_KEYS : CPUSET_KEYS) |
	       (!strncmp(r->url, "https://", 8) ? BIT(4) : 0);
	if ((seen & ~(BIT(1) | BIT(2) | BIT(3))) != want)
		return fail(err, errlen, "keys missing or out of place for %s",
			    r->knob == DK_CPU_QUOTA ? "cpu_quota" : r->knob == DK_CPUSET ? "cpuset" : "a record");
	return check(r, err, errlen);
}
