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
#include <stdio.h>
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

/* agent_tools.c — the tools, one table entry each: adding a tool is adding
 * an entry (README.md "Contributing"). */
/* What a tool's handler tells the step loop (agent_step_calls). */
enum agent_tool_next {
	AGENT_TOOL_NEXT,   /* done: on to the reply's next call */
	AGENT_TOOL_FAILED, /* failed (its tool result says why): counted against the caps */
	AGENT_TOOL_STOP,   /* the turn goes on from a callback (kernel, `answer`) or has ended */
};
/* One argument as the model is told of it (the schema's "properties"). */
struct agent_tool_arg {
	const char *name;
	const char *type;        /* JSON schema type: "string", "array", ... */
	const char *items;       /* "array": its items' type */
	const char *description; /* NULL: none */
	bool required;           /* in the schema's "required" (what the daemon insists
				  * on is the check's: it may be more lenient) */
};
#define AGENT_TOOL_MAX_ARGS 8
struct agent_tool {
	const char *name;
	const char *description; /* the schema's: what the model reads */
	struct agent_tool_arg args[AGENT_TOOL_MAX_ARGS]; /* up to the first without a name */
	const char *prompt;      /* its line in system.txt's {{tools}} ("- name{args}: " first;
				  * each '\n' starts an indented line) */
	/* The arguments (a JSON object, never NULL) checked in place, defaults
	 * filled in: NULL when the call is usable, else why not (for the model). */
	const char *(*check)(json_t *args);
	/* Carry out a checked call (its tool result is the handler's to add). */
	enum agent_tool_next (*run)(struct agent_turn *t, const struct llm_tool_call *c);
	/* Its bullet in llm_summary.md for a step {tool, args, result?, answer?};
	 * NULL: none (a tool that records no step). */
	void (*summary)(FILE *f, const json_t *step);
};
/* The daemon's tools, ended by an entry without a name.  The functions
 * below take a table so that a test can pass a longer one. */
extern const struct agent_tool agent_tools[];
const struct agent_tool *agent_tool_find(const struct agent_tool *tools, const char *name);
/* The OpenAI "tools" array the model is sent (new reference). */
json_t *agent_tools_schema(const struct agent_tool *tools);
/* The lines system.txt's {{tools}} stands for (malloc'd, NULL on ENOMEM). */
char *agent_tools_prompt(const struct agent_tool *tools);
/* Check every call of a reply (whichever backend made it) against its
 * tool: an unknown name or unusable arguments become the call's error,
 * which goes back to the model as its result. */
void agent_tools_check(const struct agent_tool *tools, struct llm_reply *r);
/* Write a step's llm_summary.md bullet (nothing for a tool without one). */
void agent_tools_summary(const struct agent_tool *tools, FILE *f, const json_t *step);

/* agent_step.c — the reply's tool calls. */
/* Handle t->reply's calls from t->call_idx on; then call the model again. */
void agent_step_calls(struct agent_turn *t);
/* run_python's handler: the step runs in the kernel, exec_cb goes on. */
enum agent_tool_next agent_step_run_python(struct agent_turn *t, const struct llm_tool_call *c);
/* At the end of a turn (after its history script was written or not): each
 * figure goes to the step that drew it (agent_step.c). */
void agent_step_settle_figures(struct agent_turn *t);
/* Append a tool result (a user message for calls parsed from text). */
void agent_tool_result(struct agent_turn *t, const struct llm_tool_call *c, const char *text);

#endif
