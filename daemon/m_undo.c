/*
 * daemon/m_undo.c — `history.undo`: drop the project's last step (`daa chat`'s
 * /undo).  The last history/NNN_slug.py is moved (one rename, atomic) to
 * .daa/undone/, so nothing is lost and a daemon killed at any instant leaves
 * either the step or its undone copy.  The kernel is restarted so the
 * variables the step made are gone, its status entry and figures are
 * dropped (undo_forget), and every subscriber of the project gets
 * a `history.changed` notification.  Refused (busy) while a turn, a re-run
 * or a run holds the project or waits for it (daemon/history_run.c).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/agent.h"
#include "daemon/fsutil.h"
#include "daemon/history.h"
#include "daemon/kern.h"
#include "daemon/log.h"
#include "daemon/project.h"
#include "daemon/publish.h"
#include "daemon/rpc.h"

static const struct proto_field undo_params[] = {
	{"project", PROTO_T_STR, false},
	{NULL, 0, false},
};

/* The file name of the highest-numbered step into name; its number, 0 when
 * there is none, -1 when the folder cannot be read. */
static int undo_last_step(const char *dir, char *name, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int max = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		int n = proj_step_of(de->d_name);
		if (n > max && strlen(de->d_name) < size) {
			max = n;
			snprintf(name, size, "%s", de->d_name);
		}
	}
	closedir(d);
	return max;
}

/* Move history/<name> to .daa/undone/<name>; 0 or -1 (err). */
static int undo_move(struct proj *pj, const char *name, struct proto_err *err)
{
	char from[PATH_MAX], dir[PATH_MAX], to[PATH_MAX];
	if (fsu_path(from, sizeof from, err, "%s/%s", proj_history_dir(pj), name) < 0 ||
	    fsu_path(dir, sizeof dir, err, "%s/undone", proj_state_dir(pj)) < 0 ||
	    fsu_path(to, sizeof to, err, "%s/%s", dir, name) < 0 ||
	    fsu_mkdir_p(dir, 0755, err) < 0)
		return -1;
	if (rename(from, to) < 0)
		return proto_fail(err, PROTO_ERR_IO, "cannot move %s to %s: %s", from, to,
				  strerror(errno));
	fsu_fsync_dir(proj_history_dir(pj));
	fsu_fsync_dir(dir);
	return 0;
}

/* The removed step leaves nothing a later step of the same name (the next
 * one gets its number) would inherit: its entry in .daa/history.json
 * (status, error, stdout) is dropped and its figures go to
 * outputs/plots/unsaved/ (history_figs.c).  After the rename: a daemon
 * killed in between leaves an entry of no step, which the next step of
 * that name replaces (history.c) — never a step without its status. */
static void undo_forget(struct proj *pj, const char *name)
{
	struct proto_err err;
	char stem[NAME_MAX + 1];
	snprintf(stem, sizeof stem, "%.*s", (int)(strlen(name) - 3), name); /* NNN_slug.py */
	if (hist_state_forget(proj_path(pj), stem, &err) < 0)
		log_warn("history.undo: %s: the status of %s was not dropped: %s", proj_name(pj),
			 name, err.msg);
	json_t *figs = hist_step_figures(proj_path(pj), stem);
	if (json_array_size(figs)) {
		log_info("history.undo: %s: %zu figure(s) of %s moved to outputs/plots/unsaved/",
			 proj_name(pj), json_array_size(figs), name);
		json_decref(hist_figures_move(proj_path(pj), figs, NULL, 0));
	}
	json_decref(figs);
}

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
	char name[NAME_MAX + 1], removed[NAME_MAX + 16], kept[NAME_MAX + 16];
	struct proj *pj = req->proj;
	if (agent_busy(pj) || hist_queue_busy(proj_path(pj)))
		return rpc_fail(req, PROTO_ERR_BUSY,
				"a turn, a re-run or a run is under way or waiting on project %s; "
				"wait for it or cancel it first", proj_name(pj));
	int n = undo_last_step(proj_history_dir(pj), name, sizeof name);
	if (n < 0)
		return rpc_fail(req, PROTO_ERR_IO, "cannot read %s: %s", proj_history_dir(pj),
				strerror(errno));
	if (n == 0)
		return json_pack("{s:b, s:n, s:i}", "ok", 0, "removed", "steps", 0);
	if (undo_move(pj, name, &err) < 0)
		return rpc_fail_err(req, &err);
	undo_forget(pj, name);
	snprintf(removed, sizeof removed, "history/%s", name);
	snprintf(kept, sizeof kept, ".daa/undone/%s", name);
	int steps = proj_step_count(pj);
	log_info("history.undo: %s: moved %s to %s", proj_name(pj), removed, kept);
	hist_forget_kernel(proj_path(pj)); /* the next exec replays the remaining steps */
	kern_restart(proj_path(pj)); /* the step's variables must not survive it */
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
