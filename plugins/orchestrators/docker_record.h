/* docker_record.h - the saved text of a throttle through a Docker engine's API: self-contained, checked field by field when read back. */
#ifndef TB_DOCKER_RECORD_H
#define TB_DOCKER_RECORD_H

#include <stddef.h>

/* The first line of every record; another version is refused. */
#define DK_RECORD_VERSION "engine 1"

enum dk_knob { DK_CPU_QUOTA = 1, DK_CPUSET = 2 };

/* Bounds the Engine itself puts on the values it takes. */
#define DK_MIN_QUOTA 1000LL            /* us; CpuQuota below 1 ms is refused */
#define DK_MIN_PERIOD 1000LL
#define DK_MAX_PERIOD 1000000LL
#define DK_NANO_PER_CPU 1000000000LL
#define DK_DEFAULT_PERIOD 100000LL     /* the kernel's, when CpuPeriod is 0 */

struct dk_record {
	/* The engine: "unix:///path", "https://host:port" (TLS with the files
	 * below, each "" when not given) or "http://host:port" (insecure). */
	char url[300];
	char ca[1024], cert[1024], key[1024];
	int verify;
	char id[65];                   /* the container */
	enum dk_knob knob;
	/* DK_CPU_QUOTA: HostConfig's CpuPeriod, CpuQuota and NanoCpus as they
	 * were, and the CPUs the container could run on (its cpuset, else NCPU). */
	long long period, quota, nano;
	int cores;
	/* DK_CPUSET: HostConfig's CpusetCpus as it was ("": every CPU), NCPU. */
	char cpus[1024];
	int ncpu;
};

/* The record as text, after the checks dk_record_parse makes (save refuses
 * what restore would).  0, -EINVAL (err says why) or -ENOSPC. */
int dk_record_format(const struct dk_record *r, char *out, size_t size, char *err, size_t errlen);

/* Read text back (from a journal on disk: hostile until checked).  Every line
 * is "key value", each key once; every value is checked.  0 or -EINVAL with
 * err set. */
int dk_record_parse(const char *text, struct dk_record *r, char *err, size_t errlen);

#endif
