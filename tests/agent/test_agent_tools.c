/*
 * tests/agent/test_agent_tools.c — the agent's tools table
 * (daemon/agent/agent_tools.c) on its own: every entry is in the schema the
 * model is sent, has its line in the system prompt (and prompts/system.txt
 * has the {{tools}} those lines fill), a check, a handler and its summary
 * bullet; the checks of the four tools (required arguments, defaults, the
 * unknown-tool message naming every tool); and a tool added by one more
 * entry, in a test-only table, shows up in all of those with nothing else
 * changed.  The turn functions the handlers call are stubbed below (the
 * handlers themselves run through a real daad in the Python tests here).
 * TAP output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/agent/agent_int.h"
#include "tests/lib/tap.h"

/* Stand-ins for the turn machinery the handlers use (never called here,
 * except the test tool's own). */
enum agent_tool_next agent_step_run_python(struct agent_turn *t, const struct llm_tool_call *c)
{
	(void)t, (void)c;
	return AGENT_TOOL_FAILED;
}
void agent_event(const struct agent_turn *t, const char *kind, json_t *fields)
{
	(void)t, (void)kind;
	json_decref(fields);
}
void agent_reply_all(struct agent_turn *t, const char *status)
{
	(void)t, (void)status;
}
void agent_turn_end(struct agent_turn *t, enum agent_state end, const char *why)
{
	(void)t, (void)end, (void)why;
}
const json_t *agent_mem_conventions(const struct agent_proj *p)
{
	(void)p;
	return NULL;
}
int agent_mem_convention_set(struct agent_proj *p, const char *key, const json_t *value,
			     const char *source, const char *why)
{
	(void)p, (void)key, (void)value, (void)source, (void)why;
	return -1;
}
static char last_result[200];
void agent_tool_result(struct agent_turn *t, const struct llm_tool_call *c, const char *text)
{
	(void)t, (void)c;
	snprintf(last_result, sizeof last_result, "%s", text);
}

/* The test-only tool: count_rows{dataset}. */
static const char *count_rows_check(json_t *a)
{
	return json_is_string(json_object_get(a, "dataset")) ? NULL
		: "count_rows needs a string argument \"dataset\"";
}
static enum agent_tool_next count_rows_run(struct agent_turn *t, const struct llm_tool_call *c)
{
	agent_tool_result(t, c, "2000 rows");
	return AGENT_TOOL_NEXT;
}
static void count_rows_summary(FILE *f, const json_t *st)
{
	fprintf(f, "- counted the rows of %s\n",
		json_string_value(json_object_get(json_object_get(st, "args"), "dataset")) ?: "?");
}
static const struct agent_tool count_rows = {
	.name = "count_rows",
	.description = "Count a dataset's rows.",
	.args = {{.name = "dataset", .type = "string", .description = "its name", .required = true}},
	.prompt = "how many rows a dataset has;\nquicker than run_python.",
	.check = count_rows_check,
	.run = count_rows_run,
	.summary = count_rows_summary,
};

/* The daemon's table and one more entry (static storage, NULL-ended). */
static const struct agent_tool *with_count_rows(void)
{
	static struct agent_tool t[16];
	size_t n = 0;
	while (agent_tools[n].name && n + 2 < sizeof t / sizeof t[0]) {
		t[n] = agent_tools[n];
		n++;
	}
	t[n] = count_rows;
	return t;
}

/* A reply of one call: name and arguments (a JSON text), checked. */
static struct llm_tool_call checked(const struct agent_tool *tools, const char *name, const char *args)
{
	struct llm_tool_call c;
	json_t *a = json_string(args);
	llm_call_fill(&c, "id1", name, a);
	json_decref(a);
	struct llm_reply r = {.calls = &c, .ncalls = 1};
	agent_tools_check(tools, &r);
	return c;
}
static void call_clear(struct llm_tool_call *c)
{
	free(c->id);
	free(c->name);
	free(c->error);
	free(c->raw_args);
	json_decref(c->args);
}

/* What the summary writes for a step (malloc'd). */
static char *summary_of(const struct agent_tool *tools, const char *step_json)
{
	char *buf = NULL;
	size_t len = 0;
	json_t *st = json_loads(step_json, 0, NULL);
	FILE *f = open_memstream(&buf, &len);
	agent_tools_summary(tools, f, st);
	fclose(f);
	json_decref(st);
	return buf;
}

/* tap_ok with "table: check" as its text. */
static void ok_in(bool cond, const char *table, const char *check)
{
	char what[200];
	snprintf(what, sizeof what, "%s: %s", table, check);
	tap_ok(cond, what);
}

/* Is every entry of the table in the schema (in order, its arguments and
 * required ones), in the prompt lines, and in the unknown-tool message? */
static void every_entry_everywhere(const struct agent_tool *tools, const char *what)
{
	json_t *schema = agent_tools_schema(tools);
	char *prompt = agent_tools_prompt(tools);
	struct llm_tool_call u = checked(tools, "launch_rockets", "{}");
	size_t n = 0;
	bool in_schema = true, in_prompt = prompt != NULL, in_unknown = u.error != NULL, complete = true;
	for (const struct agent_tool *tl = tools; tl->name; tl++, n++) {
		json_t *fn = json_object_get(json_array_get(schema, n), "function");
		json_t *par = json_object_get(fn, "parameters"), *req = json_array();
		char line[200], nl_line[202];
		snprintf(line, sizeof line, "- %s{", tl->name);
		snprintf(nl_line, sizeof nl_line, "\n%s", line);
		for (const struct agent_tool_arg *a = tl->args; a < tl->args + AGENT_TOOL_MAX_ARGS && a->name; a++) {
			in_schema = in_schema && json_object_get(json_object_get(par, "properties"), a->name);
			if (a->required)
				json_array_append_new(req, json_string(a->name));
		}
		in_schema = in_schema && strcmp(json_string_value(json_object_get(fn, "name")), tl->name) == 0 &&
			    json_equal(json_object_get(par, "required"), req);
		json_decref(req);
		in_prompt = in_prompt && (strncmp(prompt, line, strlen(line)) == 0 || strstr(prompt, nl_line));
		in_unknown = in_unknown && strstr(u.error, tl->name);
		complete = complete && tl->description && tl->prompt && tl->check && tl->run;
	}
	ok_in(json_array_size(schema) == n && in_schema, what, "every entry in the schema sent");
	ok_in(in_prompt, what, "every entry has its line in the prompt");
	ok_in(in_unknown, what, "the unknown-tool message names every entry");
	ok_in(complete, what, "every entry has a description, prompt, check and handler");
	call_clear(&u);
	free(prompt);
	json_decref(schema);
}

/* prompts/system.txt carries the tools' lines ({{tools}}). */
static void system_txt_has_tools(void)
{
	char path[4096], buf[65536];
	const char *root = getenv("DAA_ROOT");
	snprintf(path, sizeof path, "%s/prompts/system.txt", root ? root : ".");
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	tap_ok(strstr(buf, "\nTools:\n{{tools}}\n"), "prompts/system.txt: the tools' lines are {{tools}}");
}

/* The daemon's four tools: names, order, the prompt text as written. */
static void daemon_table(void)
{
	const char *names[] = {"run_python", "ask_user", "remember_convention", "final_answer", NULL};
	size_t i = 0;
	while (names[i] && agent_tools[i].name && strcmp(names[i], agent_tools[i].name) == 0)
		i++;
	tap_ok(!names[i] && !agent_tools[i].name, "daemon: the four tools, in order");
	every_entry_everywhere(agent_tools, "daemon");
	char *p = agent_tools_prompt(agent_tools);
	tap_ok(p && strncmp(p, "- run_python{code, purpose}: run code. Print what you need to see; the\n"
			       "  value of the last expression,", 100) == 0 &&
	       strstr(p, "- ask_user{question, choices}: ") && strstr(p, "- remember_convention{key, value, why}: ") &&
	       strstr(p, "\n- final_answer{text}: the answer in a few sentences") &&
	       p[strlen(p) - 1] == '\n' && p[strlen(p) - 2] != '\n',
	       "daemon: prompt lines, later lines indented by two, one newline at the end");
	free(p);
	json_t *s = agent_tools_schema(agent_tools);
	json_t *ch = json_object_get(json_object_get(json_object_get(json_object_get(
		json_array_get(s, 1), "function"), "parameters"), "properties"), "choices");
	json_t *want = json_loads("{\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
				  "\"description\": \"suggested answers, may be empty\"}", 0, NULL);
	char *d1 = json_dumps(ch, JSON_COMPACT), *d2 = json_dumps(want, JSON_COMPACT);
	tap_ok(d1 && d2 && strcmp(d1, d2) == 0, "daemon: an array argument's schema, keys in order");
	free(d1);
	free(d2);
	json_decref(want);
	json_decref(s);
}

/* The checks: required arguments, defaults filled (also when unusable). */
static void checks(void)
{
	struct llm_tool_call c = checked(agent_tools, "run_python", "{\"code\": \"x = 1\"}");
	tap_ok(!c.error && strcmp(json_string_value(json_object_get(c.args, "purpose")), "") == 0,
	       "run_python: code; purpose defaulted to \"\"");
	call_clear(&c);
	c = checked(agent_tools, "run_python", "{\"purpose\": \"p\"}");
	tap_ok(c.error && strcmp(c.error, "run_python needs a non-empty string argument \"code\"") == 0,
	       "run_python: no code");
	call_clear(&c);
	c = checked(agent_tools, "ask_user", "{\"question\": \"Which?\", \"choices\": \"a\", \"key\": \"k\"}");
	tap_ok(!c.error && json_array_size(json_object_get(c.args, "choices")) == 1 &&
	       json_is_string(json_object_get(c.args, "key")), "ask_user: a lone choice wrapped, key kept");
	call_clear(&c);
	c = checked(agent_tools, "ask_user", "");
	tap_ok(c.error && strstr(c.error, "\"question\"") && json_is_array(json_object_get(c.args, "choices")),
	       "ask_user: no question; choices [] all the same (echoed back to the model)");
	call_clear(&c);
	c = checked(agent_tools, "remember_convention", "{\"key\": \"unit\", \"value\": 3}");
	tap_ok(!c.error && strcmp(json_string_value(json_object_get(c.args, "why")), "") == 0,
	       "remember_convention: any JSON value; why defaulted");
	call_clear(&c);
	c = checked(agent_tools, "remember_convention", "{\"key\": \"unit\", \"value\": null}");
	tap_ok(c.error && strcmp(c.error, "remember_convention needs the arguments \"key\" (a string) "
					  "and \"value\"") == 0, "remember_convention: a null value");
	call_clear(&c);
	c = checked(agent_tools, "final_answer", "{\"text\": \"\"}");
	tap_ok(!c.error, "final_answer: an empty text is usable (the reply's text is the answer)");
	call_clear(&c);
	c = checked(agent_tools, "final_answer", "{\"text\": 4}");
	tap_ok(c.error && strstr(c.error, "\"text\""), "final_answer: text not a string");
	call_clear(&c);
	c = checked(agent_tools, "launch_rockets", "{\"target\": \"moon\"}");
	tap_ok(c.error && strcmp(c.error, "there is no tool named \"launch_rockets\": use run_python, "
					  "ask_user, remember_convention or final_answer") == 0,
	       "unknown tool: the message lists the tools");
	call_clear(&c);
	c = checked(agent_tools, "run_python", "{code: 1");
	tap_ok(c.error && strstr(c.error, "not a valid JSON object") &&
	       !json_object_get(c.args, "purpose"), "arguments not JSON: the LLM layer's error, no check");
	call_clear(&c);
}

/* One entry more is a whole tool: schema, prompt, check, handler, summary,
 * and the unknown-tool message. */
static void added_tool(void)
{
	const struct agent_tool *tools = with_count_rows();
	every_entry_everywhere(tools, "added");
	json_t *s = agent_tools_schema(tools);
	json_t *last = json_object_get(json_array_get(s, json_array_size(s) - 1), "function");
	tap_ok(strcmp(json_string_value(json_object_get(last, "name")), "count_rows") == 0 &&
	       json_object_get(json_object_get(json_object_get(last, "parameters"), "properties"), "dataset"),
	       "added: last in the schema, with its argument");
	json_decref(s);
	char *p = agent_tools_prompt(tools);
	tap_ok(p && strstr(p, "\n- count_rows{dataset}: how many rows a dataset has;\n"
			      "  quicker than run_python.\n"), "added: its prompt line");
	free(p);
	struct llm_tool_call c = checked(tools, "count_rows", "{\"dataset\": \"sales\"}");
	const struct agent_tool *tl = agent_tool_find(tools, c.name);
	tap_ok(!c.error && tl && tl->run(NULL, &c) == AGENT_TOOL_NEXT &&
	       strcmp(last_result, "2000 rows") == 0, "added: a call passes its check and reaches its handler");
	call_clear(&c);
	c = checked(tools, "count_rows", "{}");
	tap_ok(c.error && strstr(c.error, "\"dataset\""), "added: its check refuses a call without dataset");
	call_clear(&c);
	c = checked(tools, "launch_rockets", "{}");
	tap_ok(c.error && strstr(c.error, "remember_convention, final_answer or count_rows"),
	       "added: the unknown-tool message names it last");
	call_clear(&c);
	c = checked(agent_tools, "count_rows", "{\"dataset\": \"sales\"}");
	tap_ok(c.error && strstr(c.error, "no tool named"), "added: not in the daemon's table");
	call_clear(&c);
	char *sum = summary_of(tools, "{\"tool\": \"count_rows\", \"args\": {\"dataset\": \"sales\"}}");
	tap_ok(sum && strcmp(sum, "- counted the rows of sales\n") == 0, "added: its summary bullet");
	free(sum);
}

/* llm_summary.md bullets of the daemon's tools. */
static void summaries(void)
{
	char *a = summary_of(agent_tools, "{\"tool\": \"run_python\", \"args\": {\"code\": \"1\", "
					  "\"purpose\": \"sum\"}, \"result\": {\"ok\": true}}");
	char *b = summary_of(agent_tools, "{\"tool\": \"ask_user\", \"args\": {\"question\": \"Which?\"}, "
					  "\"answer\": \"revenue\"}");
	char *c = summary_of(agent_tools, "{\"tool\": \"remember_convention\", \"args\": {\"key\": \"unit\"}}");
	char *d = summary_of(agent_tools, "{\"tool\": \"final_answer\", \"args\": {\"text\": \"x\"}}");
	char *e = summary_of(agent_tools, "{\"tool\": \"nope\"}");
	tap_ok(a && strcmp(a, "- ran code to sum: ok\n") == 0, "summary: run_python");
	tap_ok(b && strcmp(b, "- asked: Which? — answer: revenue\n") == 0, "summary: ask_user");
	tap_ok(c && strcmp(c, "- remembered convention `unit`\n") == 0, "summary: remember_convention");
	tap_ok(d && e && !*d && !*e, "summary: none for final_answer or an unknown step");
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}

int main(void)
{
	daemon_table();
	system_txt_has_tools();
	checks();
	summaries();
	added_tool();
	return tap_done();
}
