/*
 * daemon/agent/agent_tools.c — the agent's tools, one entry each in
 * agent_tools[]: the name, description and arguments the model is sent (the
 * OpenAI "tools" array: the LLM layer gets it as data in llm_ctx.tools), the
 * line of the system prompt that says when to use it (prompts/system.txt's
 * {{tools}}), the check of its arguments (what is required, the defaults),
 * the handler that carries it out, and its bullet in llm_summary.md.  Adding
 * a tool is adding an entry here (with its functions beside it); nothing
 * else in the daemon lists the tools.  run_python's handler is the step
 * machinery of agent_step.c; the others are here.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/agent/agent.h"
#include "daemon/agent/agent_int.h"
#include "daemon/core/log.h"

/* Is field k of args a non-empty string?  (Required string arguments.) */
static bool has_str(const json_t *args, const char *k)
{
	const json_t *v = json_object_get(args, k);
	return json_is_string(v) && json_string_length(v) > 0;
}

/* Field k of args when it is a string, else NULL. */
static const char *str_arg(const json_t *args, const char *k)
{
	return json_string_value(json_object_get(args, k));
}

/* run_python{code, purpose}: code required; purpose "" when not a string. */
static const char *run_python_check(json_t *a)
{
	if (!json_is_string(json_object_get(a, "purpose")))
		json_object_set_new(a, "purpose", json_string(""));
	return has_str(a, "code") ? NULL : "run_python needs a non-empty string argument \"code\"";
}

/* "- ran code to PURPOSE: ok|failed". */
static void run_python_summary(FILE *f, const json_t *st)
{
	const char *pp = str_arg(json_object_get(st, "args"), "purpose");
	fprintf(f, "- ran code%s%s: %s\n", pp && *pp ? " to " : "", pp && *pp ? pp : "",
		json_is_true(json_object_get(json_object_get(st, "result"), "ok")) ? "ok" : "failed");
}

/* ask_user{question, choices, key?}: question required; choices always an
 * array (a lone string wrapped); key kept when a string. */
static const char *ask_user_check(json_t *a)
{
	json_t *ch = json_object_get(a, "choices");
	if (json_is_string(ch))
		json_object_set_new(a, "choices", json_pack("[O]", ch));
	else if (!json_is_array(ch))
		json_object_set_new(a, "choices", json_array());
	return has_str(a, "question") ? NULL : "ask_user needs a non-empty string argument \"question\"";
}

/* ask_user: WAITING_USER; non-interactive waiters get status "question" now. */
static enum agent_tool_next ask_user_run(struct agent_turn *t, const struct llm_tool_call *c)
{
	const char *q = str_arg(c->args, "question"), *key = str_arg(c->args, "key");
	json_t *ch = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(c->args, "choices"), i, v)
		if (json_is_string(v))
			json_array_append(ch, v);
	t->question = json_pack("{s:s, s:o}", "text", q ? q : "Could you say more?", "choices", ch);
	if (key)
		json_object_set_new(t->question, "key", json_string(key));
	json_array_append_new(t->steps, json_pack("{s:s, s:O}", "tool", "ask_user", "args", c->args));
	t->state = AG_WAITING_USER;
	agent_event(t, "question", json_pack("{s:O, s:O}", "text", json_object_get(t->question, "text"),
					     "choices", ch));
	agent_reply_all(t, "question");
	log_info("agent: %s waits for an answer: %s", t->id, q ? q : "");
	return AGENT_TOOL_STOP; /* agent_answer goes on */
}

/* "- asked: QUESTION — answer: ANSWER". */
static void ask_user_summary(FILE *f, const json_t *st)
{
	fprintf(f, "- asked: %s — answer: %s\n", str_arg(json_object_get(st, "args"), "question") ?: "?",
		str_arg(st, "answer") ?: "(none)");
}

/* remember_convention{key, value, why}: key (a string) and value (any JSON
 * but null) required; why "" when not a string. */
static const char *remember_check(json_t *a)
{
	const json_t *v = json_object_get(a, "value");
	bool ok = has_str(a, "key") && v && !json_is_null(v);
	if (!json_is_string(json_object_get(a, "why")))
		json_object_set_new(a, "why", json_string(""));
	return ok ? NULL : "remember_convention needs the arguments \"key\" (a string) and \"value\"";
}

/* remember_convention: saved with source "agent", the model is told. */
static enum agent_tool_next remember_run(struct agent_turn *t, const struct llm_tool_call *c)
{
	const char *key = str_arg(c->args, "key"), *why = str_arg(c->args, "why");
	json_t *value = json_object_get(c->args, "value");
	char msg[200];
	if (!key || !*key || !value) {
		agent_tool_result(t, c, "error: remember_convention needs `key` and `value`");
		return AGENT_TOOL_FAILED;
	}
	const json_t *have = json_object_get(agent_mem_conventions(t->proj), key);
	if (have && json_equal(json_object_get(have, "value"), value)) {
		json_array_append_new(t->steps, json_pack("{s:s, s:O}", "tool", "remember_convention",
							  "args", c->args));
		agent_tool_result(t, c, "already known: this convention is recorded");
		return AGENT_TOOL_NEXT; /* keep the source ("user" stays "user") */
	}
	if (agent_mem_convention_set(t->proj, key, value, "agent", why) < 0) {
		agent_tool_result(t, c, "error: the convention could not be saved (see the daemon log)");
		return AGENT_TOOL_FAILED;
	}
	json_array_append_new(t->steps, json_pack("{s:s, s:O}", "tool", "remember_convention",
						  "args", c->args));
	agent_event(t, "convention", json_pack("{s:s, s:O, s:s}", "key", key, "value", value,
					       "source", "agent"));
	snprintf(msg, sizeof msg, "saved convention %.100s", key);
	agent_tool_result(t, c, msg);
	return AGENT_TOOL_NEXT;
}

/* "- remembered convention `KEY`". */
static void remember_summary(FILE *f, const json_t *st)
{
	fprintf(f, "- remembered convention `%s`\n", str_arg(json_object_get(st, "args"), "key") ?: "?");
}

/* final_answer{text}: text must be a string (empty: the reply's text). */
static const char *final_check(json_t *a)
{
	return json_is_string(json_object_get(a, "text")) ? NULL
		: "final_answer needs a string argument \"text\"";
}

/* final_answer: FINISHING → DONE. */
static enum agent_tool_next final_run(struct agent_turn *t, const struct llm_tool_call *c)
{
	const char *text = str_arg(c->args, "text");
	free(t->answer);
	t->answer = strdup(text && *text ? text : (t->reply->text ? t->reply->text : ""));
	agent_tool_result(t, c, "ok");
	agent_turn_end(t, AG_DONE, NULL);
	return AGENT_TOOL_STOP;
}

const struct agent_tool agent_tools[] = {
	{
		.name = "run_python",
		.description = "Run Python code in the project's persistent kernel (pandas as pd, "
			"numpy as np, matplotlib.pyplot as plt, the datasets in dfs / df). Print the "
			"numbers you need; figures left open are saved.",
		.args = {{.name = "code", .type = "string", .description = "the Python code to run",
			  .required = true},
			 {.name = "purpose", .type = "string",
			  .description = "one short line: what this step does", .required = true}},
		.prompt = "run code. Print what you need to see; the\n"
			"value of the last expression, DataFrames shown and figures are returned.\n"
			"Figures are saved for you under outputs/plots/ — just draw them with\n"
			"matplotlib (plt.figure(), plot, title, axis labels); do not call plt.show().\n"
			"Write tables or models only under outputs/.",
		.check = run_python_check,
		.run = agent_step_run_python,
		.summary = run_python_summary,
	},
	{
		.name = "ask_user",
		.description = "Ask the user a question when the request is ambiguous (e.g. which "
			"column is meant).",
		.args = {{.name = "question", .type = "string", .description = "the question",
			  .required = true},
			 {.name = "choices", .type = "array", .items = "string",
			  .description = "suggested answers, may be empty"}},
		.prompt = "ask when the request is ambiguous (which\n"
			"column, which period, which definition). Give choices when you can, such\n"
			"as the real column names. Do not guess on things that change the answer.",
		.check = ask_user_check,
		.run = ask_user_run,
		.summary = ask_user_summary,
	},
	{
		.name = "remember_convention",
		.description = "Remember a rule about this project's data for later turns (date "
			"column, units, ids).",
		.args = {{.name = "key", .type = "string", .required = true},
			 {.name = "value", .type = "string", .required = true},
			 {.name = "why", .type = "string"}},
		.prompt = "record a rule of this project that\n"
			"later turns must follow (a date column and its format, id columns, units,\n"
			"a definition the user gave).",
		.check = remember_check,
		.run = remember_run,
		.summary = remember_summary,
	},
	{
		.name = "final_answer",
		.description = "Give the final answer to the user, stating the key numbers and the "
			"files produced.",
		.args = {{.name = "text", .type = "string",
			  .description = "the answer, plain text or Markdown", .required = true}},
		.prompt = "the answer in a few sentences, with the numbers that\n"
			"matter, naming the files produced. Say plainly what you could not do.",
		.check = final_check,
		.run = final_run,
		.summary = NULL, /* the answer has its own part of the summary */
	},
	{0},
};

/* The entry named name, or NULL. */
const struct agent_tool *agent_tool_find(const struct agent_tool *tools, const char *name)
{
	for (const struct agent_tool *tl = tools; tl->name; tl++)
		if (name && strcmp(tl->name, name) == 0)
			return tl;
	return NULL;
}

/* Is a an argument of its row (args end at the first without a name)? */
static bool arg_in(const struct agent_tool *tl, const struct agent_tool_arg *a)
{
	return a < tl->args + AGENT_TOOL_MAX_ARGS && a->name;
}

/* One tool's function schema. */
static json_t *tool_schema(const struct agent_tool *tl)
{
	json_t *props = json_object(), *required = json_array();
	for (const struct agent_tool_arg *a = tl->args; arg_in(tl, a); a++) {
		json_t *p = json_pack("{s:s}", "type", a->type);
		if (a->items)
			json_object_set_new(p, "items", json_pack("{s:s}", "type", a->items));
		if (a->description)
			json_object_set_new(p, "description", json_string(a->description));
		json_object_set_new(props, a->name, p);
		if (a->required)
			json_array_append_new(required, json_string(a->name));
	}
	return json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:o, s:o, s:b}}}", "type", "function",
			 "function", "name", tl->name, "description", tl->description, "parameters",
			 "type", "object", "properties", props, "required", required,
			 "additionalProperties", 0);
}

/* See agent_int.h. */
json_t *agent_tools_schema(const struct agent_tool *tools)
{
	json_t *a = json_array();
	for (const struct agent_tool *tl = tools; tl->name; tl++)
		json_array_append_new(a, tool_schema(tl));
	return a;
}

/* "- name{arg, arg}: " and the prompt, its later lines indented by two. */
static void tool_prompt(FILE *f, const struct agent_tool *tl)
{
	fprintf(f, "- %s{", tl->name);
	for (const struct agent_tool_arg *a = tl->args; arg_in(tl, a); a++)
		fprintf(f, "%s%s", a == tl->args ? "" : ", ", a->name);
	fputs("}: ", f);
	for (const char *p = tl->prompt; *p; p++) {
		fputc(*p, f);
		if (*p == '\n' && p[1])
			fputs("  ", f);
	}
	fputc('\n', f);
}

/* See agent_int.h. */
char *agent_tools_prompt(const struct agent_tool *tools)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	for (const struct agent_tool *tl = tools; tl->name; tl++)
		tool_prompt(f, tl);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* What the model is told when it calls a tool that is not in the table. */
static char *unknown_tool(const struct agent_tool *tools, const char *name)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "there is no tool named \"%.60s\": use ", name);
	for (const struct agent_tool *tl = tools; tl->name; tl++)
		fprintf(f, "%s%s", tl == tools ? "" : tl[1].name ? ", " : " or ", tl->name);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* See agent_int.h. */
void agent_tools_check(const struct agent_tool *tools, struct llm_reply *r)
{
	for (size_t i = 0; i < r->ncalls; i++) {
		struct llm_tool_call *c = &r->calls[i];
		const struct agent_tool *tl;
		const char *why;
		if (c->error)
			continue; /* llm_call_fill's: no JSON object, no name */
		tl = agent_tool_find(tools, c->name);
		if (!tl)
			c->error = unknown_tool(tools, c->name);
		else if ((why = tl->check(c->args)))
			c->error = strdup(why);
	}
}

/* See agent_int.h. */
void agent_tools_summary(const struct agent_tool *tools, FILE *f, const json_t *step)
{
	const struct agent_tool *tl = agent_tool_find(tools, str_arg(step, "tool"));
	if (tl && tl->summary)
		tl->summary(f, step);
}
