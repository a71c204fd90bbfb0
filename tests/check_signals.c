/* check_signals.c - every signal that would end a run asks it to stop instead, and SIGPIPE stays harmless to it and to the programs it starts. */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "commands.h"
#include "instance.h"

static void setup(void)
{
	tb_install_signal_handlers();
	tb_cancelled = 0;
}

START_TEST(terminating_signals_set_the_flag)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM,
				    SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS, SIGXCPU, SIGXFSZ,
				    SIGSTKFLT };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
		tb_cancelled = 0;
		ck_assert_int_eq(raise(sigs[i]), 0);
		ck_assert_msg(tb_cancelled == sigs[i], "%s: flag %d", strsignal(sigs[i]),
			      (int)tb_cancelled);
	}
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++) {
		tb_cancelled = 0;
		ck_assert_int_eq(raise(sig), 0);
		ck_assert_int_eq(tb_cancelled, sig);
	}
}
END_TEST

/* Our own write to a closed pipe fails with EPIPE and the run goes on; a
 * SIGPIPE sent by someone else stops it. */
START_TEST(sigpipe_from_a_write_is_not_a_stop)
{
	int fds[2], status = -1;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	ck_assert_int_eq(write(fds[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(fds[1]);
	ck_assert_int_eq(tb_cancelled, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(kill(getppid(), SIGPIPE) == 0 ? 0 : 1);
	/* The signal may interrupt the wait itself (no SA_RESTART, on purpose). */
	for (int i = 0; i < 10 && waitpid(pid, &status, 0) < 0 && errno == EINTR; i++)
		;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 100 && !tb_cancelled; i++)     /* delivered by now; bounded anyway */
		usleep(10000);
	ck_assert_int_eq(tb_cancelled, SIGPIPE);
}
END_TEST

/* Caught, not ignored: a program we start gets every signal's default. */
START_TEST(programs_started_ignore_nothing)
{
	FILE *p = popen("grep '^SigIgn:' /proc/self/status", "r");
	unsigned long long ignored = ~0ull;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "SigIgn: %llx", &ignored), 1);
	pclose(p);
	ck_assert_msg(!(ignored & (1ull << (SIGPIPE - 1))), "SigIgn %llx", ignored);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("signals");
	TCase *tc = tcase_create("signals");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, terminating_signals_set_the_flag);
	tcase_add_test(tc, sigpipe_from_a_write_is_not_a_stop);
	tcase_add_test(tc, programs_started_ignore_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
