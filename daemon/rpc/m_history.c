/*
 * daemon/rpc/m_history.c — the RPC methods over the step scripts
 * (protocol/PROTOCOL.md): history.list, history.show, history.edit,
 * history.rerun, export.script, export.notebook.  The work is in
 * daemon/history/history*.c; these check arguments and shape the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/fsutil.h"
#include "daemon/history/history.h"
#include "daemon/project/history_index.h"
#include "daemon/core/log.h"
#include "daemon/core/mpjson.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"


/* One step as history.list / history.show give it. */
static json_t *step_json(const char *path, const json_t *s, const json_t *state, bool text)
{
	struct proto_err err;
	const char *stem = json_string_value(json_object_get(s, "stem"));
	struct hist_entry e;
	hist_entry_read(state, stem, &e);
	char *code = hist_step_read(s, &err);
	char *req = hist_step_request(code);
	json_t *j = json_pack("{s:O, s:s+, s:s, s:s, s:o, s:s?}", "n", json_object_get(s, "n"), "file",
			      "history/", json_string_value(json_object_get(s, "file")), "title", req ? req : "",
			      "status", e.status ? e.status : "ok", "outputs", hist_step_figures(path, stem),
			      "error", e.error);
	if (j && text)
		json_object_set_new(j, "text", json_string(code ? code : ""));
	free(req);
	free(code);
	return j;
}

static const struct proto_field list_params[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false}};

/* The packed steps array of a listing, built from disk (what
 * daemon/project/history_index.c keeps); NULL with err. */
static int list_build(const char *path, struct proto_buf *b, struct proto_err *err)
{
	json_t *steps = hist_steps(path, err), *state, *out, *s;
	size_t i;
	if (!steps)
		return -1;
	state = hist_state_load(path);
	out = json_array();
	json_array_foreach(steps, i, s)
		json_array_append_new(out, step_json(path, s, state, false));
	mpjson_pack(&b->pk, out);
	json_decref(out);
	json_decref(state);
	json_decref(steps);
	return 0;
}

/* history.list: {project, project_path, steps: [{n, file, title, status,
 * outputs, error?}], rerunning} — steps from the in-memory index when
 * nothing changed since it was made. */
static json_t *m_list(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req->proj;
	struct proto_buf b, r;
	size_t len = 0;
	const char *path = proj_path(pj), *steps = hidx_get(path, &len);
	proto_buf_init(&b);
	if (!steps) {
		hidx_begin(path);
		if (list_build(path, &b, &err) < 0) {
			proto_buf_free(&b);
			return rpc_fail_err(req, &err);
		}
		hidx_put(path, b.sb.data, b.sb.size);
		steps = b.sb.data;
		len = b.sb.size;
	}
	/* packed by hand: the steps are the index's packed bytes, spliced in */
	proto_buf_init(&r);
	msgpack_pack_map(&r.pk, 4);
	proto_pack_kv_str(&r.pk, "project", proj_name(pj));
	proto_pack_kv_str(&r.pk, "project_path", path);
	proto_pack_str(&r.pk, "steps");
	msgpack_sbuffer_write(&r.sb, steps, len);
	proto_pack_kv_bool(&r.pk, "rerunning", hist_busy(pj));
	rpc_reply_packed(req->from, r.sb.data, r.sb.size);
	proto_buf_free(&r);
	proto_buf_free(&b);
	return RPC_LATER; /* answered just above */
}
RPC_METHOD_PROJECT(history_list, "history.list", list_params, m_list,
		   "the project's steps with their statuses");

static const struct proto_field show_params[] = {
	{"project", PROTO_T_STR, false},
	{"step", PROTO_T_UINT, true},
	{NULL, 0, false}};

/* The step of args[1], or NULL after rpc_fail. */
static const json_t *req_step(struct rpc_req *req, const json_t *steps)
{
	const json_t *s = req->args[1].u <= 100000 ? hist_step_find(steps, (int)req->args[1].u) : NULL;
	if (!s)
		rpc_fail(req, PROTO_ERR_NOT_FOUND, "no step %llu in this project (`daa history` lists them)",
			 (unsigned long long)req->args[1].u);
	return s;
}

/* history.show: one step with its text. */
static json_t *m_show(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req->proj;
	json_t *steps = hist_steps(proj_path(pj), &err), *res = NULL;
	const json_t *s;
	if (!steps)
		return rpc_fail_err(req, &err);
	if ((s = req_step(req, steps))) {
		json_t *state = hist_state_load(proj_path(pj));
		res = step_json(proj_path(pj), s, state, true);
		json_decref(state);
	}
	json_decref(steps);
	return res;
}
RPC_METHOD_PROJECT(history_show, "history.show", show_params, m_show,
		   "one step's script and status");

static const struct proto_field edit_params[] = {
	{"project", PROTO_T_STR, false},
	{"step", PROTO_T_UINT, true},
	{"text", PROTO_T_STR, true},
	{NULL, 0, false}};

/* history.edit: save new text now, or when a re-run is over (rules in
 * daemon/history/history_run.c); {file, stale, saved, queued, restart_deferred}. */
static json_t *m_edit(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req->proj;
	json_t *r = hist_edit(pj, req->args[1].u <= 100000 ? (int)req->args[1].u : -1, req->args[2].str, &err);
	if (!r)
		return rpc_fail_err(req, &err);
	log_info("history.edit: %s: %s %s", proj_name(pj), json_string_value(json_object_get(r, "file")),
		 json_is_true(json_object_get(r, "queued")) ? "queued behind the re-run" :
		 json_is_true(json_object_get(r, "restart_deferred")) ? "saved; kernel restart deferred" :
		 "saved");
	return r;
}
RPC_METHOD_PROJECT(history_edit, "history.edit", edit_params, m_edit,
		   "save new text for a step (later steps become stale; waits for a re-run)");

/* A re-run ended: reply to the client that asked. */
static void rerun_done_cb(void *ud, const json_t *result)
{
	struct rpc_reply_to *to = ud;
	rpc_reply_value(*to, result);
	free(to);
}

static const struct proto_field rerun_params[] = {
	{"project", PROTO_T_STR, false},
	{"step", PROTO_T_UINT, false},
	{NULL, 0, false}};

/* history.rerun: steps from `step` (default 1) on; the reply when they ran. */
static json_t *m_rerun(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req->proj;
	uint64_t from = req->args[1].present ? req->args[1].u : 1;
	struct rpc_reply_to *to;
	if (from < 1 || from > 100000 || !(to = malloc(sizeof *to)))
		return rpc_fail(req, PROTO_ERR_PARAMS, "step must be a step number (1, 2, ...)");
	*to = req->from;
	if (hist_rerun(pj, (int)from, rerun_done_cb, to, &err) < 0) {
		free(to);
		return rpc_fail_err(req, &err);
	}
	return RPC_LATER;
}
RPC_METHOD_PROJECT(history_rerun, "history.rerun", rerun_params, m_rerun,
		   "re-run steps from N on in a fresh kernel (replaying 1..N-1 first)");

static const struct proto_field script_params[] = {
	{"project", PROTO_T_STR, false},
	{"target_dir", PROTO_T_STR, false},
	{NULL, 0, false}};

/* export.script: {text} — a standalone script. */
static json_t *m_export_script(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req->proj;
	char *text = hist_export_script(pj, req->args[1].present ? req->args[1].str : NULL, &err);
	if (!text)
		return rpc_fail_err(req, &err);
	json_t *res = json_pack("{s:s, s:s}", "text", text, "project_path", proj_path(pj));
	free(text);
	return res;
}
RPC_METHOD_PROJECT(export_script, "export.script", script_params, m_export_script,
		   "the whole analysis as one standalone Python script");

static const struct proto_field nb_params[] = {
	{"project", PROTO_T_STR, false},
	{"with_outputs", PROTO_T_BOOL, false},
	{NULL, 0, false}};

/* export.notebook: {text} — nbformat 4 JSON. */
static json_t *m_export_notebook(struct rpc_req *req)
{
	struct proto_err err;
	struct proj *pj = req->proj;
	char *text = hist_export_notebook(pj, req->args[1].present && req->args[1].b, &err);
	if (!text)
		return rpc_fail_err(req, &err);
	json_t *res = json_pack("{s:s, s:s}", "text", text, "project_path", proj_path(pj));
	free(text);
	return res;
}
RPC_METHOD_PROJECT(export_notebook, "export.notebook", nb_params, m_export_notebook,
		   "the whole analysis as a Jupyter notebook (nbformat 4)");
