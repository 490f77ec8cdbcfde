/*
 * daemon/llm/llm_openai.c — the "openai" backend: any OpenAI-compatible
 * chat-completions server (OpenAI, Ollama, llama.cpp's server, vLLM, LM
 * Studio), asynchronously over daemon/llm/http.c.
 *
 * One call, as a state machine driven by the loop:
 *
 *   start ──► ATTEMPT ──(200, complete answer)──────────► done(reply)
 *               │  ▲
 *               │  └── RETRY WAIT (timer: Retry-After, else backoff+jitter)
 *               │            ▲
 *               ├──(429, 408, 5xx, refused, dropped, cut stream; attempts left)
 *               └──(anything else, or no attempts left)──► done(error)
 *   cancel (any state) ──► freed, no callback
 *
 * Streamed answers (SSE) are reassembled by llm_parse.c; content deltas are
 * passed on as "text" progress.  The API key lives only in the Authorization
 * header string: it is never logged, and error texts and the response log
 * are scrubbed of it in case a server echoes it back.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/llm/http.h"
#include "daemon/llm/llm.h"
#include "daemon/llm/llm_parse.h"
#include "daemon/llm/sse.h"

#define OA_SLACK (64u << 10)        /* JSON around the answer, beyond llm.max_reply_bytes */
#define OA_BACKOFF_MS 500           /* first retry delay, doubled each time */
#define OA_BACKOFF_MAX_MS 20000
#define OA_RETRY_AFTER_MAX_S 60     /* cap on what a server may ask us to wait */

struct oa_call;

struct oa_backend {
	struct llm_backend base;
	struct loop *loop;
	struct http *http;
	char *url, *base_url, *model, *key, *key_origin, *auth;
	double temperature;
	int64_t max_tokens;
	size_t max_reply;       /* llm.max_reply_bytes */
	bool stream;
	bool no_stream_options; /* the server refused stream_options once */
	bool completion_tokens; /* ...or max_tokens: send max_completion_tokens */
	int connect_ms, idle_ms, total_ms, max_retries;
	uint64_t rng;
	struct oa_call *calls;
};

struct oa_call {
	struct llm_call base;
	struct oa_backend *b;
	llm_progress_cb progress;
	llm_done_cb done;
	void *ud;
	json_t *req;
	char *body;
	struct http_req *http;
	uint64_t timer;
	int attempt; /* attempts started */
	uint64_t t0;
	uint64_t free_defer; /* cancelled: loop_defer freeing it at the end of the turn */
	bool cancelled, finished;
	/* the current attempt */
	enum { OA_UNDECIDED, OA_SSE, OA_BUFFER } mode;
	struct sse *sse;
	struct llm_stream *acc;
	char *buf;
	size_t buflen, bufcap;
	char perr[400];
	bool perr_server;
	bool too_big;             /* the reply passed llm.max_reply_bytes */
	struct llm_error pending; /* an error reported from a 0 ms timer */
	struct oa_call *prev, *next;
};

static const char *oa_model(const struct llm_backend *base);
static struct llm_call *oa_call_start(struct llm_backend *base, const struct llm_ctx *ctx,
				      llm_progress_cb progress, llm_done_cb done, void *ud);
static void oa_call_cancel(struct llm_call *call);
static void oa_free(struct llm_backend *base);
static int oa_attempt(struct oa_call *c, char *err, size_t errlen);

static const struct llm_backend_ops oa_ops = {
	.name = "openai",
	.model = oa_model,
	.call_start = oa_call_start,
	.call_cancel = oa_call_cancel,
	.free = oa_free,
};

/* Overwrite every occurrence of the key in s with '*'. */
static void oa_scrub(const struct oa_backend *b, char *s)
{
	if (!b->key || !b->key[0] || !s)
		return;
	size_t n = strlen(b->key);
	for (char *p = strstr(s, b->key); p; p = strstr(p + n, b->key))
		memset(p, '*', n);
}

/* A copy of a JSON value with the key scrubbed from all its strings. */
static json_t *oa_scrub_json(const struct oa_backend *b, json_t *v)
{
	char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!d || !b->key || !strstr(d, b->key)) {
		free(d);
		return json_incref(v);
	}
	oa_scrub(b, d);
	json_t *w = json_loads(d, JSON_DECODE_ANY, NULL);
	free(d);
	return w;
}

/* Free a string that held a secret. */
static void oa_free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The model name. */
static const char *oa_model(const struct llm_backend *base)
{
	const struct oa_backend *b = (const struct oa_backend *)base;
	return b->model;
}

/* Fail the constructor with a message. */
static struct llm_backend *oa_new_fail(struct oa_backend *b, char *err, size_t errlen, const char *msg)
{
	if (msg)
		snprintf(err, errlen, "%s", msg);
	oa_free(&b->base);
	return NULL;
}

/* Copy the settings of the config into the backend. */
static int oa_settings(struct oa_backend *b, const struct llm_config *cfg)
{
	size_t n = strlen(cfg->base_url);
	while (n && cfg->base_url[n - 1] == '/')
		n--;
	b->base_url = strndup(cfg->base_url, n);
	b->model = strdup(cfg->model);
	const char *tail = "/chat/completions";
	bool has = n >= strlen(tail) && strncmp(cfg->base_url + n - strlen(tail), tail, strlen(tail)) == 0;
	if (!b->base_url || !b->model || asprintf(&b->url, "%s%s", b->base_url, has ? "" : tail) < 0)
		return -1;
	if (cfg->api_key && cfg->api_key[0]) {
		b->key = strdup(cfg->api_key);
		b->key_origin = strdup(cfg->api_key_origin ? cfg->api_key_origin : "OPENAI_API_KEY");
		if (!b->key || !b->key_origin || asprintf(&b->auth, "Authorization: Bearer %s", b->key) < 0)
			return -1;
	}
	b->temperature = cfg->temperature;
	b->max_tokens = cfg->max_tokens;
	b->max_reply = cfg->max_reply_bytes > 0 ? (size_t)cfg->max_reply_bytes : LLM_DEFAULT_MAX_REPLY;
	b->stream = cfg->stream;
	b->connect_ms = cfg->connect_timeout_ms;
	b->idle_ms = cfg->idle_timeout_ms;
	b->total_ms = cfg->total_timeout_ms;
	b->max_retries = cfg->max_retries < 0 ? 0 : cfg->max_retries;
	b->rng = loop_now_ms() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	return 0;
}

/* Create the backend: checks base_url and model. */
struct llm_backend *llm_openai_new(struct loop *l, const struct llm_config *cfg, char *err, size_t errlen)
{
	struct oa_backend *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory creating the LLM client");
		return NULL;
	}
	b->base.ops = &oa_ops;
	b->loop = l;
	const char *u = cfg->base_url;
	if (!u || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
		return oa_new_fail(b, err, errlen, "llm.base_url must start with http:// or https:// "
				   "(e.g. http://localhost:11434/v1 for Ollama)");
	if (!cfg->model || !cfg->model[0])
		return oa_new_fail(b, err, errlen, "llm.model is not set: name the model in config.json "
				   "(e.g. \"gpt-4o-mini\", or \"llama3.1\" for Ollama) or set DAA_LLM_MODEL");
	for (const char *k = cfg->api_key; k && *k; k++)
		if ((unsigned char)*k < 0x20 || *k == 0x7f)
			return oa_new_fail(b, err, errlen, "the API key contains a line break or another "
					   "control character: check the variable or file it comes from");
	if (oa_settings(b, cfg) < 0)
		return oa_new_fail(b, err, errlen, "out of memory creating the LLM client");
	if (!(b->http = http_new(l, err, errlen)))
		return oa_new_fail(b, err, errlen, NULL);
	return &b->base;
}

/* Drop the state of the current attempt. */
static void oa_attempt_reset(struct oa_call *c)
{
	sse_free(c->sse);
	c->sse = NULL;
	llm_stream_free(c->acc);
	c->acc = NULL;
	free(c->buf);
	c->buf = NULL;
	c->buflen = c->bufcap = 0;
	c->mode = OA_UNDECIDED;
	c->perr[0] = '\0';
	c->perr_server = false;
	c->too_big = false;
}

/* Free a call (no callback). */
static void oa_call_free(struct oa_call *c)
{
	struct oa_backend *b = c->b;
	loop_defer_cancel(b->loop, c->free_defer);
	loop_timer_clear(b->loop, &c->timer);
	if (c->http)
		http_cancel(c->http);
	oa_attempt_reset(c);
	json_decref(c->req);
	free(c->body);
	if (c->prev)
		c->prev->next = c->next;
	else
		b->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* Free the backend and every call still pending (silently). */
static void oa_free(struct llm_backend *base)
{
	struct oa_backend *b = (struct oa_backend *)base;
	while (b->calls)
		oa_call_free(b->calls);
	http_free(b->http);
	free(b->url);
	free(b->base_url);
	free(b->model);
	oa_free_secret(b->key);
	free(b->key_origin);
	oa_free_secret(b->auth);
	free(b);
}

/* Report progress, guarding against a cancel from inside the callback. */
static void oa_progress(struct oa_call *c, const char *kind, const char *text)
{
	if (c->progress && !c->cancelled)
		c->progress(c->ud, kind, text);
}

/* One SSE event → the stream accumulator (and "text" progress). */
static int oa_sse_event(void *ud, const char *event, const char *data, size_t len)
{
	struct oa_call *c = ud;
	(void)event;
	int rc = llm_stream_feed(c->acc, data, len, &c->perr_server, c->perr, sizeof(c->perr));
	if (rc < 0)
		return -1;
	if (llm_stream_size(c->acc) > c->b->max_reply) {
		c->too_big = true;
		return -1;
	}
	const char *d = llm_stream_delta(c->acc);
	if (rc == 0 && d[0])
		oa_progress(c, "text", d);
	return c->cancelled ? -1 : 0;
}

/* First bytes of a body: stream it (SSE on 200) or buffer it (anything else). */
static int oa_pick_mode(struct oa_call *c, struct http_req *r)
{
	const char *ct = http_req_content_type(r);
	if (http_req_status(r) / 100 == 2 && ct && strstr(ct, "text/event-stream")) {
		c->sse = sse_new(c->b->max_reply + OA_SLACK, oa_sse_event, c);
		c->acc = llm_stream_new();
		c->mode = OA_SSE;
		return c->sse && c->acc ? 0 : -1;
	}
	c->mode = OA_BUFFER;
	return 0;
}

/* Append to the buffered body, capped. */
static int oa_buffer(struct oa_call *c, const char *p, size_t n)
{
	if (c->buflen + n > c->b->max_reply + OA_SLACK) {
		c->too_big = true;
		return -1;
	}
	if (c->buflen + n + 1 > c->bufcap) {
		size_t cap = c->bufcap ? c->bufcap : 4096;
		while (cap < c->buflen + n + 1)
			cap *= 2;
		char *q = realloc(c->buf, cap);
		if (!q)
			return -1;
		c->buf = q;
		c->bufcap = cap;
	}
	memcpy(c->buf + c->buflen, p, n);
	c->buflen += n;
	c->buf[c->buflen] = '\0';
	return 0;
}

/* Body bytes from http.c. */
static int oa_data_cb(void *ud, struct http_req *r, const char *p, size_t n)
{
	struct oa_call *c = ud;
	int rc = 0;
	if (c->mode == OA_UNDECIDED && oa_pick_mode(c, r) < 0) {
		snprintf(c->perr, sizeof(c->perr), "out of memory reading the reply");
		rc = -1;
	} else if (c->mode == OA_SSE) {
		if (sse_feed(c->sse, p, n) < 0) {
			if (!c->perr[0] && sse_overflowed(c->sse))
				c->too_big = true; /* one line or event over the cap */
			if (!c->perr[0])
				snprintf(c->perr, sizeof(c->perr), "%s", sse_error(c->sse));
			rc = -1;
		}
	} else {
		rc = oa_buffer(c, p, n);
	}
	return c->cancelled ? -1 : rc; /* cancelled by the progress callback */
}

/* Deliver the end of the call (reply or error), then free the call. */
static void oa_finish(struct oa_call *c, struct llm_reply *reply, struct llm_error *e)
{
	if (e)
		oa_scrub(c->b, e->msg);
	c->finished = true; /* a cancel from the callback is a no-op */
	c->done(c->ud, reply, reply ? NULL : e);
	oa_call_free(c);
}

/* Does the server's explanation say the prompt is too long? */
static bool oa_too_long(const char *msg, const char *code)
{
	static const char *const pats[] = {"context_length", "context length", "maximum context",
		"context window", "too many tokens", "exceeds the context", "prompt is too long", NULL};
	for (const char *const *p = pats; *p; p++)
		if (strcasestr(code, *p) || strcasestr(msg, *p))
			return true;
	return false;
}

/* An HTTP error status → an actionable message. */
static void oa_http_error(struct oa_call *c, long st, struct llm_error *e)
{
	struct oa_backend *b = c->b;
	char smsg[300], code[64];
	llm_parse_error_body(c->buf, c->buflen, smsg, sizeof(smsg), code, sizeof(code));
	const char *why = smsg[0] ? smsg : "no explanation";
	e->http_status = (int)st;
	if ((st == 400 || st == 413 || st == 422) && oa_too_long(smsg, code))
		snprintf(e->msg, sizeof(e->msg), "the conversation is too long for %s (%s): %s",
			 b->model, code[0] ? code : "context length exceeded", why);
	else if ((st == 401 || st == 403) && b->key)
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s refused the API key (HTTP %ld: %s): "
			 "check %s", b->base_url, st, why, b->key_origin);
	else if (st == 401 || st == 403)
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s wants an API key (HTTP %ld: %s): "
			 "export OPENAI_API_KEY, or set llm.api_key_env or llm.api_key_file in config.json",
			 b->base_url, st, why);
	else if (st / 100 == 3)
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s redirects elsewhere (HTTP %ld): put "
			 "the final address in llm.base_url (https instead of http? a missing /v1?)",
			 b->base_url, st);
	else if (st == 404)
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s does not know the model \"%s\" "
			 "(HTTP 404: %s): check llm.model / DAA_LLM_MODEL (Ollama: ollama pull %s) and that "
			 "llm.base_url is right (it usually ends in /v1)", b->base_url, b->model, why, b->model);
	else if (st == 429 && strstr(code, "insufficient_quota"))
		snprintf(e->msg, sizeof(e->msg), "the account of the API key (%s) has no quota left at "
			 "%s: check its plan and billing (%s)", b->key_origin ? b->key_origin : "none",
			 b->base_url, why);
	else if (st == 429)
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s is still rate-limiting after %d "
			 "attempts (HTTP 429: %s): wait a little and ask again", b->base_url, c->attempt, why);
	else if (st >= 500)
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s failed %d time%s (HTTP %ld: %s)",
			 b->base_url, c->attempt, c->attempt == 1 ? "" : "s", st, why);
	else
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s rejected the request (HTTP %ld: %s)",
			 b->base_url, st, why);
}

/* A transport failure → an actionable message. */
static void oa_transport_error(struct oa_call *c, const struct http_result *res, struct llm_error *e)
{
	struct oa_backend *b = c->b;
	const char *u = b->base_url;
	switch (res->fail) {
	case HTTP_CONNECT:
	case HTTP_DNS:
		snprintf(e->msg, sizeof(e->msg), "cannot reach the LLM server at %s: is it running? (%s)",
			 u, res->detail);
		break;
	case HTTP_CONNECT_TIMEOUT:
		snprintf(e->msg, sizeof(e->msg), "cannot reach the LLM server at %s: no connection within "
			 "%.1f s (llm.connect_timeout_ms); is it running?", u, b->connect_ms / 1000.0);
		break;
	case HTTP_IDLE_TIMEOUT:
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s sent nothing for %.1f s, so the "
			 "request was abandoned (llm.idle_timeout_ms): the model may be overloaded or too "
			 "slow for this machine", u, b->idle_ms / 1000.0);
		break;
	case HTTP_TOTAL_TIMEOUT:
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s did not finish its answer within "
			 "%.1f s (llm.total_timeout_ms)", u, b->total_ms / 1000.0);
		break;
	case HTTP_TLS:
		snprintf(e->msg, sizeof(e->msg), "TLS failed with the LLM server at %s: %s", u, res->detail);
		break;
	case HTTP_DROPPED:
		snprintf(e->msg, sizeof(e->msg), "the connection to the LLM server at %s broke during the "
			 "reply, %d time%s (%s)", u, c->attempt, c->attempt == 1 ? "" : "s", res->detail);
		break;
	default:
		snprintf(e->msg, sizeof(e->msg), "the request to the LLM server at %s failed: %s", u,
			 res->detail);
	}
}

/* Should this outcome be tried again? */
static bool oa_retryable(const struct http_result *res, const char *code)
{
	switch (res->fail) {
	case HTTP_CONNECT:
	case HTTP_DNS:
	case HTTP_CONNECT_TIMEOUT:
	case HTTP_DROPPED:
		return true;
	case HTTP_OK:
		break;
	default:
		return false;
	}
	long st = res->status;
	if (st == 429)
		return !strstr(code, "insufficient_quota");
	return st == 408 || st == 409 || (st >= 500 && st != 501 && st != 505);
}

/* Build the reply from an assistant message; takes message and rlog. */
static struct llm_reply *oa_reply(struct oa_call *c, json_t *message, int64_t pt, int64_t ct,
				  char *model, const char *finish, json_t *rlog, struct llm_error *e)
{
	struct llm_reply *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(e->msg, sizeof(e->msg), "out of memory reading the model's reply");
		goto fail;
	}
	char perr[300];
	if (llm_parse_message(r, message, perr, sizeof(perr)) < 0) {
		snprintf(e->msg, sizeof(e->msg), "the model at %s gave an unusable answer: %s",
			 c->b->base_url, perr);
		goto fail;
	}
	r->prompt_tokens = pt;
	r->completion_tokens = ct;
	r->latency_ms = (double)(loop_now_ms() - c->t0);
	r->model = model ? model : strdup(c->b->model);
	model = NULL;
	r->finish_reason = finish && *finish ? strdup(finish) : NULL;
	r->request_log = json_incref(c->req);
	json_object_set_new(rlog, "attempts", json_integer(c->attempt));
	r->response_log = oa_scrub_json(c->b, rlog);
	json_decref(rlog);
	json_decref(message);
	return r;
fail:
	llm_reply_free(r);
	free(model);
	json_decref(rlog);
	json_decref(message);
	return NULL;
}

/* A 2xx reply: assemble it (stream or body).  NULL + e on garbage. */
static struct llm_reply *oa_success(struct oa_call *c, struct llm_error *e, bool *retry)
{
	int64_t pt = -1, ct = -1;
	char *model = NULL, *finish = NULL;
	json_t *msg = NULL, *rlog = NULL;
	const char *garbage = NULL;
	char jerr[300];
	json_error_t je;
	if (c->mode == OA_SSE) {
		if (!llm_stream_complete(c->acc)) {
			*retry = true;
			snprintf(e->msg, sizeof(e->msg), "the LLM server at %s ended the stream before the "
				 "answer was complete, %d time%s", c->b->base_url, c->attempt,
				 c->attempt == 1 ? "" : "s");
			return NULL;
		}
		const char *fin;
		msg = llm_stream_result(c->acc, &pt, &ct, &model, &fin);
		finish = fin && *fin ? strdup(fin) : NULL;
		rlog = json_pack("{s:s?, s:[{s:i, s:O, s:s}], s:{s:I, s:I}, s:b, s:i}", "model", model,
				 "choices", "index", 0, "message", msg, "finish_reason", fin, "usage",
				 "prompt_tokens", (json_int_t)pt, "completion_tokens", (json_int_t)ct,
				 "stream", 1, "chunks", (int)llm_stream_chunks(c->acc));
	} else {
		size_t blen = c->buflen;
		char *fixed = c->buf ? llm_json_fix(c->buf, &blen) : NULL;
		json_t *body = json_loadb(fixed ? fixed : c->buf ? c->buf : "", blen, 0, &je);
		free(fixed);
		if (!body)
			garbage = c->buflen ? je.text : "an empty body";
		else if (llm_parse_completion(body, &msg, &pt, &ct, &model, &finish, jerr,
					      sizeof(jerr)) < 0)
			garbage = jerr;
		rlog = body;
	}
	if (garbage || !msg || !rlog) {
		char snip[120] = "";
		if (c->buf)
			snprintf(snip, sizeof(snip), ": \"%.100s\"", c->buf);
		for (char *p = snip; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s sent a reply that is not an OpenAI "
			 "chat completion (%s)%s", c->b->base_url, garbage ? garbage : "out of memory", snip);
		free(model);
		free(finish);
		json_decref(msg);
		json_decref(rlog);
		return NULL;
	}
	struct llm_reply *r = oa_reply(c, msg, pt, ct, model, finish, rlog, e);
	free(finish);
	return r;
}

/* Next random number (xorshift64*), for jitter. */
static uint64_t oa_rand(struct oa_backend *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 2685821657736338717ULL;
}

/* Delay before the next attempt: Retry-After (capped), else backoff + jitter. */
static uint64_t oa_delay_ms(struct oa_call *c, long retry_after_s)
{
	if (retry_after_s >= 0)
		return (uint64_t)(retry_after_s < OA_RETRY_AFTER_MAX_S ? retry_after_s
								     : OA_RETRY_AFTER_MAX_S) * 1000u;
	uint64_t base = OA_BACKOFF_MS;
	for (int i = 1; i < c->attempt && base < OA_BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > OA_BACKOFF_MAX_MS)
		base = OA_BACKOFF_MAX_MS;
	return base / 2 + oa_rand(c->b) % (base / 2 + 1); /* "equal jitter" */
}

/* Retry timer: start the next attempt. */
static void oa_retry_cb(struct loop *l, uint64_t id, void *ud)
{
	struct oa_call *c = ud;
	(void)l, (void)id;
	c->timer = 0;
	struct llm_error e = {0};
	if (oa_attempt(c, e.msg, sizeof(e.msg)) < 0)
		oa_finish(c, NULL, &e);
}

/* Schedule another attempt and say so.  -1 when no timer could be set. */
static int oa_schedule_retry(struct oa_call *c, const char *what, long retry_after_s)
{
	uint64_t ms = oa_delay_ms(c, retry_after_s);
	char note[400];
	snprintf(note, sizeof(note), "%s; trying again in %.1f s (attempt %d of %d)", what,
		 (double)ms / 1000.0, c->attempt + 1, c->b->max_retries + 1);
	oa_scrub(c->b, note);
	oa_progress(c, "retry", note);
	if (c->cancelled)
		return 0;
	c->timer = loop_timer_add(c->b->loop, ms, oa_retry_cb, c);
	return c->timer ? 0 : -1;
}

/* Our data callback refused the body: too big, garbage, or an error inside the stream. */
static void oa_aborted_error(struct oa_call *c, struct llm_error *e)
{
	const char *u = c->b->base_url;
	if (c->too_big)
		snprintf(e->msg, sizeof(e->msg), "the model's answer was longer than %.1f MiB, the most "
			 "daa keeps of one reply (llm.max_reply_bytes = %zu): the turn was ended; ask for "
			 "a shorter answer, or raise llm.max_reply_bytes or lower llm.max_tokens in "
			 "config.json", (double)c->b->max_reply / (1 << 20), c->b->max_reply);
	else if (c->perr_server && oa_too_long(c->perr, c->perr))
		snprintf(e->msg, sizeof(e->msg), "the conversation is too long for %s: %s", c->b->model,
			 c->perr);
	else if (c->perr_server && (strcasestr(c->perr, "api key") || strcasestr(c->perr, "api_key") ||
				    strcasestr(c->perr, "authenticat")))
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %.150s refused the API key (%.150s): check %s",
			 u, c->perr, c->b->key_origin ? c->b->key_origin :
			 "OPENAI_API_KEY, or llm.api_key_env / llm.api_key_file in config.json");
	else if (c->perr_server)
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s reported an error during the "
			 "answer: %s", u, c->perr);
	else
		snprintf(e->msg, sizeof(e->msg), "the LLM server at %s sent a reply that is not an OpenAI "
			 "chat completion: %s", u, c->perr[0] ? c->perr : "unreadable data");
}

/* A server that rejects "stream_options" (some older ones do), or
 * "max_tokens" in favour of "max_completion_tokens" (OpenAI's reasoning
 * models): change the request for this backend and try again at once,
 * without using up a retry.  1 if so. */
static int oa_compat_retry(struct oa_call *c, long st)
{
	if ((st != 400 && st != 422) || !c->buf)
		return 0;
	json_t *mt = json_object_get(c->req, "max_tokens");
	if (strstr(c->buf, "stream_options") && json_object_get(c->req, "stream_options")) {
		json_object_del(c->req, "stream_options");
		c->b->no_stream_options = true;
	} else if (mt && strstr(c->buf, "max_tokens") && strstr(c->buf, "max_completion_tokens")) {
		json_object_set(c->req, "max_completion_tokens", mt);
		json_object_del(c->req, "max_tokens");
		c->b->completion_tokens = true;
	} else {
		return 0;
	}
	char *body = json_dumps(c->req, JSON_COMPACT);
	if (!body)
		return 0;
	free(c->body);
	c->body = body;
	c->attempt--;
	c->timer = loop_timer_add(c->b->loop, 0, oa_retry_cb, c);
	return c->timer ? 1 : 0;
}

/* One attempt finished (from http.c): reply, retry, or error. */
static void oa_http_done(void *ud, struct http_req *r, const struct http_result *res)
{
	(void)r;
	struct oa_call *c = ud;
	c->http = NULL; /* http.c frees it after we return */
	struct llm_error e = {0};
	struct llm_reply *reply = NULL;
	bool retry = false;
	char code[64] = "", note[300];
	snprintf(note, sizeof(note), "the LLM server at %s answered HTTP %ld", c->b->base_url,
		 res->status);
	if (res->fail == HTTP_ABORTED) {
		oa_aborted_error(c, &e);
	} else if (res->fail != HTTP_OK) {
		retry = oa_retryable(res, code);
		oa_transport_error(c, res, &e);
		snprintf(note, sizeof(note), "%.299s", e.msg);
	} else if (res->status / 100 == 2) {
		reply = oa_success(c, &e, &retry);
		snprintf(note, sizeof(note), "%.299s", e.msg);
	} else if (oa_compat_retry(c, res->status)) {
		return;
	} else {
		char smsg[8];
		llm_parse_error_body(c->buf, c->buflen, smsg, sizeof(smsg), code, sizeof(code));
		retry = oa_retryable(res, code);
		oa_http_error(c, res->status, &e);
	}
	if (reply) {
		oa_finish(c, reply, NULL);
		return;
	}
	if (retry && c->attempt <= c->b->max_retries) {
		int rc = oa_schedule_retry(c, note, res->retry_after_s);
		if (c->cancelled)
			return; /* by the progress callback: freed at the end of the turn */
		if (rc < 0) {
			snprintf(e.msg, sizeof(e.msg), "cannot schedule a retry (out of memory)");
			oa_finish(c, NULL, &e);
		}
		return;
	}
	e.retryable = retry;
	oa_finish(c, NULL, &e);
}

/* Start one HTTP attempt of the call. */
static int oa_attempt(struct oa_call *c, char *err, size_t errlen)
{
	struct oa_backend *b = c->b;
	oa_attempt_reset(c);
	c->attempt++;
	const char *hdrs[] = {"Content-Type: application/json",
			      b->stream ? "Accept: text/event-stream" : "Accept: application/json",
			      b->auth, NULL};
	struct http_opts o = {
		.url = b->url,
		.headers = hdrs,
		.body = c->body,
		.body_len = strlen(c->body),
		.connect_timeout_ms = b->connect_ms,
		.idle_timeout_ms = b->idle_ms,
		.total_timeout_ms = b->total_ms,
	};
	c->http = http_start(b->http, &o, oa_data_cb, oa_http_done, c, err, errlen);
	return c->http ? 0 : -1;
}

/* The request body: model, messages, tools, stream flags, sampling. */
static json_t *oa_request(const struct oa_backend *b, const struct llm_ctx *ctx)
{
	if (!json_is_array(ctx->messages))
		return NULL;
	json_t *req = json_pack("{s:s, s:o, s:b}", "model", b->model, "messages",
				json_deep_copy(ctx->messages), "stream", b->stream);
	if (!req)
		return NULL;
	if (json_is_array(ctx->tools) && json_array_size(ctx->tools) > 0)
		json_object_set_new(req, "tools", json_deep_copy(ctx->tools));
	if (b->stream && !b->no_stream_options)
		json_object_set_new(req, "stream_options", json_pack("{s:b}", "include_usage", 1));
	if (b->temperature >= 0)
		json_object_set_new(req, "temperature", json_real(b->temperature));
	if (b->max_tokens > 0)
		json_object_set_new(req, b->completion_tokens ? "max_completion_tokens" : "max_tokens",
				    json_integer(b->max_tokens));
	return req;
}

/* 0 ms timer: report an error found while starting (never from inside start). */
static void oa_pending_cb(struct loop *l, uint64_t id, void *ud)
{
	struct oa_call *c = ud;
	(void)l, (void)id;
	c->timer = 0;
	oa_finish(c, NULL, &c->pending);
}

/* Start a call. */
static struct llm_call *oa_call_start(struct llm_backend *base, const struct llm_ctx *ctx,
				      llm_progress_cb progress, llm_done_cb done, void *ud)
{
	struct oa_backend *b = (struct oa_backend *)base;
	struct oa_call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->base.backend = base;
	c->b = b;
	c->progress = progress;
	c->done = done;
	c->ud = ud;
	c->t0 = loop_now_ms();
	c->next = b->calls;
	if (b->calls)
		b->calls->prev = c;
	b->calls = c;
	c->req = oa_request(b, ctx);
	c->body = c->req ? json_dumps(c->req, JSON_COMPACT) : NULL;
	int rc = -1;
	if (!c->body)
		snprintf(c->pending.msg, sizeof(c->pending.msg), "cannot build the request to the LLM "
			 "server: the conversation is not a valid message list");
	else
		rc = oa_attempt(c, c->pending.msg, sizeof(c->pending.msg));
	if (rc < 0 && !(c->timer = loop_timer_add(b->loop, 0, oa_pending_cb, c))) {
		oa_call_free(c);
		return NULL;
	}
	return &c->base;
}

/* A cancelled call, at the end of the loop turn (our callbacks have unwound). */
static void oa_call_free_deferred(struct loop *l, void *ud)
{
	struct oa_call *c = ud;
	(void)l;
	c->free_defer = 0;
	oa_call_free(c);
}

/* Cancel: no callback from now on; freed at the end of the loop turn. */
static void oa_call_cancel(struct llm_call *call)
{
	struct oa_call *c = (struct oa_call *)call;
	if (c->finished || c->cancelled)
		return;
	c->cancelled = true;
	loop_timer_clear(c->b->loop, &c->timer);
	if (c->http) {
		http_cancel(c->http);
		c->http = NULL;
	}
	c->free_defer = loop_defer(c->b->loop, oa_call_free_deferred, c);
	/* 0 (out of memory): it stays on the list, freed with the backend */
}
