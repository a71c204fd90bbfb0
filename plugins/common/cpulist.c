/* cpulist.c - cpuset lists ("0-3,6"): parsed, formatted as the kernel prints them, and shrunk under a stress. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "cgroup_file.h"

/*
 * The kernel also accepts strides ("0-7:2/4") on input but never prints
 * them, so only what it printed is read and the rest refused.
 */
int tb_cpulist_parse(const char *s, int **cpus)
{
	unsigned char *set = calloc(TB_CPU_LIMIT / 8, 1);
	int n = 0, *out;
	long top = -1;      /* the highest CPU: the scans stop there, not at TB_CPU_LIMIT */
	const char *p = s;

	if (!set)
		return -ENOMEM;
	while (*p) {
		char *end;
		long a, b;

		while (*p == ' ' || *p == '\n' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p < '0' || *p > '9')
			goto bad;
		a = b = strtol(p, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			b = strtol(end + 1, &end, 10);
		}
		if (b < a || b >= TB_CPU_LIMIT || (*end && *end != ',' && *end != '\n' && *end != ' '))
			goto bad;
		for (long c = a; c <= b; c++)
			set[c / 8] |= (unsigned char)(1u << (c % 8));
		if (b > top)
			top = b;
		p = end;
	}
	for (int c = 0; c <= top; c++)
		n += (set[c / 8] >> (c % 8)) & 1;
	out = malloc(sizeof(*out) * (size_t)(n ? n : 1));
	if (!out) {
		free(set);
		return -ENOMEM;
	}
	n = 0;
	for (int c = 0; c <= top; c++)
		if ((set[c / 8] >> (c % 8)) & 1)
			out[n++] = c;
	free(set);
	*cpus = out;
	return n;
bad:
	free(set);
	return -EINVAL;
}

int tb_cpulist_format(const int *cpus, int n, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n;) {
		int j = i, w;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (j == i)
			w = snprintf(out + used, size - used, "%s%d", used ? "," : "", cpus[i]);
		else
			w = snprintf(out + used, size - used, "%s%d-%d", used ? "," : "", cpus[i],
				     cpus[j]);
		if (w < 0 || (size_t)w >= size - used)
			return -ENOSPC;
		used += (size_t)w;
		i = j + 1;
	}
	return 0;
}

int tb_cpulist_shrink(const char *base, double stress, int keep_last, char *out, size_t size)
{
	int *cpus, n = tb_cpulist_parse(base, &cpus), keep, r;

	if (n < 0)
		return n;
	if (n == 0) {
		free(cpus);
		return -EINVAL;
	}
	/* The epsilon keeps 0.7 * 10 from rounding up to 8. */
	keep = (int)ceil((1.0 - stress) * n - 1e-9);
	if (keep < 1)
		keep = 1;
	if (keep > n)
		keep = n;
	r = tb_cpulist_format(keep_last ? cpus + (n - keep) : cpus, keep, out, size);
	free(cpus);
	return r < 0 ? r : keep;
}
