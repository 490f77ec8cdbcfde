/*
 * tests/integration/test_loop.c — unit test of daemon/core/loop.c and
 * loop_timer.c: timer order and cancellation (also from inside a callback),
 * re-arming, many timers, fd dispatch, and changes made from inside
 * callbacks (a deleted fd, or a deleted fd whose number was reused, is not
 * dispatched from the current batch).  Children and deferred calls are in
 * test_loop_child.c.  Prints TAP; exit 1 on any failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "daemon/core/loop.h"
#include "tests/lib/tap.h"

static int order[8], norder;

/* Record which timer fired; stop after the last. */
static void rec_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	order[norder++] = (int)(intptr_t)ud;
	if ((intptr_t)ud == 99)
		loop_stop(l);
}

/* Timers fire by deadline; a cancelled one never fires. */
static void test_timers(void)
{
	struct loop *l = loop_new();
	norder = 0;
	loop_timer_add(l, 30, rec_timer_cb, (void *)3);
	loop_timer_add(l, 10, rec_timer_cb, (void *)1);
	uint64_t c = loop_timer_add(l, 15, rec_timer_cb, (void *)7);
	loop_timer_add(l, 20, rec_timer_cb, (void *)2);
	loop_timer_add(l, 40, rec_timer_cb, (void *)99);
	loop_timer_cancel(l, c);
	loop_timer_cancel(l, 12345); /* unknown: ignored */
	tap_ok(loop_run(l) == 0, "loop_run returns 0 after loop_stop");
	tap_ok(norder == 4 && order[0] == 1 && order[1] == 2 && order[2] == 3 && order[3] == 99,
	       "timers fire in deadline order, cancelled timer skipped");
	loop_free(l);
}

/* The id returned is the new timer's even when the heap moves it (a shorter
 * deadline added last used to return the id of the timer it displaced). */
static void test_timer_ids(void)
{
	struct loop *l = loop_new();
	norder = 0;
	uint64_t a = loop_timer_add(l, 60, rec_timer_cb, (void *)3);
	uint64_t b = loop_timer_add(l, 50, rec_timer_cb, (void *)2);
	uint64_t c = loop_timer_add(l, 5, rec_timer_cb, (void *)7);
	loop_timer_add(l, 80, rec_timer_cb, (void *)99);
	tap_ok(a != b && b != c && a != c, "timer ids are distinct");
	loop_timer_cancel(l, c);
	loop_run(l);
	tap_ok(norder == 3 && order[0] == 2 && order[1] == 3 && order[2] == 99,
	       "cancelling the id of a timer that moved up the heap cancels that timer");
	loop_free(l);
}

static int zero_count;
/* A 0 ms timer that re-adds itself a few times. */
static void zero_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	(void)ud;
	if (++zero_count < 5)
		loop_timer_add(l, 0, zero_cb, NULL);
	else
		loop_stop(l);
}

/* Timers added from a timer callback fire too. */
static void test_timer_from_cb(void)
{
	struct loop *l = loop_new();
	zero_count = 0;
	loop_timer_add(l, 0, zero_cb, NULL);
	loop_run(l);
	tap_ok(zero_count == 5, "0 ms timers added from callbacks fire");
	loop_free(l);
}

struct pair {
	int rfd[2], wfd[2];
	int calls[3];
	int newfd;
};

/* Third callback: must never see the stale event of a reused fd number. */
static void third_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)fd;
	(void)events;
	((struct pair *)ud)->calls[2]++;
}

/* Whichever of the two readable fds runs first deletes and closes the other,
 * then opens a pipe (likely reusing the number) and registers it. */
static void first_cb(struct loop *l, int fd, int events, void *ud)
{
	struct pair *p = ud;
	int me = fd == p->rfd[0] ? 0 : 1;
	p->calls[me]++;
	tap_ok(events & LOOP_READ, "read event reported");
	int other = p->rfd[1 - me];
	loop_fd_del(l, other);
	close(other);
	int np[2];
	if (pipe(np) == 0) {
		p->newfd = np[0];
		close(np[1]); /* the new read end now reports HUP, if dispatched */
		loop_fd_add(l, np[0], LOOP_READ, third_cb, p);
		loop_fd_del(l, np[0]);
		loop_fd_add(l, np[0], LOOP_READ, third_cb, p);
	}
	p->rfd[1 - me] = -1;
	loop_timer_add(l, 0, rec_timer_cb, (void *)99);
}

/* fds deleted (and their numbers reused) from a callback are not dispatched. */
static void test_fd_delete_in_batch(void)
{
	struct loop *l = loop_new();
	struct pair p;
	memset(&p, 0, sizeof(p));
	p.newfd = -1;
	int a[2], b[2];
	if (pipe(a) || pipe(b))
		abort();
	p.rfd[0] = a[0];
	p.rfd[1] = b[0];
	if (write(a[1], "x", 1) != 1 || write(b[1], "y", 1) != 1)
		abort();
	loop_fd_add(l, a[0], LOOP_READ, first_cb, &p);
	loop_fd_add(l, b[0], LOOP_READ, first_cb, &p);
	loop_run(l);
	tap_ok(p.calls[0] + p.calls[1] == 1, "only one of two readable fds dispatched after the other is deleted");
	/* The 0 ms timer stops the loop before the next batch is dispatched, so
	 * the new fd (HUP-ready) may only have been called from the stale event
	 * of the deleted fd whose number it reuses. */
	tap_ok(p.newfd >= 0 && p.calls[2] == 0, "stale event of a reused fd number not dispatched");
	for (int i = 0; i < 2; i++)
		if (p.rfd[i] >= 0)
			close(p.rfd[i]);
	if (p.newfd >= 0)
		close(p.newfd);
	close(a[1]);
	close(b[1]);
	loop_free(l);
}

static int writes_seen, hooks_seen;
/* Write readiness: switch back to read-only and stop. */
static void write_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)ud;
	if (events & LOOP_WRITE) {
		writes_seen++;
		loop_fd_mod(l, fd, LOOP_READ);
		loop_stop(l);
	}
}

/* Counts before-wait hook calls. */
static void hook_cb(struct loop *l, void *ud)
{
	(void)l;
	(void)ud;
	hooks_seen++;
}

/* loop_fd_mod adds write interest; the before-wait hook runs. */
static void test_mod_and_hook(void)
{
	struct loop *l = loop_new();
	int p[2];
	if (pipe(p))
		abort();
	loop_set_before_wait(l, hook_cb, NULL);
	tap_ok(loop_fd_add(l, p[1], LOOP_READ, write_cb, NULL) == 0, "fd add");
	tap_ok(loop_fd_add(l, p[1], LOOP_READ, write_cb, NULL) == -1, "second add of one fd refused");
	tap_ok(loop_fd_mod(l, p[1], LOOP_WRITE) == 0, "fd mod");
	loop_run(l);
	tap_ok(writes_seen == 1 && hooks_seen >= 1, "write event and before-wait hook");
	tap_ok(loop_fd_del(l, p[1]) == 0 && loop_fd_del(l, p[1]) == -1, "del, then del again fails");
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static uint64_t victim_id;
static int victim_fired, canceller_fired;

/* The victim: must never fire (cancelled by the earlier timer). */
static void victim_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)l, (void)id, (void)ud;
	victim_fired++;
}

/* Cancels the victim due in the same round, then stops a bit later. */
static void canceller_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id, (void)ud;
	canceller_fired++;
	loop_timer_cancel(l, victim_id);
	loop_timer_cancel(l, id); /* its own, already fired: ignored */
	loop_timer_add(l, 20, rec_timer_cb, (void *)99);
}

/* A timer cancelled from a callback of the same round does not fire, even
 * when both were due at once. */
static void test_cancel_in_cb(void)
{
	struct loop *l = loop_new();
	norder = 0;
	victim_fired = canceller_fired = 0;
	loop_timer_add(l, 5, canceller_cb, NULL);
	victim_id = loop_timer_add(l, 5, victim_cb, NULL); /* same deadline, created after */
	loop_run(l);
	tap_ok(canceller_fired == 1 && victim_fired == 0 && norder == 1,
	       "a timer cancelled by an earlier callback of the same round never fires");
	loop_free(l);
}

static int rearm_count;
static uint64_t rearm_last;

/* Re-arms itself 3 times with 1 ms, each with a new id. */
static void rearm_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)ud;
	tap_ok(id != rearm_last, "a re-armed timer gets a new id");
	rearm_last = id;
	if (++rearm_count < 4)
		loop_timer_add(l, 1, rearm_cb, NULL);
	else
		loop_stop(l);
}

/* A callback re-arming its own timer. */
static void test_rearm(void)
{
	struct loop *l = loop_new();
	rearm_count = 0;
	rearm_last = 0;
	loop_timer_add(l, 1, rearm_cb, NULL);
	loop_run(l);
	tap_ok(rearm_count == 4, "a timer re-armed from its callback fires each time");
	loop_free(l);
}

#define MANY 2000
static int many_seen[MANY], many_n, many_bad;
/* Each timer's deadline lies in [lo, hi]: the clock read just before and
 * just after loop_timer_add (which reads it itself), plus the delay. */
static uint64_t many_lo[MANY], many_hi[MANY];

/* Records the order; a timer firing after one whose deadline was surely
 * later (its earliest possible deadline after this one's latest) is out
 * of order. */
static void many_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	int i = (int)(intptr_t)ud;
	if (many_n > 0 && many_hi[i] < many_lo[many_seen[many_n - 1]])
		many_bad++;
	many_seen[many_n++] = i;
	if (many_n == MANY / 2)
		loop_stop(l);
}

/* Thousands of timers, half cancelled: the rest fire once each, in
 * deadline order. */
static void test_many(void)
{
	struct loop *l = loop_new();
	static uint64_t ids[MANY];
	many_n = many_bad = 0;
	for (int i = 0; i < MANY; i++) {
		uint64_t ms = (uint64_t)((i * 7919) % 50); /* scrambled, with ties */
		many_lo[i] = loop_now_ms() + ms;
		ids[i] = loop_timer_add(l, ms, many_cb, (void *)(intptr_t)i);
		many_hi[i] = loop_now_ms() + ms;
	}
	for (int i = 1; i < MANY; i += 2)
		loop_timer_cancel(l, ids[i]);
	loop_run(l);
	int odd = 0;
	for (int i = 0; i < many_n; i++)
		odd += many_seen[i] & 1;
	tap_ok(many_n == MANY / 2 && odd == 0, "of many timers, exactly the ones not cancelled fire");
	tap_ok(many_bad == 0, "many timers fire in deadline order");
	loop_free(l);
}

/* Runs every case. */
int main(void)
{
	test_timers();
	test_timer_ids();
	test_timer_from_cb();
	test_cancel_in_cb();
	test_rearm();
	test_many();
	test_fd_delete_in_batch();
	test_mod_and_hook();
	return tap_done();
}
