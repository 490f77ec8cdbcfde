/*
 * daemon/llm/llm_builtin.c — the "builtin" model backend: the offline analyst
 * (daemon/analyst/daa_analyst.py) run as a child process per model call.
 * The turn's structured state goes to its stdin as one JSON document; its
 * stdout holds one JSON {tool, args}, which becomes an llm_reply with one
 * tool call.  Everything goes through the loop: pipes are non-blocking, the
 * output is capped, a timer bounds the call, cancel kills the child.  The
 * child gets a clean environment (no API keys), a new session, rlimits and
 * only its three standard fds.  It is not under the kernel's seccomp /
 * Landlock policy (it runs only our own script, reading only stdin).
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

#include "daemon/core/config.h"
#include "daemon/llm/llm.h"
#include "daemon/llm/llm_parse.h"
#include "daemon/core/log.h"

#define OUT_MAX (4u << 20)   /* stdout cap */
#define ERR_MAX 4096         /* stderr kept for the error message */
#define DEFAULT_TIMEOUT_MS 60000

struct builtin {
	struct llm_backend base;
	struct loop *loop;
	char *argv[8];          /* python, -I, -S, script (or analyst_cmd split) */
	int timeout_ms;
	unsigned seq;
	struct bcall *calls;    /* live calls (incl. orphans whose child is not reaped yet) */
};

struct bcall {
	struct llm_call base;
	struct builtin *b;
	struct bcall *next;
	pid_t pid;
	int in_fd, out_fd, err_fd;
	char *in;               /* the state document */
	size_t inlen, inoff;
	char *out, *errb;
	size_t outlen, errlen, outcap, errcap;
	bool out_eof, err_eof, exited, overflow, finished, orphan;
	uint64_t child;         /* the loop's watch of pid (0: none, or reaped) */
	int status;
	uint64_t timer, start_ms;
	llm_progress_cb progress;
	llm_done_cb done;
	void *ud;
	json_t *request_log;
};

static const struct llm_backend_ops builtin_ops;

/* Stop watching and close one of the call's pipe ends. */
static void close_fd(struct bcall *c, int *fd)
{
	if (*fd < 0)
		return;
	loop_fd_del(c->b->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Free a call (its child has been reaped, or is an orphan being reaped). */
static void bcall_free(struct bcall *c)
{
	for (struct bcall **pp = &c->b->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	close_fd(c, &c->in_fd);
	close_fd(c, &c->out_fd);
	close_fd(c, &c->err_fd);
	if (c->timer)
		loop_timer_cancel(c->b->loop, c->timer);
	json_decref(c->request_log);
	free(c->in);
	free(c->out);
	free(c->errb);
	free(c);
}

/* Report an error: "the builtin analyst <what><detail>". */
static void fail(struct bcall *c, const char *what, const char *detail)
{
	struct llm_error e = {0};
	snprintf(e.msg, sizeof e.msg, "the builtin analyst %s%.400s", what, detail ? detail : "");
	c->finished = true;
	c->done(c->ud, NULL, &e);
}

/* Build the reply from the analyst's output {tool, args}. */
static struct llm_reply *parse_output(struct bcall *c, char *why, size_t size)
{
	json_error_t je;
	json_t *o = json_loadb(c->out, c->outlen, 0, &je);
	const char *tool = json_string_value(json_object_get(o, "tool"));
	json_t *args = json_object_get(o, "args");
	struct llm_reply *r;
	char id[32];
	if (!json_is_object(o) || !tool || !json_is_object(args)) {
		snprintf(why, size, "%s", o ? "it is not {tool, args}" : je.text);
		json_decref(o);
		return NULL;
	}
	r = calloc(1, sizeof *r);
	if (r)
		r->calls = calloc(1, sizeof *r->calls);
	if (!r || !r->calls) {
		free(r);
		json_decref(o);
		snprintf(why, size, "out of memory");
		return NULL;
	}
	snprintf(id, sizeof id, "builtin-%u", ++c->b->seq);
	r->ncalls = 1;
	/* filled like any model's call (llm_parse.c), checked by the agent */
	if (llm_call_fill(&r->calls[0], id, tool, args) < 0) {
		llm_reply_free(r);
		json_decref(o);
		snprintf(why, size, "out of memory");
		return NULL;
	}
	r->prompt_tokens = (int64_t)(c->inlen / 4);
	r->completion_tokens = (int64_t)(c->outlen / 4);
	r->latency_ms = (double)(loop_now_ms() - c->start_ms);
	r->model = strdup("builtin-analyst");
	r->request_log = json_incref(c->request_log);
	r->response_log = o;
	return r;
}

/* Both the output is complete and the child is gone: report. */
static void maybe_finish(struct bcall *c)
{
	char why[300];
	struct llm_reply *r;
	if (c->finished || !c->out_eof || !c->err_eof || !c->exited)
		return;
	if (c->overflow) {
		fail(c, "wrote more than 4 MiB", NULL);
	} else if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0 || !c->outlen) {
		char d[600];
		snprintf(d, sizeof d, "(%s %d)%s%.*s", WIFEXITED(c->status) ? "exit status" : "signal",
			 WIFEXITED(c->status) ? WEXITSTATUS(c->status) : WTERMSIG(c->status),
			 c->errlen ? ": " : "", (int)(c->errlen > 400 ? 400 : c->errlen),
			 c->errb ? c->errb + (c->errlen > 400 ? c->errlen - 400 : 0) : "");
		fail(c, "failed ", d);
	} else if (!(r = parse_output(c, why, sizeof why))) {
		fail(c, "returned invalid output: ", why);
	} else {
		c->finished = true;
		c->done(c->ud, r, NULL);
	}
	bcall_free(c);
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

/* Read what is available from out/err into the buffers; past the stdout
 * cap the child is killed (its output is useless then). */
static void read_pipe(struct bcall *c, int fd)
{
	bool is_out = fd == c->out_fd;
	char **buf = is_out ? &c->out : &c->errb;
	size_t *len = is_out ? &c->outlen : &c->errlen, max = is_out ? OUT_MAX : ERR_MAX;
	size_t *cap = is_out ? &c->outcap : &c->errcap;
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n > 0 && is_out && *len + (size_t)n > max) {
			c->overflow = true;
			kill(c->pid, SIGKILL);
			n = 0;
		}
		if (n <= 0) {
			*(is_out ? &c->out_eof : &c->err_eof) = true;
			close_fd(c, is_out ? &c->out_fd : &c->err_fd);
			return;
		}
		size_t keep = *len + (size_t)n > max ? max - *len : (size_t)n; /* stderr: keep the start */
		if (reserve(buf, cap, *len + keep) < 0) {
			c->overflow = true;
			continue;
		}
		memcpy(*buf + *len, tmp, keep);
		*len += keep;
		(*buf)[*len] = 0;
	}
}

/* Loop callback for the three pipes. */
static void pipe_cb(struct loop *l, int fd, int events, void *ud)
{
	struct bcall *c = ud;
	(void)l;
	if (fd == c->in_fd) {
		while (c->inoff < c->inlen) {
			ssize_t n = write(fd, c->in + c->inoff, c->inlen - c->inoff);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				return;
			if (n < 0)
				break; /* EPIPE: the child will report */
			c->inoff += (size_t)n;
		}
		close_fd(c, &c->in_fd);
		return;
	}
	if (events & (LOOP_READ | LOOP_HUP | LOOP_ERROR))
		read_pipe(c, fd);
	maybe_finish(c);
}

/* Our child ended (reaped by the loop). */
static void child_cb(struct loop *l, pid_t pid, int status, void *ud)
{
	struct bcall *c = ud;
	(void)l, (void)pid;
	c->child = 0;
	c->exited = true;
	c->status = status;
	if (c->orphan) {
		bcall_free(c);
		return;
	}
	maybe_finish(c);
}

/* The call took too long: kill the child, report. */
static void timeout_cb(struct loop *l, uint64_t id, void *ud)
{
	struct bcall *c = ud;
	char d[64];
	(void)l, (void)id;
	c->timer = 0;
	kill(c->pid, SIGKILL);
	snprintf(d, sizeof d, "%d s", c->b->timeout_ms / 1000);
	c->orphan = true; /* freed when the child is reaped */
	close_fd(c, &c->in_fd);
	close_fd(c, &c->out_fd);
	close_fd(c, &c->err_fd);
	fail(c, "did not answer within ", d);
	if (c->exited)
		bcall_free(c);
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

/* Three pipes, the child, the loop registrations.  0 / -1 (msg in err). */
static int spawn(struct bcall *c, char *err, size_t errlen)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
	struct loop *l = c->b->loop;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	c->pid = fork();
	if (c->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (c->pid == 0)
		child_exec(c->b, in[0], out[1], er[1]);
	close(in[0]), close(out[1]), close(er[1]);
	c->in_fd = in[1], c->out_fd = out[0], c->err_fd = er[0];
	fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
	if (!(c->child = loop_child_watch(l, c->pid, child_cb, c)) ||
	    loop_fd_add(l, c->in_fd, LOOP_WRITE, pipe_cb, c) < 0 ||
	    loop_fd_add(l, c->out_fd, LOOP_READ, pipe_cb, c) < 0 ||
	    loop_fd_add(l, c->err_fd, LOOP_READ, pipe_cb, c) < 0) {
		snprintf(err, errlen, "cannot watch the analyst process: %s", strerror(errno));
		kill(c->pid, SIGKILL);
		return -1; /* the caller makes it an orphan */
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (er[i] >= 0)
			close(er[i]);
	}
	c->pid = 0;
	return -1;
}

/* Report a start failure from the loop (never inside call_start). */
static void start_fail_cb(struct loop *l, uint64_t id, void *ud)
{
	struct bcall *c = ud;
	(void)l, (void)id;
	c->timer = 0;
	fail(c, "could not start: ", c->errb);
	if (!c->orphan || c->exited)
		bcall_free(c);
}

/* Start one analyst process for a model call. */
static struct llm_call *builtin_call_start(struct llm_backend *base, const struct llm_ctx *ctx,
					   llm_progress_cb progress, llm_done_cb done, void *ud)
{
	struct builtin *b = (struct builtin *)base;
	struct bcall *c = calloc(1, sizeof *c);
	char err[256];
	if (!c)
		return NULL;
	c->base.backend = base;
	c->b = b;
	c->next = b->calls;
	b->calls = c;
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->progress = progress, c->done = done, c->ud = ud;
	c->start_ms = loop_now_ms();
	c->in = json_dumps(ctx->state ? ctx->state : json_object(), JSON_COMPACT);
	c->inlen = c->in ? strlen(c->in) : 0;
	c->request_log = json_pack("{s:s, s:s?, s:O?}", "backend", "builtin", "turn",
				   ctx->turn_id, "state", ctx->state);
	if (!c->in) {
		bcall_free(c);
		return NULL;
	}
	if (spawn(c, err, sizeof err) < 0) {
		c->errb = strdup(err);
		c->orphan = c->pid > 0;
		c->exited = c->pid <= 0;
		c->timer = loop_timer_add(b->loop, 0, start_fail_cb, c);
		return &c->base;
	}
	c->timer = loop_timer_add(b->loop, (uint64_t)b->timeout_ms, timeout_cb, c);
	return &c->base;
}

/* Cancel: kill the child; no callback; freed when the child is reaped. */
static void builtin_call_cancel(struct llm_call *base)
{
	struct bcall *c = (struct bcall *)base;
	c->finished = true;
	if (c->timer) {
		loop_timer_cancel(c->b->loop, c->timer);
		c->timer = 0;
	}
	close_fd(c, &c->in_fd);
	close_fd(c, &c->out_fd);
	close_fd(c, &c->err_fd);
	if (c->exited) {
		bcall_free(c);
		return;
	}
	c->orphan = true;
	kill(c->pid, SIGKILL);
}

/* The model name reported for the builtin analyst. */
static const char *builtin_model(const struct llm_backend *b)
{
	(void)b;
	return "builtin-analyst";
}

/* Daemon shutdown: kill and reap what is left (SIGKILL'd: the wait is short). */
static void builtin_free(struct llm_backend *base)
{
	struct builtin *b = (struct builtin *)base;
	while (b->calls) {
		struct bcall *c = b->calls;
		if (c->pid > 0 && !c->exited) {
			loop_child_kill(b->loop, c->child, SIGKILL);
			loop_child_wait(b->loop, c->child, -1, NULL);
		}
		bcall_free(c);
	}
	for (size_t i = 0; b->argv[i]; i++)
		free(b->argv[i]);
	free(b);
}

static const struct llm_backend_ops builtin_ops = {
	.name = "builtin",
	.model = builtin_model,
	.call_start = builtin_call_start,
	.call_cancel = builtin_call_cancel,
	.free = builtin_free,
};

/* argv from analyst_cmd ("python script", split on spaces) or the defaults. */
static int make_argv(struct builtin *b, const struct llm_config *cfg, char *err, size_t errlen)
{
	const struct daa_config *dc = config_get();
	size_t n = 0;
	if (cfg && cfg->analyst_cmd && *cfg->analyst_cmd) {
		char *copy = strdup(cfg->analyst_cmd), *save = NULL;
		for (char *w = strtok_r(copy, " \t", &save); w && n < 7; w = strtok_r(NULL, " \t", &save))
			b->argv[n++] = strdup(w);
		free(copy);
	} else {
		const char *dir = dc && dc->analyst_dir ? dc->analyst_dir : "daemon/analyst";
		b->argv[n++] = strdup(dc && dc->python ? dc->python : "/usr/bin/python3");
		b->argv[n++] = strdup("-I");
		b->argv[n++] = strdup("-S");   /* no site: the analyst uses the standard library only */
		if (asprintf(&b->argv[n], "%s/daa_analyst.py", dir) < 0)
			b->argv[n] = NULL;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		if (!b->argv[i]) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	if (n < 2 || access(b->argv[0], X_OK) < 0 || access(b->argv[n - 1], R_OK) < 0) {
		snprintf(err, errlen, "the builtin analyst cannot run: %s %s not found (check \"python\" "
			 "and \"share_dir\" in config.json)", b->argv[0], n ? b->argv[n - 1] : "");
		return -1;
	}
	return 0;
}

/* The builtin backend (llm.c creates it for llm.backend "builtin"). */
struct llm_backend *llm_builtin_new(struct loop *l, const struct llm_config *cfg, char *err,
				    size_t errlen)
{
	struct builtin *b = calloc(1, sizeof *b);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->base.ops = &builtin_ops;
	b->loop = l;
	b->timeout_ms = cfg && cfg->total_timeout_ms > 0 && cfg->total_timeout_ms < DEFAULT_TIMEOUT_MS
				? cfg->total_timeout_ms : DEFAULT_TIMEOUT_MS; /* it answers in well under 1 s */
	if (make_argv(b, cfg, err, errlen) < 0) {
		builtin_free(&b->base);
		return NULL;
	}
	log_info("llm: builtin analyst: %s %s", b->argv[0], b->argv[2] ? b->argv[2] : b->argv[1]);
	return &b->base;
}
