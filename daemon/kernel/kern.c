/*
 * daemon/kernel/kern.c — the kernel manager's life cycle: one sandboxed Python
 * kernel per project in use, plus one warm spare, each driven by the loop
 * through two fds (the socketpair, its stdout/stderr pipe) and the loop's
 * watch of the process.
 *
 *   spawn ──► SPAWNING ──ready──► READY (spare) ──project──► BINDING
 *                │                                          │ bind ok
 *                │ no ready in 60 s /                        ▼
 *                │ sandbox exit                        IDLE ◄──► BUSY (one request
 *                ▼                                       │        at a time; the
 *              DEAD ◄── crash (EOF, exit) | step over its limit (SIGINT, then
 *                       SIGKILL after 5 s) | garbage from the kernel | idle
 *                       stop | restart | layer missing (fail closed)
 *
 * A kernel that dies with work queued hands the queue to a fresh kernel for
 * the same project (except when it never started: then the queue fails with
 * the start-up error, so a broken sandbox cannot loop).  Objects are never
 * freed inside their own callbacks: dead kernels go to a graveyard emptied at
 * the end of the loop turn (loop_defer).  Public entry points are in kern_api.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/kernel/kern_int.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"

static void kern_schedule_reap(void);

struct kern_mgr kern_g;

#define START_TIMEOUT_MS 60000
#define EOF_WAIT_MS 2000
#define MAX_LOG_LINES 2000
#define MAX_UNSOLICITED 1000

static void sock_cb(struct loop *l, int fd, int events, void *ud);
static void spare_timer_cb(struct loop *l, uint64_t id, void *ud);

const char *kern_state_name(enum kstate s)
{
	static const char *const n[] = {"spawning", "ready", "binding", "idle", "busy",
					"dying", "dead"};
	return s <= KS_DEAD ? n[s] : "?";
}

bool kern_alive(const struct kern *k)
{
	return k->state != KS_DYING && k->state != KS_DEAD;
}

/* Free a request and its message. */
void kern_req_free(struct kreq *r)
{
	if (!r)
		return;
	json_decref(r->msg);
	free(r);
}

/* Hand a result to a request's owner (if it still wants it) and free it. */
void kern_req_finish(struct kreq *r, const struct kern_result *kr, int code, const char *msg)
{
	if (r->cb && kr) {
		r->cb(r->ud, kr);
	} else if (r->cb) {
		struct proto_err e = {.code = code};
		struct kern_result none;
		snprintf(e.msg, sizeof e.msg, "%s", msg);
		kern_result_parse(NULL, &e, &none);
		r->cb(r->ud, &none);
	}
	kern_req_free(r);
}

/* Remember the reason we are killing k (the first reason wins). */
static void set_why(struct kern *k, int code, const char *why)
{
	if (k->why[0])
		return;
	k->why_code = code;
	snprintf(k->why, sizeof k->why, "%s", why);
}

void kern_kill(struct kern *k, int code, const char *why)
{
	if (k->state == KS_DEAD)
		return;
	set_why(k, code, why);
	if (k->state != KS_DYING)
		log_info("kernel %d (%s): stopping: %s", (int)k->sp.pid,
			 k->project ? k->project : "spare", why);
	k->state = KS_DYING;
	loop_timer_clear(kern_g.l, &k->req_timer);
	loop_timer_clear(kern_g.l, &k->grace_timer);
	loop_timer_clear(kern_g.l, &k->idle_timer);
	loop_timer_clear(kern_g.l, &k->start_timer);
	kern_signal(k, SIGKILL);
}

void kern_signal(struct kern *k, int sig)
{
	if (loop_child_kill(kern_g.l, k->child, sig) == 0 && sig == SIGKILL)
		kill(-k->sp.pid, SIGKILL); /* its process group, should anything be left */
}

/* Read the kernel's stdout/stderr: log lines at debug, keep the last one. */
static void drain_log(struct kern *k)
{
	char buf[8192];
	for (int rounds = 0; rounds < 16 && k->sp.logfd >= 0; rounds++) {
		ssize_t n = read(k->sp.logfd, buf, sizeof buf - 1);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				loop_fd_del(kern_g.l, k->sp.logfd);
				close(k->sp.logfd);
				k->sp.logfd = -1;
			}
			return;
		}
		buf[n] = '\0';
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			if (!line[0])
				continue;
			snprintf(k->lastlog, sizeof k->lastlog, "%.300s", line);
			if (k->loglines++ < MAX_LOG_LINES)
				log_debug("kernel %d: %.400s", (int)k->sp.pid, line);
			else if (k->loglines == MAX_LOG_LINES + 1)
				log_debug("kernel %d: (further output not logged)", (int)k->sp.pid);
		}
	}
}

static void log_cb(struct loop *l, int fd, int events, void *ud)
{
	(void)l, (void)fd, (void)events;
	drain_log(ud);
}

/* Close our end of the socketpair (stop reading and writing). */
static void close_sock(struct kern *k)
{
	if (k->sp.sock < 0)
		return;
	loop_fd_del(kern_g.l, k->sp.sock);
	close(k->sp.sock);
	k->sp.sock = -1;
}

/* The user-facing message for a kernel's death. */
static int death_message(struct kern *k, int status, bool have_status, char *buf, size_t len)
{
	if (k->why[0]) {
		snprintf(buf, len, "%s", k->why);
		return k->why_code;
	}
	if (!have_status) {
		snprintf(buf, len, "the kernel ended unexpectedly");
		return PROTO_ERR_KERNEL;
	}
	char d[400];
	int code = kp_describe_exit(status, &kern_g.set, d, sizeof d);
	if (WIFEXITED(status) && k->lastlog[0] && code != PROTO_ERR_SANDBOX)
		snprintf(buf, len, "%.250s (its last words: %.300s)", d, k->lastlog);
	else
		snprintf(buf, len, "%s", d);
	return code;
}

/* Is the request in flight a background one (a profile) that the kernel
 * was running when the daemon killed it to start a fresh one (a restart on
 * request, an interrupt that was not obeyed)?  A turn may be waiting for
 * it: it is sent again to the fresh kernel, as the queued requests are.
 * One over its own time limit is the cause, and a kernel that died by
 * itself may die of it again: those fail as before. */
static bool resend_background(struct kern *k, struct kreq *in, bool started)
{
	if (!in || !in->background || in->interrupted || !k->restart_after || !k->why[0] ||
	    !started || !k->project || k->no_handover)
		return false;
	json_object_del(in->msg, "id");
	in->yielding = in->signalled = false;
	in->next = NULL;
	return true;
}

/* Fail or hand over the requests of a kernel that died. */
static void settle_requests(struct kern *k, int code, const char *msg)
{
	bool started = k->ready != NULL && code != PROTO_ERR_SANDBOX;
	struct kreq *in = k->inflight, *q = k->queue;
	bool bind_failed = in && strcmp(in->op, "bind") == 0;
	k->inflight = NULL;
	k->queue = NULL;
	if (resend_background(k, in, started)) {
		struct kreq **pp = &q;
		while (*pp)
			pp = &(*pp)->next;
		*pp = in;
		in = NULL;
	}
	char full[1024];
	if (in && k->project && started && !bind_failed && !k->why[0])
		snprintf(full, sizeof full, "%.600s while running this step; a fresh kernel was "
			 "started — variables from earlier steps are gone until history replay "
			 "lands", msg);
	else
		snprintf(full, sizeof full, "%s", msg);
	if (in && !bind_failed)
		kern_req_finish(in, NULL, code, full);
	else
		kern_req_free(in);
	/* Drop a queued bind: a fresh kernel gets its own. */
	while (q && strcmp(q->op, "bind") == 0) {
		struct kreq *n = q->next;
		kern_req_free(q);
		q = n;
	}
	if (!started || bind_failed || !k->project || k->no_handover) {
		while (q) {
			struct kreq *n = q->next;
			kern_req_finish(q, NULL, code, msg);
			q = n;
		}
		return;
	}
	if (q || k->restart_after || in)
		kern_handover(k, q);
}

/* k is dead or freed: it is no longer its project's live kernel. */
static void kern_unslot(struct kern *k)
{
	if (k->pj && proj_slots(k->pj)->kern == k)
		proj_slots(k->pj)->kern = NULL;
}

/* Bury a dead kernel: remove it from the list (and from its project's
 * slot), free it from a timer. */
static void bury(struct kern *k)
{
	kern_unslot(k);
	struct kern **pp = &kern_g.list;
	while (*pp && *pp != k)
		pp = &(*pp)->next;
	if (*pp)
		*pp = k->next;
	k->next = kern_g.graveyard;
	kern_g.graveyard = k;
	kern_schedule_reap();
}

/* The process is gone (status known or not): settle everything about it. */
void kern_finalize(struct kern *k, int status, bool have_status)
{
	char msg[600];
	bool was_spare = !k->project;
	bool never_ready = k->ready == NULL;
	drain_log(k);
	int code = death_message(k, status, have_status, msg, sizeof msg);
	log_info("kernel %d (%s) ended: %s", (int)k->sp.pid, k->project ? k->project : "spare",
		 msg);
	if (never_ready || code == PROTO_ERR_SANDBOX) {
		kern_g.last_error_code = code;
		snprintf(kern_g.last_error, sizeof kern_g.last_error, "%s", msg);
	}
	k->state = KS_DEAD;
	loop_timer_clear(kern_g.l, &k->req_timer);
	loop_timer_clear(kern_g.l, &k->grace_timer);
	loop_timer_clear(kern_g.l, &k->idle_timer);
	loop_timer_clear(kern_g.l, &k->start_timer);
	loop_timer_clear(kern_g.l, &k->eof_timer);
	loop_child_unwatch(kern_g.l, k->child); /* still reaped, silently, if not yet */
	k->child = 0;
	close_sock(k);
	if (k->sp.logfd >= 0) {
		loop_fd_del(kern_g.l, k->sp.logfd);
		close(k->sp.logfd);
		k->sp.logfd = -1;
	}
	if (k->sp.mountfd >= 0)
		close(k->sp.mountfd);
	k->sp.mountfd = -1;
	kp_rm_tmp(k->sp.tmp);
	bury(k);
	if (was_spare && !k->why[0]) /* died by itself: respawn with back-off */
		kern_g.spare_failures++;
	settle_requests(k, code, msg);
	if (!kern_g.shutting_down)
		kern_ensure_spare();
}

/* The kernel is pid 1 of its own pid namespace, and such a process ignores
 * the SIGXCPU of its soft CPU limit (no handler): the hard limit's SIGKILL
 * ends it.  A SIGKILL that came once it had used its configured CPU time is
 * that limit, and is said as such (the status SIGXCPU would have given). */
static int cpu_limit_status(int status, const struct rusage *ru)
{
	unsigned long lim = kern_g.set.cpu_s;
	if (!lim || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		return status;
	unsigned long used = (unsigned long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec);
	return used >= lim ? SIGXCPU : status;  /* a wait status: killed by SIGXCPU */
}

/* The loop reaped the process (status -1: lost). */
static void child_cb(struct loop *l, pid_t pid, int status, void *ud)
{
	struct kern *k = ud;
	(void)pid;
	k->child = 0;
	if (status != -1)
		status = cpu_limit_status(status, loop_child_rusage(l));
	kern_finalize(k, status, status != -1);
}

/* The channel closed but the process may linger: give it a moment, then kill. */
static void eof_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	struct kern *k = ud;
	(void)l, (void)id;
	k->eof_timer = 0;
	kern_kill(k, PROTO_ERR_KERNEL, "the kernel closed its channel to the daemon");
}

/* EOF or an error on the socketpair. */
static void on_eof(struct kern *k)
{
	close_sock(k);
	if (k->state == KS_DYING || k->state == KS_DEAD)
		return;
	k->state = KS_DYING;
	loop_timer_clear(kern_g.l, &k->req_timer);
	loop_timer_clear(kern_g.l, &k->idle_timer);
	loop_timer_clear(kern_g.l, &k->start_timer);
	k->eof_timer = loop_timer_add(kern_g.l, EOF_WAIT_MS, eof_timer_cb, k);
}

/* Write queued bytes; keep write interest only while something is left. */
int kern_flush(struct kern *k)
{
	if (k->sp.sock < 0)
		return -1;
	int rc = kw_flush(k->sp.sock, &k->wbuf);
	if (rc < 0) {
		on_eof(k);
		return -1;
	}
	bool want = rc == 0;
	if (want != k->want_write) {
		k->want_write = want;
		loop_fd_mod(kern_g.l, k->sp.sock, LOOP_READ | (want ? LOOP_WRITE : 0));
	}
	return 0;
}

/* Read and dispatch what the kernel sent (bounded work per wake-up). */
static void read_sock(struct kern *k)
{
	char why[200];
	for (int rounds = 0; rounds < 16 && k->sp.sock >= 0; rounds++) {
		ssize_t n = kw_read(k->sp.sock, &k->rbuf, 65536);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			on_eof(k);
			return;
		}
		json_t *msg;
		int rc;
		while (k->state != KS_DYING && k->state != KS_DEAD &&
		       (rc = kw_next(&k->rbuf, &k->scan, &msg, why, sizeof why)) != 0) {
			if (rc < 0) {
				char m[300];
				snprintf(m, sizeof m, "the kernel was stopped because %s", why);
				kern_kill(k, PROTO_ERR_KERNEL, m);
				return;
			}
			kern_handle_msg(k, msg);
			json_decref(msg);
		}
		if (n < 0 || k->state == KS_DYING || k->state == KS_DEAD)
			return;
	}
}

static void sock_cb(struct loop *l, int fd, int events, void *ud)
{
	struct kern *k = ud;
	(void)l, (void)fd;
	if (events & LOOP_WRITE)
		kern_flush(k);
	if (k->sp.sock >= 0 && (events & (LOOP_READ | LOOP_HUP | LOOP_ERROR)))
		read_sock(k);
}

static void start_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	struct kern *k = ud;
	char m[500];
	(void)l, (void)id;
	k->start_timer = 0;
	drain_log(k);
	snprintf(m, sizeof m, "the kernel did not become ready within %d s%s%s",
		 START_TIMEOUT_MS / 1000, k->lastlog[0] ? "; its last output: " : "", k->lastlog);
	kern_kill(k, PROTO_ERR_KERNEL, m);
}

/* Register a freshly spawned process with the loop. */
static int watch(struct kern *k, struct proto_err *err)
{
	k->child = loop_child_watch(kern_g.l, k->sp.pid, child_cb, k);
	if (!k->child) { /* out of memory: kern_signal cannot reach it */
		int e = errno;
		kill(k->sp.pid, SIGKILL);
		kill(-k->sp.pid, SIGKILL);
		errno = e;
	}
	if (!k->child ||
	    loop_fd_add(kern_g.l, k->sp.sock, LOOP_READ, sock_cb, k) < 0 ||
	    loop_fd_add(kern_g.l, k->sp.logfd, LOOP_READ, log_cb, k) < 0)
		return proto_fail(err, PROTO_ERR_INTERNAL, "cannot watch the kernel: %s",
				  strerror(errno));
	k->start_timer = loop_timer_add(kern_g.l, START_TIMEOUT_MS, start_timer_cb, k);
	return 0;
}

struct kern *kern_spawn(const char *project, struct proto_err *err)
{
	struct kern *k = calloc(1, sizeof *k);
	if (!k) {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (kp_spawn(&kern_g.set, project != NULL, &k->sp, err) < 0) {
		kern_g.last_error_code = err->code;
		snprintf(kern_g.last_error, sizeof kern_g.last_error, "%s", err->msg);
		free(k);
		return NULL;
	}
	k->seq = ++kern_g.seq;
	k->state = KS_SPAWNING;
	k->started_ms = loop_now_ms();
	k->project = project ? strdup(project) : NULL;
	k->next = kern_g.list;
	kern_g.list = k;
	if (watch(k, err) < 0) {
		kern_kill(k, err->code, err->msg);
		return NULL; /* reaped through the loop's watch */
	}
	log_info("kernel %d started (%s)", (int)k->sp.pid, project ? project : "warm spare");
	return k;
}

void kern_ensure_spare(void)
{
	if (!kern_g.warm_spare || kern_g.shutting_down || kern_g.spare_timer)
		return;
	for (struct kern *k = kern_g.list; k; k = k->next)
		if (!k->project && kern_alive(k))
			return;
	if (kern_g.spare_failures > 0) {
		/* Back off: a broken install must not spin up kernels in a loop. */
		int n = kern_g.spare_failures > 7 ? 7 : kern_g.spare_failures;
		kern_g.spare_timer = loop_timer_add(kern_g.l, 500u << n, spare_timer_cb, NULL);
		return;
	}
	struct proto_err err = {0};
	if (!kern_spawn(NULL, &err)) {
		log_warn("kernel: cannot start the warm spare: %s", err.msg);
		kern_g.spare_failures++;
		kern_g.spare_timer = loop_timer_add(kern_g.l, 1000, spare_timer_cb, NULL);
	}
}

static void spare_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)l, (void)id, (void)ud;
	kern_g.spare_timer = 0;
	struct proto_err err = {0};
	for (struct kern *k = kern_g.list; k; k = k->next)
		if (!k->project && kern_alive(k))
			return;
	if (!kern_spawn(NULL, &err)) {
		kern_g.spare_failures++;
		kern_ensure_spare();
	}
}

/* End of the loop turn: free the dead kernels. */
static void reap_cb(struct loop *l, void *ud)
{
	(void)l, (void)ud;
	kern_g.reap_defer = 0;
	while (kern_g.graveyard) {
		struct kern *k = kern_g.graveyard;
		kern_g.graveyard = k->next;
		kern_free(k);
	}
}

/* Free the graveyard at the end of this loop turn. */
static void kern_schedule_reap(void)
{
	if (!kern_g.reap_defer && kern_g.l)
		kern_g.reap_defer = loop_defer(kern_g.l, reap_cb, NULL);
}

void kern_free(struct kern *k)
{
	struct kreq *r = k->queue;
	while (r) {
		struct kreq *n = r->next;
		kern_req_free(r);
		r = n;
	}
	kern_req_free(k->inflight);
	kw_buf_free(&k->rbuf);
	kw_buf_free(&k->wbuf);
	json_decref(k->ready);
	json_decref(k->layers);
	json_decref(k->degraded);
	kern_unslot(k);
	free(k->project);
	free(k);
}
