/* improve.c - give the bottleneck more, round by round, each step kept only if the application gains. */
#include <errno.h>
#include "improve.h"

int tb_improve(struct tb_run *run, const char *budget, unsigned rounds, double step, int keep)
{
	(void)run; (void)budget; (void)rounds; (void)step; (void)keep;
	return -ENOSYS;
}
