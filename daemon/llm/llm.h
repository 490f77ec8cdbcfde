/*
 * daemon/llm/llm.h — the model backends behind the agent turn, one interface:
 *   openai  — any OpenAI-compatible chat-completions server (llm_openai.c,
 *             libcurl multi driven by the daemon loop; streaming, tools, retries)
 *   builtin — the offline analyst (llm_builtin.c runs daemon/analyst/ as a
 *             child process that answers many calls, llm_builtin_proc.c),
 *             the default when no LLM is configured.
 * A call never blocks: it starts, and its callback fires from the loop.
 */
#ifndef DAA_LLM_H
#define DAA_LLM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "daemon/core/loop.h"

#define LLM_DEFAULT_MAX_TOKENS 4096        /* llm.max_tokens: sent with every request */
#define LLM_DEFAULT_MAX_REPLY (1u << 20)  /* llm.max_reply_bytes */

/* What the agent gives a backend for one model call (all borrowed). */
struct llm_ctx {
	const json_t *messages; /* OpenAI chat messages [{role, content, tool_calls?...}] */
	const json_t *tools;    /* OpenAI tools array, sent as given (the agent's table:
				   daemon/agent/agent_tools.c) */
	const json_t *state;    /* structured turn state for the builtin analyst:
				   {request, datasets: [profile], conventions, steps: [...], digest: [...]} */
	const char *turn_id;    /* for logs */
};

struct llm_tool_call {
	char *id;     /* call id (the model's, or made up) */
	char *name;   /* the tool's name, as the model wrote it */
	json_t *args; /* parsed arguments object (never NULL on success; {} when error):
			 kept for the turn's record and the messages sent back */
	char *error;  /* NULL, or why the call is unusable (arguments not valid JSON, no
			 name; the agent adds: unknown tool, a required argument
			 missing): send it back to the model as this call's tool
			 result so it can correct itself */
	char *raw_args; /* the arguments exactly as the model sent them (for logs), may be NULL */
};

/* A model's reply (owned by the receiver of the done callback: llm_reply_free). */
struct llm_reply {
	char *text;                   /* assistant content, may be NULL */
	struct llm_tool_call *calls;  /* tool calls, parsed (text-only answers: 0 calls) */
	size_t ncalls;
	int64_t prompt_tokens, completion_tokens; /* -1 when unknown */
	double latency_ms;
	char *model;                  /* the model that answered */
	char *finish_reason;          /* the server's ("stop", "tool_calls", "length"...); NULL
				       * when it gave none */
	json_t *request_log;          /* what was sent (for the JSONL log; never holds the key) */
	json_t *response_log;         /* what came back (assembled) */
};
void llm_reply_free(struct llm_reply *r);
/* Fill one call from a name and its arguments (a JSON string or an object):
 * arguments that are not one JSON object, or a missing name, go to c->error.
 * Every call the agent gets is filled here, whichever backend made it (the
 * agent's calls taken from fenced code in a text reply too); what each
 * tool's arguments must hold is checked by the agent, which owns the tools
 * (agent_tools_check). */
int llm_call_fill(struct llm_tool_call *c, const char *id, const char *name, const json_t *arguments);

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
	char *api_key_origin; /* where api_key came from, for error messages
				 ("OPENAI_API_KEY", "llm.api_key_file /path"); may be NULL */
	char *base_url;      /* e.g. https://api.openai.com/v1 */
	char *model;
	char *api_key;       /* resolved by the daemon only; never logged */
	double temperature;  /* < 0: not sent */
	int64_t max_tokens;  /* <= 0: not sent (default 4096) */
	int64_t max_reply_bytes; /* cap on what is kept of one reply (default 1 MiB) */
	bool stream;
	int connect_timeout_ms, idle_timeout_ms, total_timeout_ms;
	int max_retries;
	char *analyst_cmd;   /* builtin: python + script path */
	int analyst_serve;   /* builtin: 1 one process answers many calls (`--serve`),
				0 a process per call, -1 unset: 1 unless analyst_cmd is set */
};

struct llm_backend *llm_backend_new(struct loop *l, const struct llm_config *cfg, char *err, size_t errlen);
void llm_backend_free(struct llm_backend *b);
const char *llm_backend_name(const struct llm_backend *b);
const char *llm_backend_model(const struct llm_backend *b);

struct llm_call *llm_call_start(struct llm_backend *b, const struct llm_ctx *ctx,
				llm_progress_cb progress, llm_done_cb done, void *ud);
/* Cancel a running call: its done callback will not be called. */
void llm_call_cancel(struct llm_call *c);

/* Fill *out from the config file's "llm" object (may be NULL: defaults), then
 * apply DAA_LLM_BASE_URL, DAA_LLM_MODEL, OPENAI_API_KEY, and llm.api_key_env /
 * llm.api_key_file (the file must be mode 0600 or stricter).  backend defaults
 * to "builtin", or "openai" when a base_url or model is configured.  On error
 * *out is cleared and err says what to fix.  0 / -1. */
int llm_config_from_json(struct llm_config *out, const json_t *llm_section, char *err, size_t errlen);
/* Free the strings of a config (the key is wiped first); leaves it zeroed. */
void llm_config_clear(struct llm_config *cfg);

/*
 * For backend implementations (llm_openai.c, llm_builtin.c).  A backend's own
 * struct starts with `struct llm_backend base;` whose ops point to its table;
 * a call's struct starts with `struct llm_call base;` with base.backend set.
 * llm.c dispatches through these.
 */
struct llm_backend_ops {
	const char *name; /* "openai" | "builtin" */
	const char *(*model)(const struct llm_backend *b);
	struct llm_call *(*call_start)(struct llm_backend *b, const struct llm_ctx *ctx,
				       llm_progress_cb progress, llm_done_cb done, void *ud);
	void (*call_cancel)(struct llm_call *c); /* frees the call; no callback after */
	void (*free)(struct llm_backend *b);
};
struct llm_backend {
	const struct llm_backend_ops *ops;
};
struct llm_call {
	struct llm_backend *backend;
};
struct llm_backend *llm_openai_new(struct loop *l, const struct llm_config *cfg, char *err, size_t errlen);
struct llm_backend *llm_builtin_new(struct loop *l, const struct llm_config *cfg, char *err, size_t errlen);

#endif
