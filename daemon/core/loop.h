/*
 * daemon/core/loop.h — the daemon's single event loop (epoll + timerfd), in the
 * spirit of Redis's ae: a handful of functions, safe to call from inside
 * callbacks (adding, changing or removing fds and timers while dispatching).
 * Nothing registered here may block.
 *
 * The loop owns the three things the daemon's parts used to each do on their
 * own: timers (one heap on one timerfd), child processes (one watcher: a
 * pidfd each, else SIGCHLD through a signalfd; nothing else in the daemon
 * calls waitpid on a watched child), and deferred calls ("run this at the end
 * of the current loop turn", the one way to free an object whose callback is
 * still on the stack).
 *
 * A loop turn: wait, fire the due timers, dispatch the fd events, then run
 * the deferred calls.
 */
#ifndef DAA_LOOP_H
#define DAA_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;

/* events: LOOP_READ | LOOP_WRITE (LOOP_ERROR / LOOP_HUP are reported, never asked). */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_ERROR = 4, LOOP_HUP = 8 };

typedef void (*loop_fd_cb)(struct loop *l, int fd, int events, void *ud);
typedef void (*loop_timer_cb)(struct loop *l, uint64_t timer_id, void *ud);
typedef void (*loop_hook_cb)(struct loop *l, void *ud);

struct loop *loop_new(void);
/* Frees the loop: runs what is still deferred; does not close registered fds
 * nor wait for watched children. */
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
/* Cancel the timer whose id *slot holds (if any) and set *slot to 0. */
void loop_timer_clear(struct loop *l, uint64_t *slot);

/* Called before each wait (bookkeeping such as counting turns; frees go
 * through loop_defer). */
void loop_set_before_wait(struct loop *l, loop_hook_cb cb, void *ud);

/* Run cb(l, ud) once, at the end of the current loop turn: after this turn's
 * timers and fd events, before the next wait, when every callback of the
 * turn has returned (the way to free an object from inside its own callback).
 * Calls run in the order they were asked; one asked while deferred calls run
 * runs in the same pass.  Asked while the loop is not running, they run
 * when loop_run starts, at loop_run_deferred() or at loop_free().
 * Returns an id > 0, or 0 when out of memory. */
uint64_t loop_defer(struct loop *l, loop_hook_cb cb, void *ud);
/* Drop a deferred call that has not run (unknown or run ids are ignored). */
void loop_defer_cancel(struct loop *l, uint64_t defer_id);
/* Run every deferred call now (shutdown code after loop_run returned). */
void loop_run_deferred(struct loop *l);

/* A watched child ended: status is its wait status (WIFEXITED...), or -1
 * when it was reaped by someone else and the status is lost. */
typedef void (*loop_child_cb)(struct loop *l, pid_t pid, int status, void *ud);
/* Watch child pid (ours, not yet reaped): reap it once it ends, then call
 * cb from the loop (never from inside this call), exactly once.  Uses a
 * pidfd when the kernel has pidfd_open, else SIGCHLD read through a
 * signalfd (SIGCHLD is then blocked in the calling thread; a program with
 * threads must block it before starting them, as daad's main does).
 * Returns an id > 0, or 0 with errno. */
uint64_t loop_child_watch(struct loop *l, pid_t pid, loop_child_cb cb, void *ud);
/* Inside a loop_child_cb: the ended child's resource use (wait4; zeros when
 * it was reaped elsewhere). */
struct rusage;
const struct rusage *loop_child_rusage(const struct loop *l);
/* Send sig to a watched child not yet reaped (pidfd_send_signal when it has
 * a pidfd).  0 / -1 (errno; ESRCH for an unknown or reaped id). */
int loop_child_kill(struct loop *l, uint64_t child_id, int sig);
/* Stop calling back for the child; the loop still reaps it (silently) when
 * it ends, so it never stays a zombie.  Unknown ids are ignored. */
void loop_child_unwatch(struct loop *l, uint64_t child_id);
/* Wait (blocking: shutdown only) up to timeout_ms (< 0: no limit) for the
 * child to end and reap it; its callback is not called.  1 reaped (*status
 * set, -1 when reaped elsewhere), 0 still running (still watched), -1
 * unknown id. */
int loop_child_wait(struct loop *l, uint64_t child_id, int timeout_ms, int *status);
/* Tests: false makes children watched from now on use the SIGCHLD path as
 * if pidfd_open were missing (as under valgrind 3.19 or Linux < 5.3). */
void loop_child_use_pidfd(struct loop *l, bool use);

/* Run until loop_stop(); returns 0, or -1 on an epoll failure. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* Monotonic time in milliseconds. */
uint64_t loop_now_ms(void);

#endif
