/* check_config.c - every class of bad configuration is reported as file:line with exit status 2, before anything runs. */
#define _GNU_SOURCE
#include <check.h>
#include "agents.h"
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "stress.h"
#include "testhost.h"

static char dir[] = "/tmp/throttlebot-config-XXXXXX";
static char conf[4200], errors[16384];

/* A valid configuration, in parts: HEAD is lines 1-3, then one line each. */
#define HEAD \
	"application = \"test\";\n" \
	"orchestrator = { plugin = \"local\";\n" \
	"  services = ( { name = \"a\"; command = [\"/bin/sleep\", \"30\"]; } ); };\n"
#define THROTTLERS "throttlers = ( { plugin = \"cpu_quota\"; } );\n"
#define METRICS "metrics = ( { plugin = \"command\"; command = [\"/bin/true\"]; } );\n"

static void setup(void)
{
	strcpy(dir, "/tmp/throttlebot-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/app.conf", dir);
	errors[0] = '\0';
}

static void teardown(void)
{
	tb_test_sh("rm -rf '%s'", dir);
}

/* Write text as the configuration, run "throttlebot plan" on it in-process,
 * and keep what it printed on stderr. */
static int plan(const char *text)
{
	char errpath[4300];
	struct tb_options o = { 0 };
	int saved = dup(2), fd, status;
	FILE *f = fopen(conf, "w");
	ssize_t n;

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	fd = open(errpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	status = tb_cmd_plan(conf, &o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, errors, sizeof(errors) - 1);
	errors[n > 0 ? n : 0] = '\0';
	close(fd);
	return status;
}

static void assert_error(const char *text, int line, const char *what)
{
	char where[4300];

	ck_assert_int_eq(plan(text), TB_EXIT_CONFIG);
	snprintf(where, sizeof(where), "%s:%d: ", conf, line);
	ck_assert_msg(strstr(errors, where), "expected '%s' in: %s", where, errors);
	ck_assert_msg(strstr(errors, what), "expected '%s' in: %s", what, errors);
}

START_TEST(valid_configuration_plans)
{
	ck_assert_int_eq(plan(HEAD THROTTLERS METRICS), TB_EXIT_OK);
}
END_TEST

/* Each agent entry is checked as file:line before anything is sent. */
START_TEST(agents_checked)
{
	ck_assert_int_eq(plan(HEAD THROTTLERS METRICS "agents = ( { node = \"n2\"; url = "
			      "\"https://10.0.0.2:7443\"; token_file = \"/etc/t\"; } );\n"), TB_EXIT_OK);
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"n2\";\n url = \"http://10.0.0.2:7443\"; "
		     "token_file = \"/etc/t\"; } );\n", 7, "url must be https://host:port");
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"n2\"; url = \"https://a:1\";\n"
		     " token_file = \"t\"; } );\n", 7, "token_file must be an absolute path");
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"n2\"; url = \"https://a:1\"; } );\n",
		     6, "give token_file, cert and key, or both");
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"n2\"; url = \"https://a:1\";\n"
		     " token_file = \"/t\"; lease_seconds = 1; } );\n", 7, "lease_seconds must be from 3");
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"n\"; url = \"https://a:1\"; token_file = "
		     "\"/t\"; },\n { node = \"n\"; url = \"https://b:1\"; token_file = \"/t\"; } );\n", 7,
		     "node 'n' has two agents");
	/* "*": credentials for the agents the orchestrator finds, without a url. */
	ck_assert_int_eq(plan(HEAD THROTTLERS METRICS "agents = ( { node = \"*\"; token_file = "
			      "\"/etc/t\"; ca = \"/etc/ca.pem\"; } );\n"), TB_EXIT_OK);
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"*\";\n url = \"https://a:1\"; "
		     "token_file = \"/t\"; } );\n", 7, "no url");
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"n2\"; token_file = \"/t\"; } );\n",
		     6, "url missing");
	assert_error(HEAD THROTTLERS METRICS "agents = ( { node = \"n2\";\n url = \"https://a:1/x?y\"; "
		     "token_file = \"/t\"; } );\n", 7, "url must be https://host:port");
}
END_TEST

/* A node's agent: the configuration's own entry first, else the one found,
 * reached with the credentials of the entry for "*". */
START_TEST(agents_resolved)
{
	struct tb_agents a = { .n = 2 };
	struct tb_agent_ref scratch;
	const struct tb_agent_ref *r;

	a.list[0] = (struct tb_agent_ref){ .node = "n1", .url = "https://n1:7443", .token_file = "/t1" };
	a.list[1] = (struct tb_agent_ref){ .node = "*", .token_file = "/t", .ca = "/ca", .lease = 9 };
	r = tb_agents_for(&a, "n1", "https://10.0.0.9:7443", &scratch);
	ck_assert_str_eq(r->url, "https://n1:7443");
	r = tb_agents_for(&a, "n2", "https://10.0.0.2:8443", &scratch);
	ck_assert_ptr_eq(r, &scratch);
	ck_assert_str_eq(r->node, "n2");
	ck_assert_str_eq(r->url, "https://10.0.0.2:8443");
	ck_assert_str_eq(r->ca, "/ca");
	ck_assert(r->lease == 9);
	ck_assert_ptr_null(tb_agents_for(&a, "n3", NULL, &scratch));
	ck_assert_ptr_null(tb_agents_find(&a, "*"));
	ck_assert_int_eq(tb_agents_unreachable(&a, "n3", "https://x:1"), 0);
	a.n = 1;
	ck_assert_ptr_null(tb_agents_for(&a, "n2", "https://10.0.0.2:8443", &scratch));
	ck_assert_int_eq(tb_agents_unreachable(&a, "n2", "https://10.0.0.2:8443"), 1);
	ck_assert_int_eq(tb_agents_unreachable(&a, "n1", "https://10.0.0.2:8443"), 0);
	ck_assert_int_eq(tb_agent_url_ok("https://[fd00::1]:7443"), 1);
	ck_assert_int_eq(tb_agent_url_ok("https://a b:1"), 0);
	ck_assert_int_eq(tb_agent_url_ok("https://a:1\r\nX: y"), 0);
	ck_assert_int_eq(tb_agent_url_ok("https://"), 0);
}
END_TEST

START_TEST(syntax_error)
{
	assert_error(HEAD THROTTLERS METRICS "trials = ;\n", 6, "syntax error");
}
END_TEST

START_TEST(unknown_key)
{
	assert_error(HEAD THROTTLERS METRICS "colour = \"blue\";\n", 6, "unknown key 'colour'");
}
END_TEST

START_TEST(unknown_plugin_key)
{
	assert_error(HEAD METRICS "throttlers = ( { plugin = \"cpu_quota\";\n  bogus = 1; } );\n", 6,
		     "unknown key 'bogus'");
}
END_TEST

START_TEST(wrong_type)
{
	assert_error(HEAD THROTTLERS METRICS "trials = \"three\";\n", 6, "'trials' must be an integer");
}
END_TEST

START_TEST(wrong_type_in_plugin_settings)
{
	assert_error(HEAD METRICS "throttlers = ( { plugin = \"cpu_quota\";\n  min_quota_us = \"x\"; } );\n",
		     6, "'min_quota_us' must be an integer");
}
END_TEST

START_TEST(out_of_range_stress)
{
	assert_error(HEAD THROTTLERS METRICS "stress_levels = [0.2, 1.0];\n", 6, "stress level 1 is out of range");
	assert_error(HEAD THROTTLERS METRICS "stress_levels = [0.0, 0.5];\n", 6,
		     "stress level 0 is out of range: each " TB_STRESS_LEVEL_RULE);
}
END_TEST

/* The one rule every check of a stress uses: the configuration's levels,
 * "throttlebot hold", a strategy's level, and each throttler's apply(). */
START_TEST(stress_rule)
{
	ck_assert(tb_stress_valid(0) && tb_stress_valid(0.5) && tb_stress_valid(0.999));
	ck_assert(!tb_stress_valid(1) && !tb_stress_valid(-0.1) && !tb_stress_valid(NAN) &&
		  !tb_stress_valid(INFINITY));
	ck_assert(tb_stress_level_valid(0.001) && tb_stress_level_valid(0.8));
	ck_assert(!tb_stress_level_valid(0) && !tb_stress_level_valid(1) && !tb_stress_level_valid(NAN));
}
END_TEST

START_TEST(out_of_range_trials)
{
	assert_error(HEAD THROTTLERS METRICS "trials = 0;\n", 6, "'trials' = 0 is out of range");
}
END_TEST

START_TEST(unknown_plugin)
{
	assert_error(HEAD METRICS "throttlers = ( { plugin = \"warp_drive\"; } );\n", 5,
		     "no throttler plugin 'warp_drive'");
}
END_TEST

START_TEST(missing_required_key)
{
	assert_error("application = \"x\";\n" THROTTLERS, 0, "missing key 'orchestrator'");
}
END_TEST

START_TEST(missing_configuration_file)
{
	struct tb_options o = { 0 };

	ck_assert_int_eq(tb_cmd_plan("/nonexistent/throttlebot.conf", &o), TB_EXIT_CONFIG);
}
END_TEST

START_TEST(missing_workload_program)
{
	assert_error(HEAD THROTTLERS "metrics = ( { plugin = \"command\";\n  command = [\"/nonexistent/workload\"]; } );\n",
		     6, "/nonexistent/workload");
}
END_TEST

START_TEST(trial_seconds_bounded)
{
	/* Converted to whole seconds for the plan: a huge one is undefined behaviour. */
	assert_error(HEAD THROTTLERS METRICS "trial_seconds = 1e300;\n", 6,
		     "trial_seconds must be positive and at most 1e+06");
}
END_TEST

START_TEST(relative_include_beside_the_file)
{
	char part[4300], text[8192];
	FILE *f;

	snprintf(part, sizeof(part), "%s/metrics.part", dir);
	f = fopen(part, "w");
	ck_assert_ptr_nonnull(f);
	fputs(METRICS, f);
	fclose(f);
	/* Read from elsewhere: the include is the configuration's neighbour. */
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(plan(HEAD THROTTLERS "@include \"metrics.part\"\n"), TB_EXIT_OK);
	/* An absolute one still works, and errors still name the file. */
	snprintf(text, sizeof(text), HEAD THROTTLERS "@include \"%s\"\ntrials = 0;\n", part);
	assert_error(text, 6, "'trials' = 0 is out of range");
}
END_TEST

START_TEST(oversized_file_refused)
{
	/* libconfig's time grows with the square of a long string. */
	size_t n = 1024 * 1024 + 1;
	char *text = malloc(n + sizeof(HEAD THROTTLERS METRICS) + 4), *p = text;

	ck_assert_ptr_nonnull(text);
	p += sprintf(p, "%s", HEAD THROTTLERS METRICS "#");
	memset(p, 'x', n);
	strcpy(p + n, "\n");
	ck_assert_int_eq(plan(text), TB_EXIT_CONFIG);
	ck_assert_msg(strstr(errors, conf) && strstr(errors, "refused") &&
		      strstr(errors, "more than a configuration may have"), "%s", errors);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("errors");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_configuration_plans);
	tcase_add_test(tc, syntax_error);
	tcase_add_test(tc, agents_checked);
	tcase_add_test(tc, agents_resolved);
	tcase_add_test(tc, unknown_key);
	tcase_add_test(tc, unknown_plugin_key);
	tcase_add_test(tc, wrong_type);
	tcase_add_test(tc, wrong_type_in_plugin_settings);
	tcase_add_test(tc, out_of_range_stress);
	tcase_add_test(tc, stress_rule);
	tcase_add_test(tc, out_of_range_trials);
	tcase_add_test(tc, unknown_plugin);
	tcase_add_test(tc, missing_required_key);
	tcase_add_test(tc, missing_configuration_file);
	tcase_add_test(tc, missing_workload_program);
	tcase_add_test(tc, trial_seconds_bounded);
	tcase_add_test(tc, relative_include_beside_the_file);
	tcase_add_test(tc, oversized_file_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
