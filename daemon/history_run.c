/*
 * daemon/history_run.c — the project's work queue, re-running steps, and
 * editing a step.
 *
 * The work queue.  An agent turn, a re-run and a direct `run` (not scratch)
 * each take the project: they run in its one kernel and add or rewrite
 * history/NNN_*.py, so two of them interleaving would mix their steps in
 * the kernel and in the numbering.  They go one at a time, in arrival order:
 *
 *   - the agent keeps its own queue of turns (agent.c) and asks
 *     hist_take_turn() before starting the next one; a job here that holds
 *     the project, or waits and arrived before that turn, goes first;
 *   - jobs (re-runs, runs, edits and kernel restarts that must wait) wait
 *     here, FIFO per project; when one ends, the project goes to the agent
 *     if turns wait (agent_kick, which asks hist_take_turn), else to the
 *     next job;
 *   - a job records how many of the agent's queued turns arrived before it
 *     (`ahead`); each turn that starts while it waits passes it once.
 *     The count comes from agent_turns_queued() (agent.c).
 *   - a run whose client went away before its turn came is dropped (it
 *     never ran) and logged; `kernel.interrupt` from that client drops it
 *     too.  Re-runs and edits, like turns, go on without their client.
 *   - a job's start never ends it from inside (kernel replies come from the
 *     loop): hist_take_turn's answer must be true exactly when a job holds
 *     the project, or the agent would start a turn beside it.
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

#include "daemon/agent.h"
#include "daemon/fsutil.h"
#include "daemon/history.h"
#include "daemon/log.h"
#include "daemon/project.h"
#include "daemon/publish.h"
#include "daemon/rpc.h"

#define STEP_MAX (4u << 20)

/* A job waiting for, or holding, its project. */
struct hist_job {
	struct hist_job *next;
	struct proj *pj;
	char *path;
	const struct hist_job_ops *ops;
	void *ud;
	uint64_t conn;  /* client whose disconnect drops it while it waits */
	int ahead;      /* agent turns queued before it, still to pass */
	bool started;
};
static struct hist_job *jobs; /* every project's, in arrival order */

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

static const struct hist_job_ops rerun_ops, edit_ops, restart_ops;

/* ---- the queue ------------------------------------------------------- */

/* The first job of a project (started or not), or NULL. */
static struct hist_job *job_head(const char *path)
{
	for (struct hist_job *j = jobs; j; j = j->next)
		if (strcmp(j->path, path) == 0)
			return j;
	return NULL;
}

/* The job of ud, or NULL. */
static struct hist_job *job_of(const void *ud)
{
	for (struct hist_job *j = jobs; j; j = j->next)
		if (j->ud == ud)
			return j;
	return NULL;
}

/* Unlink and free a job (not its ud). */
static void job_free(struct hist_job *j)
{
	for (struct hist_job **pp = &jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	free(j->path);
	free(j);
}

/* Unlink a job that will never run, and tell its owner why. */
static void job_drop(struct hist_job *j, const struct proto_err *why)
{
	const struct hist_job_ops *ops = j->ops;
	void *ud = j->ud;
	log_info("history: %s: a waiting %s was dropped before it ran: %s", j->path, ops->kind,
		 why->msg);
	job_free(j);
	ops->drop(ud, why);
}

/* Turns of the agent's queue that arrived before a job asked now. */
static int turns_queued(struct proj *pj)
{
	if (!agent_busy(pj))
		return 0;
	int n = agent_turns_queued(pj);
	return n > 0 ? n : 0;
}

/* What holds the project now, for "waits behind the ..." (NULL: free). */
static const char *holder(struct proj *pj, const char *path)
{
	struct hist_job *j = job_head(path);
	if (j && j->started)
		return j->ops->kind;
	if (agent_busy(pj))
		return "turn";
	return j ? j->ops->kind : NULL;
}

/* Start the project's waiting jobs in order until one holds the project
 * (true), or the queue is empty or the next must let earlier turns go. */
static bool queue_advance(struct proj *pj, const char *path)
{
	struct hist_job *j;
	struct proto_err err;
	while ((j = job_head(path))) {
		if (j->started)
			return true;
		if (j->ahead > 0 && agent_busy(pj))
			return false;
		if (j->conn && !rpc_conn_alive(j->conn)) {
			proto_fail(&err, PROTO_ERR_CANCELLED, "its client went away while it waited");
			job_drop(j, &err);
			continue;
		}
		j->started = true;
		int rc = j->ops->start(j->ud, &err);
		if (rc == 0)
			return true;
		if (rc > 0)
			job_free(j);
		else
			job_drop(j, &err);
	}
	return false;
}

/* The project is free again: to the agent's waiting turns, else the next job. */
static void queue_next(struct proj *pj, const char *path)
{
	if (agent_busy(pj))
		agent_kick(pj); /* asks hist_take_turn, which decides */
	else
		queue_advance(pj, path);
}

/* A project is closed or deleted: its waiting jobs never run. */
static void queue_closed_cb(struct proj *pj)
{
	const char *project_path = proj_path(pj);
	struct proto_err err;
	struct hist_job *j, *next;
	proto_fail(&err, PROTO_ERR_NOT_FOUND, "the project was closed");
	for (j = jobs; j; j = next) {
		next = j->next;
		if (!j->started && strcmp(j->path, project_path) == 0) {
			job_drop(j, &err);
			next = jobs; /* the list changed under us: start over */
		}
	}
}

/* Queue a job; it starts now when the project is free. */
int hist_job_submit(struct proj *pj, const struct hist_job_ops *ops, void *ud, uint64_t owner_conn,
		    bool *queued, const char **behind, struct proto_err *err)
{
	static const struct proj_part_ops queue_part = {.close = queue_closed_cb};
	const char *path = proj_path(pj);
	struct hist_job *j = calloc(1, sizeof *j), **pp;
	if (!j || !(j->path = strdup(path))) {
		free(j);
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	proj_part_set(PROJ_PART_HIST, &queue_part);
	*behind = holder(pj, path);
	*queued = *behind != NULL;
	j->pj = pj, j->ops = ops, j->ud = ud, j->conn = owner_conn;
	j->ahead = *queued ? turns_queued(pj) : 0;
	for (pp = &jobs; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	if (*queued) {
		log_info("history: %s: a %s waits behind the %s", path, ops->kind, *behind);
		return 0;
	}
	j->started = true;
	int rc = ops->start(ud, err);
	if (rc != 0)
		job_free(j);
	return rc < 0 ? -1 : 0;
}

/* A started job has finished. */
void hist_job_end(void *ud)
{
	struct hist_job *j = job_of(ud);
	char path[PATH_MAX];
	if (!j)
		return;
	struct proj *pj = j->pj;
	snprintf(path, sizeof path, "%s", j->path);
	job_free(j);
	queue_next(pj, path);
}

/* For the agent, before it starts its next turn. */
bool hist_take_turn(const char *project_path)
{
	struct hist_job *j = job_head(project_path);
	if (!j)
		return false;
	struct proj *pj = j->pj;
	if (queue_advance(pj, project_path))
		return true;
	if (agent_busy(pj)) /* the agent's next turn starts now: it passes the jobs after it */
		for (j = jobs; j; j = j->next)
			if (!j->started && j->ahead > 0 && strcmp(j->path, project_path) == 0)
				j->ahead--;
	return false;
}

/* Drop a client's waiting runs (kernel.interrupt). */
int hist_job_drop_client(const char *project_path, uint64_t conn_id)
{
	struct proto_err err;
	struct hist_job *j, *next;
	int n = 0;
	proto_fail(&err, PROTO_ERR_CANCELLED,
		   "the run was cancelled (kernel.interrupt) while it waited for the project; "
		   "it never ran");
	for (j = jobs; j; j = next) {
		next = j->next;
		if (!j->started && j->conn == conn_id && strcmp(j->ops->kind, "run") == 0 &&
		    strcmp(j->path, project_path) == 0) {
			job_drop(j, &err);
			n++;
			next = jobs;
		}
	}
	return n;
}

/* Does a job hold or wait for the project? */
bool hist_queue_busy(const char *project_path)
{
	return job_head(project_path) != NULL;
}

/* Is a re-run under way (or waiting) on the project? */
bool hist_busy(const char *project_path)
{
	for (struct hist_job *j = jobs; j; j = j->next)
		if (j->ops == &rerun_ops && strcmp(j->path, project_path) == 0)
			return true;
	return false;
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
	hist_event(r->path, "rerun_done", json_incref(res));
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
	hist_job_end(r); /* turns or jobs asked meanwhile */
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
static void record(struct rerun *r, const char *stem, const json_t *reply, const json_t *figs,
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
		json_object_set(e, "stdout", json_object_get(reply, "stdout"));
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
static void rerun_cb(void *ud, const json_t *reply, const struct proto_err *kerr)
{
	struct rerun *r = ud;
	const json_t *s = json_array_get(r->steps, r->idx);
	const char *stem = json_string_value(json_object_get(s, "stem"));
	const char *file = json_string_value(json_object_get(s, "file"));
	if (!reply && kerr && kerr->code == PROTO_ERR_SHUTDOWN) {
		rerun_cut(r, stem, file, kerr->msg);
		return;
	}
	bool ok = reply && json_is_true(json_object_get(reply, "ok"));
	const json_t *e = json_object_get(reply, "error");
	char *error = NULL, tmp[NAME_MAX + 16];
	json_t *figs;
	struct proto_err err;
	if (!ok && kerr)
		error = strdup(kerr->msg);
	else if (!ok && asprintf(&error, "%s: %s\n%s", json_string_value(json_object_get(e, "type")) ?: "Error",
				 json_string_value(json_object_get(e, "message")) ?: "",
				 json_string_value(json_object_get(e, "traceback")) ?: "") < 0)
		error = NULL;
	/* the figures are the files the step drew, as listed here: never the reply's list */
	snprintf(tmp, sizeof tmp, "%s.rerun", stem);
	json_t *drawn = hist_exec_figures(r->path, tmp);
	if (ok) {
		drop_old_figures(r->path, stem);
		figs = hist_figures_move(r->path, drawn, stem, 1);
	} else {
		hist_figures_remove(r->path, drawn);
		if (!reply) /* the kernel died: a figure it was saving is left as a .tmp */
			hist_figures_tidy(r->path);
		figs = json_array();
	}
	json_decref(drawn);
	record(r, stem, reply, figs, ok ? NULL : (error ? error : "the step failed"));
	json_t *item = json_pack("{s:I, s:s+, s:b, s:O?, s:O, s:s?}", "n",
				 json_integer_value(json_object_get(s, "n")), "file", "history/", file, "ok", ok,
				 "stdout", reply ? json_object_get(reply, "stdout") : NULL, "figures", figs,
				 "error", ok ? NULL : error);
	hist_event(r->path, "rerun_step", json_incref(item));
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
	char *code = fsu_read_file(json_string_value(json_object_get(s, "path")), STEP_MAX, NULL, err);
	snprintf(step, sizeof step, "%s.rerun", json_string_value(json_object_get(s, "stem")));
	int rc = code ? kern_exec(r->path, code, step, rerun_cb, r, err) : -1;
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
	hist_forget_kernel(r->path);
	kern_restart(r->path);
	if (hist_restore(r->path, r->from - 1, err) < 0)
		return -1;
	hist_event(r->path, "rerun_start",
		   json_pack("{s:i, s:i}", "from", r->from, "steps", (int)json_array_size(r->steps)));
	return rerun_next(r, err);
}

static const struct hist_job_ops rerun_ops = {"rerun", rerun_begin, rerun_drop};

/* Re-run steps from `from` on, now or when the project is free. */
int hist_rerun(struct proj *pj, int from, hist_done_cb done, void *ud, struct proto_err *err)
{
	const char *path = proj_path(pj), *behind;
	bool queued;
	if (hist_busy(path))
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
	if (hist_job_submit(pj, &rerun_ops, r, 0, &queued, &behind, err) < 0) {
		rerun_free(r);
		return -1;
	}
	if (queued)
		hist_event(path, "rerun_queued", json_pack("{s:i, s:s}", "from", from, "behind", behind));
	return 0;
}

/* ---- edits ----------------------------------------------------------- */

/* Tell the subscribers: history.event kind (r copied) and history.changed. */
static void edit_notify(struct proj *pj, const char *kind, const json_t *r)
{
	hist_event(proj_path(pj), kind, json_deep_copy(r));
	json_t *ev = json_pack("{s:o, s:o, s:s, s:o}", "project", rpc_str(proj_name(pj)),
			       "project_path", rpc_str(proj_path(pj)), "action", "edit", "file",
			       rpc_str(json_string_value(json_object_get(r, "file"))));
	pub_publish(pj, PUB_HISTORY_CHANGED, ev);
	json_decref(ev);
}

/* The kernel starts afresh: the next exec replays the edited history. */
static void edit_restart(const char *path)
{
	hist_forget_kernel(path);
	kern_restart(path); /* the old code's variables must not survive the edit */
}

/* Step n of the project as listed now (*steps owned), or NULL with err. */
static const json_t *edit_step(const char *path, int n, size_t len, json_t **steps,
			       struct proto_err *err)
{
	const json_t *s = (*steps = hist_steps(path, err)) ? hist_step_find(*steps, n) : NULL;
	if (*steps && !s)
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no step %d in %s/history (see `daa history`)", n,
			   path);
	if (s && len > STEP_MAX) {
		proto_fail(err, PROTO_ERR_TOO_LARGE, "a step script is limited to %u bytes", STEP_MAX);
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
	edit_restart(path);
	log_info("history: %s: kernel restarted after the edit of step %d", path, e->n);
	hist_event(path, "edit_restart", json_pack("{s:i, s:o}", "step", e->n, "stale", stale));
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
	edit_restart(proj_path(e->pj));
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
	hist_event(proj_path(e->pj), "edit_failed", json_pack("{s:i, s:s}", "step", e->n, "error", why->msg));
	edit_job_free(e);
}

/* A restart that will not happen (project closed). */
static void restart_drop(void *ud, const struct proto_err *why)
{
	(void)why;
	edit_job_free(ud);
}

static const struct hist_job_ops edit_ops = {"edit", edit_start, edit_drop};
static const struct hist_job_ops restart_ops = {"restart", restart_start, restart_drop};

/* Queue an edit job (text copied) or a restart job (text NULL). */
static int edit_queue(struct proj *pj, int n, const char *text, struct proto_err *err)
{
	const char *behind;
	bool queued;
	struct edit_job *e = calloc(1, sizeof *e);
	if (!e || (text && !(e->text = strdup(text)))) {
		free(e);
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	e->pj = pj;
	e->n = n;
	if (hist_job_submit(pj, text ? &edit_ops : &restart_ops, e, 0, &queued, &behind, err) < 0) {
		edit_job_free(e);
		return -1;
	}
	return 0;
}

/* A restart already waiting for the project covers this edit too. */
static bool restart_merge(const char *path, int n)
{
	for (struct hist_job *j = jobs; j; j = j->next) {
		struct edit_job *e = j->ud;
		if (j->ops == &restart_ops && !j->started && strcmp(j->path, path) == 0) {
			if (n < e->n)
				e->n = n;
			return true;
		}
	}
	return false;
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
	if (hist_busy(path)) {
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
		hist_event(path, "edit_queued", json_pack("{s:i, s:O}", "step", n, "file",
							  json_object_get(r, "file")));
		return r;
	}
	json_decref(steps);
	bool held = agent_busy(pj) || hist_queue_busy(path);
	if (!(r = edit_save(pj, n, text, err)))
		return NULL;
	if (!held)
		edit_restart(path);
	else if (!restart_merge(path, n) && edit_queue(pj, n, NULL, err) < 0)
		log_warn("history: %s: the kernel restart after the edit was not queued: %s", path,
			 err->msg);
	json_object_set_new(r, "saved", json_true());
	json_object_set_new(r, "queued", json_false());
	json_object_set_new(r, "restart_deferred", json_boolean(held));
	edit_notify(pj, "edited", r);
	return r;
}
