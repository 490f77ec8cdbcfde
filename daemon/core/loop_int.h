/*
 * daemon/core/loop_int.h — the loop's insides, shared by its files: loop.c (fds,
 * the run, deferred calls), loop_timer.c (the timer heap on the timerfd),
 * loop_child.c (child processes).  Nothing outside daemon/core/loop*.c includes
 * this.
 */
#ifndef DAA_LOOP_INT_H
#define DAA_LOOP_INT_H

#include "daemon/core/loop.h"

#include <stddef.h>
#include <sys/resource.h>

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

struct loop_deferred {
	uint64_t id;
	loop_hook_cb cb;
	void *ud;
};

struct loop_child;

struct loop {
	int epfd;
	int tfd;
	struct loop_fdent *fds;
	size_t nfds;
	/* timers (loop_timer.c) */
	struct loop_timer *heap;
	size_t nheap, capheap;
	uint64_t next_timer_id;
	uint64_t armed_when; /* 0: disarmed */
	/* deferred calls (loop.c), in the order they were asked */
	struct loop_deferred *deferred;
	size_t ndeferred, capdeferred;
	uint64_t next_defer_id;
	/* children (loop_child.c) */
	struct loop_child *children;
	size_t nchildren, capchildren;
	uint64_t next_child_id;
	int sigchld_fd;      /* signalfd for SIGCHLD, only when a child has no pidfd */
	bool no_pidfd;       /* loop_child_use_pidfd(l, false) */
	uint64_t scan_defer; /* a pending check of the pidfd-less children */
	struct rusage child_ru; /* of the child whose callback runs (wait4) */
	loop_hook_cb before_wait;
	void *before_wait_ud;
	bool stop;
};

/* The epoll cookie of the timerfd (fds use fd | generation << 32). */
#define LOOP_TIMER_COOKIE UINT64_MAX

/* Room for one more element in a growing array (*arr of *cap elements of
 * size elem, n used): doubles from first.  0, or -1 (ENOMEM, unchanged). */
int loop_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t first);

/* loop_timer.c: point the timerfd at the earliest deadline; fire what is
 * due (only timers created before the round); true when one is due now. */
void loop_timers_arm(struct loop *l);
void loop_timers_fire(struct loop *l);
bool loop_timers_due(const struct loop *l);

/* loop_child.c: forget every child (closing pidfds, no waiting). */
void loop_children_free(struct loop *l);

#endif
