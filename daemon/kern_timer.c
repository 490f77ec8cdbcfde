/*
 * daemon/kern_timer.c — the kernel manager's own one-shot timers: a short
 * list sorted by deadline behind one timerfd watched by the loop.  The
 * manager holds a few timers per kernel and cancels most of them (a step
 * that answers in time), so cancelling must be exact and free memory at
 * once; owning them here also lets kern_shutdown() free every one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/kern_int.h"
#include "daemon/log.h"

struct ktimer {
	struct ktimer *next;
	uint64_t when;        /* loop_now_ms() deadline */
	loop_timer_cb cb;
	void *ud;
};

static struct ktimer *ktimers;
static int ktimer_fd = -1;
static uint64_t armed;

/* Point the timerfd at the earliest deadline (or disarm it). */
static void ktimer_arm(void)
{
	uint64_t when = ktimers ? ktimers->when : 0;
	if (when == armed || ktimer_fd < 0)
		return;
	struct itimerspec its = {0};
	if (when) {
		uint64_t now = loop_now_ms();
		uint64_t d = when > now ? when - now : 1;
		its.it_value.tv_sec = (time_t)(d / 1000);
		its.it_value.tv_nsec = (long)(d % 1000) * 1000000L;
	}
	if (timerfd_settime(ktimer_fd, 0, &its, NULL) == 0)
		armed = when;
}

/* Fire what is due, one at a time (callbacks may add or cancel timers). */
static void ktimer_cb(struct loop *l, int fd, int events, void *ud)
{
	uint64_t buf;
	(void)events, (void)ud;
	while (read(fd, &buf, sizeof buf) > 0)
		;
	armed = 0;
	uint64_t now = loop_now_ms();
	for (int n = 0; ktimers && ktimers->when <= now && n < 64; n++) {
		struct ktimer t = *ktimers;
		free(ktimers);
		ktimers = t.next;
		t.cb(l, 0, t.ud);
	}
	ktimer_arm();
}

int kern_timers_start(struct loop *l)
{
	ktimer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ktimer_fd < 0 || loop_fd_add(l, ktimer_fd, LOOP_READ, ktimer_cb, NULL) < 0) {
		log_error("kernel: cannot create its timer: %s", strerror(errno));
		if (ktimer_fd >= 0)
			close(ktimer_fd);
		ktimer_fd = -1;
		return -1;
	}
	armed = 0;
	return 0;
}

void kern_timers_stop(struct loop *l)
{
	while (ktimers) {
		struct ktimer *n = ktimers->next;
		free(ktimers);
		ktimers = n;
	}
	if (ktimer_fd >= 0) {
		loop_fd_del(l, ktimer_fd);
		close(ktimer_fd);
	}
	ktimer_fd = -1;
	armed = 0;
}

struct ktimer *kern_timer_add(uint64_t ms, loop_timer_cb cb, void *ud)
{
	struct ktimer *t = calloc(1, sizeof *t);
	if (!t || ktimer_fd < 0) {
		free(t);
		return NULL;
	}
	t->when = loop_now_ms() + ms;
	t->cb = cb;
	t->ud = ud;
	struct ktimer **pp = &ktimers;
	while (*pp && (*pp)->when <= t->when)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	ktimer_arm();
	return t;
}

void kern_timer_cancel(struct ktimer **slot)
{
	struct ktimer *t = *slot;
	*slot = NULL;
	if (!t)
		return;
	for (struct ktimer **pp = &ktimers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			free(t);
			ktimer_arm();
			return;
		}
	}
}
