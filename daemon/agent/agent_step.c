/*
 * daemon/agent/agent_step.c — the steps of a turn between two model calls: the
 * reply's tool calls go in order to their tools' handlers (agent_tools.c:
 * run_python → RUNNING_CODE until the kernel answers, here; ask_user →
 * WAITING_USER; remember_convention; final_answer → FINISHING), results go
 * back into the conversation as tool messages, and failures are counted
 * against the caps (consecutive failures, the same error twice).  The state
 * diagram is in agent.c.
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
	const char *code = json_string_value(json_object_get(c->args, "code"));
	const char *purpose = json_string_value(json_object_get(c->args, "purpose"));
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

/* run_python's handler (its entry is in agent_tools.c). */
enum agent_tool_next agent_step_run_python(struct agent_turn *t, const struct llm_tool_call *c)
{
	return do_run_python(t, c) == 0 ? AGENT_TOOL_STOP : AGENT_TOOL_FAILED;
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
		/* agent_tools_check found each call's tool or said why not */
		const struct agent_tool *tool = c->error ? NULL : agent_tool_find(agent_tools, c->name);
		enum agent_tool_next next = AGENT_TOOL_FAILED;
		if (tool)
			next = tool->run(t, c);
		else
			agent_tool_result(t, c, c->error ? c->error : "error: unknown tool");
		if (next == AGENT_TOOL_STOP)
			return;
		if (next == AGENT_TOOL_FAILED &&
		    count_failure(t, c->error ? c->error : c->name, why, sizeof why)) {
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

