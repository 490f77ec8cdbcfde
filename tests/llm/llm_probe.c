/*
 * tests/llm/llm_probe.c — one model call through the real client, from the
 * command line, for interop tests and for trying a server by hand:
 *
 *   llm_probe '{"base_url": "http://localhost:11434/v1", "model": "llama3.1"}' \
 *             [USER_MESSAGE [SYSTEM_MESSAGE]]
 *
 * The first argument is config.json's "llm" section (llm_config_from_json,
 * so DAA_LLM_* and OPENAI_API_KEY apply).  Prints one JSON object: the reply
 * {ok: true, text, calls: [{id, name, args, error}], prompt_tokens,
 * completion_tokens, model, streamed_text} or {ok: false, error, http_status}.
 * Exit 0 when a reply or an error was printed, 2 on a usage or config error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/llm/llm.h"
#include "daemon/core/loop.h"
#include "tests/llm/tools_fixture.h"

struct probe {
	struct loop *l;
	json_t *out;
	char streamed[65536];
};

/* Streamed text is collected; retries are noted on stderr. */
static void progress_cb(void *ud, const char *kind, const char *text)
{
	struct probe *p = ud;
	if (strcmp(kind, "text") == 0)
		strncat(p->streamed, text, sizeof(p->streamed) - strlen(p->streamed) - 1);
	else
		fprintf(stderr, "llm_probe: %s: %s\n", kind, text);
}

/* The reply (or error) as one JSON object. */
static void done_cb(void *ud, struct llm_reply *r, const struct llm_error *e)
{
	struct probe *p = ud;
	if (e) {
		p->out = json_pack("{s:b, s:s, s:i, s:b}", "ok", 0, "error", e->msg, "http_status",
				   e->http_status, "retryable", e->retryable);
	} else {
		json_t *calls = json_array();
		for (size_t i = 0; i < r->ncalls; i++)
			json_array_append_new(calls, json_pack("{s:s, s:s, s:O, s:s?}", "id", r->calls[i].id,
				"name", r->calls[i].name, "args", r->calls[i].args, "error", r->calls[i].error));
		p->out = json_pack("{s:b, s:s?, s:o, s:I, s:I, s:s?, s:s, s:O}", "ok", 1, "text", r->text,
				   "calls", calls, "prompt_tokens", (json_int_t)r->prompt_tokens,
				   "completion_tokens", (json_int_t)r->completion_tokens, "model", r->model,
				   "streamed_text", p->streamed, "response_log", r->response_log);
		llm_reply_free(r);
	}
	loop_stop(p->l);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: llm_probe LLM_CONFIG_JSON [USER_MESSAGE [SYSTEM_MESSAGE]]\n");
		return 2;
	}
	json_error_t je;
	json_t *sec = json_loads(argv[1], 0, &je);
	struct llm_config cfg;
	char err[512];
	if (!sec || llm_config_from_json(&cfg, sec, err, sizeof(err)) < 0) {
		fprintf(stderr, "llm_probe: %s\n", sec ? err : je.text);
		json_decref(sec);
		return 2;
	}
	json_decref(sec);
	struct probe p = {.l = loop_new()};
	struct llm_backend *b = llm_backend_new(p.l, &cfg, err, sizeof(err));
	llm_config_clear(&cfg);
	if (!b) {
		fprintf(stderr, "llm_probe: %s\n", err);
		loop_free(p.l);
		return 2;
	}
	json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
				 argc > 3 ? argv[3] : "You are a data analyst. Use the tools.", "role",
				 "user", "content", argc > 2 ? argv[2] : "How many rows are there?");
	json_t *tools = tools_fixture(); /* shaped like the agent's */
	struct llm_ctx ctx = {.messages = msgs, .tools = tools, .turn_id = "probe"};
	llm_call_start(b, &ctx, progress_cb, done_cb, &p);
	loop_run(p.l);
	char *s = json_dumps(p.out, JSON_INDENT(1));
	printf("%s\n", s ? s : "{\"ok\": false, \"error\": \"no result\"}");
	free(s);
	json_decref(p.out);
	json_decref(msgs);
	json_decref(tools);
	llm_backend_free(b);
	loop_free(p.l);
	return 0;
}
