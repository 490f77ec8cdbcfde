/*
 * tests/integration/test_loop_child.c — unit test of the loop's child
 * watcher (daemon/core/loop_child.c: exit status, a killed child, each child
 * reaped and reported exactly once, unwatch, the blocking wait; both with
 * pidfds and through SIGCHLD; a child that ended before it was watched) and of its deferred calls (daemon/core/loop.c: run
 * once, at the end of the turn, in order, also when asked while they run;
 * cancel).  Prints TAP; exit 1 on any failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "daemon/core/loop.h"
#include "tests/lib/tap.h"

/* A child that exits with code (after reading one byte or EOF from waitfd,
 * when >= 0; it closes closefd, the pipe's other end). */
static pid_t spawn_exit(int code, int waitfd, int closefd)
{
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		char c;
		if (closefd >= 0)
			close(closefd);
		if (waitfd >= 0 && read(waitfd, &c, 1) < 0)
			_exit(99);
		_exit(code);
	}
	return pid;
}

struct seen {
	pid_t pid;
	int status;
	int calls;
};

static struct seen seen[8];
static int nseen, want_seen;

/* Record the exit; stop once every child expected was reported. */
static void child_cb(struct loop *l, pid_t pid, int status, void *ud)
{
	struct seen *s = ud;
	s->calls++;
	s->pid = pid;
	s->status = status;
	if (++nseen == want_seen)
		loop_stop(l);
}

/* Is pid an exited child nobody has reaped yet? */
static int still_zombie(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* A timer that ends loop_run (one bounded stretch of turns). */
static void stop_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	loop_stop(l);
}

/* Exit statuses, a kill, exactly-once reporting, unwatch. */
static void test_children(bool pidfd)
{
	const char *how = pidfd ? " (pidfd)" : " (SIGCHLD)";
	char what[160];
	struct loop *l = loop_new();
	loop_child_use_pidfd(l, pidfd);
	memset(seen, 0, sizeof(seen));
	nseen = 0;
	want_seen = 3;
	int gate[2];
	if (pipe(gate))
		abort();
	pid_t a = spawn_exit(0, -1, -1);
	pid_t b = spawn_exit(7, -1, -1);
	pid_t c = spawn_exit(0, gate[0], gate[1]); /* blocks until killed */
	pid_t d = spawn_exit(3, -1, -1);      /* unwatched: reaped silently */
	close(gate[0]);
	/* a has ended before it is watched (its SIGCHLD is gone): still seen. */
	siginfo_t si;
	waitid(P_PID, (id_t)a, &si, WEXITED | WNOWAIT);
	uint64_t ia = loop_child_watch(l, a, child_cb, &seen[0]);
	uint64_t ib = loop_child_watch(l, b, child_cb, &seen[1]);
	uint64_t ic = loop_child_watch(l, c, child_cb, &seen[2]);
	uint64_t id = loop_child_watch(l, d, child_cb, &seen[3]);
	tap_ok(ia && ib && ic && id && nseen == 0, "watch returns ids, never calls back from inside");
	loop_child_unwatch(l, id);
	tap_ok(loop_child_kill(l, ic, SIGKILL) == 0, "kill a watched child");
	loop_run(l);
	snprintf(what, sizeof what, "exit 0 and exit 7 reported%s", how);
	tap_ok(seen[0].pid == a && WIFEXITED(seen[0].status) && WEXITSTATUS(seen[0].status) == 0 &&
	       seen[1].pid == b && WIFEXITED(seen[1].status) && WEXITSTATUS(seen[1].status) == 7, what);
	snprintf(what, sizeof what, "a killed child reports SIGKILL%s", how);
	tap_ok(seen[2].pid == c && WIFSIGNALED(seen[2].status) && WTERMSIG(seen[2].status) == SIGKILL,
	       what);
	tap_ok(loop_child_kill(l, ic, SIGKILL) < 0 && errno == ESRCH,
	       "killing a reaped child is refused (its pid may be reused)");
	/* One more turn: nothing is reported twice, the unwatched one is reaped. */
	want_seen = 99;
	pid_t e = spawn_exit(1, -1, -1);
	loop_child_watch(l, e, child_cb, &seen[4]);
	while (seen[4].calls == 0) {
		want_seen = nseen + 1;
		loop_run(l);
	}
	snprintf(what, sizeof what, "each child reported exactly once%s", how);
	tap_ok(seen[0].calls == 1 && seen[1].calls == 1 && seen[2].calls == 1 && seen[3].calls == 0 &&
	       seen[4].calls == 1, what);
	/* d was reaped by the loop: nothing left to wait for, no zombie.  d may
	 * exit after e (scheduling), so wait until it has exited (not reaping
	 * it) and give the loop turns until its exit has been handled. */
	waitid(P_PID, (id_t)d, &si, WEXITED | WNOWAIT);
	for (int turns = 0; turns < 50 && still_zombie(d); turns++) {
		loop_timer_add(l, 20, stop_timer_cb, NULL);
		loop_run(l);
	}
	int left = 0;
	while (waitpid(d, NULL, WNOHANG) > 0)
		left++;
	snprintf(what, sizeof what, "an unwatched child is still reaped by the loop%s", how);
	tap_ok(left == 0 && errno == ECHILD, what);
	close(gate[1]);
	loop_free(l);
}

/* loop_child_wait: times out on a running child, reaps one that ended. */
static void test_child_wait(void)
{
	struct loop *l = loop_new();
	int gate[2];
	if (pipe(gate))
		abort();
	pid_t p = spawn_exit(5, gate[0], gate[1]);
	close(gate[0]);
	memset(seen, 0, sizeof(seen));
	uint64_t id = loop_child_watch(l, p, child_cb, &seen[0]);
	int st = 0;
	tap_ok(loop_child_wait(l, id, 0, &st) == 0, "wait with no time left: still running");
	close(gate[1]); /* the child reads EOF and exits with 5 */
	tap_ok(loop_child_wait(l, id, -1, &st) == 1 && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	       "blocking wait reaps the child with its status");
	tap_ok(loop_child_wait(l, id, -1, &st) == -1 && seen[0].calls == 0,
	       "after the wait the id is gone and no callback fires");
	loop_free(l);
}

/* Guard: the expected callback never came (a failure, not a wait). */
static void guard_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	loop_stop(l);
}

/* Through SIGCHLD, a child that ended before it was watched, with no other
 * child around to raise SIGCHLD again, is still reported. */
static void test_ended_before_watch(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL); /* its SIGCHLD is discarded */
	pid_t p = spawn_exit(4, -1, -1);
	siginfo_t si;
	waitid(P_PID, (id_t)p, &si, WEXITED | WNOWAIT);
	struct loop *l = loop_new();
	loop_child_use_pidfd(l, false);
	memset(seen, 0, sizeof(seen));
	nseen = 0;
	want_seen = 1;
	loop_child_watch(l, p, child_cb, &seen[0]);
	loop_timer_add(l, 10000, guard_cb, NULL);
	loop_run(l);
	tap_ok(seen[0].calls == 1 && WIFEXITED(seen[0].status) && WEXITSTATUS(seen[0].status) == 4,
	       "a child that ended before the watch, its SIGCHLD lost, is reported (SIGCHLD)");
	loop_free(l);
}

static char trace[64];
static size_t ntrace;

/* Append the letter ud to the trace. */
static void letter_cb(struct loop *l, void *ud)
{
	(void)l;
	if (ntrace + 1 < sizeof trace)
		trace[ntrace++] = (char)(intptr_t)ud;
}

/* Deferred 'b': asks for 'c' while deferred calls run. */
static void b_cb(struct loop *l, void *ud)
{
	letter_cb(l, ud);
	loop_defer(l, letter_cb, (void *)'c');
}

/* The next turn: mark 'S' and stop. */
static void defer_stop_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	letter_cb(l, (void *)'S');
	loop_stop(l);
}

/* First timer of the round: defer 'a', 'b' (which adds 'c'), 'x'
 * (cancelled), mark '1'. */
static void defer_timer1_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	loop_defer(l, letter_cb, (void *)'a');
	loop_defer(l, b_cb, (void *)'b');
	uint64_t x = loop_defer(l, letter_cb, (void *)'x');
	loop_defer_cancel(l, x);
	letter_cb(l, (void *)'1');
	loop_timer_add(l, 0, defer_stop_cb, NULL);
}

/* Second timer of the same round: mark '2' (before any deferred call). */
static void defer_timer2_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	letter_cb(l, (void *)'2');
}

/* A timer that defers 'b' (which defers 'c') and stops the loop. */
static void defer_and_stop_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	letter_cb(l, (void *)'T');
	loop_defer(l, b_cb, (void *)'b');
	loop_stop(l);
}

/* The turn that stops the loop still runs its deferred calls, including
 * one asked by a deferred call, before loop_run returns. */
static void test_defer_at_stop(void)
{
	struct loop *l = loop_new();
	ntrace = 0;
	memset(trace, 0, sizeof trace);
	loop_timer_add(l, 0, defer_and_stop_cb, NULL);
	loop_run(l);
	tap_ok(strcmp(trace, "Tbc") == 0,
	       "the last turn's deferred calls (also those asked meanwhile) run before loop_run returns");
	loop_free(l);
}

/* Deferred calls: at the end of the turn, in order, once; one asked while
 * they run runs in the same pass; a cancelled one never; loop_free runs
 * what is left. */
static void test_defer(void)
{
	struct loop *l = loop_new();
	ntrace = 0;
	memset(trace, 0, sizeof trace);
	loop_timer_add(l, 0, defer_timer1_cb, NULL);
	loop_timer_add(l, 0, defer_timer2_cb, NULL);
	loop_run(l);
	tap_ok(strcmp(trace, "12abcS") == 0,
	       "deferred calls run at the end of the turn, in order, also those asked meanwhile");
	loop_run_deferred(l);
	tap_ok(strcmp(trace, "12abcS") == 0, "each deferred call runs once");
	loop_defer(l, letter_cb, (void *)'z');
	loop_free(l);
	tap_ok(strcmp(trace, "12abcSz") == 0, "loop_free runs what is still deferred");
}

/* Runs every case. */
int main(void)
{
	test_children(true);
	test_children(false);
	test_child_wait();
	test_ended_before_watch();
	test_defer();
	test_defer_at_stop();
	return tap_done();
}
