/*
 * daemon/core/loop_child.c — the loop's child processes (daemon/core/loop.h): the one
 * place in the daemon that reaps a child it watches.
 *
 * Each child gets a pidfd on the loop when pidfd_open works (Linux >= 5.3);
 * else (valgrind 3.19 does not know pidfd_open) the loop reads SIGCHLD
 * through a signalfd and tries waitpid(pid, WNOHANG) on each such child —
 * never waitpid(-1), which would steal children started by others (a
 * library's, or a test's).  A child watched after it already ended has its
 * SIGCHLD gone, so each new pidfd-less watch also schedules one check at
 * the end of the turn.  The callback runs from the loop, exactly once; the
 * entry leaves the table before it runs, so the callback may watch, kill or
 * unwatch anything.
 */
#include "daemon/core/loop_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct loop_child {
	uint64_t id;
	pid_t pid;
	int pidfd;        /* -1: watched through SIGCHLD */
	loop_child_cb cb; /* NULL once unwatched: reaped silently */
	void *ud;
};

/* The table index of id, or -1. */
static long child_find(const struct loop *l, uint64_t id)
{
	for (size_t i = 0; id && i < l->nchildren; i++)
		if (l->children[i].id == id)
			return (long)i;
	return -1;
}

/* Remove entry i (closing its pidfd); returns it. */
static struct loop_child child_remove(struct loop *l, size_t i)
{
	struct loop_child c = l->children[i];
	l->children[i] = l->children[--l->nchildren];
	if (c.pidfd >= 0) {
		loop_fd_del(l, c.pidfd);
		close(c.pidfd);
	}
	return c;
}

/* wait4(pid, WNOHANG): 1 reaped (*status, *ru; -1 when reaped elsewhere),
 * 0 running. */
static int child_try_reap(pid_t pid, int *status, struct rusage *ru)
{
	pid_t r;
	memset(ru, 0, sizeof *ru);
	while ((r = wait4(pid, status, WNOHANG, ru)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return 0;
	if (r < 0)
		*status = -1; /* ECHILD: someone else reaped it */
	return 1;
}

const struct rusage *loop_child_rusage(const struct loop *l)
{
	return &l->child_ru;
}

/* Try to reap entry i; when it ended, remove it and call back.  True when
 * it ended (the table changed). */
static bool child_check(struct loop *l, size_t i)
{
	int status = 0;
	if (!child_try_reap(l->children[i].pid, &status, &l->child_ru))
		return false;
	struct loop_child c = child_remove(l, i);
	if (c.cb)
		c.cb(l, c.pid, status, c.ud);
	return true;
}

/* Check every pidfd-less child (after SIGCHLD, or a new watch). */
static void child_scan(struct loop *l)
{
	size_t i = 0;
	while (i < l->nchildren) {
		if (l->children[i].pidfd >= 0 || !child_check(l, i))
			i++;
		else
			i = 0; /* the callback may have changed the table */
	}
}

/* A child's pidfd is readable: it ended. */
static void child_pidfd_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)events, (void)ud;
	for (size_t i = 0; i < l->nchildren; i++)
		if (l->children[i].pidfd == fd) {
			child_check(l, i);
			return;
		}
}

/* SIGCHLD arrived: drain the signalfd, check the pidfd-less children. */
static void child_sigchld_cb(struct loop *l, int fd, int events, void *ud)
{
	struct signalfd_siginfo si;
	(void)events, (void)ud;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	child_scan(l);
}

/* The deferred check after a pidfd-less watch. */
static void child_scan_deferred(struct loop *l, void *ud)
{
	(void)ud;
	l->scan_defer = 0;
	child_scan(l);
}

/* Make sure SIGCHLD reaches the loop through its signalfd.  0 / -1. */
static int child_sigchld_start(struct loop *l)
{
	if (l->sigchld_fd >= 0)
		return 0;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (loop_fd_add(l, fd, LOOP_READ, child_sigchld_cb, NULL) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	l->sigchld_fd = fd;
	return 0;
}

/* A pidfd for pid on the loop, or -1 (then SIGCHLD it is). */
static int child_pidfd(struct loop *l, pid_t pid)
{
#ifdef SYS_pidfd_open
	if (l->no_pidfd)
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	if (loop_fd_add(l, fd, LOOP_READ, child_pidfd_cb, NULL) == 0)
		return fd;
	close(fd);
#else
	(void)l, (void)pid;
#endif
	return -1;
}

/* Watch child pid. */
uint64_t loop_child_watch(struct loop *l, pid_t pid, loop_child_cb cb, void *ud)
{
	if (pid <= 0 || !cb) {
		errno = EINVAL;
		return 0;
	}
	if (loop_grow((void **)&l->children, &l->capchildren, l->nchildren, sizeof *l->children,
		      8) < 0)
		return 0;
	int pidfd = child_pidfd(l, pid);
	if (pidfd < 0) {
		if (child_sigchld_start(l) < 0)
			return 0;
		if (!l->scan_defer && !(l->scan_defer = loop_defer(l, child_scan_deferred, NULL))) {
			errno = ENOMEM;
			return 0;
		}
	}
	uint64_t id = l->next_child_id++;
	l->children[l->nchildren++] = (struct loop_child){id, pid, pidfd, cb, ud};
	return id;
}

/* Signal a watched child. */
int loop_child_kill(struct loop *l, uint64_t child_id, int sig)
{
	long i = child_find(l, child_id);
	if (i < 0) {
		errno = ESRCH;
		return -1;
	}
	const struct loop_child *c = &l->children[i];
#ifdef SYS_pidfd_send_signal
	if (c->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0);
#endif
	return kill(c->pid, sig); /* not reaped yet: the pid is still ours */
}

/* Keep reaping the child, without a callback. */
void loop_child_unwatch(struct loop *l, uint64_t child_id)
{
	long i = child_find(l, child_id);
	if (i >= 0) {
		l->children[i].cb = NULL;
		l->children[i].ud = NULL;
	}
}

/* Sleep a few milliseconds (shutdown waits only). */
static void child_nap(int ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Wait for a child to end, blocking (shutdown only). */
int loop_child_wait(struct loop *l, uint64_t child_id, int timeout_ms, int *status)
{
	long i = child_find(l, child_id);
	if (i < 0)
		return -1;
	pid_t pid = l->children[i].pid;
	int st = 0;
	uint64_t end = loop_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		if (timeout_ms < 0) {
			pid_t r;
			while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
				;
			if (r < 0)
				st = -1; /* ECHILD: reaped elsewhere */
			break;
		}
		if (child_try_reap(pid, &st, &l->child_ru))
			break;
		if (loop_now_ms() >= end)
			return 0;
		child_nap(5);
	}
	child_remove(l, (size_t)i);
	if (status)
		*status = st;
	return 1;
}

/* Tests: pretend pidfd_open is missing. */
void loop_child_use_pidfd(struct loop *l, bool use)
{
	l->no_pidfd = !use;
}

/* Forget every child (the loop is being freed). */
void loop_children_free(struct loop *l)
{
	while (l->nchildren > 0)
		child_remove(l, l->nchildren - 1);
	free(l->children);
	l->children = NULL;
	l->capchildren = 0;
	if (l->sigchld_fd >= 0) {
		loop_fd_del(l, l->sigchld_fd);
		close(l->sigchld_fd);
	}
	l->sigchld_fd = -1;
}
