/*
 * daemon/agent/agent.c — the agent turn as an explicit state machine.  A turn is a
 * job of the project's work queue (daemon/project/workq.c, kind WQ_TURN): it waits
 * there in arrival order with the project's runs, re-runs and edits, and
 * the queue starts it through turn_ops when the project is free.  Every
 * transition is driven by a callback from the loop (kernel replies, model
 * replies, an `answer` or `cancel` request); nothing here blocks.
 *
 *            ask                                   remember_convention
 *             │                                  (saved, source "agent")
 *             ▼                                       ┌──────┐
 *          QUEUED ─(workq: its turn)─► PREPARING ──► CALLING_MODEL ◄─────────────┐
 *                  profiles (daemon/profiler/profiler.c),     │   │   │                │
 *                  inferred conventions              │   │   └─ run_python ─► RUNNING_CODE
 *                                                    │   │      (result or error through
 *                                                    │   │       fix_error.txt goes back)
 *                                                    │   └── ask_user ──► WAITING_USER
 *                                                    │       (non-interactive ask answered      │
 *                                                    │        "question"; `answer` resumes) ───┘
 *                                                    └── final_answer ──► FINISHING ──► DONE
 *   any state ── cancel ──► CANCELLED        caps (model calls, consecutive failures,
 *   backend error / caps ──► FAILED           the same error twice) ──► FAILED
 *   WAITING_USER ── a new ask on the project ──► CANCELLED (superseded)
 *   A text-only reply: its fenced python blocks are run_python calls; plain
 *   text without code is the final answer.
 *
 * FINISHING (for every end): the successful code becomes history/NNN_slug.py,
 * turns.jsonl / llm_summary.md are appended, waiting clients get the TURN
 * RESULT, subscribers the `done` event, and the work queue hands the project
 * to the next job (workq_end).  A turn dropped while it waits (project
 * closed, daemon stopping) is answered "cancelled" without starting.
 * Turns are freed from a zero-delay timer, never inside their own callbacks.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include "daemon/agent/agent.h"
#include "daemon/agent/agent_int.h"
#include "daemon/core/config.h"
#include "daemon/history/history.h"
#include "daemon/kernel/kernel.h"
#include "daemon/core/log.h"
#include "daemon/profiler/profiler.h"
#include "daemon/project/project.h"
#include "daemon/project/workq.h"

#define THINK_FLUSH_MS 100            /* streamed text is sent this often... */
#define THINK_FLUSH_BYTES (16u << 10) /* ...or when this much is waiting */

struct agent_cfg agent_cfg;

static struct {
	struct loop *loop;
	struct llm_backend *backend;
	struct agent_proj *projects; /* every record made, for the shutdown (lookups go
				      * through the project's slot) */
	struct agent_turn **dead;
	size_t ndead, cdead;
	uint64_t reap_defer;    /* loop_defer freeing the ended turns */
	bool shutting_down;
	char init_err[600];
} A;

static const struct workq_ops turn_ops;
static void proj_closed_cb(struct proj *pj, const struct proto_err *why);
static const struct proj_part_ops agent_part = {.close = proj_closed_cb};

/* Name of a state, for logs. */
static const char *agent_state_name(enum agent_state s)
{
	static const char *const names[] = {"queued",       "preparing", "calling_model",
					    "running_code", "waiting_user", "finishing",
					    "done",         "failed",    "cancelled"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* The status string of a TURN RESULT for the turn's current state. */
const char *agent_status_of(const struct agent_turn *t)
{
	switch (t->state) {
	case AG_WAITING_USER: return "question";
	case AG_FAILED: return "failed";
	case AG_CANCELLED: return "cancelled";
	case AG_DONE: return "done";
	default: return "running";
	}
}

/* The backend's name for status / results ("none" before init). */
const char *agent_backend_name(void)
{
	return A.backend ? llm_backend_name(A.backend) : "none";
}

/* The backend's model ("" when unknown). */
const char *agent_backend_model(void)
{
	const char *m = A.backend ? llm_backend_model(A.backend) : NULL;
	return m ? m : "";
}

/* Settings from config.json "agent" (all optional). */
static void cfg_load(void)
{
	const struct daa_config *c = config_get();
	const json_t *sec = c && c->root ? json_object_get(c->root, "agent") : NULL;
	const char *dir = getenv("DAA_PROMPTS_DIR");
	free(agent_cfg.prompts_dir);
	agent_cfg.prompts_dir = strdup(dir ? dir : config_str(sec, "prompts_dir",
		c && c->prompts_dir ? c->prompts_dir : "prompts"));
	agent_cfg.profile_samples = strcmp(config_str(sec, "privacy", "samples"), "schema") != 0;
	agent_cfg.context_tokens = (int)config_int(sec, "context_tokens", 6000);
	agent_cfg.max_model_calls = (int)config_int(sec, "max_model_calls", 8);
	agent_cfg.max_failures = (int)config_int(sec, "max_failures", 3);
	agent_cfg.digest_full = (int)config_int(sec, "digest_full", 3);
	if (agent_cfg.context_tokens < 1000)
		agent_cfg.context_tokens = 1000;
	if (agent_cfg.max_model_calls < 1)
		agent_cfg.max_model_calls = 1;
	if (agent_cfg.max_failures < 1)
		agent_cfg.max_failures = 1;
}

/* Read the settings, create the model backend (a failure is kept for `ask`). */
int agent_init(struct loop *l, struct proto_err *err)
{
	const struct daa_config *c = config_get();
	struct llm_config lc;
	char msg[512];
	(void)err; /* a broken LLM set-up must not stop the daemon: `ask` reports it */
	A.loop = l;
	cfg_load();
	proj_part_set(PROJ_PART_AGENT, &agent_part); /* turns end before their profiles */
	prof_init(l);
	if (llm_config_from_json(&lc, c ? c->llm : NULL, msg, sizeof msg) < 0) {
		snprintf(A.init_err, sizeof A.init_err, "the LLM configuration is wrong: %s", msg);
	} else {
		A.backend = llm_backend_new(l, &lc, msg, sizeof msg);
		llm_config_clear(&lc);
		if (!A.backend)
			snprintf(A.init_err, sizeof A.init_err, "the model backend cannot start: %s", msg);
	}
	if (!A.backend) {
		log_error("agent: %s; `ask` will fail until this is fixed", A.init_err);
		return 0;
	}
	log_info("agent: backend %s, model %s, prompts in %s", agent_backend_name(),
		 agent_backend_model(), agent_cfg.prompts_dir);
	return 0;
}

/* Free a turn's memory (from the reap timer only). */
static void turn_free(struct agent_turn *t)
{
	json_decref(t->datasets);
	json_decref(t->convo);
	json_decref(t->steps);
	json_decref(t->code_ok);
	json_decref(t->figures);
	json_decref(t->tables);
	json_decref(t->question);
	if (t->reply)
		llm_reply_free(t->reply);
	free(t->waiters);
	free(t->request);
	free(t->answer);
	free(t->error);
	free(t->history);
	free(t->history_error);
	free(t->last_error);
	if (t->think_timer && A.loop)
		loop_timer_cancel(A.loop, t->think_timer);
	free(t->think.p);
	free(t);
}

/* End of the loop turn: free the turns that ended. */
static void reap_cb(struct loop *l, void *ud)
{
	(void)l, (void)ud;
	A.reap_defer = 0;
	for (size_t i = 0; i < A.ndead; i++)
		turn_free(A.dead[i]);
	A.ndead = 0;
}

/* Hand an ended turn to the reaper. */
static void turn_bury(struct agent_turn *t)
{
	if (A.ndead == A.cdead) {
		size_t n = A.cdead ? A.cdead * 2 : 8;
		struct agent_turn **d = realloc(A.dead, n * sizeof *d);
		if (!d) {
			log_error("agent: out of memory; leaking turn %s", t->id);
			return;
		}
		A.dead = d, A.cdead = n;
	}
	A.dead[A.ndead++] = t;
	if (!A.reap_defer && A.loop && !A.shutting_down)
		A.reap_defer = loop_defer(A.loop, reap_cb, NULL);
}

/* Find (or create and load from disk) the agent's view of a project: the
 * project's agent slot (A.projects lists them for the shutdown). */
static struct agent_proj *aproj_get(struct proj *pj, bool create)
{
	struct agent_proj *p = proj_slots(pj)->agent;
	if (p || !create)
		return p;
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->pj = pj;
	p->path = strdup(proj_path(pj));
	p->name = strdup(proj_name(pj));
	if (!p->path || !p->name) {
		free(p->path), free(p->name), free(p);
		return NULL;
	}
	agent_mem_load(p);
	p->next = A.projects;
	A.projects = p;
	proj_slots(pj)->agent = p;
	return p;
}

/* Add a client waiting for the turn's result. */
static int turn_add_waiter(struct agent_turn *t, struct rpc_reply_to to, bool interactive)
{
	struct agent_waiter *w = realloc(t->waiters, (t->nwaiters + 1) * sizeof *w);
	if (!w)
		return -1;
	t->waiters = w;
	w[t->nwaiters].to = to;
	w[t->nwaiters].interactive = interactive;
	t->nwaiters++;
	return 0;
}

/* A new turn object in state QUEUED, numbered from the project's counter. */
static struct agent_turn *turn_new(struct agent_proj *p, const char *request, struct proto_err *err)
{
	struct agent_turn *t = calloc(1, sizeof *t);
	if (!t) {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory queueing the turn");
		return NULL;
	}
	t->proj = p;
	t->request = strdup(request);
	t->convo = json_array();
	t->steps = json_array();
	t->code_ok = json_array();
	t->figures = json_array();
	t->tables = json_array();
	t->datasets = json_array();
	if (!t->request || !t->convo || !t->steps || !t->code_ok || !t->figures || !t->tables ||
	    !t->datasets) {
		turn_free(t);
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory queueing the turn");
		return NULL;
	}
	t->number = proj_turn_next(p->pj, err);
	if (t->number < 0) {
		turn_free(t);
		return NULL;
	}
	snprintf(t->id, sizeof t->id, "%s#%d", p->name, t->number);
	t->state = AG_QUEUED;
	return t;
}

/* Queue a turn; it starts at once when the project is free. */
int agent_ask(struct proj *pj, const char *request, bool interactive, struct rpc_reply_to to,
	      struct proto_err *err)
{
	struct agent_proj *p;
	struct agent_turn *t;
	if (A.shutting_down)
		return proto_fail(err, PROTO_ERR_SHUTDOWN, "the daemon is shutting down");
	if (!A.backend)
		return proto_fail(err, PROTO_ERR_LLM, "%s", A.init_err);
	if (!request[strspn(request, " \t\r\n")])
		return proto_fail(err, PROTO_ERR_PARAMS, "the request is empty: say what to analyse");
	p = aproj_get(pj, true);
	if (!p)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	t = turn_new(p, request, err);
	if (!t)
		return -1;
	if (turn_add_waiter(t, to, interactive) < 0) {
		turn_free(t);
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory queueing the turn");
	}
	/* a new request supersedes a question nobody answered (else it would
	 * wait behind it for good, e.g. after a non-interactive ask); the
	 * project goes to whatever waited behind it, then this turn */
	if (p->cur && p->cur->state == AG_WAITING_USER)
		agent_turn_end(p->cur, AG_CANCELLED,
			       "a new request came before the question was answered");
	if (workq_submit(pj, &turn_ops, t, 0, err) < 0) { /* turn_placed, maybe turn_begin */
		turn_free(t);
		return -1;
	}
	return 0;
}

/* PREPARING: the profile of each dataset (daemon/profiler/profiler.c: cached, or
 * made now, or the background job under way), then CALLING_MODEL. */
static void prepare_next(struct agent_turn *t);

/* Infer conventions from a profile the project has not inferred from yet. */
static void infer_once(struct agent_turn *t, const char *name, const json_t *entry)
{
	char *seen = NULL;
	if (asprintf(&seen, "%s %s", json_string_value(json_object_get(entry, "sha256")) ?: "",
		     json_string_value(json_object_get(entry, "load_key")) ?: "") < 0)
		return;
	const char *last = json_string_value(json_object_get(t->proj->inferred, name));
	if (!last || strcmp(last, seen) != 0) {
		agent_tools_infer(t, json_object_get(entry, "profile"));
		json_object_set_new(t->proj->inferred, name, json_string(seen));
	}
	free(seen);
}

/* Does a failed profile end the turn?  Yes when the kernel stopped or was
 * interrupted, or the dataset's file is gone: the model (the builtin one in
 * particular) would otherwise answer from a dataset without columns ("I
 * could not find ... among the columns", status done).  A file that cannot
 * be parsed is left to the model (it sees the error). */
static bool profile_fatal(const struct agent_turn *t, const json_t *ds, const struct proto_err *err,
			  char *why, size_t size)
{
	const char *name = json_string_value(json_object_get(ds, "name")) ?: "?";
	const char *file = json_string_value(json_object_get(ds, "file"));
	const char *msg = err && err->msg[0] ? err->msg : "profiling failed";
	char path[4096];
	struct stat st;
	if (file && snprintf(path, sizeof path, "%s/data/%s", t->proj->path, file) < (int)sizeof path &&
	    stat(path, &st) < 0 && errno == ENOENT) {
		snprintf(why, size, "dataset %s was deleted during the turn (data/%s is gone)", name, file);
		return true;
	}
	if (err && (err->code == PROTO_ERR_KERNEL || err->code == PROTO_ERR_CANCELLED)) {
		snprintf(why, size, "the kernel stopped while reading dataset %s: %s", name, msg);
		return true;
	}
	return false;
}

/* The kernel's profile of the Dask-backed dataset the turn waits for moved
 * on: turn.event "progress" {done, total, dataset}, as a step's (the
 * project's data.event profile_progress goes on for everyone else). */
static void profile_progress_cb(void *ud, long long done, long long total)
{
	struct agent_turn *t = ud;
	size_t i = json_array_size(t->datasets) - (size_t)t->profiles_pending;
	const char *name = json_string_value(json_object_get(json_array_get(t->datasets, i), "name"));
	agent_event(t, "progress", json_pack("{s:I, s:I, s:s}", "done", (json_int_t)done, "total",
					     (json_int_t)total, "dataset", name ?: ""));
}

/* A dataset's profile arrived (or failed). */
static void profile_cb(void *ud, const json_t *entry, const struct proto_err *err)
{
	const char *errmsg = err ? err->msg : NULL;
	struct agent_turn *t = ud;
	size_t i = json_array_size(t->datasets) - (size_t)t->profiles_pending;
	json_t *ds = json_array_get(t->datasets, i);
	const char *name = json_string_value(json_object_get(ds, "name")) ?: "?";
	kern_unwatch_progress(t);
	t->profiles_pending--;
	if (json_is_object(json_object_get(entry, "profile"))) {
		json_object_set(ds, "profile", json_object_get(entry, "profile"));
		if (json_is_object(json_object_get(entry, "summary")))
			json_object_set(ds, "summary", json_object_get(entry, "summary"));
		infer_once(t, name, entry);
	} else {
		char why[700];
		log_warn("agent: %s: profiling %s failed: %s", t->id, name, errmsg ? errmsg : "?");
		if (profile_fatal(t, ds, err, why, sizeof why)) {
			agent_turn_end(t, AG_FAILED, why);
			return;
		}
		json_object_set_new(ds, "error", json_string(errmsg ? errmsg : "profiling failed"));
	}
	prepare_next(t);
}

static void prepare_next(struct agent_turn *t)
{
	struct proto_err err;
	while (t->profiles_pending > 0) {
		size_t i = json_array_size(t->datasets) - (size_t)t->profiles_pending;
		json_t *ds = json_array_get(t->datasets, i);
		const char *name = json_string_value(json_object_get(ds, "name")) ?: "";
		if (prof_get(t->proj->pj, name, false, profile_cb, t, &err) == 0) {
			/* no watch (out of memory): the turn waits without a bar */
			(void)kern_watch_profile_progress(t->proj->pj, name, profile_progress_cb, t);
			return;
		}
		log_warn("agent: %s: cannot profile: %s", t->id, err.msg);
		json_object_set_new(ds, "error", json_string(err.msg));
		t->profiles_pending--;
	}
	t->state = AG_CALLING_MODEL;
	agent_call_model(t);
}

/* QUEUED → PREPARING: list the datasets and profile them. */
static void turn_start(struct agent_turn *t)
{
	t->state = AG_PREPARING;
	t->started_ms = loop_now_ms();
	agent_event(t, "started", json_pack("{s:s}", "request", t->request));
	json_decref(t->datasets);
	t->datasets = agent_mem_datasets(t->proj);
	t->profiles_pending = (int)json_array_size(t->datasets);
	prepare_next(t);
}

/* workq: the turn joined the project's queue; its position goes to the
 * subscribers (0: it starts now). */
static void turn_placed(void *ud, const struct workq_place *place)
{
	struct agent_turn *t = ud;
	log_info("agent: %s queued (position %d): %s", t->id, place->position, t->request);
	agent_event(t, "queued", json_pack("{s:i}", "position", place->position));
}

/* workq: the project is the turn's now (QUEUED → PREPARING). */
static int turn_begin(void *ud, struct proto_err *err)
{
	struct agent_turn *t = ud;
	(void)err;
	t->proj->cur = t;
	turn_start(t);
	return 0; /* agent_turn_end calls workq_end, maybe already from inside */
}

/* workq: the turn will never start (project closed, daemon stopping). */
static void turn_drop(void *ud, const struct proto_err *why)
{
	struct agent_turn *t = ud;
	char *answer = NULL;
	t->state = AG_CANCELLED;
	free(t->answer);
	t->answer = asprintf(&answer, "Cancelled: %s.", why->msg) < 0 ? NULL : answer;
	agent_reply_all(t, "cancelled");
	turn_free(t);
}

static const struct workq_ops turn_ops = {WQ_TURN, turn_placed, turn_begin, turn_drop};

/* Send the streamed text gathered so far as one `thinking` event. */
static void think_flush(struct agent_turn *t)
{
	if (t->think_timer)
		loop_timer_cancel(A.loop, t->think_timer);
	t->think_timer = 0;
	if (!t->think.len)
		return;
	agent_event(t, "thinking", json_pack("{s:s, s:s%}", "stage", "text", "text", t->think.p,
					     t->think.len));
	t->think.len = 0;
}

/* THINK_FLUSH_MS after the first unsent piece of text. */
static void think_timer_cb(struct loop *l, uint64_t id, void *ud)
{
	(void)l, (void)id;
	struct agent_turn *t = ud;
	t->think_timer = 0;
	think_flush(t);
}

/* Streamed text and retry notices become `thinking` events.  Text is
 * gathered for THINK_FLUSH_MS (or THINK_FLUSH_BYTES): one event per delta
 * of a few characters would queue far more bytes than the text itself at
 * every subscriber. */
static void progress_cb(void *ud, const char *kind, const char *text)
{
	struct agent_turn *t = ud;
	if (kind && strcmp(kind, "text") == 0 && text) {
		if (strbuf_add(&t->think, text, strlen(text), SIZE_MAX) < 0 ||
		    t->think.len >= THINK_FLUSH_BYTES)
			think_flush(t);
		else if (!t->think_timer && A.loop)
			t->think_timer = loop_timer_add(A.loop, THINK_FLUSH_MS, think_timer_cb, t);
		return;
	}
	think_flush(t);
	agent_event(t, "thinking", json_pack("{s:s, s:s}", "stage", kind ? kind : "text",
					     "text", text ? text : ""));
}

/* The assistant message for the conversation, mirroring the reply. */
static json_t *assistant_message(const struct llm_reply *r)
{
	json_t *m = json_pack("{s:s}", "role", "assistant");
	json_t *calls = json_array();
	json_object_set_new(m, "content", r->text ? json_string(r->text) : json_null());
	for (size_t i = 0; i < r->ncalls; i++) {
		const struct llm_tool_call *c = &r->calls[i];
		char *args;
		if (strncmp(c->id, "text-", 5) == 0)
			continue; /* parsed from text: no tool_calls entry */
		args = c->raw_args ? strdup(c->raw_args) : json_dumps(c->args, JSON_COMPACT);
		json_array_append_new(calls, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", c->id,
			"type", "function", "function", "name", c->name, "arguments",
			args ? args : "{}"));
		free(args);
	}
	if (json_array_size(calls))
		json_object_set_new(m, "tool_calls", calls);
	else
		json_decref(calls);
	return m;
}

/* The model answered (or failed). */
static void model_done_cb(void *ud, struct llm_reply *reply, const struct llm_error *err)
{
	struct agent_turn *t = ud;
	t->call = NULL;
	think_flush(t);
	agent_mem_llm_log(t, reply, err, agent_backend_name());
	if (!reply) {
		char why[640];
		snprintf(why, sizeof why, "the model call failed: %s", err ? err->msg : "?");
		agent_turn_end(t, AG_FAILED, why);
		return;
	}
	if (reply->prompt_tokens > 0)
		t->prompt_tokens += reply->prompt_tokens;
	if (reply->completion_tokens > 0)
		t->completion_tokens += reply->completion_tokens;
	if (reply->ncalls == 0)
		agent_tools_from_text(reply);
	agent_tools_check(agent_tools, reply); /* before the calls are echoed: defaults filled */
	if (reply->ncalls == 0) {
		const char *text = reply->text ? reply->text : "";
		if (!text[strspn(text, " \t\r\n")]) {
			llm_reply_free(reply);
			agent_turn_end(t, AG_FAILED, "the model returned an empty answer");
			return;
		}
		json_array_append_new(t->convo, assistant_message(reply));
		free(t->answer);
		t->answer = strdup(text);
		llm_reply_free(reply);
		agent_turn_end(t, AG_DONE, NULL);
		return;
	}
	json_array_append_new(t->convo, assistant_message(reply));
	t->reply = reply;
	t->call_idx = 0;
	agent_step_calls(t);
}

/* CALLING_MODEL: build the context and start one model call (or fail on the cap). */
void agent_call_model(struct agent_turn *t)
{
	struct llm_ctx ctx;
	json_t *msgs, *state, *tools;
	if (t->model_calls >= agent_cfg.max_model_calls) {
		char why[200];
		snprintf(why, sizeof why, "it took more than %d model calls without reaching an answer",
			 agent_cfg.max_model_calls);
		agent_turn_end(t, AG_FAILED, why);
		return;
	}
	t->state = AG_CALLING_MODEL;
	t->model_calls++;
	msgs = agent_ctx_messages(t);
	state = agent_ctx_state(t);
	tools = agent_tools_schema(agent_tools);
	ctx.messages = msgs;
	ctx.tools = tools;
	ctx.state = state;
	ctx.turn_id = t->id;
	progress_cb(t, "model", NULL);
	t->call = llm_call_start(A.backend, &ctx, progress_cb, model_done_cb, t);
	json_decref(msgs);
	json_decref(state);
	json_decref(tools);
	if (!t->call)
		agent_turn_end(t, AG_FAILED, "the model backend could not start a call (see the daemon log)");
}

/* WAITING_USER → CALLING_MODEL with the answer as the ask_user result. */
int agent_answer(struct proj *pj, const char *text, struct rpc_reply_to to,
		 struct proto_err *err)
{
	struct agent_proj *p = aproj_get(pj, false);
	struct agent_turn *t = p ? p->cur : NULL;
	json_t *vars;
	char *msg;
	if (!t || t->state != AG_WAITING_USER || !t->question)
		return proto_fail(err, PROTO_ERR_NO_QUESTION,
				  "no question is pending in this project (nothing to answer)");
	if (turn_add_waiter(t, to, true) < 0)
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	agent_event(t, "answered", json_pack("{s:s}", "text", text));
	json_object_set_new(json_array_get(t->steps, json_array_size(t->steps) - 1), "answer",
			    json_string(text));
	agent_tools_answer_convention(t, text);
	vars = json_pack("{s:O, s:s}", "question", json_object_get(t->question, "text"), "answer", text);
	msg = agent_prompt_fill(agent_prompt("clarify.txt"), vars);
	json_decref(vars);
	agent_tool_result(t, &t->reply->calls[t->call_idx - 1], msg ? msg : text);
	free(msg);
	json_decref(t->question);
	t->question = NULL;
	t->state = AG_CALLING_MODEL;
	agent_step_calls(t);
	return 0;
}

/* Stop whatever the turn is waiting for (model call, kernel step). */
static void turn_stop_work(struct agent_turn *t)
{
	if (t->call) {
		llm_call_cancel(t->call);
		t->call = NULL;
	}
	think_flush(t);
	if (t->exec_pending || t->profiles_pending > 0) {
		kern_forget(t);
		hist_exec_forget(t); /* run_python goes through hist_exec */
		prof_forget(t);
		if (t->exec_pending)
			kern_interrupt(t->proj->pj);
		t->exec_pending = false;
		t->profiles_pending = 0;
	}
}

/* Cancel the running or suspended turn. */
bool agent_cancel(struct proj *pj)
{
	struct agent_proj *p = aproj_get(pj, false);
	if (!p || !p->cur)
		return false;
	agent_turn_end(p->cur, AG_CANCELLED, "cancelled by the user");
	return true;
}

/* Running, suspended or queued turns? */
bool agent_busy(struct proj *pj)
{
	return workq_count(pj, WQ_TURN, false) > 0;
}

json_t *agent_pending_question(struct proj *pj)
{
	struct agent_proj *p = aproj_get(pj, false);
	struct agent_turn *t = p ? p->cur : NULL;
	if (!t || t->state != AG_WAITING_USER || !t->question)
		return NULL;
	return json_pack("{s:i, s:O, s:O}", "turn", t->number, "text",
			 json_object_get(t->question, "text"), "choices",
			 json_object_get(t->question, "choices"));
}

/* The honest answer of a failed turn. */
static char *failure_text(const struct agent_turn *t, const char *why)
{
	char *s = NULL;
	size_t nsteps = json_array_size(t->code_ok);
	if (asprintf(&s, "I could not finish this request: %s.%s%s", why,
		     nsteps ? " Some steps did run; their code is kept in the history script." :
			      " No step completed successfully.",
		     t->last_error ? " Check the data or rephrase the request, then ask again." : "") < 0)
		return NULL;
	return s;
}

/* FINISHING → DONE / FAILED / CANCELLED: files, replies, events, next turn. */
void agent_turn_end(struct agent_turn *t, enum agent_state end, const char *why)
{
	struct agent_proj *p = t->proj;
	turn_stop_work(t);
	t->state = AG_FINISHING;
	if (end != AG_DONE) {
		free(t->error);
		t->error = strdup(why ? why : agent_state_name(end));
		if (end == AG_FAILED || !t->answer) {
			free(t->answer);
			t->answer = end == AG_FAILED ? failure_text(t, t->error) : strdup("Cancelled.");
		}
	}
	json_decref(t->question);
	t->question = NULL;
	if (json_array_size(t->code_ok))
		agent_mem_history(t);
	agent_step_settle_figures(t); /* after the script: figures are named after it */
	if (t->history_error) { /* the answer says it too: every client shows the answer */
		char *a = NULL;
		if (asprintf(&a, "%s\n\n(The code that ran was NOT saved as a history step: %s)",
			     t->answer ? t->answer : "", t->history_error) >= 0) {
			free(t->answer);
			t->answer = a;
		}
	}
	t->state = end;
	agent_mem_turn_end(t);
	log_info("agent: %s %s %s after %d model call(s)%s%s", p->name, t->id, agent_state_name(end),
		 t->model_calls, why ? ": " : "", why ? why : "");
	agent_event(t, "done", json_pack("{s:s, s:s, s:s?, s:s?}", "status", agent_status_of(t),
					 "answer", t->answer ? t->answer : "", "error", t->error,
					 "history_error", t->history_error));
	agent_reply_all(t, agent_status_of(t));
	if (p->cur == t)
		p->cur = NULL;
	turn_bury(t);
	workq_end(t, end == AG_DONE ? WQ_DONE : end == AG_FAILED ? WQ_FAILED : WQ_CANCELLED);
}

/* Cancel everything, answer every waiting client, free all. */
void agent_shutdown(void)
{
	struct agent_proj *p;
	struct proto_err why;
	A.shutting_down = true;
	proto_fail(&why, PROTO_ERR_SHUTDOWN, "the daemon is shutting down");
	workq_shutdown(&why); /* waiting turns, runs, re-runs, edits: dropped; nothing starts */
	for (p = A.projects; p; p = p->next)
		if (p->cur)
			agent_turn_end(p->cur, AG_CANCELLED, "the daemon is shutting down");
	if (A.reap_defer && A.loop)
		loop_defer_cancel(A.loop, A.reap_defer);
	reap_cb(A.loop, NULL);
	free(A.dead);
	A.dead = NULL;
	A.cdead = 0;
	while ((p = A.projects)) {
		A.projects = p->next;
		proj_slots(p->pj)->agent = NULL;
		json_decref(p->digest);
		json_decref(p->inferred);
		free(p->path);
		free(p->name);
		free(p);
	}
	if (A.backend)
		llm_backend_free(A.backend);
	A.backend = NULL;
	agent_prompts_reset();
	free(agent_cfg.prompts_dir);
	agent_cfg.prompts_dir = NULL;
	prof_shutdown();
}

/* A project is being deleted or closed: end its turns. */
static void proj_closed_cb(struct proj *pj, const struct proto_err *why)
{
	struct agent_proj *p = proj_slots(pj)->agent;
	if (!p)
		return; /* the agent never worked in it: no turn to end */
	/* waiting turns first: ending the current one hands the project on */
	workq_drop(pj, WQ_TURN, 0, why);
	if (p->cur)
		agent_turn_end(p->cur, AG_CANCELLED, why->msg);
}
