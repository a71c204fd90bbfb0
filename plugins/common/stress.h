/* stress.h - the one rule for a stress value, shared by the core (levels, hold) and the plugins (apply). */
#ifndef TB_COMMON_STRESS_H
#define TB_COMMON_STRESS_H

/*
 * A stress is the share of a target's capacity taken away: apply() leaves
 * (1 - stress).  Header-only, so that the core and every plugin check the
 * same bounds without linking each other.  A NaN fails both.
 */

/* What apply() takes: 0 (nothing taken) up to, not including, 1 (all). */
static inline int tb_stress_valid(double stress)
{
	return stress >= 0 && stress < 1;
}

/* What stress leaves of an allowance (a CPU quota in us, nano-CPUs),
 * rounded, and never below min (what the kernel or the engine accepts). */
static inline long long tb_stress_left(double allowance, double stress, long long min)
{
	long long left = (long long)((1 - stress) * allowance + 0.5);

	return left < min ? min : left;
}

/* A level to throttle at (stress_levels, "throttlebot hold", a strategy's
 * level): as above, but above 0, which would throttle nothing. */
static inline int tb_stress_level_valid(double stress)
{
	return tb_stress_valid(stress) && stress > 0;
}

/* How a bad level is explained, after "stress ... ". */
#define TB_STRESS_LEVEL_RULE "must be more than 0 and less than 1 (0.2 leaves 80% of the capacity)"

#endif
