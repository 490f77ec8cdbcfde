/*
 * daemon/core/loop.c — the single event loop (daemon/core/loop.h): epoll for fds, the
 * run itself and the deferred calls.  Timers are in loop_timer.c, child
 * processes in loop_child.c.
 *
 * Safe to change from callbacks: every fd registration carries a generation
 * number packed into the epoll event, so an fd deleted (or deleted and
 * re-added) while a batch is being dispatched is never dispatched from that
 * batch.  Deferred calls run after the batch, in the order they were asked,
 * until none is left (one asked meanwhile runs in the same pass).
 */
#include "daemon/core/loop_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 64

/* Monotonic clock in milliseconds. */
uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* epoll event mask from LOOP_ flags. */
static uint32_t loop_ep_mask(int events)
{
	uint32_t m = 0;
	if (events & LOOP_READ)
		m |= EPOLLIN | EPOLLRDHUP;
	if (events & LOOP_WRITE)
		m |= EPOLLOUT;
	return m;
}

/* LOOP_ flags from an epoll event mask. */
static int loop_from_ep(uint32_t m)
{
	int e = 0;
	if (m & (EPOLLIN | EPOLLPRI))
		e |= LOOP_READ;
	if (m & EPOLLOUT)
		e |= LOOP_WRITE;
	if (m & EPOLLERR)
		e |= LOOP_ERROR;
	if (m & (EPOLLHUP | EPOLLRDHUP))
		e |= LOOP_HUP;
	return e;
}

/* Create a loop with its epoll fd and timerfd. */
struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->sigchld_fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd < 0 || l->tfd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LOOP_TIMER_COOKIE};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) < 0)
		goto fail;
	l->next_timer_id = 1;
	l->next_defer_id = 1;
	l->next_child_id = 1;
	return l;
fail:;
	int saved = errno;
	loop_free(l);
	errno = saved;
	return NULL;
}

/* Free the loop (registered fds are left open); what is still deferred runs
 * first, children still watched are left running. */
void loop_free(struct loop *l)
{
	if (!l)
		return;
	loop_run_deferred(l);
	loop_children_free(l);
	free(l->deferred);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

int loop_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	if (n < *cap)
		return 0;
	size_t want = *cap ? *cap * 2 : first;
	void *p = realloc(*arr, want * elem);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	*arr = p;
	*cap = want;
	return 0;
}

/* Make room in the fd table for fd. */
static int loop_fds_grow(struct loop *l, int fd)
{
	if ((size_t)fd < l->nfds)
		return 0;
	size_t n = l->nfds ? l->nfds : 64;
	while (n <= (size_t)fd)
		n *= 2;
	struct loop_fdent *p = realloc(l->fds, n * sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	memset(p + l->nfds, 0, (n - l->nfds) * sizeof(*p));
	l->fds = p;
	l->nfds = n;
	return 0;
}

/* The epoll cookie for fd: fd in the low half, generation in the high. */
static uint64_t loop_cookie(const struct loop *l, int fd)
{
	return (uint64_t)(uint32_t)fd | ((uint64_t)l->fds[fd].gen << 32);
}

/* Watch fd for events. */
int loop_fd_add(struct loop *l, int fd, int events, loop_fd_cb cb, void *ud)
{
	if (fd < 0 || !cb) {
		errno = EINVAL;
		return -1;
	}
	if (loop_fds_grow(l, fd) < 0)
		return -1;
	struct loop_fdent *e = &l->fds[fd];
	if (e->active) {
		errno = EEXIST;
		return -1;
	}
	e->gen++;
	struct epoll_event ev = {.events = loop_ep_mask(events), .data.u64 = loop_cookie(l, fd)};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	e->cb = cb;
	e->ud = ud;
	e->events = events;
	e->active = true;
	return 0;
}

/* Change the events watched on fd. */
int loop_fd_mod(struct loop *l, int fd, int events)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].active) {
		errno = ENOENT;
		return -1;
	}
	if (l->fds[fd].events == events)
		return 0;
	struct epoll_event ev = {.events = loop_ep_mask(events), .data.u64 = loop_cookie(l, fd)};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -1;
	l->fds[fd].events = events;
	return 0;
}

/* Stop watching fd; its pending events in this batch are dropped. */
int loop_fd_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].active) {
		errno = ENOENT;
		return -1;
	}
	struct loop_fdent *e = &l->fds[fd];
	e->active = false;
	e->gen++;
	e->cb = NULL;
	e->ud = NULL;
	/* The fd may already be closed (then epoll dropped it itself). */
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != EBADF && errno != ENOENT)
		return -1;
	return 0;
}

/* Dispatch one epoll event, unless its fd was deleted meanwhile. */
static void loop_dispatch(struct loop *l, const struct epoll_event *ev)
{
	if (ev->data.u64 == LOOP_TIMER_COOKIE) {
		loop_timers_fire(l);
		return;
	}
	int fd = (int)(uint32_t)(ev->data.u64 & 0xffffffffu);
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	if ((size_t)fd >= l->nfds)
		return;
	struct loop_fdent *e = &l->fds[fd];
	if (!e->active || e->gen != gen)
		return;
	int events = loop_from_ep(ev->events);
	/* Report only what was asked, plus errors and hang-ups. */
	events &= e->events | LOOP_ERROR | LOOP_HUP;
	if (events)
		e->cb(l, fd, events, e->ud);
}

/* One turn: wait, fire due timers, dispatch, run deferred calls.  0 / -1. */
static int loop_turn(struct loop *l)
{
	struct epoll_event evs[LOOP_BATCH];
	/* Timers already due (e.g. added with 0 ms) must not wait. */
	bool due = loop_timers_due(l);
	if (!due)
		loop_timers_arm(l);
	int n = epoll_wait(l->epfd, evs, LOOP_BATCH, due ? 0 : -1);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (due)
		loop_timers_fire(l);
	for (int i = 0; i < n && !l->stop; i++) {
		if (due && evs[i].data.u64 == LOOP_TIMER_COOKIE)
			continue;
		loop_dispatch(l, &evs[i]);
	}
	loop_run_deferred(l);
	return 0;
}

/* Run until loop_stop(). */
int loop_run(struct loop *l)
{
	l->stop = false;
	loop_run_deferred(l); /* asked while the loop was not running */
	while (!l->stop) {
		if (l->before_wait)
			l->before_wait(l, l->before_wait_ud);
		loop_run_deferred(l);
		if (l->stop)
			break;
		if (loop_turn(l) < 0)
			return -1;
	}
	return 0;
}

/* Ask loop_run to return after the current callback. */
void loop_stop(struct loop *l)
{
	l->stop = true;
}

/* Set the hook run before each wait. */
void loop_set_before_wait(struct loop *l, loop_hook_cb cb, void *ud)
{
	l->before_wait = cb;
	l->before_wait_ud = ud;
}

/* Defer cb(l, ud) to the end of the current turn. */
uint64_t loop_defer(struct loop *l, loop_hook_cb cb, void *ud)
{
	if (!cb)
		return 0;
	if (loop_grow((void **)&l->deferred, &l->capdeferred, l->ndeferred, sizeof *l->deferred,
		      16) < 0)
		return 0;
	uint64_t id = l->next_defer_id++;
	l->deferred[l->ndeferred++] = (struct loop_deferred){id, cb, ud};
	return id;
}

/* Drop a deferred call that has not run. */
void loop_defer_cancel(struct loop *l, uint64_t defer_id)
{
	for (size_t i = 0; defer_id && i < l->ndeferred; i++) {
		if (l->deferred[i].id == defer_id) {
			memmove(&l->deferred[i], &l->deferred[i + 1],
				(l->ndeferred - i - 1) * sizeof(l->deferred[0]));
			l->ndeferred--;
			return;
		}
	}
}

/* Run the deferred calls, oldest first, until none is left. */
void loop_run_deferred(struct loop *l)
{
	while (l->ndeferred > 0) {
		struct loop_deferred d = l->deferred[0];
		memmove(&l->deferred[0], &l->deferred[1],
			(l->ndeferred - 1) * sizeof(l->deferred[0]));
		l->ndeferred--;
		d.cb(l, d.ud);
	}
}
