/*
 * daemon/agent/agent_step.c — the steps of a turn between two model calls: the
 * reply's tool calls are handled in order (run_python → RUNNING_CODE until
 * the kernel answers; ask_user → WAITING_USER; remember_convention; final_answer
 * → FINISHING), results go back into the conversation as tool messages, and
 * failures are counted against the caps (consecutive failures, the same error
 * twice).  The state diagram is in agent.c.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/agent/agent.h"
#include "daemon/agent/agent_int.h"
#include "daemon/history/history.h"
#include "daemon/kernel/kernel.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"

static void exec_cb(void *ud, const struct kern_result *r);

/* Append a tool result (or, for calls parsed from text, a user message). */
void agent_tool_result(struct agent_turn *t, const struct llm_tool_call *c, const char *text)
{
	if (strncmp(c->id, "text-", 5) == 0)
		json_array_append_new(t->convo, json_pack("{s:s, s:s}", "role", "user", "content", text));
	else
		json_array_append_new(t->convo, json_pack("{s:s, s:s, s:s}", "role", "tool",
							  "tool_call_id", c->id, "content", text));
}

/* A step failed: count it; true when the turn must stop (why filled). */
static bool count_failure(struct agent_turn *t, const char *errkey, char *why, size_t size)
{
	bool same = t->last_error && strcmp(t->last_error, errkey) == 0;
	t->consec_fail++;
	free(t->last_error);
	t->last_error = strdup(errkey);
	if (same) {
		snprintf(why, size, "the same error happened twice in a row: %.300s", errkey);
		return true;
	}
	if (t->consec_fail >= agent_cfg.max_failures) {
		snprintf(why, size, "%d attempts in a row failed; the last error was: %.300s",
			 t->consec_fail, errkey);
		return true;
	}
	return false;
}

/* Does a failed step end the turn, whatever the model would say next?  Yes
 * when the kernel did not answer (killed, crashed, stopped at the time
 * limit: the message says which) or a dataset's file is gone: the next
 * model call would only guess (the builtin analyst answered "I did not
 * understand" with status done). */
static bool step_fatal(const struct kern_result *r, const char *key, char *why, size_t size)
{
	if (r->kind == KR_NO_REPLY) {
		snprintf(why, size, "the step could not finish: %.400s", r->why);
		return true;
	}
	if (strncmp(key, "DatasetError:", 13) == 0 && strstr(key, " not found")) {
		snprintf(why, size, "a dataset's file is gone: %.400s", key + 14);
		return true;
	}
	return false;
}

/* A step's result as the turn keeps it (steps[].result, the "output"
 * event): {ok, stdout, stderr, error, result, tables}; figures are added by
 * exec_cb.  A kernel that did not answer, or answered outside KERNEL.md,
 * is a KernelError. */
static json_t *step_result_json(const struct kern_result *r)
{
	if (r->kind == KR_NO_REPLY || r->kind == KR_MALFORMED)
		return json_pack("{s:b, s:{s:s, s:s, s:s}}", "ok", 0, "error", "type", "KernelError",
				 "message", r->why, "traceback", "");
	json_t *e = r->error ? json_incref((json_t *)r->error) : r->ok ? json_null() :
		json_pack("{s:s, s:s, s:s}", "type", r->error_type, "message", r->error_message,
			  "traceback", r->traceback);
	return json_pack("{s:b, s:s, s:s, s:o, s:O?, s:O?}", "ok", r->ok, "stdout", r->stdout_text,
			 "stderr", r->stderr_text, "error", e, "tables", r->tables, "result",
			 r->value ? r->value : json_null());
}

/* The kernel ran a step. */
static void exec_cb(void *ud, const struct kern_result *r)
{
	struct agent_turn *t = ud;
	json_t *step = json_array_get(t->steps, json_array_size(t->steps) - 1);
	json_t *res;
	const struct llm_tool_call *c = &t->reply->calls[t->call_idx - 1];
	char *text, why[512];
	bool ok = r->ok;
	t->exec_pending = false;
	kern_unwatch_progress(t);
	res = step_result_json(r);
	/* the files the step drew, listed here: kernel code can edit the reply's list */
	json_object_set_new(res, "figures", hist_exec_figures(t->proj->path,
		json_string_value(json_object_get(step, "fig_step")) ?: ""));
	json_object_set_new(step, "result", res);
	agent_event(t, "output", json_deep_copy(res));
	text = agent_ctx_exec_text(t, res);
	agent_tool_result(t, c, text ? text : "(no output)");
	free(text);
	if (ok) {
		json_t *f = json_object_get(res, "figures"), *tb = json_object_get(res, "tables");
		json_array_append_new(t->code_ok, json_pack("{s:O, s:O?}", "code",
			json_object_get(json_object_get(step, "args"), "code"), "purpose",
			json_object_get(json_object_get(step, "args"), "purpose")));
		if (json_is_array(f))
			json_array_extend(t->figures, f);
		if (json_is_array(tb))
			json_array_extend(t->tables, tb);
		t->consec_fail = 0;
		free(t->last_error);
		t->last_error = NULL;
	} else {
		char key[400];
		snprintf(key, sizeof key, "%s: %s", r->error_type, r->error_message);
		if (step_fatal(r, key, why, sizeof why) || count_failure(t, key, why, sizeof why)) {
			agent_turn_end(t, AG_FAILED, why);
			return;
		}
		/* later calls were written before this failure was known */
		for (size_t i = t->call_idx; i < t->reply->ncalls; i++)
			agent_tool_result(t, &t->reply->calls[i], "skipped: an earlier step failed");
		t->call_idx = t->reply->ncalls;
	}
	t->state = AG_CALLING_MODEL;
	agent_step_calls(t);
}

/* A Dask computation of the running step moved on: turn.event "progress". */
static void exec_progress_cb(void *ud, long long done, long long total)
{
	agent_event(ud, "progress", json_pack("{s:I, s:I}", "done", (json_int_t)done, "total",
					      (json_int_t)total));
}

/* run_python: RUNNING_CODE until exec_cb. */
static int do_run_python(struct agent_turn *t, const struct llm_tool_call *c)
{
	const char *code = c->run.code, *purpose = c->run.purpose;
	struct proto_err err;
	char step[96], slug[48], name[72];
	if (!code || !code[strspn(code, " \t\r\n")]) {
		agent_tool_result(t, c, "error: run_python needs a non-empty `code` string argument");
		return -1;
	}
	size_t nrun = 1, i;
	const json_t *st;
	json_array_foreach(t->steps, i, st)
		nrun += strcmp(json_string_value(json_object_get(st, "tool")) ?: "", "run_python") == 0;
	json_array_append_new(t->steps, json_pack("{s:s, s:{s:s, s:s}}", "tool", "run_python", "args",
						  "code", code, "purpose", purpose ? purpose : ""));
	agent_event(t, "code", json_pack("{s:s, s:s, s:i}", "code", code, "purpose",
					 purpose ? purpose : "", "attempt", (int)nrun));
	/* figures are named like the history script this turn will most likely get */
	agent_slug(t->request, slug, sizeof slug);
	if (nrun > 1)
		snprintf(name, sizeof name, "%s_s%zu", slug, nrun);
	else
		snprintf(name, sizeof name, "%s", slug);
	/* -1: history/ unreadable (000, not saved later) */
	hist_step_stem(step, sizeof step, hist_next_step(t->proj->pj), name);
	json_object_set_new(json_array_get(t->steps, json_array_size(t->steps) - 1), "fig_step",
			    json_string(step));
	t->state = AG_RUNNING_CODE;
	if (hist_exec(t->proj->pj, code, step, 0, exec_cb, t, &err) < 0) {
		json_t *res = json_pack("{s:b, s:{s:s, s:s, s:s}}", "ok", 0, "error", "type",
					"KernelError", "message", err.msg, "traceback", "");
		json_object_set_new(json_array_get(t->steps, json_array_size(t->steps) - 1), "result", res);
		agent_event(t, "output", json_deep_copy(res));
		agent_tool_result(t, c, err.msg);
		t->state = AG_CALLING_MODEL;
		return -1;
	}
	t->exec_pending = true;
	kern_watch_progress(t->proj->pj, step, exec_progress_cb, t);
	return 0;
}

/* ask_user: WAITING_USER; non-interactive waiters get status "question" now. */
static void do_ask_user(struct agent_turn *t, const struct llm_tool_call *c)
{
	const char *q = c->ask.question;
	json_t *ch = json_array();
	size_t i;
	json_t *v;
	json_array_foreach((json_t *)c->ask.choices, i, v)
		if (json_is_string(v))
			json_array_append(ch, v);
	t->question = json_pack("{s:s, s:o}", "text", q ? q : "Could you say more?", "choices", ch);
	if (c->ask.key)
		json_object_set_new(t->question, "key", json_string(c->ask.key));
	json_array_append_new(t->steps, json_pack("{s:s, s:O}", "tool", "ask_user", "args", c->args));
	t->state = AG_WAITING_USER;
	agent_event(t, "question", json_pack("{s:O, s:O}", "text", json_object_get(t->question, "text"),
					     "choices", ch));
	agent_reply_all(t, "question");
	log_info("agent: %s waits for an answer: %s", t->id, q ? q : "");
}

/* remember_convention: saved with source "agent", the model is told. */
static int do_remember(struct agent_turn *t, const struct llm_tool_call *c)
{
	const char *key = c->remember.key, *why = c->remember.why;
	json_t *value = (json_t *)c->remember.value;
	char msg[200];
	if (!key || !*key || !value) {
		agent_tool_result(t, c, "error: remember_convention needs `key` and `value`");
		return -1;
	}
	const json_t *have = json_object_get(agent_mem_conventions(t->proj), key);
	if (have && json_equal(json_object_get(have, "value"), value)) {
		json_array_append_new(t->steps, json_pack("{s:s, s:O}", "tool", "remember_convention",
							  "args", c->args));
		agent_tool_result(t, c, "already known: this convention is recorded");
		return 0; /* keep the source ("user" stays "user") */
	}
	if (agent_mem_convention_set(t->proj, key, value, "agent", why) < 0) {
		agent_tool_result(t, c, "error: the convention could not be saved (see the daemon log)");
		return -1;
	}
	json_array_append_new(t->steps, json_pack("{s:s, s:O}", "tool", "remember_convention",
						  "args", c->args));
	agent_event(t, "convention", json_pack("{s:s, s:O, s:s}", "key", key, "value", value,
					       "source", "agent"));
	snprintf(msg, sizeof msg, "saved convention %.100s", key);
	agent_tool_result(t, c, msg);
	return 0;
}

/* Figures belong to the step that drew them: those of the run_python calls
 * that succeeded are renamed after the turn's history script
 * (<stem>_1..K, in order: the name `daa history`, re-runs and exports
 * look for); those of failed calls, and all of a turn whose script was
 * not written, go to outputs/plots/unsaved/ (history_figs.c).  The
 * result's figures say where they are now. */
void agent_step_settle_figures(struct agent_turn *t)
{
	char stem[160] = "";
	const char *h = t->history;
	json_t *all = json_array(), *st;
	size_t i;
	int k = 1;
	if (h && strncmp(h, "history/", 8) == 0 && strlen(h) > 11)
		snprintf(stem, sizeof stem, "%.*s", (int)(strlen(h) - 11), h + 8);
	json_array_foreach(t->steps, i, st) {
		json_t *res = json_object_get(st, "result");
		const json_t *figs = json_object_get(res, "figures");
		if (!json_array_size(figs))
			continue;
		bool ok = json_is_true(json_object_get(res, "ok"));
		json_t *moved = hist_figures_move(t->proj->path, figs, ok && *stem ? stem : NULL, k);
		if (ok) {
			k += (int)json_array_size(moved);
			json_array_extend(all, moved);
		}
		json_object_set_new(res, "figures", moved);
	}
	json_decref(t->figures);
	t->figures = all;
}

/* Handle the reply's tool calls in order; then call the model again. */
void agent_step_calls(struct agent_turn *t)
{
	char why[512];
	while (t->reply && t->call_idx < t->reply->ncalls) {
		const struct llm_tool_call *c = &t->reply->calls[t->call_idx++];
		int rc = 0;
		if (c->error) {
			agent_tool_result(t, c, c->error);
			rc = -1;
		} else if (c->tool == LLM_TOOL_RUN_PYTHON) {
			if (do_run_python(t, c) == 0)
				return; /* exec_cb continues */
			rc = -1;
		} else if (c->tool == LLM_TOOL_ASK_USER) {
			do_ask_user(t, c);
			return; /* agent_answer continues */
		} else if (c->tool == LLM_TOOL_REMEMBER_CONVENTION) {
			rc = do_remember(t, c);
		} else if (c->tool == LLM_TOOL_FINAL_ANSWER) {
			const char *text = c->final.text;
			free(t->answer);
			t->answer = strdup(text && *text ? text : (t->reply->text ? t->reply->text : ""));
			agent_tool_result(t, c, "ok");
			agent_turn_end(t, AG_DONE, NULL);
			return;
		} else {
			agent_tool_result(t, c, "error: unknown tool; use run_python, ask_user, "
					  "remember_convention or final_answer");
			rc = -1;
		}
		if (rc < 0 && count_failure(t, c->error ? c->error : c->name, why, sizeof why)) {
			agent_turn_end(t, AG_FAILED, why);
			return;
		}
	}
	if (t->reply) {
		llm_reply_free(t->reply);
		t->reply = NULL;
	}
	agent_call_model(t);
}

