/*
 * daemon/history/history.h — the project's step scripts (history/NNN_slug.py) as a
 * reproducible analysis: listing with statuses (.daa/history.json), saving
 * direct `run` code as a step, restoring a fresh kernel by replaying the
 * steps before the next exec, re-running steps, and exporting the whole
 * analysis as a standalone script or a Jupyter notebook.
 */
#ifndef DAA_HISTORY_H
#define DAA_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include "daemon/project/history_name.h"
#include "daemon/kernel/kernel.h"
#include "protocol/proto.h"

struct proj;

/*
 * The history module (daemon/history/history*.c) owns history/ and
 * .daa/history.json: step names and numbers (history_name.h), creating,
 * reading and removing step scripts, and their statuses.  Other files call
 * these functions; none builds or parses a step name itself.
 */

/* Steps on disk, sorted: [{n, file, stem, path}] (owned), or NULL with err. */
json_t *hist_steps(const char *project_path, struct proto_err *err);
/* The step numbered n of a hist_steps list (borrowed), or NULL. */
const json_t *hist_step_find(const json_t *steps, int n);
/* The script of a hist_steps entry (at most HIST_STEP_MAX bytes; caller
 * frees), or NULL with err. */
char *hist_step_read(const json_t *step, struct proto_err *err);
/* The number the project's next new step gets, or -1 when history/ cannot
 * be listed (a new step must not be numbered then). */
int hist_next_step(struct proj *pj);
/* Create history/NNN_<slug>.py with text, numbered now after every existing
 * step and never written over one; "history/NNN_<slug>.py" into rel and its
 * status entry started afresh ("ok", nothing inherited from an older step
 * of that stem).  0, or -1 with err. */
int hist_step_create(struct proj *pj, const char *slug, const char *text, char *rel,
		     size_t relsize, struct proto_err *err);
/* history_undo.c — move the last step to .daa/undone/ (one rename), drop its
 * status entry, its figures to outputs/plots/unsaved/.  1 with "history/F"
 * in removed and ".daa/undone/F" in kept, 0 when there is no step, -1 with
 * err. */
int hist_undo_last(struct proj *pj, char *removed, size_t rsize, char *kept, size_t ksize,
		   struct proto_err *err);
/* The statuses file .daa/history.json: {stem: {status, outputs?, error?, stdout?}} (owned, never NULL). */
json_t *hist_state_load(const char *project_path);
int hist_state_save(const char *project_path, const json_t *state, struct proto_err *err);
/* The step's status entry in state (created when missing; borrowed). */
json_t *hist_state_entry(json_t *state, const char *stem);
/* One step's entry of the statuses file, read and checked (history_entry.c):
 * a part of the wrong type reads as absent.  Strings borrowed from state. */
struct hist_entry {
	bool present;            /* state has an object for the stem */
	const char *status;      /* "ok", "failed", "stale"; NULL when not recorded */
	bool failed;             /* status is "failed" */
	const char *error;       /* the failed run's error, or NULL */
	const char *stdout_text; /* the last run's stdout, or NULL when not recorded */
	const json_t *outputs;   /* array of figure paths, or NULL */
};
void hist_entry_read(const json_t *state, const char *stem, struct hist_entry *e);
/* Drop a removed step's entry from .daa/history.json (atomic); 0 or -1 (err). */
int hist_state_forget(const char *project_path, const char *stem, struct proto_err *err);
/* history_figs.c — figures, listed and moved by the daemon only.
 * Figures of a step in outputs/plots (<stem>_<K>.png regular files, by K; owned). */
json_t *hist_step_figures(const char *project_path, const char *stem);
/* The figures an exec named step drew (the kernel's list is not trusted). */
json_t *hist_exec_figures(const char *project_path, const char *step);
/* Rename figures (paths inside outputs/) to outputs/plots/<to_stem>_<first+i>.png,
 * or into outputs/plots/unsaved/ when to_stem is NULL; their paths now (owned). */
json_t *hist_figures_move(const char *project_path, const json_t *figs, const char *to_stem,
			  int first);
/* Remove figures (paths inside outputs/). */
void hist_figures_remove(const char *project_path, const json_t *figs);
/* Runtime temp files removed, figures of no saved step moved to unsaved/. */
void hist_figures_tidy(const char *project_path);
/* At start-up: tidy each project's figures when it is opened (no kernel of
 * this daemon has worked on it yet, so what is half-written is a killed
 * daemon's). */
void hist_figures_init(void);
/* Write text inside a Python comment, encoded so that it cannot leave it
 * (line breaks, control characters, invalid UTF-8, "coding:"); '\n'
 * becomes cont (e.g. "\n#   ") or an escape when cont is NULL. */
void hist_comment_put(FILE *f, const char *text, const char *cont);
/* The request line of a step's header comment ("" when none; caller frees). */
char *hist_step_request(const char *text);

/*
 * kern_exec with the project's state restored first: when the project's
 * kernel is not the one this module last restored (fresh, restarted after a
 * crash or a time limit, or after a daemon restart), every history step is
 * queued before the code (progress as `history.event` kind "restore").
 */
int hist_exec(struct proj *pj, const char *code, const char *step, int timeout_s,
	      kern_reply_cb cb, void *ud, struct proto_err *err);
/* The owner (ud) of hist_exec calls is gone (a cancelled turn): their
 * callbacks are not called; the figures those steps draw go to unsaved/. */
void hist_exec_forget(void *ud);
/* Queue the replay of steps 1..upto (all when upto < 0) on the project's
 * kernel; the kernel counts as restored once they ran. */
int hist_restore(struct proj *pj, int upto, struct proto_err *err);
/* Restart the project's kernel on purpose (kernel.restart, an edit, undo,
 * a re-run): its variables are gone and the next exec replays history. */
void hist_restart_kernel(struct proj *pj);
/* Free what the module keeps per project (its slot, project.h; shutdown,
 * after kern_shutdown: no replay answers after this). */
void hist_shutdown(void);
/* The step name the next saved `run` gets ("NNN_run"). */
void hist_run_step_name(struct proj *pj, char *buf, size_t size);
/* Save code that ran successfully through `run` as history/NNN_run.py
 * (the name hist_run_step_name gave it when it started: no other work ran
 * since), with the stdout of its run (kr); the relative path into rel.
 * 0 or -1 (err). */
int hist_save_run(struct proj *pj, const char *code, const struct kern_result *kr, char *rel,
		  size_t relsize, struct proto_err *err);
/* A step just saved (agent turns): its status entry starts afresh ("ok",
 * nothing inherited from an older step of that stem) with this stdout. */
void hist_record_stdout(const char *project_path, const char *stem, const char *out);
/* Broadcast `history.event` {project_path, kind, ...fields} (fields stolen). */
void hist_event(struct proj *pj, const char *kind, json_t *fields);

/* history_run.c — re-runs and edits, jobs of the project's work queue
 * (daemon/project/workq.h) like turns and runs. */
/* Re-run steps from..end in a fresh kernel restored by replaying
 * 1..from-1 (a job: it waits for the project like a turn, and is not
 * dropped when its client goes away, like a turn).  done(ud, result) gets
 * {ok, ran: [...], failed?, error?} (also when it could not start). */
typedef void (*hist_done_cb)(void *ud, const json_t *result);
int hist_rerun(struct proj *pj, int from, hist_done_cb done, void *ud, struct proto_err *err);
/* Is a re-run under way (or waiting) on the project? */
bool hist_busy(struct proj *pj);
/* Save new text for step n now or when it is safe (rules in
 * history_run.c).  Result {file, stale: [n...], saved, queued,
 * restart_deferred} (owned), or NULL with err. */
json_t *hist_edit(struct proj *pj, int n, const char *text, struct proto_err *err);

/* history_export.c — the whole analysis as text (caller frees). */
char *hist_export_script(struct proj *pj, const char *target_dir, struct proto_err *err);
char *hist_export_notebook(struct proj *pj, bool with_outputs, struct proto_err *err);

#endif
