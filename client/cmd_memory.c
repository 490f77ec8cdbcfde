/*
 * client/cmd_memory.c — `daa log [-n N]` and `daa summary`: the project's
 * memory (every model call, and the Markdown recap of every turn), read
 * through the daemon's log.tail and summary.get methods.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"

/* The i-th element of an array object, or NULL. */
static const msgpack_object *arr_at(const msgpack_object *a, uint32_t i)
{
	if (!a || a->type != MSGPACK_OBJECT_ARRAY || i >= a->via.array.size)
		return NULL;
	return &a->via.array.ptr[i];
}

/* What a model call answered: the tool names, or "text". */
static void put_answer_kind(const msgpack_object *resp)
{
	const char *tool = cli_str(resp, "tool"); /* the builtin analyst's shape */
	if (tool) {
		fputs(tool, stdout);
		return;
	}
	const msgpack_object *msg = proto_map_get(arr_at(proto_map_get(resp, "choices"), 0),
						  "message");
	const msgpack_object *calls = proto_map_get(msg, "tool_calls");
	uint32_t n = calls && calls->type == MSGPACK_OBJECT_ARRAY ? calls->via.array.size : 0;
	for (uint32_t i = 0; i < n; i++) {
		const char *name = cli_str(proto_map_get(arr_at(calls, i), "function"), "name");
		printf("%s%s", i ? "," : "", name ? name : "?");
	}
	if (!n)
		fputs(resp ? "text" : "-", stdout);
}

/* One line per model call: time, turn/step, model, tokens, latency, answer. */
static void log_print(const msgpack_object *entries)
{
	const msgpack_object *e;
	for (uint32_t i = 0; (e = arr_at(entries, i)); i++) {
		const char *ts = cli_str(e, "ts"), *backend = cli_str(e, "backend");
		const char *model = cli_str(e, "model");
		const msgpack_object *lat = proto_map_get(e, "latency_ms");
		double ms = lat && (lat->type == MSGPACK_OBJECT_FLOAT64 ||
				    lat->type == MSGPACK_OBJECT_FLOAT32) ? lat->via.f64
			    : (double)proto_map_int(e, "latency_ms", 0);
		printf("%-24s turn %-4lld step %-2lld %s/%s  tokens %lld+%lld  %.0f ms  → ",
		       ts ? ts : "?", (long long)proto_map_int(e, "turn", 0),
		       (long long)proto_map_int(e, "step", 0), backend ? backend : "?",
		       model ? model : "?", (long long)proto_map_int(e, "prompt_tokens", -1),
		       (long long)proto_map_int(e, "completion_tokens", -1), ms);
		put_answer_kind(proto_map_get(e, "response"));
		putchar('\n');
	}
	if (!arr_at(entries, 0))
		printf("no model calls yet in this project\n");
}

static int cmd_log(struct cli *cli, struct cli_args *a)
{
	struct cli_params p = {0};
	struct proto_msg m;
	long long n = 20;
	if (a->val['n']) {
		char *end;
		n = strtoll(a->val['n'], &end, 10);
		if (*end || n < 0 || n > 500)
			return cli_usage_error(cli_cmd_named("log"), "-n wants a number from 0 to 500");
	}
	cli_p_project(&p, cli);
	cli_p_int(&p, "n", n);
	int rc = cli_call(cli, "log.tail", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m))
		log_print(proto_map_get(m.result, "entries"));
	proto_msg_done(&m);
	return CLI_OK;
}

static int cmd_summary(struct cli *cli, struct cli_args *a)
{
	(void)a;
	struct cli_params p = {0};
	struct proto_msg m;
	cli_p_project(&p, cli);
	int rc = cli_call(cli, "summary.get", &p, CLI_TIMEOUT_SHORT, &m);
	if (rc != CLI_OK)
		return rc;
	if (!cli_json_result(cli, &m)) {
		const msgpack_object *text = proto_map_get(m.result, "text");
		if (proto_map_bool(m.result, "truncated", false))
			printf("(the recap is long: its newest part follows)\n\n");
		const msgpack_object *now = proto_map_get(m.result, "now");
		if (text && text->type == MSGPACK_OBJECT_STR && text->via.str.size)
			cli_put_obj_str(stdout, text);
		else
			printf("no turn yet in this project: ask something with `daa ask`\n");
		if (now && now->type == MSGPACK_OBJECT_STR && now->via.str.size) {
			printf("\n## The steps now (edits and re-runs since the turns above count here)\n\n");
			cli_put_obj_str(stdout, now);
		}
	}
	proto_msg_done(&m);
	return CLI_OK;
}

static const struct cli_opt opts_log[] = {{'n', "count", true}, {0, NULL, false}};

const struct cli_cmd cli_cmds_memory[] = {
	{"log", "[-n N]", "the project's last model calls (default 20; --json: whole entries)",
	 "One line per model call from llm_log_YYYY-MM-DD.jsonl: time, turn and step, backend and\n"
	 "model, prompt+completion tokens, latency, and what the model answered.  --json prints\n"
	 "the full entries, request and response included (never an API key).\n",
	 0, 0, opts_log, cmd_log},
	{"summary", "", "the project's recap in Markdown (llm_summary.md)", NULL, 0, 0, NULL,
	 cmd_summary},
	{NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
