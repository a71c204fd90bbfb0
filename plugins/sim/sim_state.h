/* sim_state.h - the state file the sim plugins share: the application's parameters and current allowances. */
#ifndef TB_SIM_STATE_H
#define TB_SIM_STATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Plugins share no memory, so the simulated application lives in a small
 * text file: the orchestrator writes the generator's parameters, throttlers
 * write the allowance of (target, resource) in apply and restore, and the
 * metric reads both to evaluate the model.
 *
 *   app SEED NSERVICES MARGIN LEVEL
 *   capped SERVICE-INDEX RESOURCE
 *   model TEXT          (optional: the application described, not generated)
 *   allow TARGET-ID RESOURCE ALLOWANCE
 *
 * A missing allowance line means 1 (untouched).  A capped pair has a limit
 * of its own below what the host can give it (see sim_throttler.c).
 */
/* The longest model a state file line holds. */
#define SIM_MODEL_MAX 480

struct sim_allow {
	char *id;
	int resource;
	double allowance;
};

struct sim_state {
	int have_app;
	uint64_t seed;
	size_t nservices;
	double margin, level;
	int have_capped;
	size_t capped;             /* service index */
	int capped_resource;
	char *model;               /* sim_app_parse()'s text, or NULL */
	struct sim_allow *allow;
	size_t nallow, cap;
};

/* Read path into st (empty when the file does not exist).  0 or -errno. */
int sim_state_load(const char *path, struct sim_state *st);
/* Replace path atomically (a temporary file renamed over it).  0 or -errno. */
int sim_state_save(const char *path, const struct sim_state *st);
void sim_state_free(struct sim_state *st);

/* The allowance of (id, resource): 0, or -ENOENT when untouched. */
int sim_state_get(const struct sim_state *st, const char *id, int resource, double *allowance);
/* Set it; NAN removes the line.  0 or -ENOMEM. */
int sim_state_set(struct sim_state *st, const char *id, int resource, double allowance);

/* Targets are named "sim:INDEX"; the index, or -1. */
long sim_target_index(const char *id);

#endif
