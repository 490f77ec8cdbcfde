/*
 * tests/llm/test_llm_client.c — the OpenAI client end to end: the real
 * daemon loop (daemon/core/loop.c) and llm_openai.c against fake_openai.py.
 * Each scenario checks what the client returned AND what the server
 * received (headers, model, messages, tools,
 * stream flag, number of attempts); the server is re-scripted and its
 * records cleared between scenarios.  Nothing is judged by timing: timers
 * only guard against hangs.  With DAA_VALGRIND=1 it re-runs itself under
 * valgrind (errors and definite leaks fail).  TAP output.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon/llm/llm.h"
#include "daemon/core/loop.h"
#include "tests/lib/tap.h"
#include "tests/llm/tools_fixture.h"

#define KEY "sk-test-secret-4f9a"
#define GUARD_MS 20000

static char tmpdir[64];
static pid_t server_pid;
static int server_port;
static struct loop *L;

/* Stop the fake server of the current scenario. */
static void server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = 0;
}

/* Path of a file in the temp dir. */
static const char *tpath(const char *name)
{
	static char buf[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

/* POST body to the running server's control path; 0 / -1. */
static int server_control(const char *path, const char *body)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", server_port, path);
	CURL *e = curl_easy_init();
	FILE *null = fopen("/dev/null", "w");
	long st = 0;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, null);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	CURLcode rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(e);
	fclose(null);
	return rc == CURLE_OK && st == 200 ? 0 : -1;
}

/* Give the fake server this script (JSON text) and forget its records;
 * starts fake_openai.py when it is not running.  0 / -1. */
static int server_start(const char *script)
{
	if (server_pid > 0 && server_control("/_fake/script", script) == 0 &&
	    server_control("/_fake/reset", "{}") == 0)
		return 0;
	server_stop();
	FILE *f = fopen(tpath("script.json"), "w");
	if (!f)
		return -1;
	fputs(script, f);
	fclose(f);
	unlink(tpath("record.jsonl"));
	unlink(tpath("port"));
	const char *root = getenv("DAA_ROOT") ? getenv("DAA_ROOT") : ".";
	const char *py = getenv("DAA_PYTHON") ? getenv("DAA_PYTHON") : "/usr/bin/python3";
	char srv[512];
	snprintf(srv, sizeof(srv), "%s/tests/llm/fake_openai.py", root);
	server_pid = fork();
	if (server_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		execl(py, py, srv, "--script", tpath("script.json"), "--record", tpath("record.jsonl"),
		      "--port-file", tpath("port"), (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) { /* up to 10 s for python to start */
		FILE *p = fopen(tpath("port"), "r");
		if (p) {
			int ok = fscanf(p, "%d", &server_port) == 1;
			fclose(p);
			if (ok)
				return 0;
		}
		if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
			server_pid = 0;
			break;
		}
		usleep(10000);
	}
	fprintf(stderr, "# the fake server did not start (%s %s)\n", py, srv);
	return -1;
}

/* Every request the server received, as a JSON array (new ref). */
static json_t *records(void)
{
	json_t *a = json_array();
	FILE *f = fopen(tpath("record.jsonl"), "r");
	char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0)
		json_array_append_new(a, json_loads(line, 0, NULL));
	free(line);
	if (f)
		fclose(f);
	return a;
}

/* Request i's body / header. */
static json_t *rec_body(json_t *recs, size_t i)
{
	return json_object_get(json_array_get(recs, i), "body");
}
static const char *rec_header(json_t *recs, size_t i, const char *h)
{
	const char *v = json_string_value(json_object_get(json_object_get(json_array_get(recs, i),
									  "headers"), h));
	return v ? v : "";
}

/* What a call produced. */
struct run {
	int ndone;
	struct llm_reply *reply;
	struct llm_error err;
	bool has_err, guard_fired;
	char text[8192];
	int ntext, nretry;
	char retry_note[600];
	struct llm_call *call;
	bool cancel_on_text;
	uint64_t guard;
};

/* Progress: collect text, count retries, maybe cancel from inside. */
static void progress_cb(void *ud, const char *kind, const char *text)
{
	struct run *r = ud;
	if (strcmp(kind, "text") == 0) {
		r->ntext++;
		strncat(r->text, text, sizeof(r->text) - strlen(r->text) - 1);
		if (r->cancel_on_text && r->call) {
			llm_call_cancel(r->call);
			r->call = NULL;
		}
	} else if (strcmp(kind, "retry") == 0) {
		r->nretry++;
		snprintf(r->retry_note, sizeof(r->retry_note), "%s", text);
	}
}

/* Done: keep the result and stop the loop. */
static void done_cb(void *ud, struct llm_reply *reply, const struct llm_error *err)
{
	struct run *r = ud;
	r->ndone++;
	r->call = NULL;
	if (reply)
		r->reply = reply;
	if (err) {
		r->err = *err;
		r->has_err = true;
	}
	loop_stop(L);
}

/* Guard timer: stop the loop (a hang, or the end of a wait). */
static void guard_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	struct run *r = ud;
	r->guard_fired = true;
	r->guard = 0;
	loop_stop(l);
}

struct opts {
	bool stream;
	int max_retries;
	int idle_ms, total_ms;
	int64_t max_tokens;   /* 0: not sent */
	const char *base_url; /* NULL: the fake server */
	const char *key;      /* NULL: none */
	bool cancel_on_text;
	uint64_t cancel_after_ms; /* > 0: cancel from a timer, then wait wait_ms */
	uint64_t wait_ms;
};

static json_t *the_messages, *the_tools;

/* Cancel timer of a run. */
static void cancel_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)l;
	(void)id;
	struct run *r = ud;
	if (r->call) {
		llm_call_cancel(r->call);
		r->call = NULL;
	}
}

/* One model call against the current server with these options. */
static void call(const struct opts *o, struct run *r)
{
	memset(r, 0, sizeof(*r));
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", server_port);
	struct llm_config cfg = {
		.backend = "openai", .base_url = (char *)(o->base_url ? o->base_url : url),
		.model = "test-model", .api_key = (char *)o->key, .api_key_origin = "OPENAI_API_KEY",
		.temperature = 0.2, .stream = o->stream, .connect_timeout_ms = 5000,
		.idle_timeout_ms = o->idle_ms ? o->idle_ms : 10000,
		.total_timeout_ms = o->total_ms ? o->total_ms : 15000,
		.max_retries = o->max_retries, .max_tokens = o->max_tokens,
	};
	char err[512];
	struct llm_backend *b = llm_backend_new(L, &cfg, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "# backend: %s\n", err);
		r->has_err = true;
		return;
	}
	struct llm_ctx ctx = {.messages = the_messages, .tools = the_tools, .turn_id = "t1"};
	r->cancel_on_text = o->cancel_on_text;
	r->call = llm_call_start(b, &ctx, progress_cb, done_cb, r);
	uint64_t c = o->cancel_after_ms ? loop_timer_add(L, o->cancel_after_ms, cancel_cb, r) : 0;
	r->guard = loop_timer_add(L, o->wait_ms ? o->wait_ms : GUARD_MS, guard_cb, r);
	loop_run(L);
	if (r->guard)
		loop_timer_cancel(L, r->guard);
	if (c)
		loop_timer_cancel(L, c);
	if (r->call) /* guard fired while the call was still running */
		llm_call_cancel(r->call);
	llm_backend_free(b);
}

/* Release a run's reply. */
static void run_clear(struct run *r)
{
	llm_reply_free(r->reply);
	r->reply = NULL;
}

/* String argument k of call i. */
static const char *call_arg(const struct run *r, size_t i, const char *k)
{
	if (!r->reply || i >= r->reply->ncalls)
		return "";
	const char *v = json_string_value(json_object_get(r->reply->calls[i].args, k));
	return v ? v : "";
}

/* Does the key appear in the reply's logs? */
static bool key_in_logs(const struct run *r)
{
	if (!r->reply)
		return false;
	char *a = json_dumps(r->reply->request_log, JSON_COMPACT);
	char *b = json_dumps(r->reply->response_log, JSON_COMPACT);
	bool in = (a && strstr(a, KEY)) || (b && strstr(b, KEY)) || !a || !b;
	free(a);
	free(b);
	return in;
}

/* Names of the tools the server was sent, comma-joined. */
static void tool_names(json_t *body, char *out, size_t n)
{
	out[0] = '\0';
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(body, "tools"), i, t) {
		const char *nm = json_string_value(json_object_get(json_object_get(t, "function"), "name"));
		strncat(out, nm ? nm : "?", n - strlen(out) - 1);
		strncat(out, ",", n - strlen(out) - 1);
	}
}

#define SCRIPT(...) #__VA_ARGS__

/* A tool call, not streamed: reply and request checked. */
static void t_plain_tool_call(void)
{
	struct run r;
	struct opts o = {.stream = false, .key = KEY};
	if (server_start(SCRIPT([{"reply": {"content": null, "tool_calls": [{"id": "call_A",
		"name": "run_python", "arguments": {"code": "print(df.shape)", "purpose": "size"}}],
		"usage": {"prompt_tokens": 120, "completion_tokens": 9}}}])) < 0)
		return (void)tap_ok(0, "plain tool call: server");
	call(&o, &r);
	struct llm_reply *p = r.reply;
	tap_ok(p && p->ncalls == 1 && strcmp(p->calls[0].id, "call_A") == 0 &&
	       strcmp(p->calls[0].name, "run_python") == 0 && !p->calls[0].error &&
	       strcmp(call_arg(&r, 0, "code"), "print(df.shape)") == 0 && strcmp(call_arg(&r, 0, "purpose"), "size") == 0,
	       "plain tool call: run_python with its arguments");
	tap_ok(p && p->prompt_tokens == 120 && p->completion_tokens == 9 && strcmp(p->model, "test-model") == 0 &&
	       p->latency_ms >= 0, "plain tool call: usage and model recorded");
	tap_ok(p && p->finish_reason && strcmp(p->finish_reason, "tool_calls") == 0,
	       "plain tool call: the finish reason");
	json_t *recs = records();
	json_t *b = rec_body(recs, 0);
	char names[200];
	tool_names(b, names, sizeof(names));
	tap_ok(json_array_size(recs) == 1 &&
	       strcmp(json_string_value(json_object_get(json_array_get(recs, 0), "path")), "/v1/chat/completions") == 0 &&
	       strcmp(rec_header(recs, 0, "authorization"), "Bearer " KEY) == 0 &&
	       strstr(rec_header(recs, 0, "content-type"), "application/json") &&
	       strcmp(json_string_value(json_object_get(b, "model")), "test-model") == 0 &&
	       json_is_false(json_object_get(b, "stream")) && !json_object_get(b, "stream_options") &&
	       json_equal(json_object_get(b, "messages"), the_messages) &&
	       strcmp(names, "run_python,ask_user,remember_convention,final_answer,") == 0 &&
	       json_real_value(json_object_get(b, "temperature")) == 0.2,
	       "plain tool call: server saw path, bearer key, model, messages, four tools, stream=false");
	tap_ok(!key_in_logs(&r) && json_equal(p ? p->request_log : NULL, b),
	       "plain tool call: request_log is what was sent, without the key");
	json_decref(recs);
	run_clear(&r);
}

/* Streamed: two tool calls whose arguments are split and interleaved. */
static void t_stream_two_calls(void)
{
	struct run r;
	struct opts o = {.stream = true, .key = KEY};
	if (server_start(SCRIPT([{"chunk_chars": 3, "interleave": true, "reply": {"content": "Working on it.",
		"tool_calls": [{"id": "c1", "name": "remember_convention", "arguments": {"key": "date_column",
		"value": "order_date", "why": "the only date"}}, {"id": "c2", "name": "run_python",
		"arguments": {"code": "df.groupby('region')['revenue'].sum()\nprint('ok é')", "purpose": "sum"}}],
		"usage": {"prompt_tokens": 77, "completion_tokens": 55}}}])) < 0)
		return (void)tap_ok(0, "stream: server");
	call(&o, &r);
	struct llm_reply *p = r.reply;
	tap_ok(p && p->ncalls == 2 && strcmp(p->calls[0].id, "c1") == 0 &&
	       strcmp(call_arg(&r, 0, "value"), "order_date") == 0 && strcmp(call_arg(&r, 0, "why"), "the only date") == 0 &&
	       strcmp(p->calls[1].name, "run_python") == 0 &&
	       strcmp(call_arg(&r, 1, "code"), "df.groupby('region')['revenue'].sum()\nprint('ok \xc3\xa9')") == 0 &&
	       !p->calls[0].error && !p->calls[1].error,
	       "stream: two tool calls reassembled by index from 3-char interleaved pieces");
	tap_ok(p && strcmp(p->text, "Working on it.") == 0 && strcmp(r.text, "Working on it.") == 0 && r.ntext == 5,
	       "stream: content streamed as text progress, in pieces");
	tap_ok(p && p->prompt_tokens == 77 && p->completion_tokens == 55, "stream: usage from the final chunk");
	tap_ok(p && p->ncalls == 2 && strcmp(p->calls[1].name, "run_python") == 0 &&
	       strcmp(call_arg(&r, 1, "purpose"), "sum") == 0 &&
	       p->finish_reason && strcmp(p->finish_reason, "tool_calls") == 0,
	       "stream: the second call's arguments and the finish reason of the last chunk");
	json_t *recs = records();
	json_t *b = rec_body(recs, 0);
	tap_ok(json_array_size(recs) == 1 && json_is_true(json_object_get(b, "stream")) &&
	       json_is_true(json_object_get(json_object_get(b, "stream_options"), "include_usage")) &&
	       strcmp(rec_header(recs, 0, "accept"), "text/event-stream") == 0,
	       "stream: server saw stream=true, include_usage, Accept: text/event-stream");
	tap_ok(!key_in_logs(&r) && p && json_integer_value(json_object_get(p->response_log, "chunks")) > 10,
	       "stream: response_log assembled, without the key");
	json_decref(recs);
	run_clear(&r);
}

/* Text answers of a model without tool calling. */
static void t_text_answers(void)
{
	struct run r;
	struct opts o = {.stream = true};
	if (server_start(SCRIPT([{"reply": {"content": "I will count the rows.\n```python\nprint(len(df))\n```\n"}},
				 {"reply": {"content": "Do you mean revenue or profit?"}},
				 {"reply": {"content": "There are 2000 rows."}}])) < 0)
		return (void)tap_ok(0, "text: server");
	call(&o, &r);
	tap_ok(r.reply && r.reply->ncalls == 1 && strcmp(r.reply->calls[0].name, "run_python") == 0 &&
	       strcmp(call_arg(&r, 0, "code"), "print(len(df))\n") == 0 &&
	       strcmp(call_arg(&r, 0, "purpose"), "I will count the rows.") == 0 &&
	       strncmp(r.reply->calls[0].id, "text-", 5) == 0, "text: a fenced python block → run_python");
	run_clear(&r);
	o.stream = false;
	call(&o, &r);
	tap_ok(r.reply && r.reply->ncalls == 1 && strcmp(r.reply->calls[0].name, "ask_user") == 0 &&
	       strcmp(call_arg(&r, 0, "question"), "Do you mean revenue or profit?") == 0,
	       "text: a plain question → ask_user");
	run_clear(&r);
	call(&o, &r);
	tap_ok(r.reply && r.reply->ncalls == 1 && strcmp(r.reply->calls[0].name, "final_answer") == 0 &&
	       strcmp(call_arg(&r, 0, "text"), "There are 2000 rows.") == 0, "text: a statement → final_answer");
	json_t *recs = records();
	tap_ok(json_array_size(recs) == 3 && json_object_get(json_array_get(recs, 0), "headers") &&
	       strcmp(rec_header(recs, 0, "authorization"), "") == 0,
	       "text: no Authorization header when no key is configured");
	json_decref(recs);
	run_clear(&r);
}

/* 429 with Retry-After, and 500, each followed by success. */
static void t_retries(void)
{
	struct run r;
	struct opts o = {.stream = true, .max_retries = 2, .key = KEY};
	if (server_start(SCRIPT([{"status": 429, "headers": {"Retry-After": "1"},
		"body": {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}},
		{"reply": {"content": "Done."}}])) < 0)
		return (void)tap_ok(0, "429: server");
	call(&o, &r);
	json_t *recs = records();
	tap_ok(r.reply && strcmp(call_arg(&r, 0, "text"), "Done.") == 0 && json_array_size(recs) == 2 &&
	       r.nretry == 1 && strstr(r.retry_note, "429") && strstr(r.retry_note, "1.0 s") &&
	       json_equal(rec_body(recs, 0), rec_body(recs, 1)),
	       "429 + Retry-After: retried (server saw 2 identical requests), waited what it asked");
	tap_ok(r.reply && json_integer_value(json_object_get(r.reply->response_log, "attempts")) == 2,
	       "429: attempts recorded in response_log");
	json_decref(recs);
	run_clear(&r);
	if (server_start(SCRIPT([{"status": 500, "body": {"error": {"message": "boom"}}},
				 {"status": 503, "body": "upstream down", "content_type": "text/plain"},
				 {"reply": {"tool_calls": [{"name": "final_answer", "arguments": {"text": "ok"}}]}}])) < 0)
		return (void)tap_ok(0, "500: server");
	o.stream = false;
	call(&o, &r);
	recs = records();
	tap_ok(r.reply && strcmp(call_arg(&r, 0, "text"), "ok") == 0 && json_array_size(recs) == 3 && r.nretry == 2,
	       "500, 503 then success: retried with backoff (server saw 3 requests)");
	json_decref(recs);
	run_clear(&r);
	if (server_start(SCRIPT({"responses": [], "then": {"status": 502, "body": {"error": {"message": "bad gateway"}}}})) < 0)
		return (void)tap_ok(0, "5xx exhausted: server");
	o.max_retries = 1;
	call(&o, &r);
	recs = records();
	tap_ok(r.has_err && !r.reply && r.err.retryable && r.err.http_status == 502 && json_array_size(recs) == 2 &&
	       strstr(r.err.msg, "502") && strstr(r.err.msg, "bad gateway") && strstr(r.err.msg, "2 times"),
	       "5xx every time: max_retries honoured, then a clear error");
	json_decref(recs);
}

/* Errors a user must act on. */
static void t_errors(void)
{
	struct run r;
	struct opts o = {.stream = true, .max_retries = 3, .key = KEY};
	char s401[300];
	snprintf(s401, sizeof(s401), "[{\"status\": 401, \"body\": {\"error\": {\"message\": "
		 "\"Incorrect API key provided: %s\", \"code\": \"invalid_api_key\"}}}]", KEY);
	if (server_start(s401) < 0)
		return (void)tap_ok(0, "401: server");
	call(&o, &r);
	json_t *recs = records();
	tap_ok(r.has_err && r.err.http_status == 401 && strstr(r.err.msg, "API key") &&
	       strstr(r.err.msg, "OPENAI_API_KEY") && !strstr(r.err.msg, KEY) && json_array_size(recs) == 1,
	       "401: names the key's variable, never the key; not retried");
	json_decref(recs);
	if (server_start(SCRIPT([{"status": 404, "body": {"error": {"message": "model \"test-model\" not found, try pulling it first"}}}])) < 0)
		return (void)tap_ok(0, "404: server");
	call(&o, &r);
	char url[80];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", server_port);
	tap_ok(r.has_err && r.err.http_status == 404 && strstr(r.err.msg, "\"test-model\"") && strstr(r.err.msg, url),
	       "404: names the model and the base_url");
	if (server_start(SCRIPT([{"status": 400, "body": {"error": {"message": "This model's maximum context length is 8192 tokens.",
		"type": "invalid_request_error", "code": "context_length_exceeded"}}}])) < 0)
		return (void)tap_ok(0, "400: server");
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "the conversation is too long for test-model") && !r.err.retryable,
	       "400 context_length_exceeded: 'the conversation is too long for MODEL'");
	if (server_start(SCRIPT([{"body": "<html>this is not json</html>", "content_type": "text/html"},
				 {"body": {"object": "list", "data": []}}])) < 0)
		return (void)tap_ok(0, "garbage: server");
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "not an OpenAI chat completion") && strstr(r.err.msg, "this is not json"),
	       "garbage body: a clear error quoting it");
	call(&o, &r);
	recs = records();
	tap_ok(r.has_err && strstr(r.err.msg, "choices[0].message") && json_array_size(recs) == 2,
	       "JSON that is not a completion: a clear error; garbage is not retried");
	json_decref(recs);
	if (server_start(SCRIPT([{"sse": [{"choices": [{"delta": {"content": "a"}}]}, "data: {broken\n\n"]},
				 {"sse": [{"choices": [{"delta": {"content": "a"}}]}, {"error": {"message": "model overloaded", "code": "overloaded"}}]}])) < 0)
		return (void)tap_ok(0, "bad stream: server");
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "not an OpenAI chat completion") && strstr(r.err.msg, "{broken"),
	       "garbage inside the stream: a clear error");
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "reported an error during the answer") && strstr(r.err.msg, "model overloaded"),
	       "an error event inside the stream: reported with the server's words");
}

/* Invalid tool-call arguments come back as the call's error. */
static void t_invalid_args(void)
{
	struct run r;
	struct opts o = {.stream = true};
	if (server_start(SCRIPT([{"reply": {"tool_calls": [{"id": "x1", "name": "run_python",
		"arguments": "{\"code\": \"print(1)\", purpose: oops"}]}}])) < 0)
		return (void)tap_ok(0, "invalid args: server");
	call(&o, &r);
	tap_ok(r.reply && r.reply->ncalls == 1 && r.reply->calls[0].error &&
	       strstr(r.reply->calls[0].error, "not a valid JSON object") && json_is_object(r.reply->calls[0].args) &&
	       strcmp(r.reply->calls[0].raw_args, "{\"code\": \"print(1)\", purpose: oops") == 0,
	       "invalid tool-call JSON: a reply whose call carries an error for the model");
	run_clear(&r);
}

/* A connection dropped mid-stream: retried; dropped every time: clear error. */
static void t_dropped(void)
{
	struct run r;
	struct opts o = {.stream = true, .max_retries = 2};
	if (server_start(SCRIPT([{"drop_after": 3, "reply": {"content": "partial answer that never ends"}},
				 {"reply": {"content": "complete answer"}}])) < 0)
		return (void)tap_ok(0, "dropped: server");
	call(&o, &r);
	json_t *recs = records();
	tap_ok(r.reply && strcmp(call_arg(&r, 0, "text"), "complete answer") == 0 && json_array_size(recs) == 2 &&
	       r.nretry == 1 && strcmp(r.reply->text, "complete answer") == 0,
	       "dropped mid-stream: retried, the answer is the second attempt's only");
	json_decref(recs);
	run_clear(&r);
	if (server_start(SCRIPT({"responses": [], "then": {"drop_after": 2, "reply": {"content": "cut cut cut cut"}}})) < 0)
		return (void)tap_ok(0, "dropped: server");
	o.max_retries = 1;
	call(&o, &r);
	recs = records();
	tap_ok(r.has_err && (strstr(r.err.msg, "broke during the reply") || strstr(r.err.msg, "ended the stream")) &&
	       json_array_size(recs) == 2, "dropped every time: a clear error after the retries");
	json_decref(recs);
	if (server_start(SCRIPT({"responses": [], "then": {"done": false, "sse": [{"choices": [{"delta": {"content": "a"}}]}]}})) < 0)
		return (void)tap_ok(0, "cut stream: server");
	o.max_retries = 0;
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "ended the stream before the answer was complete"),
	       "a stream closed cleanly but without finish_reason / [DONE]: not taken as an answer");
}

/* Nothing listening: 'cannot reach ... is it running?' */
static void t_refused(void)
{
	struct run r;
	server_stop();
	struct opts o = {.stream = true, .max_retries = 1, .base_url = "http://127.0.0.1:9/v1"};
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "cannot reach the LLM server at http://127.0.0.1:9/v1: is it running?") &&
	       r.err.retryable && r.nretry == 1, "connection refused: retried, then 'cannot reach URL: is it running?'");
	o.base_url = "http://no-such-host.invalid/v1";
	o.max_retries = 0;
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "cannot reach the LLM server at http://no-such-host.invalid/v1"),
	       "unknown host: 'cannot reach URL'");
}

/* A slow model and a cancel: the done callback never comes. */
static void t_cancel(void)
{
	struct run r;
	struct opts o = {.stream = true, .cancel_on_text = true, .wait_ms = 800};
	if (server_start(SCRIPT({"responses": [], "then": {"chunk_chars": 2, "chunk_delay_ms": 100,
		"reply": {"content": "a slow answer, word by word, taking its time"}}})) < 0)
		return (void)tap_ok(0, "cancel: server");
	call(&o, &r);
	tap_ok(r.ndone == 0 && r.ntext == 1 && r.guard_fired,
	       "cancel from inside the progress callback: no more progress, no done callback");
	o = (struct opts){.stream = false, .cancel_after_ms = 200, .wait_ms = 800};
	if (server_start(SCRIPT({"responses": [], "then": {"delay_ms": 1000, "reply": {"content": "late"}}})) < 0)
		return (void)tap_ok(0, "cancel: server");
	call(&o, &r);
	json_t *recs = records();
	tap_ok(r.ndone == 0 && r.guard_fired && json_array_size(recs) == 1,
	       "cancel while the server thinks: no done callback");
	json_decref(recs);
	o = (struct opts){.stream = false, .max_retries = 3, .cancel_after_ms = 300, .wait_ms = 800};
	if (server_start(SCRIPT({"responses": [], "then": {"status": 429, "headers": {"Retry-After": "3600"}, "body": {}}})) < 0)
		return (void)tap_ok(0, "cancel: server");
	call(&o, &r);
	recs = records();
	tap_ok(r.ndone == 0 && r.nretry == 1 && json_array_size(recs) == 1,
	       "cancel during a Retry-After wait: no retry, no done callback");
	tap_ok(strstr(r.retry_note, "trying again in 60.0 s") != NULL, "Retry-After: 3600 is capped at 60 s");
	json_decref(recs);
}

/* Servers that refuse stream_options, redirect, or a key with a newline. */
static void t_compat(void)
{
	struct run r;
	struct opts o = {.stream = true, .max_retries = 0};
	if (server_start(SCRIPT([{"status": 400, "body": {"error": {"message":
		"Unrecognized request argument supplied: stream_options"}}},
		{"reply": {"content": "ok"}}, {"reply": {"content": "again"}}])) < 0)
		return (void)tap_ok(0, "stream_options: server");
	call(&o, &r);
	json_t *recs = records();
	tap_ok(r.reply && strcmp(call_arg(&r, 0, "text"), "ok") == 0 && json_array_size(recs) == 2 &&
	       json_object_get(rec_body(recs, 0), "stream_options") &&
	       !json_object_get(rec_body(recs, 1), "stream_options") &&
	       json_is_true(json_object_get(rec_body(recs, 1), "stream")),
	       "stream_options refused (400): sent again without it, not counted as a retry");
	json_decref(recs);
	run_clear(&r);
	if (server_start(SCRIPT([{"status": 400, "body": {"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
		"param": "max_tokens", "code": "unsupported_parameter"}}},
		{"reply": {"content": "ok"}}, {"reply": {"content": "again"}}])) < 0)
		return (void)tap_ok(0, "max_tokens: server");
	o.max_tokens = 500;
	call(&o, &r);
	recs = records();
	tap_ok(r.reply && json_array_size(recs) == 2 &&
	       json_integer_value(json_object_get(rec_body(recs, 0), "max_tokens")) == 500 &&
	       !json_object_get(rec_body(recs, 1), "max_tokens") &&
	       json_integer_value(json_object_get(rec_body(recs, 1), "max_completion_tokens")) == 500,
	       "max_tokens refused for max_completion_tokens (400): sent again with that, not a retry");
	json_decref(recs);
	run_clear(&r);
	o.max_tokens = 0;
	if (server_start(SCRIPT([{"status": 301, "headers": {"Location": "https://elsewhere/v1/chat/completions"}, "body": ""}])) < 0)
		return (void)tap_ok(0, "redirect: server");
	call(&o, &r);
	tap_ok(r.has_err && strstr(r.err.msg, "redirects elsewhere (HTTP 301)") && strstr(r.err.msg, "llm.base_url"),
	       "a redirect: not followed, the user is told to fix base_url");
	o.key = "sk-abc\r\nX-Evil: 1";
	call(&o, &r);
	recs = records();
	tap_ok(r.has_err && json_array_size(recs) == 1, "a key with a line break: refused before anything is sent");
	json_decref(recs);
}

/* Retry-After as an HTTP date; the total timeout. */
static void t_date_and_total(void)
{
	struct run r;
	struct opts o = {.stream = false, .max_retries = 1};
	if (server_start(SCRIPT([{"status": 503, "headers": {"Retry-After": "@date+2"}, "body": {}},
				 {"reply": {"content": "fine"}}])) < 0)
		return (void)tap_ok(0, "date: server");
	call(&o, &r);
	json_t *recs = records();
	tap_ok(r.reply && json_array_size(recs) == 2 && r.nretry == 1 &&
	       (strstr(r.retry_note, "in 1.0 s") || strstr(r.retry_note, "in 2.0 s")),
	       "Retry-After as an HTTP date: honoured");
	json_decref(recs);
	run_clear(&r);
	if (server_start(SCRIPT({"responses": [], "then": {"chunk_chars": 1, "chunk_delay_ms": 100,
		"reply": {"content": "an answer that takes far too long to finish"}}})) < 0)
		return (void)tap_ok(0, "total: server");
	o = (struct opts){.stream = true, .max_retries = 2, .total_ms = 800};
	call(&o, &r);
	recs = records();
	tap_ok(r.has_err && strstr(r.err.msg, "did not finish its answer within 0.8 s") &&
	       strstr(r.err.msg, "total_timeout_ms") && json_array_size(recs) == 1 && r.ntext > 0,
	       "total timeout: a clear error naming the setting, not retried");
	json_decref(recs);
}

/* A server that goes quiet: the idle timeout ends the call, not retried. */
static void t_idle(void)
{
	struct run r;
	struct opts o = {.stream = true, .max_retries = 2, .idle_ms = 400};
	if (server_start(SCRIPT([{"hang_ms": 4000, "sse": []}])) < 0)
		return (void)tap_ok(0, "idle: server");
	call(&o, &r);
	json_t *recs = records();
	tap_ok(r.has_err && strstr(r.err.msg, "sent nothing for 0.4 s") && strstr(r.err.msg, "idle_timeout_ms") &&
	       json_array_size(recs) == 1, "idle timeout: a clear error naming the setting, not retried");
	json_decref(recs);
}

/* The key never reaches the logs, even when the server echoes it. */
static void t_key_scrubbed(void)
{
	struct run r;
	struct opts o = {.stream = false, .key = KEY};
	char s[300];
	snprintf(s, sizeof(s), "[{\"reply\": {\"content\": \"your key is %s\"}}, {\"reply\": {\"content\": "
		 "\"streamed %s\"}}]", KEY, KEY);
	if (server_start(s) < 0)
		return (void)tap_ok(0, "key: server");
	call(&o, &r);
	bool a = r.reply && !key_in_logs(&r);
	run_clear(&r);
	o.stream = true;
	call(&o, &r);
	tap_ok(a && r.reply && !key_in_logs(&r), "API key never in request_log / response_log (even when echoed)");
	run_clear(&r);
}

/* Remove the temp dir and stop the server (atexit). */
static void cleanup(void)
{
	server_stop();
	const char *names[] = {"script.json", "record.jsonl", "port", "port.tmp"};
	for (size_t i = 0; i < 4; i++)
		unlink(tpath(names[i]));
	if (tmpdir[0])
		rmdir(tmpdir);
}

/* Under DAA_VALGRIND=1, run this binary again inside valgrind. */
static void maybe_valgrind(char **argv)
{
	const char *v = getenv("DAA_VALGRIND");
	if (!v || strcmp(v, "1") != 0 || getenv("DAA_UNDER_VALGRIND"))
		return;
	if (access("/usr/bin/valgrind", X_OK) != 0) {
		fprintf(stderr, "# DAA_VALGRIND=1 but /usr/bin/valgrind is missing: running plainly\n");
		return;
	}
	setenv("DAA_UNDER_VALGRIND", "1", 1);
	execl("/usr/bin/valgrind", "valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
	      "--errors-for-leak-kinds=definite", "--track-fds=no", argv[0], (char *)NULL);
	perror("exec valgrind");
	exit(1);
}

int main(int argc, char **argv)
{
	(void)argc;
	maybe_valgrind(argv);
	signal(SIGPIPE, SIG_IGN);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/daa-llm-test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	L = loop_new();
	the_messages = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
				 "You are a data analyst.", "role", "user", "content", "plot revenue over time");
	the_tools = tools_fixture();
	t_plain_tool_call();
	t_stream_two_calls();
	t_text_answers();
	t_retries();
	t_errors();
	t_invalid_args();
	t_dropped();
	t_refused();
	t_cancel();
	t_idle();
	t_date_and_total();
	t_compat();
	t_key_scrubbed();
	json_decref(the_messages);
	json_decref(the_tools);
	loop_free(L);
	return tap_done();
}
