/*
 * daemon/rpc/m_model.c — `model.run` (protocol/PROTOCOL.md): run
 * daa_tools.model on a dataset in the project's kernel
 * (sandbox/python/daa_tools) and reply with the summary the kernel
 * prints on its marker line (`\x1edaa-json {...}`), plus project_path.
 * Arguments reach Python as JSON literals (valid Python string/list
 * literals), never pasted as code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/kernel/kernel.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"

#define MODEL_TIMEOUT_S 900
#define MARK "\x1e" "daa-json "

/* A model call waiting for its kernel. */
struct tool_ctx {
	struct rpc_reply_to to;
	char *project_path;
};

/* The JSON after the last marker line of stdout, or NULL. */
static json_t *marker_json(const char *out)
{
	const char *last = NULL;
	for (const char *p = strstr(out, MARK); p; p = strstr(p + 1, MARK))
		if (p == out || p[-1] == '\n')
			last = p;
	if (!last)
		return NULL;
	last += strlen(MARK);
	size_t len = strcspn(last, "\n");
	return json_loadb(last, len, JSON_DECODE_ANY, NULL);
}

/* A failed tool step: its error as the reply (a ToolError's message is a
 * sentence for the user; an interrupt is "cancelled"). */
static void reply_kernel_error(struct rpc_reply_to to, const struct kern_result *kr)
{
	int code = kr->interrupted ? PROTO_ERR_CANCELLED : PROTO_ERR_BAD_INPUT;
	if (kr->kind == KR_NO_REPLY || kr->kind == KR_MALFORMED)
		rpc_reply_error(to, kr->code, "%s", kr->why);
	else if (kr->ok || !kr->error)
		rpc_reply_error(to, PROTO_ERR_KERNEL, "the kernel gave no summary (truncated output?)");
	else if (strcmp(kr->error_type, "ToolError") == 0 && *kr->error_message) /* a sentence (daa_tools/cli.py) */
		rpc_reply_error(to, code, "%s", kr->error_message);
	else
		rpc_reply_error(to, code, "%s: %s", kr->error_type, kr->error_message);
}

/* The kernel answered: the summary as the result, or the error. */
static void tool_cb(void *ud, const struct kern_result *kr)
{
	struct tool_ctx *c = ud;
	json_t *res = NULL;
	if (!kr->ok || !(res = marker_json(kr->stdout_text))) {
		reply_kernel_error(c->to, kr);
	} else {
		if (json_is_object(res))
			json_object_set_new(res, "project_path", json_string(c->project_path));
		rpc_reply_value(c->to, res);
	}
	json_decref(res);
	free(c->project_path);
	free(c);
}

/* A JSON literal of a string (or None when absent), owned by the caller. */
static char *py_lit(const struct proto_value *v)
{
	if (!v->present)
		return strdup("None");
	json_t *s = json_stringn(v->str, v->len);
	char *out = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
	json_decref(s);
	return out;
}

/* A Python list literal of strings (or None) from `features`: an array of
 * strings or one string "a,b,c"; NULL (*bad set) when it is something else. */
static char *py_list(const struct proto_value *v, bool *bad)
{
	*bad = false;
	if (!v->present)
		return strdup("None");
	const msgpack_object *o = v->obj;
	json_t *a = json_array();
	if (a && o->type == MSGPACK_OBJECT_STR) {
		const char *p = o->via.str.ptr, *end = p + o->via.str.size;
		while (p < end) {
			const char *q = memchr(p, ',', (size_t)(end - p));
			q = q ? q : end;
			if (q > p)
				json_array_append_new(a, json_stringn(p, (size_t)(q - p)));
			p = q + 1;
		}
	} else if (a && o->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			const msgpack_object *e = &o->via.array.ptr[i];
			if (e->type != MSGPACK_OBJECT_STR) {
				*bad = true;
				break;
			}
			json_array_append_new(a, json_stringn(e->via.str.ptr, e->via.str.size));
		}
	} else {
		*bad = true;
	}
	if (*bad) {
		json_decref(a);
		return NULL;
	}
	char *out = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	return out;
}

/* Run code in the project's kernel; the reply goes through tool_cb. */
static json_t *tool_start(struct rpc_req *req, const char *code, const char *step)
{
	struct tool_ctx *c = calloc(1, sizeof *c);
	if (!c || !(c->project_path = strdup(proj_path(req->proj)))) {
		free(c);
		return rpc_fail(req, PROTO_ERR_INTERNAL, "out of memory");
	}
	c->to = req->from;
	struct proto_err err = {0};
	if (kern_exec_timeout(req->proj, code, step, MODEL_TIMEOUT_S, tool_cb, c, &err) < 0) {
		free(c->project_path);
		free(c);
		return rpc_fail_err(req, &err);
	}
	return RPC_LATER;
}

static const struct proto_field model_params[] = {
	{"project", PROTO_T_STR, false},
	{"target", PROTO_T_STR, true},
	{"dataset", PROTO_T_STR, false},
	{"features", PROTO_T_ANY, false},
	{"kind", PROTO_T_STR, false},
	{NULL, 0, false}};

/* model.run {project?, target, dataset?, features?, kind?} → the summary. */
static json_t *m_model(struct rpc_req *req)
{
	const struct proto_value *kind = &req->args[4];
	json_t *res;
	if (kind->present && strcmp(kind->str, "auto") && strcmp(kind->str, "classification") &&
	    strcmp(kind->str, "regression"))
		return rpc_fail(req, PROTO_ERR_PARAMS, "kind must be auto, classification or regression");
	bool bad;
	char *f = py_list(&req->args[3], &bad);
	if (bad)
		return rpc_fail(req, PROTO_ERR_PARAMS,
				"features must be an array of column names or one string \"a,b,c\"");
	char *t = py_lit(&req->args[1]), *ds = py_lit(&req->args[2]), *k = py_lit(kind);
	char *code = NULL;
	if (!t || !ds || !f || !k ||
	    asprintf(&code, "import daa_tools.cli\ndaa_tools.cli.model(dfs, %s, %s, %s, %s)\n",
		     t, ds, f, kind->present ? k : "'auto'") < 0)
		code = NULL;
	if (code)
		res = tool_start(req, code, "model");
	else
		res = rpc_fail(req, PROTO_ERR_INTERNAL, "out of memory");
	free(t);
	free(ds);
	free(f);
	free(k);
	free(code);
	return res;
}
RPC_METHOD_PROJECT(model_run, "model.run", model_params, m_model,
		   "fit and cross-validate a model of a target column; saves it with a card");
