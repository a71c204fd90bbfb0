/* bench_jtl.c - time the JTL reader on a generated 1,000,000-sample CSV and report its peak memory. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "jtl.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	char path[] = "/tmp/throttlebot-bench-XXXXXX.jtl";
	struct jtl_stats st;
	char err[1024];
	double t0, t1;
	long rss0, rss1;
	FILE *f;
	int fd;

	fd = mkstemps(path, 4);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		perror(path);
		return 1;
	}
	/* JMeter 5's default columns, quoted labels, a few failures and slow samples. */
	fprintf(f, "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,"
		"success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,"
		"IdleTime,Connect\n");
	srand(1);
	for (long i = 0; i < n; i++) {
		int el = rand() % 200 + (rand() % 1000 == 0 ? 70000 : 0);
		int bad = rand() % 50 == 0;

		fprintf(f, "%lld,%d,\"step, %ld\",%s,%s,users 1-%ld,text,%s,,%d,120,8,8,"
			"http://127.0.0.1:8080/x,%d,0,1\n", 1700000000000LL + i / 8, el, i % 5,
			bad ? "\"Non HTTP response code: java.net.ConnectException\"" : "200",
			bad ? "\"Connection refused\"" : "OK", i % 8 + 1, bad ? "false" : "true",
			1000 + el, el / 2);
	}
	if (fclose(f) != 0) {
		perror(path);
		unlink(path);
		return 1;
	}
	rss0 = peak_rss_kib();
	t0 = mono();
	if (jtl_read(path, NULL, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		unlink(path);
		return 1;
	}
	t1 = mono();
	rss1 = peak_rss_kib();
	printf("samples      %llu (%llu errors)\n", st.samples, st.errors);
	printf("parse time   %.3f s (target < 1 s)\n", t1 - t0);
	printf("peak RSS     %.1f MiB (%.1f MiB before parsing; target < 16 MiB)\n",
	       rss1 / 1024.0, rss0 / 1024.0);
	printf("mean %.2f ms, median %.0f, p90 %.0f, p95 %.0f, p99 %.0f, p99.99 %.0f ms, "
	       "%.1f samples/s, error rate %.4f\n", jtl_mean(&st), jtl_percentile(&st, 50),
	       jtl_percentile(&st, 90), jtl_percentile(&st, 95), jtl_percentile(&st, 99),
	       jtl_percentile(&st, 99.99), jtl_throughput(&st), jtl_error_rate(&st));
	jtl_stats_free(&st);
	unlink(path);
	return 0;
}
