/* main.c - the throttlebot command line: parse options, dispatch to a subcommand. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "conf.h"
#include "log.h"
#include "tune.h"

static void usage(FILE *f)
{
	fputs("Usage: throttlebot [OPTIONS] COMMAND [ARGS]\n"
	      "Find which resource, on which service, limits an application, by throttling each\n"
	      "(service, resource) pair in turn and measuring how much the application suffers.\n\n"
	      "Commands:\n"
	      "  run CONFIG [--output DIR]   run the experiment; writes DIR/report.json, prints the table\n"
	      "  run [CONFIG] --resume DIR   go on with an interrupted run from the trials DIR holds\n"
	      "  boost CONFIG [--output DIR] run, then give the IMRs (and other pairs) more of their\n"
	      "                              resource and measure the gain against paired baselines\n"
	      "  plan CONFIG                 print the schedule and its estimated duration (no root)\n"
	      "  probe CONFIG                print each service's targets and each throttler's capacity\n"
	      "  hold CONFIG SERVICE THROTTLER STRESS [--for SECONDS]\n"
	      "                              apply one throttle, hold it, then restore it\n"
	      "  clampdown CONFIG [--tolerance 5%] [--keep]\n"
	      "                              find what the services that do not limit the application\n"
	      "                              can give back, each cut verified; writes clampdown.json\n"
	      "  improve CONFIG --budget cpu=2,disk=50M [--rounds 5] [--step 20%] [--keep]\n"
	      "                              give the bottleneck more, round by round, each step\n"
	      "                              verified; writes improve.json and ready-to-apply forms\n"
	      "  restore                     undo whatever a killed run left applied\n"
	      "  restore --check             list what the journal holds, changing nothing;\n"
	      "                              exit 0 when nothing is pending, 1 when something is\n"
	      "  plugins                     list the plugins found, their kind and ABI (-v: settings)\n"
	      "  agent --config FILE         serve this node's throttling to a controller over HTTPS\n"
	      "                              (see throttlebot-agent(8))\n\n"
	      "Options:\n"
	      "  -o, --output DIR   where reports go (overrides output_dir)\n"
	      "  -f, --for SECONDS  how long hold holds (default: until Ctrl-C)\n"
	      "  --tolerance F      clampdown: how much worse the metric may get (5% or 0.05)\n"
	      "  --budget LIST      improve: unallocated amounts per resource (cpu=2,disk=50M)\n"
	      "  --rounds N         improve: at most N rounds (default 5)\n"
	      "  --step F           improve: each round's increase (default 20%)\n"
	      "  --keep             clampdown, improve: leave the verified changes applied\n"
	      "  -v, --verbose      more detail;  -q, --quiet  errors only\n"
	      "  -h, --help         this text;    -V, --version\n\n"
	      "Environment: THROTTLEBOT_PLUGIN_PATH (extra plugin directories, colon separated),\n"
	      "THROTTLEBOT_JOURNAL (the journal file), THROTTLEBOT_LOCK (the host-wide run lock).\n"
	      "See throttlebot(1), throttlebot.conf(5).\n", f);
}

static int need_args(int have, int want, const char *cmd)
{
	if (have == want)
		return 0;
	fprintf(stderr, "throttlebot: '%s' takes %d argument%s (see --help)\n", cmd, want,
		want == 1 ? "" : "s");
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "resume", required_argument, NULL, 'r' },
		{ "for", required_argument, NULL, 'f' },
		{ "check", no_argument, NULL, 'c' },
		{ "tolerance", required_argument, NULL, 'T' },
		{ "budget", required_argument, NULL, 'B' },
		{ "rounds", required_argument, NULL, 'R' },
		{ "step", required_argument, NULL, 'S' },
		{ "keep", no_argument, NULL, 'K' },
		{ "config", required_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct tb_options o = { .tolerance = 0.05, .rounds = 5, .step = 0.2 };
	int tuning = 0;
	const char *cmd;
	char *end;
	int c, n;

	while ((c = getopt_long(argc, argv, "o:f:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'r': o.resume = optarg; break;
		case 'c': o.check = 1; break;
		case 'T':
		case 'S':
			tuning = 1;
			if (tb_tune_fraction(optarg, 0, c == 'T' ? 1 : 10,
					     c == 'T' ? &o.tolerance : &o.step) < 0) {
				fprintf(stderr, "throttlebot: --%s needs a fraction such as 5%% or 0.05\n",
					c == 'T' ? "tolerance" : "step");
				return TB_EXIT_CONFIG;
			}
			break;
		case 'B': tuning = 1; o.budget = optarg; break;
		case 'K': tuning = 1; o.keep = 1; break;
		case 'R':
			tuning = 1;
			o.rounds = (unsigned)strtoul(optarg, &end, 10);
			if (*end || end == optarg || o.rounds < 1 || o.rounds > 1000) {
				fprintf(stderr, "throttlebot: --rounds needs a number from 1 to 1000\n");
				return TB_EXIT_CONFIG;
			}
			break;
		case 'C': o.config = optarg; break;
		case 'f':
			o.hold_seconds = strtod(optarg, &end);
			if (*end || o.hold_seconds <= 0) {
				fprintf(stderr, "throttlebot: --for needs a positive number of seconds\n");
				return TB_EXIT_CONFIG;
			}
			break;
		case 'v': o.verbose++; tb_verbosity = TB_LOG_DEBUG; break;
		case 'q': tb_verbosity = TB_LOG_ERROR; break;
		case 'h': usage(stdout); return TB_EXIT_OK;
		case 'V':
			printf("throttlebot %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, TB_ABI_MAJOR,
			       TB_ABI_MINOR);
			return TB_EXIT_OK;
		default: usage(stderr); return TB_EXIT_CONFIG;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return TB_EXIT_CONFIG;
	}
	cmd = argv[optind++];
	n = argc - optind;
	if (o.check && strcmp(cmd, "restore")) {
		fprintf(stderr, "throttlebot: --check goes with 'restore' (see --help)\n");
		return TB_EXIT_CONFIG;
	}
	if (o.config && strcmp(cmd, "agent")) {
		fprintf(stderr, "throttlebot: --config goes with 'agent' (see --help)\n");
		return TB_EXIT_CONFIG;
	}
	if (o.resume && (strcmp(cmd, "run") || o.output)) {
		fprintf(stderr, "throttlebot: --resume goes with 'run', without --output (see --help)\n");
		return TB_EXIT_CONFIG;
	}
	if (tuning && strcmp(cmd, "clampdown") && strcmp(cmd, "improve")) {
		fprintf(stderr, "throttlebot: --tolerance, --budget, --rounds, --step and --keep go "
			"with 'clampdown' or 'improve' (see --help)\n");
		return TB_EXIT_CONFIG;
	}
	tb_install_signal_handlers();
	if (!strcmp(cmd, "run") && o.resume && n == 0)
		return tb_cmd_run(NULL, &o);
	if (!strcmp(cmd, "run"))
		return need_args(n, 1, cmd) ? TB_EXIT_CONFIG : tb_cmd_run(argv[optind], &o);
	if (!strcmp(cmd, "boost")) {
		o.boost = 1;
		return need_args(n, 1, cmd) ? TB_EXIT_CONFIG : tb_cmd_run(argv[optind], &o);
	}
	if (!strcmp(cmd, "plan"))
		return need_args(n, 1, cmd) ? TB_EXIT_CONFIG : tb_cmd_plan(argv[optind], &o);
	if (!strcmp(cmd, "probe"))
		return need_args(n, 1, cmd) ? TB_EXIT_CONFIG : tb_cmd_probe(argv[optind], &o);
	if (!strcmp(cmd, "hold"))
		return need_args(n, 4, cmd) ? TB_EXIT_CONFIG
			: tb_cmd_hold(argv[optind], argv[optind + 1], argv[optind + 2],
				      argv[optind + 3], &o);
	if (!strcmp(cmd, "clampdown"))
		return need_args(n, 1, cmd) ? TB_EXIT_CONFIG : tb_cmd_clampdown(argv[optind], &o);
	if (!strcmp(cmd, "improve"))
		return need_args(n, 1, cmd) ? TB_EXIT_CONFIG : tb_cmd_improve(argv[optind], &o);
	if (!strcmp(cmd, "restore"))
		return need_args(n, 0, cmd) ? TB_EXIT_CONFIG : tb_cmd_restore(&o);
	if (!strcmp(cmd, "plugins"))
		return need_args(n, 0, cmd) ? TB_EXIT_CONFIG : tb_cmd_plugins(&o);
	if (!strcmp(cmd, "agent")) {
		if (need_args(n, 0, cmd) || !o.config) {
			fprintf(stderr, "throttlebot: 'agent' needs --config FILE\n");
			return TB_EXIT_CONFIG;
		}
		return tb_cmd_agent(o.config);
	}
	fprintf(stderr, "throttlebot: unknown command '%s' (see --help)\n", cmd);
	return TB_EXIT_CONFIG;
}
