/*
 * daemon/history/history_run.c — re-running steps and editing a step, as jobs of
 * the project's work queue (daemon/project/workq.c: one job at a time per project,
 * in arrival order, whatever their kind: turns, runs, re-runs, edits).
 *
 * A re-run restarts the project's kernel, queues the replay of the steps
 * before the first one re-run (hist_restore), then runs the others one at a
 * time.  Each runs under a temporary step name (<stem>.rerun) so its figures
 * do not overwrite the previous ones until it succeeded (the daemon lists
 * them itself, history_figs.c; a failed step's new ones are removed); a
 * step that fails keeps its previous outputs, is marked "failed" with its traceback, and the
 * re-run stops there (later steps stay stale).  A step whose kernel the
 * daemon's own stop killed (PROTO_ERR_SHUTDOWN) did not fail: nothing is
 * recorded for it and the re-run ends "interrupted" (rerun_cut).  Progress
 * goes to the project's subscribers as `history.event` (kind "rerun_step").
 *
 * Editing step N writes history/N_*.py and the statuses (N "edited", later
 * steps "stale") in .daa/history.json, and restarts the kernel so the old
 * code's variables are gone.  When is it safe:
 *   - a turn or a run holding the project only ever adds a new script
 *     (numbered after every existing step) and its own status entry, each
 *     written in one synchronous step of the loop: the edit is saved at
 *     once.  Restarting the kernel would destroy the turn's work, so the
 *     restart waits in the queue ("restart_deferred"); when it runs, the
 *     steps added meanwhile (which ran on the state before the edit) are
 *     marked stale too;
 *   - a re-run running or waiting reads the scripts and rewrites their
 *     statuses as it goes: the edit waits in the queue ("queued") and is
 *     applied when its turn comes (history.event "edited"; "edit_failed"
 *     when the step is gone by then).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/fsutil.h"
#include "daemon/history/history.h"
#include "daemon/kernel/kern_result.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "daemon/core/rpc.h"
#include "daemon/project/workq.h"

/* A re-run under way. */
struct rerun {
	struct proj *pj;
	char *path;
	json_t *steps;   /* the steps to run, in order */
	size_t idx;
	json_t *ran;     /* [{n, file, ok, stdout, figures, error?}] */
	hist_done_cb done;
	void *ud;
	int from;
};

/* An edit waiting for a re-run, or the kernel restart of an edit saved
 * while a turn held the project. */
struct edit_job {
	struct proj *pj;
	int n;
	char *text; /* NULL for a restart */
};

/* Is a re-run under way (or waiting) on the project? */
bool hist_busy(struct proj *pj)
{
	return workq_count(pj, WQ_RERUN, false) > 0;
}

/* ---- re-runs --------------------------------------------------------- */

/* Mark the steps after n stale in state; their numbers (owned). */
static json_t *mark_stale(json_t *state, const json_t *steps, int n)
{
	json_t *stale = json_array(), *s;
	size_t i;
	json_array_foreach(steps, i, s) {
		if (json_integer_value(json_object_get(s, "n")) <= n)
			continue;
		const char *stem = json_string_value(json_object_get(s, "stem"));
		json_object_set_new(hist_state_entry(state, stem), "status", json_string("stale"));
		json_array_append_new(stale, json_integer(json_integer_value(json_object_get(s, "n"))));
	}
	return stale;
}

/* Drop the step's old figures (before its new ones are moved in). */
static void drop_old_figures(const char *path, const char *stem)
{
	json_t *old = hist_step_figures(path, stem);
	hist_figures_remove(path, old);
	json_decref(old);
}

/* The re-run's result; rerun_done to the subscribers, then to its client.
 * ok when error is NULL; else key ("failed": the step failed; "interrupted":
 * the step was cut by the daemon's stop and did not fail; NULL: no step
 * ran) names file. */
static void rerun_finish(struct rerun *r, const char *key, const char *file, const char *error)
{
	json_t *res = json_pack("{s:b, s:O, s:n, s:n, s:s?}", "ok", error == NULL, "ran", r->ran,
				"failed", "interrupted", "error", error);
	if (res && error && key && file)
		json_object_set_new(res, key, json_sprintf("history/%s", file));
	hist_event(r->pj, "rerun_done", json_incref(res));
	if (r->done)
		r->done(r->ud, res);
	json_decref(res);
}

/* Free a re-run. */
static void rerun_free(struct rerun *r)
{
	json_decref(r->steps);
	json_decref(r->ran);
	free(r->path);
	free(r);
}

/* Finish a started re-run: reply, hand the project on, free. */
static void rerun_end(struct rerun *r, const char *key, const char *file, const char *error)
{
	rerun_finish(r, key, file, error);
	workq_end(r, !error ? WQ_DONE : key && strcmp(key, "interrupted") == 0 ? WQ_INTERRUPTED
							       : WQ_FAILED);
	rerun_free(r);
}

/* A re-run that never started (queue, or its start failed): no step ran;
 * when the daemon is stopping, it was interrupted at its first step. */
static void rerun_drop(void *ud, const struct proto_err *why)
{
	struct rerun *r = ud;
	const char *first = json_string_value(json_object_get(json_array_get(r->steps, 0), "file"));
	rerun_finish(r, why->code == PROTO_ERR_SHUTDOWN ? "interrupted" : NULL, first, why->msg);
	rerun_free(r);
}

/* Record one step's outcome in .daa/history.json. */
static void record(struct rerun *r, const char *stem, const char *out, const json_t *figs,
		   const char *error)
{
	struct proto_err err;
	json_t *state = hist_state_load(r->path);
	json_t *e = hist_state_entry(state, stem);
	json_object_set_new(e, "status", json_string(error ? "failed" : "ok"));
	if (error) {
		json_object_set_new(e, "error", json_string(error));
	} else {
		json_object_del(e, "error");
		json_object_set(e, "outputs", (json_t *)figs);
		json_object_set_new(e, "stdout", json_string(out));
	}
	if (hist_state_save(r->path, state, &err) < 0)
		log_warn("history: %s: statuses not saved: %s", r->path, err.msg);
	json_decref(state);
}

static int rerun_next(struct rerun *r, struct proto_err *err);

/* The daemon stopped the kernel under a step (shutdown): the step did not
 * fail, it was cut.  Its half-made figures go, nothing is recorded (it
 * keeps its status and outputs), and the re-run ends "interrupted". */
static void rerun_cut(struct rerun *r, const char *stem, const char *file, const char *why)
{
	char tmp[NAME_MAX + 16], *msg = NULL;
	snprintf(tmp, sizeof tmp, "%s.rerun", stem);
	json_t *drawn = hist_exec_figures(r->path, tmp);
	hist_figures_remove(r->path, drawn);
	json_decref(drawn);
	log_info("history: %s: the re-run of %s was interrupted (%s); the step keeps its status",
		 r->path, file, why);
	if (asprintf(&msg, "%s: step %s was not re-run (it keeps its previous status and outputs; "
		     "re-run it with `daa rerun`)", why, file) < 0)
		msg = NULL;
	rerun_end(r, "interrupted", file, msg ? msg : why);
	free(msg);
}

/* One re-run step answered. */
static void rerun_cb(void *ud, const struct kern_result *kr)
{
	struct rerun *r = ud;
	const json_t *s = json_array_get(r->steps, r->idx);
	const char *stem = json_string_value(json_object_get(s, "stem"));
	const char *file = json_string_value(json_object_get(s, "file"));
	bool ok = kr->ok;
	if (kr->kind == KR_NO_REPLY && kr->code == PROTO_ERR_SHUTDOWN) {
		rerun_cut(r, stem, file, kr->why);
		return;
	}
	bool answered = kr->kind == KR_OK || kr->kind == KR_FAILED;
	char *error = NULL, tmp[NAME_MAX + 16];
	json_t *figs;
	struct proto_err err;
	if (!ok && !answered)
		error = strdup(kr->why);
	else if (!ok && asprintf(&error, "%s: %s\n%s", kr->error_type, kr->error_message,
				 kr->traceback) < 0)
		error = NULL;
	/* the figures are the files the step drew, as listed here: never the reply's list */
	snprintf(tmp, sizeof tmp, "%s.rerun", stem);
	json_t *drawn = hist_exec_figures(r->path, tmp);
	if (ok) {
		drop_old_figures(r->path, stem);
		figs = hist_figures_move(r->path, drawn, stem, 1);
	} else {
		hist_figures_remove(r->path, drawn);
		if (kr->kind == KR_NO_REPLY) /* the kernel died: a figure it was saving is left as a .tmp */
			hist_figures_tidy(r->path);
		figs = json_array();
	}
	json_decref(drawn);
	record(r, stem, kr->stdout_text, figs, ok ? NULL : (error ? error : "the step failed"));
	json_t *item = json_pack("{s:I, s:s+, s:b, s:s?, s:O, s:s?}", "n",
				 json_integer_value(json_object_get(s, "n")), "file", "history/", file, "ok", ok,
				 "stdout", answered ? kr->stdout_text : NULL, "figures", figs,
				 "error", ok ? NULL : error);
	hist_event(r->pj, "rerun_step", json_incref(item));
	json_array_append_new(r->ran, item);
	json_decref(figs);
	if (!ok) {
		rerun_end(r, "failed", file, error ? error : "the step failed");
	} else if (++r->idx >= json_array_size(r->steps)) {
		rerun_end(r, NULL, NULL, NULL);
	} else if (rerun_next(r, &err) < 0) {
		s = json_array_get(r->steps, r->idx);
		rerun_end(r, err.code == PROTO_ERR_SHUTDOWN ? "interrupted" : "failed",
			  json_string_value(json_object_get(s, "file")), err.msg);
	}
	free(error);
}

/* Send the next step to the kernel (nothing when all ran); -1 with err. */
static int rerun_next(struct rerun *r, struct proto_err *err)
{
	const json_t *s = json_array_get(r->steps, r->idx);
	char step[NAME_MAX + 16];
	if (!s)
		return 0;
	char *code = hist_step_read(s, err);
	snprintf(step, sizeof step, "%s.rerun", json_string_value(json_object_get(s, "stem")));
	int rc = code ? kern_exec(r->pj, code, step, rerun_cb, r, err) : -1;
	free(code);
	return rc;
}

/* The steps from `from` on, as they are on disk now; NULL with err. */
static json_t *steps_from(const char *path, int from, struct proto_err *err)
{
	json_t *steps = hist_steps(path, err), *todo, *s;
	size_t i;
	if (!steps)
		return NULL;
	if (!hist_step_find(steps, from)) {
		json_decref(steps);
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no step %d (see `daa history`)", from);
		return NULL;
	}
	todo = json_array();
	json_array_foreach(steps, i, s)
		if (json_integer_value(json_object_get(s, "n")) >= from)
			json_array_append(todo, s);
	json_decref(steps);
	return todo;
}

/* Job start: restart the kernel, queue the replay of the earlier steps, run
 * the first.  The steps are listed now: a turn that ran while this waited
 * added one. */
static int rerun_begin(void *ud, struct proto_err *err)
{
	struct rerun *r = ud;
	json_decref(r->steps);
	if (!(r->steps = steps_from(r->path, r->from, err)))
		return -1;
	hist_restart_kernel(r->pj);
	if (hist_restore(r->pj, r->from - 1, err) < 0)
		return -1;
	hist_event(r->pj, "rerun_start",
		   json_pack("{s:i, s:i}", "from", r->from, "steps", (int)json_array_size(r->steps)));
	return rerun_next(r, err);
}

/* Waiting: the subscribers are told what it waits behind. */
static void rerun_placed(void *ud, const struct workq_place *place)
{
	struct rerun *r = ud;
	if (place->position > 0)
		hist_event(r->pj, "rerun_queued",
			   json_pack("{s:i, s:s}", "from", r->from, "behind", place->behind));
}

static const struct workq_ops rerun_ops = {WQ_RERUN, rerun_placed, rerun_begin, rerun_drop};

/* Re-run steps from `from` on, now or when the project is free. */
int hist_rerun(struct proj *pj, int from, hist_done_cb done, void *ud, struct proto_err *err)
{
	const char *path = proj_path(pj);
	if (hist_busy(pj))
		return proto_fail(err, PROTO_ERR_BUSY,
				  "a re-run is already under way on project %s; wait for it", proj_name(pj));
	json_t *todo = steps_from(path, from, err);
	if (!todo)
		return -1;
	struct rerun *r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(path))) {
		free(r);
		json_decref(todo);
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	r->pj = pj;
	r->from = from;
	r->steps = todo;
	r->ran = json_array();
	r->done = done;
	r->ud = ud;
	if (workq_submit(pj, &rerun_ops, r, 0, err) < 0) {
		rerun_free(r);
		return -1;
	}
	return 0;
}

/* ---- edits ----------------------------------------------------------- */

/* Tell the subscribers: history.event kind (r copied) and history.changed. */
static void edit_notify(struct proj *pj, const char *kind, const json_t *r)
{
	hist_event(pj, kind, json_deep_copy(r));
	json_t *ev = json_pack("{s:o, s:o, s:s, s:o}", "project", rpc_str(proj_name(pj)),
			       "project_path", rpc_str(proj_path(pj)), "action", "edit", "file",
			       rpc_str(json_string_value(json_object_get(r, "file"))));
	pub_publish(pj, PUB_HISTORY_CHANGED, ev);
	json_decref(ev);
}

/* The kernel starts afresh: the next exec replays the edited history. */
static void edit_restart(struct proj *pj)
{
	hist_restart_kernel(pj); /* the old code's variables must not survive the edit */
}

/* Step n of the project as listed now (*steps owned), or NULL with err. */
static const json_t *edit_step(const char *path, int n, size_t len, json_t **steps,
			       struct proto_err *err)
{
	const json_t *s = (*steps = hist_steps(path, err)) ? hist_step_find(*steps, n) : NULL;
	if (*steps && !s)
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no step %d in %s/history (see `daa history`)", n,
			   path);
	if (s && len > HIST_STEP_MAX) {
		proto_fail(err, PROTO_ERR_TOO_LARGE, "a step script is limited to %u bytes", HIST_STEP_MAX);
		s = NULL;
	}
	return s;
}

/* Write the text and the statuses (no restart): {file, stale} (owned), or NULL. */
static json_t *edit_save(struct proj *pj, int n, const char *text, struct proto_err *err)
{
	const char *path = proj_path(pj);
	json_t *steps, *state = NULL, *stale, *out = NULL;
	const json_t *s = edit_step(path, n, strlen(text), &steps, err);
	if (!s || fsu_write_atomic(json_string_value(json_object_get(s, "path")), text, strlen(text),
				   err) < 0)
		goto done;
	state = hist_state_load(path);
	json_object_set_new(hist_state_entry(state, json_string_value(json_object_get(s, "stem"))),
			    "status", json_string("edited"));
	stale = mark_stale(state, steps, n);
	if (hist_state_save(path, state, err) < 0) {
		json_decref(stale);
		goto done;
	}
	out = json_pack("{s:s+, s:o}", "file", "history/",
			json_string_value(json_object_get(s, "file")), "stale", stale);
	if (!out)
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
done:
	json_decref(state);
	json_decref(steps);
	return out;
}

/* Free an edit job. */
static void edit_job_free(struct edit_job *e)
{
	free(e->text);
	free(e);
}

/* Job start (restart): the steps after n added since the edit ran on the
 * old state, so they are stale too; then the kernel restarts.  Done (1). */
static int restart_start(void *ud, struct proto_err *err)
{
	struct edit_job *e = ud;
	const char *path = proj_path(e->pj);
	json_t *steps = hist_steps(path, err), *state = hist_state_load(path), *stale;
	stale = steps ? mark_stale(state, steps, e->n) : json_array();
	if (steps && hist_state_save(path, state, err) < 0)
		log_warn("history: %s: statuses not saved: %s", path, err->msg);
	edit_restart(e->pj);
	log_info("history: %s: kernel restarted after the edit of step %d", path, e->n);
	hist_event(e->pj, "edit_restart", json_pack("{s:i, s:o}", "step", e->n, "stale", stale));
	json_decref(state);
	json_decref(steps);
	edit_job_free(e);
	return 1;
}

/* Job start (an edit that waited): save, restart, notify.  Done (1). */
static int edit_start(void *ud, struct proto_err *err)
{
	struct edit_job *e = ud;
	json_t *r = edit_save(e->pj, e->n, e->text, err);
	if (!r)
		return -1; /* edit_drop tells */
	edit_restart(e->pj);
	json_object_set_new(r, "queued", json_true());
	log_info("history.edit: %s: %s saved (it waited for the re-run)", proj_name(e->pj),
		 json_string_value(json_object_get(r, "file")));
	edit_notify(e->pj, "edited", r);
	json_decref(r);
	edit_job_free(e);
	return 1;
}

/* A waiting edit that could not be applied: the subscribers are told. */
static void edit_drop(void *ud, const struct proto_err *why)
{
	struct edit_job *e = ud;
	log_warn("history.edit: %s: step %d was not saved: %s", proj_name(e->pj), e->n, why->msg);
	hist_event(e->pj, "edit_failed", json_pack("{s:i, s:s}", "step", e->n, "error", why->msg));
	edit_job_free(e);
}

/* A restart that will not happen (project closed). */
static void restart_drop(void *ud, const struct proto_err *why)
{
	(void)why;
	edit_job_free(ud);
}

static const struct workq_ops edit_ops = {WQ_EDIT, NULL, edit_start, edit_drop};
static const struct workq_ops restart_ops = {WQ_RESTART, NULL, restart_start, restart_drop};

/* Queue an edit job (text copied) or a restart job (text NULL). */
static int edit_queue(struct proj *pj, int n, const char *text, struct proto_err *err)
{
	struct edit_job *e = calloc(1, sizeof *e);
	if (!e || (text && !(e->text = strdup(text)))) {
		free(e);
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	e->pj = pj;
	e->n = n;
	if (workq_submit(pj, text ? &edit_ops : &restart_ops, e, 0, err) < 0) {
		edit_job_free(e);
		return -1;
	}
	return 0;
}

/* A restart already waiting for the project covers this edit too. */
static bool restart_merge(struct proj *pj, int n)
{
	struct edit_job *e = workq_first_waiting(pj, WQ_RESTART);
	if (e && n < e->n)
		e->n = n;
	return e != NULL;
}

/* Save new text for step n now (restarting the kernel now or later), or
 * queue the edit behind a re-run. */
json_t *hist_edit(struct proj *pj, int n, const char *text, struct proto_err *err)
{
	const char *path = proj_path(pj);
	json_t *steps, *r;
	const json_t *s = edit_step(path, n, strlen(text), &steps, err);
	if (!s) {
		json_decref(steps);
		return NULL;
	}
	if (hist_busy(pj)) {
		r = json_pack("{s:s+, s:[], s:b, s:b, s:b}", "file", "history/",
			      json_string_value(json_object_get(s, "file")), "stale", "saved", 0,
			      "queued", 1, "restart_deferred", 0);
		json_decref(steps);
		if (!r)
			proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		if (!r || edit_queue(pj, n, text, err) < 0) {
			json_decref(r);
			return NULL;
		}
		hist_event(pj, "edit_queued", json_pack("{s:i, s:O}", "step", n, "file",
							  json_object_get(r, "file")));
		return r;
	}
	json_decref(steps);
	bool held = workq_busy(pj);
	if (!(r = edit_save(pj, n, text, err)))
		return NULL;
	if (!held)
		edit_restart(pj);
	else if (!restart_merge(pj, n) && edit_queue(pj, n, NULL, err) < 0)
		log_warn("history: %s: the kernel restart after the edit was not queued: %s", path,
			 err->msg);
	json_object_set_new(r, "saved", json_true());
	json_object_set_new(r, "queued", json_false());
	json_object_set_new(r, "restart_deferred", json_boolean(held));
	edit_notify(pj, "edited", r);
	return r;
}
