/*
 * daemon/core/loop_timer.c — the loop's one-shot timers (daemon/core/loop.h): a
 * min-heap ordered by deadline, then creation, behind the loop's one
 * timerfd.  Every timer in the daemon lives here.
 *
 * Timers are fired one at a time from the heap top, only those due at the
 * start of the round and created before it, so a callback that adds a 0 ms
 * timer (or re-arms itself) cannot starve the fds.  Cancelling is exact: the
 * entry leaves the heap at once (a linear search by id: the daemon holds
 * tens of timers, not thousands).
 */
#include "daemon/core/loop_int.h"

#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Heap order: earlier deadline first, then lower id (creation order). */
static bool timer_less(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->id < b->id);
}

/* Swap heap entries i and j. */
static void heap_swap(struct loop *l, size_t i, size_t j)
{
	struct loop_timer t = l->heap[i];
	l->heap[i] = l->heap[j];
	l->heap[j] = t;
}

/* Restore heap order upwards from i. */
static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!timer_less(&l->heap[i], &l->heap[p]))
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

/* Restore heap order downwards from i. */
static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->nheap && timer_less(&l->heap[c], &l->heap[m]))
			m = c;
		if (c + 1 < l->nheap && timer_less(&l->heap[c + 1], &l->heap[m]))
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

/* Remove heap entry i. */
static void heap_remove(struct loop *l, size_t i)
{
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	heap_up(l, i);
	heap_down(l, i);
}

/* Add a one-shot timer. */
uint64_t loop_timer_add(struct loop *l, uint64_t ms, loop_timer_cb cb, void *ud)
{
	if (!cb)
		return 0;
	if (loop_grow((void **)&l->heap, &l->capheap, l->nheap, sizeof *l->heap, 16) < 0)
		return 0;
	uint64_t id = l->next_timer_id++;
	l->heap[l->nheap++] = (struct loop_timer){loop_now_ms() + ms, id, cb, ud};
	heap_up(l, l->nheap - 1); /* moves the entry: return the saved id */
	return id;
}

/* Cancel a pending timer. */
void loop_timer_cancel(struct loop *l, uint64_t timer_id)
{
	for (size_t i = 0; timer_id && i < l->nheap; i++) {
		if (l->heap[i].id == timer_id) {
			heap_remove(l, i);
			return;
		}
	}
}

/* Cancel the timer in *slot and clear the slot. */
void loop_timer_clear(struct loop *l, uint64_t *slot)
{
	if (*slot)
		loop_timer_cancel(l, *slot);
	*slot = 0;
}

/* True when the earliest timer is due already. */
bool loop_timers_due(const struct loop *l)
{
	return l->nheap && l->heap[0].when <= loop_now_ms();
}

/* Point the timerfd at the earliest deadline (or disarm it). */
void loop_timers_arm(struct loop *l)
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
void loop_timers_fire(struct loop *l)
{
	uint64_t buf;
	while (read(l->tfd, &buf, sizeof(buf)) > 0)
		;
	l->armed_when = 0; /* the expiry disarmed it */
	uint64_t now = loop_now_ms();
	uint64_t last_id = l->next_timer_id;
	while (l->nheap && l->heap[0].when <= now && l->heap[0].id < last_id && !l->stop) {
		struct loop_timer t = l->heap[0];
		heap_remove(l, 0);
		t.cb(l, t.id, t.ud);
	}
}
