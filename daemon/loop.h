/*
 * daemon/loop.h — the daemon's single event loop (epoll + timerfd), in the
 * spirit of Redis's ae: a handful of functions, safe to call from inside
 * callbacks (adding, changing or removing fds and timers while dispatching).
 * Nothing registered here may block.
 */
#ifndef DAA_LOOP_H
#define DAA_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

/* events: LOOP_READ | LOOP_WRITE (LOOP_ERROR / LOOP_HUP are reported, never asked). */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_ERROR = 4, LOOP_HUP = 8 };

typedef void (*loop_fd_cb)(struct loop *l, int fd, int events, void *ud);
typedef void (*loop_timer_cb)(struct loop *l, uint64_t timer_id, void *ud);
typedef void (*loop_hook_cb)(struct loop *l, void *ud);

struct loop *loop_new(void);
/* Frees the loop; does not close registered fds. */
void loop_free(struct loop *l);

/* Watch fd for `events`; one registration per fd.  0 / -1 (errno). */
int loop_fd_add(struct loop *l, int fd, int events, loop_fd_cb cb, void *ud);
int loop_fd_mod(struct loop *l, int fd, int events);
/* Stop watching; pending events for fd in this iteration are dropped. */
int loop_fd_del(struct loop *l, int fd);

/* One-shot timer after `ms` milliseconds (monotonic).  Returns an id > 0, or 0 on error. */
uint64_t loop_timer_add(struct loop *l, uint64_t ms, loop_timer_cb cb, void *ud);
/* Cancel a pending timer (unknown or already fired ids are ignored). */
void loop_timer_cancel(struct loop *l, uint64_t timer_id);

/* Called before each wait (reaping of closed objects, flushing). */
void loop_set_before_wait(struct loop *l, loop_hook_cb cb, void *ud);

/* Run until loop_stop(); returns 0, or -1 on an epoll failure. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* Monotonic time in milliseconds. */
uint64_t loop_now_ms(void);

#endif
