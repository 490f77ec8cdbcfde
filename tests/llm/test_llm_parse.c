/*
 * tests/llm/test_llm_parse.c — unit tests of the pure parts of the LLM
 * client: the SSE parser (every split of a stream parses the same), stream
 * reassembly of tool-call deltas, plain-text answers, error bodies, and
 * llm_config_from_json (env overrides, key file permissions).  The tools'
 * schema and argument checks are the agent's (tests/agent/test_agent_tools).
 * TAP output; exit 0 when every check passed.  DAA_VALGRIND=1: under valgrind.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/llm/llm.h"
#include "daemon/llm/llm_parse.h"
#include "daemon/llm/sse.h"
#include "tests/lib/tap.h"

struct collect {
	char out[4096];
	size_t n;
};

/* SSE callback: append "event|data;" to the collector. */
static int collect_cb(void *ud, const char *event, const char *data, size_t len)
{
	struct collect *c = ud;
	c->n += (size_t)snprintf(c->out + c->n, sizeof(c->out) - c->n, "%s|%.*s;", event, (int)len, data);
	return 0;
}

/* Every way of cutting a stream in two gives the same events. */
static void test_sse(void)
{
	const char *s = ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: error\ndata: x\ndata:y\n\n"
			"data: last\rdata: two\r\rid: 3\ndata: unterminated";
	const char *want = "message|{\"a\":1};error|x\ny;message|last\ntwo;";
	int all = 1;
	for (size_t cut = 0; cut <= strlen(s); cut++) {
		struct collect c = {0};
		struct sse *p = sse_new(0, collect_cb, &c);
		sse_feed(p, s, cut);
		sse_feed(p, s + cut, strlen(s) - cut);
		if (strcmp(c.out, want) != 0 || sse_events(p) != 3)
			all = 0;
		sse_free(p);
	}
	tap_ok(all, "sse: same events for every split, CRLF / CR / LF, comments, multi-line data");
	struct collect c = {0};
	struct sse *p = sse_new(0, collect_cb, &c);
	for (size_t i = 0; i < strlen(s); i++)
		sse_feed(p, s + i, 1);
	sse_free(p);
	tap_ok(strcmp(c.out, want) == 0, "sse: byte by byte");
	p = sse_new(16, collect_cb, &c);
	tap_ok(sse_feed(p, "data: 0123456789abcdefXYZ\n\n", 27) < 0 && strstr(sse_error(p), "16"),
	       "sse: an event over the cap is an error, not a crash");
	sse_free(p);
}

/* Feed one JSON chunk string to a stream. */
static int feed(struct llm_stream *s, const char *js)
{
	bool se;
	char err[256];
	return llm_stream_feed(s, js, strlen(js), &se, err, sizeof(err));
}

/* Tool-call deltas of two calls, interleaved and split, reassembled by index. */
static void test_stream(void)
{
	struct llm_stream *s = llm_stream_new();
	feed(s, "{\"model\":\"m1\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}");
	tap_ok(strcmp(llm_stream_delta(s), "Hi") == 0, "stream: content delta reported");
	feed(s, "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"run_python\",\"arguments\":\"{\\\"co\"}}]}}]}");
	feed(s, "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"b\",\"function\":{\"name\":\"final_answer\",\"arguments\":\"{\\\"te\"}}]}}]}");
	feed(s, "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"de\\\": \\\"x=1\\\"}\"}}]}}]}");
	feed(s, "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"xt\\\":\\\"done\\\"}\"}}]}}]}");
	tap_ok(!llm_stream_complete(s), "stream: not complete before finish_reason");
	feed(s, "{\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}");
	feed(s, "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}");
	tap_ok(feed(s, "[DONE]") == 1 && llm_stream_complete(s), "stream: [DONE]");
	int64_t pt, ct;
	char *model;
	const char *fin;
	json_t *msg = llm_stream_result(s, &pt, &ct, &model, &fin);
	struct llm_reply *r = calloc(1, sizeof(*r));
	char err[256];
	int rc = llm_parse_message(r, msg, err, sizeof(err));
	tap_ok(rc == 0 && r->ncalls == 2 && strcmp(r->calls[0].name, "run_python") == 0 &&
	       strcmp(json_string_value(json_object_get(r->calls[0].args, "code")), "x=1") == 0 &&
	       strcmp(r->calls[1].id, "b") == 0 &&
	       strcmp(json_string_value(json_object_get(r->calls[1].args, "text")), "done") == 0 &&
	       !r->calls[0].error && !r->calls[1].error, "stream: two calls reassembled by index");
	tap_ok(pt == 5 && ct == 3 && model && strcmp(model, "m1") == 0 && strcmp(fin, "tool_calls") == 0,
	       "stream: usage, model and finish_reason");
	free(model);
	json_decref(msg);
	llm_reply_free(r);
	bool se = false;
	tap_ok(llm_stream_feed(s, "not json", 8, &se, err, sizeof(err)) < 0 && !se &&
	       strstr(err, "not a JSON object"), "stream: a garbage chunk is an error");
	const char *e = "{\"error\":{\"message\":\"overloaded\",\"code\":\"server_busy\"}}";
	tap_ok(llm_stream_feed(s, e, strlen(e), &se, err, sizeof(err)) < 0 && se &&
	       strstr(err, "overloaded") && strstr(err, "server_busy"), "stream: an error object");
	llm_stream_free(s);
}

/* Parse text into a fresh reply. */
static struct llm_reply *text(const char *t)
{
	struct llm_reply *r = calloc(1, sizeof(*r));
	llm_parse_text(r, t);
	return r;
}

/* String argument k of the first call ("" when absent). */
static const char *arg(const struct llm_reply *r, const char *k)
{
	const char *v = r->ncalls ? json_string_value(json_object_get(r->calls[0].args, k)) : NULL;
	return v ? v : "";
}

/* Answers of models without tool calling. */
static void test_text(void)
{
	struct llm_reply *r = text("Let me look at the data:\n\n```python\nprint(df.shape)\n```\nthen\n```py\nx = 1\n```\n```json\n{}\n```\n");
	tap_ok(r->ncalls == 1 && strcmp(r->calls[0].name, "run_python") == 0 &&
	       strcmp(arg(r, "code"), "print(df.shape)\n\n\nx = 1\n") == 0 &&
	       strcmp(arg(r, "purpose"), "Let me look at the data") == 0,
	       "text: python fences joined into run_python, json fence ignored, purpose from prose");
	llm_reply_free(r);
	r = text("```\nimport pandas as pd\n");
	tap_ok(r->ncalls == 1 && strcmp(arg(r, "code"), "import pandas as pd\n") == 0,
	       "text: an untagged, unclosed fence is code");
	llm_reply_free(r);
	r = text("Which column holds the date: order_date or ship_date?  \n");
	tap_ok(r->ncalls == 1 && strcmp(r->calls[0].name, "ask_user") == 0 &&
	       strstr(arg(r, "question"), "order_date or ship_date?") &&
	       json_array_size(json_object_get(r->calls[0].args, "choices")) == 0,
	       "text: a question becomes ask_user");
	llm_reply_free(r);
	r = text("Total revenue is 1,234.");
	tap_ok(r->ncalls == 1 && strcmp(r->calls[0].name, "final_answer") == 0 &&
	       strcmp(arg(r, "text"), "Total revenue is 1,234.") == 0, "text: else final_answer");
	llm_reply_free(r);
	r = text("<tool_call>{\"name\": \"remember_convention\", \"arguments\": {\"key\": \"date_column\", \"value\": \"d\"}}</tool_call>");
	tap_ok(r->ncalls == 1 && strcmp(r->calls[0].name, "remember_convention") == 0 && !r->calls[0].error &&
	       strcmp(arg(r, "key"), "date_column") == 0, "text: <tool_call> tags (Hermes/Qwen style)");
	llm_reply_free(r);
	r = text("{\"tool\": \"final_answer\", \"args\": {\"text\": \"ok\"}}");
	tap_ok(r->ncalls == 1 && strcmp(arg(r, "text"), "ok") == 0, "text: a bare {tool, args} object");
	llm_reply_free(r);
}

/* A message's calls as the LLM layer gives them: names and argument objects
 * as sent, nothing judged about the tools (the agent checks them: an
 * unknown name or a missing argument is no error here); the finish reason. */
static void test_message_calls(void)
{
	json_t *m = json_loads("{\"content\": \"thinking\", \"tool_calls\": ["
		"{\"id\": \"a\", \"function\": {\"name\": \"run_python\", \"arguments\": \"{\\\"code\\\": \\\"x = 1\\\"}\"}},"
		"{\"id\": \"b\", \"function\": {\"name\": \"ask_user\", \"arguments\": {\"question\": \"Which?\", \"choices\": \"a\"}}},"
		"{\"function\": {\"name\": \"delete_everything\", \"arguments\": {}}},"
		"{\"id\": \"d\", \"function\": {\"arguments\": {}}}]}", 0, NULL);
	struct llm_reply *r = calloc(1, sizeof(*r));
	char err[200];
	int rc = m && r ? llm_parse_message(r, m, err, sizeof(err)) : -1;
	const struct llm_tool_call *c = r ? r->calls : NULL;
	tap_ok(rc == 0 && r->ncalls == 4 && strcmp(r->text, "thinking") == 0, "calls: four calls and the text");
	if (rc == 0 && r->ncalls == 4) {
		tap_ok(strcmp(c[0].id, "a") == 0 && strcmp(c[0].name, "run_python") == 0 && !c[0].error &&
		       json_object_size(c[0].args) == 1 && strcmp(c[0].raw_args, "{\"code\": \"x = 1\"}") == 0,
		       "calls: arguments as a string, parsed, kept raw, no default added");
		tap_ok(!c[1].error && json_is_string(json_object_get(c[1].args, "choices")),
		       "calls: arguments as an object, taken as they are");
		tap_ok(strcmp(c[2].id, "call-3") == 0 && strcmp(c[2].name, "delete_everything") == 0 &&
		       !c[2].error, "calls: an id made up; any name passes this layer");
		tap_ok(c[3].error && strstr(c[3].error, "without a function name"), "calls: no name is an error");
	}
	llm_reply_free(r);
	json_decref(m);
	json_t *body = json_loads("{\"model\": \"m\", \"usage\": {\"prompt_tokens\": 7, \"completion_tokens\": 2}, "
		"\"choices\": [{\"message\": {\"content\": \"hi\"}, \"finish_reason\": \"length\"}]}", 0, NULL);
	json_t *msg = NULL;
	int64_t pt, ct;
	char *model = NULL, *finish = NULL;
	rc = body ? llm_parse_completion(body, &msg, &pt, &ct, &model, &finish, err, sizeof(err)) : -1;
	tap_ok(rc == 0 && pt == 7 && ct == 2 && model && strcmp(model, "m") == 0 && finish &&
	       strcmp(finish, "length") == 0, "completion: usage, model and finish reason");
	json_decref(msg);
	json_decref(body);
	free(model);
	free(finish);
}

/* Tool-call arguments that are not valid → the call's error, never a crash. */
static void test_bad_args(void)
{
	struct llm_tool_call c;
	json_t *a = json_string("{code: print(1)");
	llm_call_fill(&c, "x", "run_python", a);
	tap_ok(c.error && strstr(c.error, "not a valid JSON object") && json_object_size(c.args) == 0 &&
	       strcmp(c.raw_args, "{code: print(1)") == 0, "args: invalid JSON → error for the model");
	free(c.id); free(c.name); free(c.error); free(c.raw_args); json_decref(c.args);
	json_decref(a);
	a = json_integer(3);
	llm_call_fill(&c, "x", "run_python", a);
	tap_ok(c.error && strstr(c.error, "must be a JSON object"), "args: a number");
	free(c.id); free(c.name); free(c.error); free(c.raw_args); json_decref(c.args);
	json_decref(a);
	json_t *m = json_pack("{s:n}", "content");
	struct llm_reply *r = calloc(1, sizeof(*r));
	char err[200];
	tap_ok(llm_parse_message(r, m, err, sizeof(err)) < 0 && strstr(err, "neither"),
	       "message: no text and no call is an error");
	llm_reply_free(r);
	json_decref(m);
}

/* Error bodies in the shapes servers use. */
static void test_error_body(void)
{
	char msg[200], code[64];
	const char *b1 = "{\"error\":{\"message\":\"This model's maximum context length is 8192\",\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}";
	llm_parse_error_body(b1, strlen(b1), msg, sizeof(msg), code, sizeof(code));
	tap_ok(strstr(msg, "maximum context") && strcmp(code, "context_length_exceeded") == 0, "error body: OpenAI");
	const char *b2 = "{\"error\":\"model 'llama9' not found\"}";
	llm_parse_error_body(b2, strlen(b2), msg, sizeof(msg), code, sizeof(code));
	tap_ok(strcmp(msg, "model 'llama9' not found") == 0 && !code[0], "error body: Ollama string");
	const char *b3 = "<html>\n502 Bad Gateway</html>";
	llm_parse_error_body(b3, strlen(b3), msg, sizeof(msg), code, sizeof(code));
	tap_ok(strcmp(msg, "<html> 502 Bad Gateway</html>") == 0, "error body: text, control chars cleaned");
}

/* Parse a config from JSON text. */
static int cfg(struct llm_config *c, const char *js, char *err, size_t errlen)
{
	json_t *v = js ? json_loads(js, 0, NULL) : NULL;
	int rc = llm_config_from_json(c, v, err, errlen);
	json_decref(v);
	return rc;
}

/* llm_config_from_json: defaults, env overrides, key sources. */
static void test_config(void)
{
	struct llm_config c;
	char err[512], dir[] = "/tmp/daa-llm-cfg.XXXXXX", path[600], js[800];
	unsetenv("DAA_LLM_BASE_URL");
	unsetenv("DAA_LLM_MODEL");
	unsetenv("OPENAI_API_KEY");
	tap_ok(cfg(&c, NULL, err, sizeof(err)) == 0 && strcmp(c.backend, "builtin") == 0 && !c.api_key &&
	       c.stream && c.max_retries == 3, "config: nothing configured → builtin");
	llm_config_clear(&c);
	setenv("DAA_LLM_MODEL", "qwen2.5", 1);
	setenv("OPENAI_API_KEY", "sk-env", 1);
	tap_ok(cfg(&c, "{\"max_retries\": 5, \"stream\": false}", err, sizeof(err)) == 0 &&
	       strcmp(c.backend, "openai") == 0 && strcmp(c.model, "qwen2.5") == 0 &&
	       strcmp(c.base_url, "https://api.openai.com/v1") == 0 && strcmp(c.api_key, "sk-env") == 0 &&
	       strcmp(c.api_key_origin, "OPENAI_API_KEY") == 0 && c.max_retries == 5 && !c.stream,
	       "config: DAA_LLM_MODEL selects openai; OPENAI_API_KEY read");
	llm_config_clear(&c);
	unsetenv("DAA_LLM_MODEL");
	tap_ok(cfg(&c, "{\"model\": \"m\", \"api_key_env\": \"DAA_TEST_NOPE\"}", err, sizeof(err)) < 0 &&
	       strstr(err, "DAA_TEST_NOPE"), "config: api_key_env naming an unset variable");
	tap_ok(cfg(&c, "{\"api_key\": \"sk-x\"}", err, sizeof(err)) < 0 && strstr(err, "api_key_file") &&
	       !strstr(err, "sk-x"), "config: a key inside config.json is refused");
	tap_ok(cfg(&c, "{\"max_retries\": \"many\"}", err, sizeof(err)) < 0 && strstr(err, "max_retries"),
	       "config: wrong type named");
	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/key", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "sk-file-key\n", 12) != 12)
			perror("write");
		close(fd);
	}
	chmod(path, 0644);
	snprintf(js, sizeof(js), "{\"base_url\": \"http://localhost:8080/v1\", \"api_key_file\": \"%s\"}", path);
	tap_ok(cfg(&c, js, err, sizeof(err)) < 0 && strstr(err, "chmod 600"), "config: key file 0644 refused");
	chmod(path, 0600);
	tap_ok(cfg(&c, js, err, sizeof(err)) == 0 && strcmp(c.api_key, "sk-file-key") == 0 &&
	       strstr(c.api_key_origin, path) && strcmp(c.backend, "openai") == 0,
	       "config: key file 0600 read (before OPENAI_API_KEY)");
	llm_config_clear(&c);
	setenv("DAA_LLM_BASE_URL", "http://127.0.0.1:11434/v1", 1);
	tap_ok(cfg(&c, "{\"base_url\": \"http://x/v1\", \"backend\": \"builtin\"}", err, sizeof(err)) == 0 &&
	       strcmp(c.base_url, "http://127.0.0.1:11434/v1") == 0 && strcmp(c.backend, "builtin") == 0,
	       "config: DAA_LLM_BASE_URL overrides; an explicit backend wins");
	llm_config_clear(&c);
	unlink(path);
	rmdir(dir);
	unsetenv("DAA_LLM_BASE_URL");
	unsetenv("OPENAI_API_KEY");
}

static uint64_t rng_state = 88172645463325252ULL;

/* xorshift64: deterministic pseudo-random numbers. */
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/* SSE events of the fuzz loop go into a stream accumulator. */
static int fuzz_event(void *ud, const char *event, const char *data, size_t len)
{
	(void)event;
	bool se;
	char err[200];
	llm_stream_feed(ud, data, len, &se, err, sizeof(err));
	llm_stream_delta(ud);
	return 0;
}

/* Mutated inputs through every parser: no crash, no leak (run under
 * ASan / valgrind by make check). */
static void test_fuzz(void)
{
	static const char *const seeds[] = {
		"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"run_python\",\"arguments\":\"{\\\"code\\\":1}\"}}]}}]}\n\n",
		"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1}}\r\n\r\n",
		"event: error\ndata: {\"error\":{\"message\":\"x\",\"code\":\"y\"}}\n\ndata: [DONE]\n\n",
		"Sure:\n```python\nprint(1)\n```\n<tool_call>{\"name\":\"ask_user\",\"arguments\":{\"question\":\"q?\"}}</tool_call>",
		"{\"tool\": \"final_answer\", \"args\": {\"text\": \"ok\"}}",
	};
	static const char alphabet[] = "{}[]\":,\\\n`?<>0a";
	char buf[600];
	int rounds = getenv("DAA_UNDER_VALGRIND") ? 2000 : 20000;
	for (int i = 0; i < rounds; i++) {
		const char *seed = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
		size_t n = strlen(seed);
		memcpy(buf, seed, n + 1);
		for (int k = (int)(rnd() % 6); k >= 0 && n > 0; k--) {
			size_t at = rnd() % n;
			if (rnd() % 3 == 0 && n < sizeof(buf) - 2) {
				memmove(buf + at + 1, buf + at, n - at + 1);
				n++;
			}
			buf[at] = (char)(rnd() % 4 ? alphabet[rnd() % (sizeof(alphabet) - 1)] : (int)(rnd() % 256));
		}
		buf[n] = '\0';
		struct llm_stream *st = llm_stream_new();
		struct sse *p = sse_new(0, fuzz_event, st);
		size_t cut = n ? rnd() % n : 0;
		sse_feed(p, buf, cut);
		sse_feed(p, buf + cut, n - cut);
		int64_t pt, ct;
		char *model;
		const char *fin;
		json_t *msg = llm_stream_result(st, &pt, &ct, &model, &fin);
		struct llm_reply *r = calloc(1, sizeof(*r));
		char err[200], code[64];
		llm_parse_message(r, msg, err, sizeof(err));
		llm_reply_free(r);
		r = calloc(1, sizeof(*r));
		llm_parse_text(r, buf);
		llm_reply_free(r);
		llm_parse_error_body(buf, n, err, sizeof(err), code, sizeof(code));
		json_decref(msg);
		free(model);
		sse_free(p);
		llm_stream_free(st);
	}
	tap_ok(1, "fuzz: mutated streams and texts through every parser");
}

/* Under DAA_VALGRIND=1, run this binary again inside valgrind. */
static void maybe_valgrind(char **argv)
{
	const char *v = getenv("DAA_VALGRIND");
	if (!v || strcmp(v, "1") != 0 || getenv("DAA_UNDER_VALGRIND") || access("/usr/bin/valgrind", X_OK))
		return;
	setenv("DAA_UNDER_VALGRIND", "1", 1);
	execl("/usr/bin/valgrind", "valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
	      "--errors-for-leak-kinds=definite", argv[0], (char *)NULL);
	perror("exec valgrind");
	exit(1);
}

/* llm_json_fix: NUL and lone surrogate escapes, bad UTF-8 → U+FFFD; the rest untouched. */
static void test_json_fix(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{"{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\ufffdy\"}"},
		{"\"\\ud800\"", "\"\\ufffd\""},
		{"\"\\udc00z\"", "\"\\ufffdz\""},
		{"\"\\ud800\\u0041\"", "\"\\ufffd\\u0041\""},
		{"\"ok \\ud83d\\ude00 \\\\u0000 \\u00e9 \xc3\xa9\"", NULL},
		{"\"\xff\xc3(\"", "\"\xef\xbf\xbd\xef\xbf\xbd(\""},
		{"\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].in);
		char *f = llm_json_fix(cases[i].in, &n), what[64];
		snprintf(what, sizeof what, "llm_json_fix case %zu", i + 1);
		if (!cases[i].out)
			tap_ok(!f && n == strlen(cases[i].in), what);
		else
			tap_ok(f && n == strlen(cases[i].out) && memcmp(f, cases[i].out, n) == 0, what);
		json_t *v = json_loadb(f ? f : cases[i].in, n, JSON_DECODE_ANY, NULL);
		tap_ok(v != NULL, "... and jansson loads it");
		json_decref(v);
		free(f);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	maybe_valgrind(argv);
	test_sse();
	test_stream();
	test_text();
	test_message_calls();
	test_bad_args();
	test_error_body();
	test_config();
	test_fuzz();
	test_json_fix();
	return tap_done();
}
