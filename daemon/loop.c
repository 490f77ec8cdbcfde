/*
 * daemon/loop.c — the single event loop (daemon/loop.h): epoll for fds and
 * one timerfd that drives a min-heap of one-shot timers.
 *
 * Safe to change from callbacks: every fd registration carries a generation
 * number packed into the epoll event, so an fd deleted (or deleted and
 * re-added) while a batch is being dispatched is never dispatched from that
 * batch.  Timers are fired one at a time from the heap top, only those due
 * at the start of the round and created before it, so a callback that adds a
 * 0 ms timer cannot starve the fds.
 */
#include "daemon/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 64

struct loop_fdent {
	loop_fd_cb cb;
	void *ud;
	int events;
	uint32_t gen;
	bool active;
};

struct loop_timer {
	uint64_t when;
	uint64_t id;
	loop_timer_cb cb;
	void *ud;
};

struct loop {
	int epfd;
	int tfd;
	struct loop_fdent *fds;
	size_t nfds;
	struct loop_timer *heap;
	size_t nheap, capheap;
	uint64_t next_timer_id;
	uint64_t armed_when; /* 0: disarmed */
	loop_hook_cb before_wait;
	void *before_wait_ud;
	bool stop;
};

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
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->epfd < 0 || l->tfd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) < 0)
		goto fail;
	l->next_timer_id = 1;
	return l;
fail:;
	int saved = errno;
	loop_free(l);
	errno = saved;
	return NULL;
}

/* Free the loop (registered fds are left open). */
void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tfd >= 0)
		close(l->tfd);
	free(l->fds);
	free(l->heap);
	free(l);
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

/* Heap order: earlier deadline first, then lower id (creation order). */
static bool loop_timer_less(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->id < b->id);
}

/* Restore heap order upwards from i. */
static void loop_heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!loop_timer_less(&l->heap[i], &l->heap[p]))
			break;
		struct loop_timer t = l->heap[i];
		l->heap[i] = l->heap[p];
		l->heap[p] = t;
		i = p;
	}
}

/* Restore heap order downwards from i. */
static void loop_heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->nheap && loop_timer_less(&l->heap[c], &l->heap[m]))
			m = c;
		if (c + 1 < l->nheap && loop_timer_less(&l->heap[c + 1], &l->heap[m]))
			m = c + 1;
		if (m == i)
			return;
		struct loop_timer t = l->heap[i];
		l->heap[i] = l->heap[m];
		l->heap[m] = t;
		i = m;
	}
}

/* Remove heap entry i. */
static void loop_heap_remove(struct loop *l, size_t i)
{
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	loop_heap_up(l, i);
	loop_heap_down(l, i);
}

/* Add a one-shot timer. */
uint64_t loop_timer_add(struct loop *l, uint64_t ms, loop_timer_cb cb, void *ud)
{
	if (!cb)
		return 0;
	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 16;
		struct loop_timer *p = realloc(l->heap, n * sizeof(*p));
		if (!p)
			return 0;
		l->heap = p;
		l->capheap = n;
	}
	struct loop_timer *t = &l->heap[l->nheap];
	t->when = loop_now_ms() + ms;
	uint64_t id = l->next_timer_id++;
	t->id = id;
	t->cb = cb;
	t->ud = ud;
	l->nheap++;
	loop_heap_up(l, l->nheap - 1); /* moves *t: return the saved id */
	return id;
}

/* Cancel a pending timer (linear search: the daemon holds few timers). */
void loop_timer_cancel(struct loop *l, uint64_t timer_id)
{
	for (size_t i = 0; i < l->nheap; i++) {
		if (l->heap[i].id == timer_id) {
			loop_heap_remove(l, i);
			return;
		}
	}
}

/* Point the timerfd at the earliest deadline (or disarm it). */
static void loop_arm_timerfd(struct loop *l)
{
	uint64_t when = l->nheap ? l->heap[0].when : 0;
	if (when == 0 && l->nheap)
		when = 1; /* 0 means disarmed to the kernel */
	if (when == l->armed_when)
		return;
	struct itimerspec its = {0};
	its.it_value.tv_sec = (time_t)(when / 1000u);
	its.it_value.tv_nsec = (long)(when % 1000u) * 1000000L;
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		l->armed_when = when;
}

/* Fire the timers due now that existed before this round. */
static void loop_fire_timers(struct loop *l)
{
	uint64_t buf;
	while (read(l->tfd, &buf, sizeof(buf)) > 0)
		;
	l->armed_when = 0; /* the expiry disarmed it */
	uint64_t now = loop_now_ms();
	uint64_t last_id = l->next_timer_id;
	while (l->nheap && l->heap[0].when <= now && l->heap[0].id < last_id && !l->stop) {
		struct loop_timer t = l->heap[0];
		loop_heap_remove(l, 0);
		t.cb(l, t.id, t.ud);
	}
}

/* Dispatch one epoll event, unless its fd was deleted meanwhile. */
static void loop_dispatch(struct loop *l, const struct epoll_event *ev)
{
	if (ev->data.u64 == UINT64_MAX) {
		loop_fire_timers(l);
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

/* Run until loop_stop(). */
int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_BATCH];
	l->stop = false;
	while (!l->stop) {
		if (l->before_wait)
			l->before_wait(l, l->before_wait_ud);
		if (l->stop)
			break;
		/* Timers already due (e.g. added with 0 ms) must not wait. */
		int timeout = -1;
		if (l->nheap && l->heap[0].when <= loop_now_ms())
			timeout = 0;
		else
			loop_arm_timerfd(l);
		int n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (timeout == 0)
			loop_fire_timers(l);
		for (int i = 0; i < n && !l->stop; i++) {
			if (timeout == 0 && evs[i].data.u64 == UINT64_MAX)
				continue;
			loop_dispatch(l, &evs[i]);
		}
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
