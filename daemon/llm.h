/*
 * daemon/llm.h — the model backends behind the agent turn, one interface:
 *   openai  — any OpenAI-compatible chat-completions server (llm_openai.c,
 *             libcurl multi driven by the daemon loop; streaming, tools, retries)
 *   builtin — the offline analyst (llm_builtin.c runs daemon/analyst/ as a
 *             child process per call), the default when no LLM is configured.
 * A call never blocks: it starts, and its callback fires from the loop.
 */
#ifndef DAA_LLM_H
#define DAA_LLM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "daemon/loop.h"

/* What the agent gives a backend for one model call (all borrowed). */
struct llm_ctx {
	const json_t *messages; /* OpenAI chat messages [{role, content, tool_calls?...}] */
	const json_t *tools;    /* OpenAI tools array (run_python, ask_user, remember_convention, final_answer) */
	const json_t *state;    /* structured turn state for the builtin analyst:
				   {request, datasets: [profile], conventions, steps: [...], digest: [...]} */
	const char *turn_id;    /* for logs */
};

struct llm_tool_call {
	char *id;     /* call id (the model's, or made up) */
	char *name;   /* run_python | ask_user | remember_convention | final_answer */
	json_t *args; /* parsed arguments object (never NULL on success) */
};

/* A model's reply (owned by the receiver of the done callback: llm_reply_free). */
struct llm_reply {
	char *text;                   /* assistant content, may be NULL */
	struct llm_tool_call *calls;  /* tool calls, parsed (text-only answers: 0 calls) */
	size_t ncalls;
	int64_t prompt_tokens, completion_tokens; /* -1 when unknown */
	double latency_ms;
	char *model;                  /* the model that answered */
	json_t *request_log;          /* what was sent (for the JSONL log; never holds the key) */
	json_t *response_log;         /* what came back (assembled) */
};
void llm_reply_free(struct llm_reply *r);

/* An actionable error ("the server at ... refused the API key (401): check OPENAI_API_KEY"). */
struct llm_error {
	int http_status;  /* 0 when none */
	bool retryable;   /* already retried as configured when reported */
	char msg[512];
};

/* Progress while a call runs (streamed text, retry notices); may be NULL. */
typedef void (*llm_progress_cb)(void *ud, const char *kind, const char *text);
/* Exactly one of reply / err is non-NULL.  Called once, from the loop, never
 * from inside llm_call_start, and never after llm_call_cancel. */
typedef void (*llm_done_cb)(void *ud, struct llm_reply *reply, const struct llm_error *err);

struct llm_backend;
struct llm_call;

struct llm_config {
	char *backend;       /* "builtin" | "openai" */
	char *base_url;      /* e.g. https://api.openai.com/v1 */
	char *model;
	char *api_key;       /* resolved by the daemon only; never logged */
	double temperature;  /* < 0: not sent */
	int64_t max_tokens;  /* <= 0: not sent */
	bool stream;
	int connect_timeout_ms, idle_timeout_ms, total_timeout_ms;
	int max_retries;
	char *analyst_cmd;   /* builtin: python + script path */
};

struct llm_backend *llm_backend_new(struct loop *l, const struct llm_config *cfg, char *err, size_t errlen);
void llm_backend_free(struct llm_backend *b);
const char *llm_backend_name(const struct llm_backend *b);
const char *llm_backend_model(const struct llm_backend *b);

struct llm_call *llm_call_start(struct llm_backend *b, const struct llm_ctx *ctx,
				llm_progress_cb progress, llm_done_cb done, void *ud);
/* Cancel a running call: its done callback will not be called. */
void llm_call_cancel(struct llm_call *c);

#endif
