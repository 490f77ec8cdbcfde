/*
 * tests/lib/tap.h — the TAP lines the C unit tests print: tap_ok() writes
 * "ok N - what" or "not ok N - what" (flushed, so a crash later keeps it)
 * and counts; tap_done() writes the plan "1..N" and returns the exit
 * status (0 when every check passed).  Header only: one test binary is one
 * file, each with its own counts.
 */
#ifndef DAA_TESTS_TAP_H
#define DAA_TESTS_TAP_H

#include <stdbool.h>
#include <stdio.h>

static int tap_count, tap_failed;

/* One check; returns cond so a test can stop on a failure it cannot pass. */
static inline bool tap_ok(bool cond, const char *what)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", tap_count, what);
	fflush(stdout);
	return cond;
}

/* The plan line; the exit status for main. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
