/*
 * daemon/llm/llm_builtin.c — the "builtin" model backend: the offline analyst
 * (daemon/analyst/daa_analyst.py).  The turn's structured state goes to an
 * analyst process as one JSON document; the process answers with one JSON
 * {tool, args}, which becomes an llm_reply with one tool call.  The
 * processes (one per call, or a server kept between calls) are
 * llm_builtin_proc.c's.  Everything goes through the loop: the answer is
 * capped, a timer bounds the call, cancel kills the process.  The analyst
 * is not under the kernel's seccomp / Landlock policy (it runs only our own
 * script, reading only its input).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/core/config.h"
#include "daemon/llm/llm.h"
#include "daemon/llm/llm_builtin_int.h"
#include "daemon/llm/llm_parse.h"
#include "daemon/core/log.h"

#define DEFAULT_TIMEOUT_MS 60000

static const struct llm_backend_ops builtin_ops;

/* Free a finished (or cancelled) call; a process still on it is killed. */
static void bcall_free(struct bcall *c)
{
	for (struct bcall **pp = &c->b->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bproc_kill(c);
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

/* A server's answer line is complete (nl: its newline): report it, and let
 * the server wait for the next call. */
static void finish_line(struct bcall *c, const char *nl)
{
	char why[300];
	struct llm_reply *r = NULL;
	size_t line = (size_t)(nl - c->out);
	if (line + 1 != c->outlen) {
		snprintf(why, sizeof why, "more than one line");
	} else {
		c->outlen = line;
		c->out[line] = 0;
		r = parse_output(c, why, sizeof why);
	}
	if (!r) {
		bproc_kill(c);
		fail(c, "returned invalid output: ", why);
	} else {
		bproc_release(c);
		c->finished = true;
		c->done(c->ud, r, NULL);
	}
	bcall_free(c);
}

/* The process ended without an answer line (or, one-shot, with its answer):
 * report once its output is complete. */
static void finish_exit(struct bcall *c)
{
	char why[300];
	struct llm_reply *r;
	if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0 || !c->outlen) {
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

void bcall_progress(struct bcall *c)
{
	if (c->finished)
		return;
	if (c->overflow) {
		bproc_kill(c);
		fail(c, "wrote more than 4 MiB", NULL);
		bcall_free(c);
		return;
	}
	const char *nl = c->b->serve && c->outlen ? memchr(c->out, '\n', c->outlen) : NULL;
	if (nl)
		finish_line(c, nl);
	else if (c->out_eof && c->err_eof && c->exited)
		finish_exit(c);
}

/* The call took too long: kill its process, report. */
static void timeout_cb(struct loop *l, uint64_t id, void *ud)
{
	struct bcall *c = ud;
	char d[64];
	(void)l, (void)id;
	c->timer = 0;
	bproc_kill(c);
	snprintf(d, sizeof d, "%d s", c->b->timeout_ms / 1000);
	fail(c, "did not answer within ", d);
	bcall_free(c);
}

/* Report a start failure from the loop (never inside call_start). */
static void start_fail_cb(struct loop *l, uint64_t id, void *ud)
{
	struct bcall *c = ud;
	(void)l, (void)id;
	c->timer = 0;
	fail(c, "could not start: ", c->errb);
	bcall_free(c);
}

/* The state document for c (a line of its own for a server: JSON_COMPACT
 * escapes every newline inside strings). */
static char *state_text(const struct builtin *b, const struct llm_ctx *ctx, size_t *len)
{
	char *s = json_dumps(ctx->state ? ctx->state : json_object(), JSON_COMPACT);
	size_t n = s ? strlen(s) : 0;
	char *line = s && b->serve ? realloc(s, n + 2) : s;
	if (!line) {
		free(s);
		return NULL;
	}
	if (b->serve)
		line[n++] = '\n', line[n] = 0;
	*len = n;
	return line;
}

/* Start one model call on an analyst process. */
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
	c->progress = progress, c->done = done, c->ud = ud;
	c->start_ms = loop_now_ms();
	c->in = state_text(b, ctx, &c->inlen);
	c->request_log = json_pack("{s:s, s:s?, s:O?}", "backend", "builtin", "turn",
				   ctx->turn_id, "state", ctx->state);
	if (!c->in) {
		bcall_free(c);
		return NULL;
	}
	if (bproc_attach(c, err, sizeof err) < 0) {
		c->errb = strdup(err);
		c->timer = loop_timer_add(b->loop, 0, start_fail_cb, c);
		return &c->base;
	}
	c->timer = loop_timer_add(b->loop, (uint64_t)b->timeout_ms, timeout_cb, c);
	return &c->base;
}

/* Cancel: kill the process; no callback. */
static void builtin_call_cancel(struct llm_call *base)
{
	struct bcall *c = (struct bcall *)base;
	c->finished = true;
	bcall_free(c);
}

/* The model name reported for the builtin analyst. */
static const char *builtin_model(const struct llm_backend *b)
{
	(void)b;
	return "builtin-analyst";
}

/* Daemon shutdown: calls dropped, processes killed and reaped. */
static void builtin_free(struct llm_backend *base)
{
	struct builtin *b = (struct builtin *)base;
	bproc_free_all(b);
	while (b->calls)
		bcall_free(b->calls);
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

/* argv from analyst_cmd ("python script", split on spaces) or the defaults,
 * and `--serve` last when one process answers many calls. */
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
	if (b->serve && !(b->argv[n] = strdup("--serve"))) {
		snprintf(err, errlen, "out of memory");
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
	bool custom = cfg && cfg->analyst_cmd && *cfg->analyst_cmd;
	b->serve = cfg && cfg->analyst_serve >= 0 ? cfg->analyst_serve > 0 : !custom;
	if (make_argv(b, cfg, err, errlen) < 0) {
		builtin_free(&b->base);
		return NULL;
	}
	size_t n = 0;
	while (b->argv[n])
		n++;
	const char *script = b->argv[n - (b->serve ? 2 : 1)];   /* the word before --serve */
	log_info("llm: builtin analyst: %s %s (%s)", b->argv[0], script,
		 b->serve ? "one process for many calls" : "a process per call");
	return &b->base;
}
