/* progress.h - the "trial i/N, ETA" line shown while a run goes on. */
#ifndef TB_PROGRESS_H
#define TB_PROGRESS_H

struct tb_progress {
	unsigned long total;
	double started;
	int tty;
};

double tb_now(void);
/* Seconds since the epoch, for what outlives the process (run.json). */
double tb_wall_now(void);
void tb_progress_start(struct tb_progress *p, unsigned long total);
void tb_progress_update(struct tb_progress *p, unsigned index, const char *what);
void tb_progress_done(struct tb_progress *p);
/* "1:02:03" or "2:03" */
void tb_format_duration(double seconds, char *buf, unsigned long len);

#endif
