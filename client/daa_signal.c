/*
 * client/daa_signal.c — Ctrl-C for commands that wait on the daemon: SIGINT
 * is counted (the command decides: cancel first, leave on the second) and
 * kept blocked except inside waits (ppoll with the returned mask), so it
 * always interrupts the wait it is meant for.
 */
#include <string.h>

#include "client/cli.h"

static volatile sig_atomic_t *sigint_counter;

/* The handler: one more Ctrl-C. */
static void cli_on_sigint(int sig)
{
	(void)sig;
	if (sigint_counter)
		(*sigint_counter)++;
}

void cli_sigint_catch(volatile sig_atomic_t *counter, sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;
	sigint_counter = counter;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	sigdelset(wait_mask, SIGINT);
}
