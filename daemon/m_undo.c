/*
 * daemon/m_undo.c — `history.undo`: drop the project's last step (`daa chat`'s
 * /undo).  The history module moves it to .daa/undone/ and drops its status
 * and figures (daemon/history_undo.c); the kernel is restarted so the
 * variables the step made are gone, and every subscriber of the project gets
 * a `history.changed` notification.  Refused (busy) while a turn, a re-run
 * or a run holds the project or waits for it (daemon/workq.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/history.h"
#include "daemon/log.h"
#include "daemon/project.h"
#include "daemon/rpc.h"
#include "daemon/workq.h"

static const struct proto_field undo_params[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false},
};

/* Tell the project's subscribers what changed. */
static void undo_notify(struct proj *pj, const char *removed, int steps)
{
	msgpack_packer *pk = rpc_notify_begin("history.changed");
	msgpack_pack_map(pk, 5);
	proto_pack_kv_str(pk, "project", proj_name(pj));
	proto_pack_kv_str(pk, "project_path", proj_path(pj));
	proto_pack_kv_str(pk, "action", "undo");
	proto_pack_kv_str(pk, "removed", removed);
	proto_pack_kv_int(pk, "steps", steps);
	rpc_notify_end_project(proj_path(pj));
}

/* history.undo: {ok, removed, kept_as, steps} or {ok: false, removed: nil}. */
static void m_history_undo(struct rpc_req *req)
{
	struct proto_err err;
	char removed[NAME_MAX + 16], kept[NAME_MAX + 16];
	struct proj *pj = proj_get(req->args[0].present ? req->args[0].str : NULL, &err);
	if (!pj) {
		rpc_reply_err(req->from, &err);
		return;
	}
	if (workq_busy(proj_path(pj))) {
		rpc_reply_error(req->from, PROTO_ERR_BUSY,
				"a turn, a re-run or a run is under way or waiting on project %s; "
				"wait for it or cancel it first", proj_name(pj));
		return;
	}
	int n = hist_undo_last(pj, removed, sizeof removed, kept, sizeof kept, &err);
	if (n < 0) {
		rpc_reply_err(req->from, &err);
		return;
	}
	if (n == 0) {
		msgpack_packer *pk = rpc_result_begin(req->from);
		msgpack_pack_map(pk, 3);
		proto_pack_kv_bool(pk, "ok", false);
		proto_pack_kv_nil(pk, "removed");
		proto_pack_kv_int(pk, "steps", 0);
		rpc_result_end();
		return;
	}
	int steps = proj_step_count(pj);
	hist_restart_kernel(proj_path(pj)); /* the step's variables must not survive it */
	msgpack_packer *pk = rpc_result_begin(req->from);
	msgpack_pack_map(pk, 4);
	proto_pack_kv_bool(pk, "ok", true);
	proto_pack_kv_str(pk, "removed", removed);
	proto_pack_kv_str(pk, "kept_as", kept);
	proto_pack_kv_int(pk, "steps", steps);
	rpc_result_end();
	undo_notify(pj, removed, steps);
}
RPC_METHOD(history_undo, "history.undo", undo_params, m_history_undo,
	   "drop the project's last history step (kept under .daa/undone/)");
