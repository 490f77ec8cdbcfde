/*
 * daemon/llm/llm_builtin_proc.c — the builtin analyst's processes.  Each is
 * a child with a clean environment (no API keys), a new session, rlimits and
 * only its three standard fds on non-blocking pipes the loop watches.
 *
 * One-shot (analyst_cmd, unless llm.analyst_serve): a process per call; the
 * state goes to its stdin, which is then closed; the call ends when the
 * process has exited and both pipes are at their end.
 *
 * Server (the bundled analyst, `daa_analyst.py --serve`): the state goes as
 * one line and the answer comes back as one line; after an answer the
 * process waits, idle, for the next call, which then skips the interpreter's
 * start and imports (~50 ms of CPU a call).  At most one idle server is
 * kept; one is let go after SERVE_MAX_CALLS answers or SERVE_MAX_BUSY_MS of
 * calls (its RLIMIT_CPU counts all of them), or when it answered before
 * it had read the whole state.  An idle server that writes to stdout,
 * closes a pipe or ends is let go.  A call that fails, is cancelled
 * or times out kills its process, server or not: the next call gets a fresh
 * one.  A process is killed through the loop's child watch (never a pid
 * that may have been reaped) and reaped by the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/core/log.h"
#include "daemon/llm/llm_builtin_int.h"

#define SERVE_MAX_CALLS 1000
#define SERVE_MAX_BUSY_MS 30000    /* under RLIMIT_CPU (60 s) with room */

struct bproc {
	struct builtin *b;
	struct bproc *next;
	pid_t pid;
	uint64_t child;         /* the loop's watch; 0 once reaped */
	int in_fd, out_fd, err_fd;
	unsigned served;        /* answers given (a server) */
	uint64_t busy_ms;       /* time spent on them */
	struct bcall *call;     /* the call it answers; NULL: idle */
};

/* Stop watching and close one pipe end. */
static void close_fd(struct bproc *p, int *fd)
{
	if (*fd < 0)
		return;
	loop_fd_del(p->b->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Kill (when not reaped yet; the loop reaps it, silently) and forget p. */
static void retire(struct bproc *p)
{
	struct loop *l = p->b->loop;
	if (p->child) {
		loop_child_kill(l, p->child, SIGKILL);
		loop_child_unwatch(l, p->child);
	}
	close_fd(p, &p->in_fd);
	close_fd(p, &p->out_fd);
	close_fd(p, &p->err_fd);
	for (struct bproc **pp = &p->b->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p);
}

/* Grow *buf (capacity *cap) to hold need bytes + NUL, geometrically. */
static int reserve(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	char *nb;
	if (need + 1 <= *cap)
		return 0;
	while (n < need + 1)
		n *= 2;
	nb = realloc(*buf, n);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = n;
	return 0;
}

/* Read what is available from stdout/stderr into c's buffers.  Past the
 * stdout cap the call is over (c->overflow); stderr keeps its start. */
static void read_pipe(struct bproc *p, struct bcall *c, int fd)
{
	bool is_out = fd == p->out_fd;
	char **buf = is_out ? &c->out : &c->errb;
	size_t *len = is_out ? &c->outlen : &c->errlen;
	size_t *cap = is_out ? &c->outcap : &c->errcap;
	size_t max = is_out ? BUILTIN_OUT_MAX : BUILTIN_ERR_MAX;
	char tmp[65536];
	while (!c->overflow) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n > 0 && is_out && *len + (size_t)n > max) {
			c->overflow = true;
			return;
		}
		if (n <= 0) {
			*(is_out ? &c->out_eof : &c->err_eof) = true;
			close_fd(p, is_out ? &p->out_fd : &p->err_fd);
			return;
		}
		size_t keep = *len + (size_t)n > max ? max - *len : (size_t)n;
		if (reserve(buf, cap, *len + keep) < 0) {
			c->overflow = true;
			return;
		}
		memcpy(*buf + *len, tmp, keep);
		*len += keep;
		(*buf)[*len] = 0;
	}
}

/* Write the call's state; once all written, a one-shot process's stdin is
 * closed (its end of input), a server's kept for the next call. */
static void write_state(struct bproc *p, struct bcall *c)
{
	while (c->inoff < c->inlen) {
		ssize_t n = write(p->in_fd, c->in + c->inoff, c->inlen - c->inoff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			c->inoff = c->inlen; /* EPIPE: its end shows on the other pipes */
			break;
		}
		c->inoff += (size_t)n;
	}
	if (p->b->serve)
		loop_fd_del(p->b->loop, p->in_fd);
	else
		close_fd(p, &p->in_fd);
}

/* An idle server's pipe is ready: stderr chatter is dropped; anything on
 * stdout, or a pipe's end, lets the server go. */
static void idle_input(struct bproc *p, int fd)
{
	char tmp[4096];
	ssize_t n;
	do
		n = read(fd, tmp, sizeof tmp);
	while (n > 0 && fd == p->err_fd);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		log_warn("llm: the builtin analyst (pid %d) wrote while no call was waiting: "
			 "replaced at the next call", (int)p->pid);
	retire(p);
}

/* Loop callback for the three pipes. */
static void pipe_cb(struct loop *l, int fd, int events, void *ud)
{
	struct bproc *p = ud;
	struct bcall *c = p->call;
	(void)l;
	if (fd == p->in_fd) {
		if (c)
			write_state(p, c);
		else
			loop_fd_del(p->b->loop, fd);
		return;
	}
	if (!c) {
		idle_input(p, fd);
		return;
	}
	if (events & (LOOP_READ | LOOP_HUP | LOOP_ERROR))
		read_pipe(p, c, fd);
	bcall_progress(c); /* may free c, and p with it */
}

/* The process ended (reaped by the loop). */
static void child_cb(struct loop *l, pid_t pid, int status, void *ud)
{
	struct bproc *p = ud;
	struct bcall *c = p->call;
	(void)l, (void)pid;
	p->child = 0;
	if (!c) {
		retire(p);
		return;
	}
	c->exited = true;
	c->status = status;
	bcall_progress(c);
}

/* In the child: stdio on the pipes, clean state, then exec (never returns). */
static void child_exec(const struct builtin *b, int in, int out, int err)
{
	static char *const env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
				    "PYTHONIOENCODING=utf-8", "PYTHONDONTWRITEBYTECODE=1",
				    "HOME=/nonexistent", NULL};
	sigset_t none;
	struct rlimit cpu = {60, 60}, as = {2048ul << 20, 2048ul << 20}, fsz = {0, 0};
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	close_range(3, ~0u, 0);
	setrlimit(RLIMIT_CPU, &cpu);
	setrlimit(RLIMIT_AS, &as);
	setrlimit(RLIMIT_FSIZE, &fsz);
	execve(b->argv[0], b->argv, env);
	dprintf(2, "cannot run %s: %s", b->argv[0], strerror(errno));
	_exit(127);
}

/* Close the pipes of a spawn that did not happen. */
static void close_pairs(int in[2], int out[2], int er[2])
{
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
}

/* A new process, its pipes and child watched by the loop; NULL with err. */
static struct bproc *spawn(struct builtin *b, char *err, size_t errlen)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
	struct bproc *p = calloc(1, sizeof *p);
	if (!p || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s", p ? strerror(errno) : "out of memory");
		close_pairs(in, out, er);
		free(p);
		return NULL;
	}
	p->b = b;
	p->pid = fork();
	if (p->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close_pairs(in, out, er);
		free(p);
		return NULL;
	}
	if (p->pid == 0)
		child_exec(b, in[0], out[1], er[1]);
	close(in[0]), close(out[1]), close(er[1]);
	p->in_fd = in[1], p->out_fd = out[0], p->err_fd = er[0];
	fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	p->next = b->procs;
	b->procs = p;
	if (!(p->child = loop_child_watch(b->loop, p->pid, child_cb, p))) {
		snprintf(err, errlen, "cannot watch the analyst process: %s", strerror(errno));
		kill(p->pid, SIGKILL); /* not watched: reaped here */
		waitpid(p->pid, NULL, 0);
		retire(p);
		return NULL;
	}
	if (loop_fd_add(b->loop, p->out_fd, LOOP_READ, pipe_cb, p) < 0 ||
	    loop_fd_add(b->loop, p->err_fd, LOOP_READ, pipe_cb, p) < 0) {
		snprintf(err, errlen, "cannot watch the analyst process: %s", strerror(errno));
		retire(p);
		return NULL;
	}
	return p;
}

/* The idle server, if one is kept. */
static struct bproc *idle_server(struct builtin *b)
{
	for (struct bproc *p = b->procs; p; p = p->next)
		if (!p->call && p->child)
			return p;
	return NULL;
}

int bproc_attach(struct bcall *c, char *err, size_t errlen)
{
	struct builtin *b = c->b;
	struct bproc *p = b->serve ? idle_server(b) : NULL;
	if (!p && !(p = spawn(b, err, errlen)))
		return -1;
	if (loop_fd_add(b->loop, p->in_fd, LOOP_WRITE, pipe_cb, p) < 0) {
		snprintf(err, errlen, "cannot watch the analyst process: %s", strerror(errno));
		retire(p);
		return -1;
	}
	p->call = c;
	c->proc = p;
	return 0;
}

/* c and its process part: the process (NULL when it had none). */
static struct bproc *detach(struct bcall *c)
{
	struct bproc *p = c->proc;
	if (p) {
		c->proc = NULL;
		p->call = NULL;
	}
	return p;
}

void bproc_release(struct bcall *c)
{
	struct bproc *p = detach(c);
	if (!p)
		return;
	p->served++;
	p->busy_ms += loop_now_ms() - c->start_ms;
	/* a server that answered before it read the whole state would read its
	 * rest as the next call's: never reused */
	if (!p->child || c->inoff < c->inlen || p->served >= SERVE_MAX_CALLS ||
	    p->busy_ms >= SERVE_MAX_BUSY_MS || idle_server(c->b) != p)
		retire(p);
}

void bproc_kill(struct bcall *c)
{
	struct bproc *p = detach(c);
	if (p)
		retire(p);
}

void bproc_free_all(struct builtin *b)
{
	while (b->procs) {
		struct bproc *p = b->procs;
		if (p->child) {
			loop_child_kill(b->loop, p->child, SIGKILL);
			loop_child_wait(b->loop, p->child, -1, NULL);
			p->child = 0;
		}
		if (p->call)
			p->call->proc = NULL;
		retire(p);
	}
}
