/*
 * daemon/rpc/m_undo.c — `history.undo`: drop the project's last step (`daa chat`'s
 * /undo).  The history module moves it to .daa/undone/ and drops its status
 * and figures (daemon/history/history_undo.c); the kernel is restarted so the
 * variables the step made are gone, and every subscriber of the project gets
 * a `history.changed` notification.  Refused (busy) while a turn, a re-run
 * or a run holds the project or waits for it (daemon/project/workq.c).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/history/history.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "daemon/core/rpc.h"
#include "daemon/project/workq.h"

static const struct proto_field undo_params[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false},
};

/* Tell the project's subscribers what changed. */
static void undo_notify(struct proj *pj, const char *removed, int steps)
{
	json_t *ev = json_pack("{s:o, s:o, s:s, s:o, s:i}", "project", rpc_str(proj_name(pj)),
			       "project_path", rpc_str(proj_path(pj)), "action", "undo", "removed",
			       rpc_str(removed), "steps", steps);
	pub_publish(pj, PUB_HISTORY_CHANGED, ev);
	json_decref(ev);
}

/* history.undo: {ok, removed, kept_as, steps} or {ok: false, removed: nil}. */
static json_t *m_history_undo(struct rpc_req *req)
{
	struct proto_err err;
	char removed[NAME_MAX + 16], kept[NAME_MAX + 16];
	struct proj *pj = req->proj;
	if (workq_busy(pj))
		return rpc_fail(req, PROTO_ERR_BUSY,
				"a turn, a re-run or a run is under way or waiting on project %s; "
				"wait for it or cancel it first", proj_name(pj));
	int n = hist_undo_last(pj, removed, sizeof removed, kept, sizeof kept, &err);
	if (n < 0)
		return rpc_fail_err(req, &err);
	if (n == 0)
		return json_pack("{s:b, s:n, s:i}", "ok", 0, "removed", "steps", 0);
	int steps = proj_step_count(pj);
	hist_restart_kernel(pj); /* the step's variables must not survive it */
	json_t *res = json_pack("{s:b, s:o, s:o, s:i}", "ok", 1, "removed", rpc_str(removed), "kept_as",
				rpc_str(kept), "steps", steps);
	if (!res)
		return NULL;
	rpc_reply_value(req->from, res); /* the reply before the subscribers hear of it */
	json_decref(res);
	undo_notify(pj, removed, steps);
	return RPC_LATER; /* answered just above */
}
RPC_METHOD_PROJECT(history_undo, "history.undo", undo_params, m_history_undo,
		   "drop the project's last history step (kept under .daa/undone/)");
