/*
 * daemon/agent/agent_int.h — what the agent_*.c files share (not an API for other
 * modules: use daemon/agent/agent.h).  A turn keeps its data as jansson values so
 * that the same pieces feed the OpenAI messages, the builtin analyst's state,
 * the TURN RESULT, the events and the files on disk.
 */
#ifndef DAA_AGENT_INT_H
#define DAA_AGENT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "daemon/llm/llm.h"
#include "daemon/core/rpc.h"
#include "daemon/core/strbuf.h"

/* The states of a turn (diagram in agent.c). */
enum agent_state {
	AG_QUEUED,
	AG_PREPARING,
	AG_CALLING_MODEL,
	AG_RUNNING_CODE,
	AG_WAITING_USER,
	AG_FINISHING,
	AG_DONE,
	AG_FAILED,
	AG_CANCELLED
};

/* Settings read once by agent_init (config.json "agent" / "llm" sections). */
struct agent_cfg {
	char *prompts_dir;      /* templates: system.txt, fix_error.txt, clarify.txt, summary.md */
	bool profile_samples;   /* privacy: "samples" (true) or "schema" (false) */
	int context_tokens;     /* prompt budget, tokens estimated as bytes/4 */
	int max_model_calls;    /* per turn (8) */
	int max_failures;       /* consecutive failed steps before giving up (3) */
	int digest_full;        /* earlier turns given in full-ish form (3) */
};
extern struct agent_cfg agent_cfg;

/* A client waiting for a turn's result. */
struct agent_waiter {
	struct rpc_reply_to to;
	bool interactive;
};

struct agent_proj;

struct agent_turn {
	struct agent_proj *proj;
	int number;                  /* turn number in the project (1, 2, ...) */
	char id[48];                 /* "t7" for logs */
	enum agent_state state;
	char *request;
	struct agent_waiter *waiters;
	size_t nwaiters;

	json_t *datasets;            /* [profile] for this turn's context */
	json_t *convo;               /* OpenAI messages after system+user (assistant, tool, user) */
	json_t *steps;               /* [{tool, args, result? | answer?}] — builtin state, TURN RESULT */
	json_t *code_ok;             /* [{code, purpose}] that ran successfully */
	json_t *figures, *tables;    /* outputs of the successful steps */
	json_t *question;            /* {text, choices, key?} while waiting, else NULL */
	char *answer;                /* final text (or the honest failure explanation) */
	char *error;                 /* failed: what went wrong, short */
	char *history;               /* "history/007_x.py" once written */
	char *history_error;         /* why the code that ran was not saved (NULL: saved or none) */

	int model_calls;
	int consec_fail;
	char *last_error;            /* the previous step's error, to detect "the same error twice" */
	struct llm_call *call;       /* running model call */
	struct llm_reply *reply;     /* the reply whose tool calls are being handled */
	size_t call_idx;
	bool exec_pending;           /* a kern_exec callback is outstanding */
	int profiles_pending;
	bool released;               /* memory freed from the reap timer */
	uint64_t started_ms;
	struct strbuf think;         /* streamed text not yet sent as a `thinking` event */
	uint64_t think_timer;        /* loop timer that sends it */
	int64_t prompt_tokens, completion_tokens;
};

/* The agent's record of a project: its slot in the handle (proj_slots). */
struct agent_proj {
	struct agent_proj *next;
	struct proj *pj;             /* daemon/project/project.h handle (borrowed, lives as long as the daemon) */
	char *path, *name;
	struct agent_turn *cur;      /* running or suspended (waiting turns: daemon/project/workq.c) */
	json_t *digest;              /* [{turn, request, answer, status, history, figures, code}] */
	json_t *inferred;            /* dataset name → "sha256 load_key" of the profile
	                              * conventions were last inferred from (memory only) */
};

/* agent_ctx.c — context for a model call. */
json_t *agent_ctx_messages(const struct agent_turn *t);
json_t *agent_ctx_state(const struct agent_turn *t);
json_t *agent_ctx_tools(void);
/* Load prompts/<name> (cached); NULL with a log line when missing. */
const char *agent_prompt(const char *name);
/* Fill {{key}} placeholders from an object of strings; caller frees. */
char *agent_prompt_fill(const char *tmpl, const json_t *vars);
/* Text for the model about an exec reply (trimmed; failures through fix_error.txt). */
char *agent_ctx_exec_text(const struct agent_turn *t, const json_t *step_result);
void agent_prompts_reset(void);

/* agent_mem.c — the project's files. */
void agent_mem_load(struct agent_proj *p);
void agent_mem_turn_end(struct agent_turn *t);
int agent_mem_history(struct agent_turn *t);
void agent_mem_llm_log(const struct agent_turn *t, const struct llm_reply *r,
		       const struct llm_error *e, const char *backend);
/* Dataset files in data/: [{name, file, format, bytes, mtime}] (owned). */
json_t *agent_mem_datasets(const struct agent_proj *p);
/* Set a convention {value, source, why?, updated}; rewrites conventions.json. */
int agent_mem_convention_set(struct agent_proj *p, const char *key, const json_t *value,
			     const char *source, const char *why);
/* The project's conventions (borrowed, {} when unreadable). */
const json_t *agent_mem_conventions(const struct agent_proj *p);

/* agent_infer.c — what the model's replies mean. */
/* Text-only replies: fenced ```python blocks become run_python calls. */
void agent_tools_from_text(struct llm_reply *r);
/* Conventions inferred from a profile's hints; returns how many were set. */
int agent_tools_infer(struct agent_turn *t, const json_t *profile);
/* An answer about the data becomes a convention (source "user"). */
void agent_tools_answer_convention(struct agent_turn *t, const char *answer);
/* A short slug of the request for file names ("plot-revenue-over-time"). */
void agent_slug(const char *text, char *buf, size_t size);

/* agent_result.c — events and results on the wire. */
/* Broadcast turn.event {project, project_path, turn, kind, ...fields} (fields stolen, may be NULL). */
void agent_event(const struct agent_turn *t, const char *kind, json_t *fields);
/* Send the TURN RESULT to the waiting clients ("question": only to the
 * non-interactive ones, which are then forgotten). */
void agent_reply_all(struct agent_turn *t, const char *status);

/* agent.c — transitions. */
const char *agent_status_of(const struct agent_turn *t);
/* CALLING_MODEL: start the next model call (FAILED when over the cap). */
void agent_call_model(struct agent_turn *t);
/* FINISHING → end (DONE, FAILED with why, CANCELLED): files, replies, next turn. */
void agent_turn_end(struct agent_turn *t, enum agent_state end, const char *why);

/* agent_step.c — the reply's tool calls. */
/* Handle t->reply's calls from t->call_idx on; then call the model again. */
void agent_step_calls(struct agent_turn *t);
/* At the end of a turn (after its history script was written or not): each
 * figure goes to the step that drew it (agent_step.c). */
void agent_step_settle_figures(struct agent_turn *t);
/* Append a tool result (a user message for calls parsed from text). */
void agent_tool_result(struct agent_turn *t, const struct llm_tool_call *c, const char *text);

#endif
