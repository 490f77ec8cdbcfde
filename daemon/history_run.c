/*
 * daemon/history_run.c — editing a step and re-running steps.
 *
 * A re-run restarts the project's kernel, queues the replay of the steps
 * before the first one re-run (hist_restore), then runs the others one at a
 * time.  Each runs under a temporary step name (<stem>.rerun) so its figures
 * do not overwrite the previous ones until it succeeded; a step that fails
 * keeps its previous outputs, is marked "failed" with its traceback, and the
 * re-run stops there (later steps stay stale).  Progress goes to the
 * project's subscribers as `history.event` (kind "rerun_step").
 *
 * A re-run takes the project like an agent turn: asked while a turn runs
 * (or is queued) it waits ("rerun_queued") and starts when the turn ends
 * (the agent asks hist_take_turn before starting its next turn); turns
 * asked meanwhile wait for it and are started by agent_kick at its end.
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

#define STEP_MAX (4u << 20)

/* A re-run under way. */
struct rerun {
	struct rerun *next;
	struct proj *pj;
	char *path;
	json_t *steps;   /* the steps to run, in order */
	size_t idx;
	json_t *ran;     /* [{n, file, ok, stdout, figures, error?}] */
	hist_done_cb done;
	void *ud;
	bool waiting;    /* queued behind the agent's turn */
	int from;
};
static struct rerun *reruns;

static void rerun_next(struct rerun *r);
static int rerun_begin(struct rerun *r, struct proto_err *err);
static void rerun_free(struct rerun *r);

/* Is a re-run under way on the project? */
bool hist_busy(const char *project_path)
{
	for (struct rerun *r = reruns; r; r = r->next)
		if (strcmp(r->path, project_path) == 0)
			return true;
	return false;
}

/* Mark the steps after n (or from n when inclusive) stale in state. */
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

/* Save new text for step n: "edited", later steps "stale", kernel restarted. */
json_t *hist_edit(struct proj *pj, int n, const char *text, struct proto_err *err)
{
	const char *path = proj_path(pj);
	json_t *steps = hist_steps(path, err), *state = NULL, *stale, *out = NULL;
	const json_t *s = steps ? hist_step_find(steps, n) : NULL;
	if (!steps)
		return NULL;
	if (!s) {
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no step %d in %s/history (see `daa history`)", n,
			   path);
		goto done;
	}
	if (strlen(text) > STEP_MAX) {
		proto_fail(err, PROTO_ERR_TOO_LARGE, "a step script is limited to %u bytes", STEP_MAX);
		goto done;
	}
	if (fsu_write_atomic(json_string_value(json_object_get(s, "path")), text, strlen(text), err) < 0)
		goto done;
	state = hist_state_load(path);
	json_object_set_new(hist_state_entry(state, json_string_value(json_object_get(s, "stem"))),
			    "status", json_string("edited"));
	stale = mark_stale(state, steps, n);
	if (hist_state_save(path, state, err) < 0) {
		json_decref(stale);
		goto done;
	}
	hist_forget_kernel(path);
	kern_restart(path); /* the old code's variables must not survive the edit */
	out = json_pack("{s:s+, s:o}", "file", "history/",
			json_string_value(json_object_get(s, "file")), "stale", stale);
done:
	json_decref(state);
	json_decref(steps);
	return out;
}

/* Remove (or, with to_stem, rename to <to_stem>_K.png) the rerun figures. */
static json_t *settle_figures(struct rerun *r, const json_t *figs, const char *to_stem)
{
	json_t *out = json_array(), *f;
	size_t i;
	char from[PATH_MAX], to[PATH_MAX];
	struct proto_err err;
	json_array_foreach(figs, i, f) {
		const char *rel = json_string_value(f);
		if (!rel || strstr(rel, "..") ||
		    fsu_path(from, sizeof from, &err, "%s/%s", r->path, rel) < 0)
			continue;
		if (!to_stem) {
			unlink(from);
			continue;
		}
		if (fsu_path(to, sizeof to, &err, "%s/outputs/plots/%s_%zu.png", r->path, to_stem,
			     i + 1) == 0 && rename(from, to) == 0)
			json_array_append_new(out, json_sprintf("outputs/plots/%s_%zu.png", to_stem, i + 1));
	}
	return out;
}

/* Drop the step's old figures (before its new ones are moved in). */
static void drop_old_figures(const char *path, const char *stem)
{
	json_t *old = hist_step_figures(path, stem), *f;
	size_t i;
	char p[PATH_MAX];
	struct proto_err err;
	json_array_foreach(old, i, f)
		if (fsu_path(p, sizeof p, &err, "%s/%s", path, json_string_value(f)) == 0)
			unlink(p);
	json_decref(old);
}

/* Finish: reply, unlink, free. */
static void rerun_end(struct rerun *r, const char *failed_file, const char *error)
{
	json_t *res = json_pack("{s:b, s:O, s:s?, s:s?}", "ok", failed_file == NULL, "ran", r->ran,
				"failed", failed_file, "error", error);
	if (res && failed_file)
		json_object_set_new(res, "failed", json_sprintf("history/%s", failed_file));
	hist_event(r->path, "rerun_done", json_incref(res));
	if (r->done)
		r->done(r->ud, res);
	json_decref(res);
	for (struct rerun **pp = &reruns; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	struct proj *pj = r->pj;
	rerun_free(r);
	agent_kick(pj); /* turns asked meanwhile */
}

/* Free a re-run (already unlinked). */
static void rerun_free(struct rerun *r)
{
	json_decref(r->steps);
	json_decref(r->ran);
	free(r->path);
	free(r);
}

/* Called by the agent before it starts a turn: true when a re-run holds the
 * project (a waiting one is started now). */
bool hist_take_turn(const char *project_path)
{
	struct proto_err err;
	for (struct rerun *r = reruns; r; r = r->next) {
		if (strcmp(r->path, project_path) != 0)
			continue;
		if (r->waiting) {
			r->waiting = false;
			if (rerun_begin(r, &err) < 0) {
				rerun_end(r, "history", err.msg); /* kicks the agent again */
				return true;
			}
		}
		return true;
	}
	return false;
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

/* One re-run step answered. */
static void rerun_cb(void *ud, const json_t *reply, const struct proto_err *kerr)
{
	struct rerun *r = ud;
	const json_t *s = json_array_get(r->steps, r->idx);
	const char *stem = json_string_value(json_object_get(s, "stem"));
	const char *file = json_string_value(json_object_get(s, "file"));
	bool ok = reply && json_is_true(json_object_get(reply, "ok"));
	const json_t *e = json_object_get(reply, "error");
	char *error = NULL;
	json_t *figs;
	if (!ok && kerr)
		error = strdup(kerr->msg);
	else if (!ok && asprintf(&error, "%s: %s\n%s", json_string_value(json_object_get(e, "type")) ?: "Error",
				 json_string_value(json_object_get(e, "message")) ?: "",
				 json_string_value(json_object_get(e, "traceback")) ?: "") < 0)
		error = NULL;
	if (ok) {
		drop_old_figures(r->path, stem);
		figs = settle_figures(r, json_object_get(reply, "figures"), stem);
	} else {
		figs = settle_figures(r, reply ? json_object_get(reply, "figures") : NULL, NULL);
	}
	record(r, stem, reply, figs, ok ? NULL : (error ? error : "the step failed"));
	json_t *item = json_pack("{s:I, s:s+, s:b, s:O?, s:O, s:s?}", "n",
				 json_integer_value(json_object_get(s, "n")), "file", "history/", file, "ok", ok,
				 "stdout", reply ? json_object_get(reply, "stdout") : NULL, "figures", figs,
				 "error", ok ? NULL : error);
	hist_event(r->path, "rerun_step", json_incref(item));
	json_array_append_new(r->ran, item);
	json_decref(figs);
	if (!ok) {
		rerun_end(r, file, error ? error : "the step failed");
		free(error);
		return;
	}
	free(error);
	r->idx++;
	rerun_next(r);
}

/* Run the next step, or end. */
static void rerun_next(struct rerun *r)
{
	struct proto_err err;
	const json_t *s = json_array_get(r->steps, r->idx);
	char step[NAME_MAX + 16];
	if (!s) {
		rerun_end(r, NULL, NULL);
		return;
	}
	char *code = fsu_read_file(json_string_value(json_object_get(s, "path")), STEP_MAX, NULL, &err);
	snprintf(step, sizeof step, "%s.rerun", json_string_value(json_object_get(s, "stem")));
	if (!code || kern_exec(r->path, code, step, rerun_cb, r, &err) < 0) {
		free(code);
		rerun_end(r, json_string_value(json_object_get(s, "file")), err.msg);
		return;
	}
	free(code);
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

/* Restart the kernel, queue the replay of the earlier steps, run the first.
 * The steps are listed now: a turn that ran while this waited added one. */
static int rerun_begin(struct rerun *r, struct proto_err *err)
{
	json_decref(r->steps);
	if (!(r->steps = steps_from(r->path, r->from, err)))
		return -1;
	hist_forget_kernel(r->path);
	kern_restart(r->path);
	if (hist_restore(r->path, r->from - 1, err) < 0)
		return -1;
	hist_event(r->path, "rerun_start",
		   json_pack("{s:i, s:i}", "from", r->from, "steps", (int)json_array_size(r->steps)));
	rerun_next(r);
	return 0;
}

/* Start re-running steps from `from` on (or queue it behind the turn). */
int hist_rerun(struct proj *pj, int from, hist_done_cb done, void *ud, struct proto_err *err)
{
	const char *path = proj_path(pj);
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
	r->waiting = agent_busy(pj);
	if (!r->waiting && rerun_begin(r, err) < 0) {
		rerun_free(r);
		return -1;
	}
	r->next = reruns;
	reruns = r;
	if (r->waiting)
		hist_event(path, "rerun_queued", json_pack("{s:i}", "from", from));
	return 0;
}
