/* commands.h - the subcommands of the throttlebot program. */
#ifndef TB_COMMANDS_H
#define TB_COMMANDS_H

/* Exit statuses. */
#define TB_EXIT_OK 0
#define TB_EXIT_FAILURE 1
#define TB_EXIT_CONFIG 2
#define TB_EXIT_INTERRUPTED 130

struct tb_options {
	const char *output;        /* --output DIR */
	const char *resume;        /* run --resume DIR */
	double hold_seconds;       /* --for SECONDS, 0 = until interrupted */
	int verbose;
	int check;                 /* restore --check */
	int boost;                 /* the boost command: run, then boost */
	double tolerance;          /* clampdown --tolerance, a fraction */
	int keep;                  /* clampdown, improve --keep: leave the changes applied */
	const char *budget;        /* improve --budget */
	unsigned rounds;           /* improve --rounds */
	double step;               /* improve --step, a fraction */
	const char *config;        /* agent --config FILE */
};

int tb_cmd_run(const char *config, const struct tb_options *o);
int tb_cmd_plan(const char *config, const struct tb_options *o);
int tb_cmd_probe(const char *config, const struct tb_options *o);
int tb_cmd_hold(const char *config, const char *service, const char *throttler,
		const char *stress, const struct tb_options *o);
int tb_cmd_clampdown(const char *config, const struct tb_options *o);
int tb_cmd_improve(const char *config, const struct tb_options *o);
int tb_cmd_restore(const struct tb_options *o);
int tb_cmd_plugins(const struct tb_options *o);
/* throttlebot agent --config FILE (agent/agent.c): serve until a signal, then restore everything. */
int tb_cmd_agent(const char *config);
void tb_install_signal_handlers(void);

#endif
