/*
 * daemon/project/project.h — projects on disk (DESIGN.md "A project on disk"):
 *
 *   <project>/data/ history/ outputs/{plots,tables,models}/ .daa/
 *             conventions.json ({} initially)  llm_log_*.jsonl  llm_summary.md
 *
 * Projects live under config data_dir/NAME, or in a chosen folder (then
 * data_dir/NAME is a symlink to it, so listing and lookup by name work the
 * same).  A struct proj is a handle cached by the daemon for its lifetime
 * (borrowed by callers; never free it).  It stays valid after project.delete
 * — then proj_deleted() is true and every operation fails with NOT_FOUND —
 * so a callback holding one never dangles.
 * Every rewrite is atomic (fsutil); the daemon is the only writer.
 */
#ifndef DAA_PROJECT_H
#define DAA_PROJECT_H

#include <jansson.h>
#include <stdbool.h>
#include "daemon/core/loop.h"
#include "protocol/proto.h"

struct proj;

/*
 * A project by name (under data_dir) or by absolute folder path; NULL or ""
 * means the default project.  The default project is created on demand;
 * any other missing project is NOT_FOUND.  Borrowed handle.
 */
struct proj *proj_get(const char *name_or_path, struct proto_err *err);
/* Create NAME under data_dir, or in parent_dir/NAME when parent_dir is set.
 * EXISTS when the name is taken or the folder exists.  Borrowed handle. */
struct proj *proj_create(const char *name, const char *parent_dir, struct proto_err *err);
/* Delete: a project under data_dir is removed with its files; one in a chosen
 * folder is only unregistered (its files stay; *files_removed tells which).
 * The parts close first, in their order (below): kernels stop first. */
int proj_delete(struct proj *p, bool *files_removed, struct proto_err *err);
/* All registered projects: [{name, path, datasets, steps}] (new reference). */
json_t *proj_list(struct proto_err *err);
/* Names of the projects opened by this daemon (new reference, for status). */
json_t *proj_open_names(void);
/* Watch the data/ folders of open projects: files changed there by hand run
 * the parts' change callbacks (daemon/project/project_watch.c).  -1 (logged) when
 * inotify is unavailable; the daemon works on without it. */
int proj_watch_init(struct loop *l);
void proj_watch_shutdown(void);
/* Remove what a killed daemon left of deleted projects (start-up). */
void proj_startup_cleanup(void);
/* Shutdown: close every open project (not deleted) as proj_delete closes
 * one, through the parts' close callbacks in their written order (below),
 * with why (PROTO_ERR_SHUTDOWN).  Each part frees what is left of its own
 * at its own shutdown afterwards. */
void proj_close_open(const struct proto_err *why);
/* Forget every handle (shutdown, last). */
void proj_close_all(void);

/*
 * The parts of the daemon that keep per-project state.  Each registers its
 * callbacks once (at init, or at first use); they run in THIS order —
 * written here, whatever the order they registered in:
 *   open    when the handle is made (proj_get/proj_create of a project not
 *           yet open), first to last;
 *   close   before a project is deleted, and for every open project at
 *           shutdown (proj_close_open), first to last: kernels stop first
 *           (no step runs while the rest closes), then turns end (before
 *           their profiles), profile jobs fail, waiting history jobs are
 *           dropped, and the data/ watch goes last.  why says which
 *           (PROTO_ERR_NOT_FOUND "the project was closed", or
 *           PROTO_ERR_SHUTDOWN): what the part tells those it fails;
 *   changed after its datasets or conventions changed (a bound kernel
 *           reloads them, profiles are made again), first to last.
 */
enum proj_part {
	PROJ_PART_KERN,  /* daemon/kernel/kern*.c */
	PROJ_PART_AGENT, /* daemon/agent/agent*.c */
	PROJ_PART_PROF,  /* daemon/profiler/profiler*.c */
	PROJ_PART_HIST,  /* daemon/project/workq.c: the per-project work queue */
	PROJ_PART_FIGS,  /* daemon/history/history_figs.c: a killed daemon's figures tidied at open */
	PROJ_PART_WATCH, /* daemon/project/project_watch.c */
	PROJ_PARTS
};
struct proj_part_ops {
	void (*open)(struct proj *p);    /* each may be NULL */
	void (*close)(struct proj *p, const struct proto_err *why);
	void (*changed)(struct proj *p);
};
/* Set a part's callbacks (ops is borrowed: static storage). */
void proj_part_set(enum proj_part part, const struct proj_part_ops *ops);

/*
 * Typed slots: each part hangs its own per-project state off the handle
 * (the type is the part's own; it creates the state on first use and frees
 * it in its close callback or at its shutdown).  In use: kern (the
 * project's live kernel itself, set when one is bound and cleared when it
 * dies, daemon/kernel/kern_req.c), agent (struct agent_proj,
 * daemon/agent/agent_int.h), prof, and hist (which kernel the history
 * module last restored, daemon/history/history.c).
 */
struct kern;
struct agent_proj;
struct hist_slot;
struct prof_slot;
struct proj_slots {
	struct kern *kern;
	struct agent_proj *agent;
	struct hist_slot *hist;
	struct prof_slot *prof;
};
struct proj_slots *proj_slots(struct proj *p);

/* Accessors (borrowed strings, absolute, no trailing '/'). */
const char *proj_name(const struct proj *p);
const char *proj_path(const struct proj *p);
const char *proj_data_dir(const struct proj *p);
const char *proj_history_dir(const struct proj *p);
const char *proj_outputs_dir(const struct proj *p);
const char *proj_state_dir(const struct proj *p); /* <project>/.daa */
bool proj_deleted(const struct proj *p);

/* Datasets in data/: [{name, file, path, format, bytes}] sorted by name
 * (new reference).  name = file without extension; path is absolute. */
json_t *proj_datasets(struct proj *p, struct proto_err *err);
/*
 * Copy src (absolute, readable regular file of a supported format) into
 * data/NAME.EXT (name: given or the file's stem), via a temp file + rename;
 * EXISTS when a dataset of that name exists and !overwrite; the result is
 * {name, file, bytes, format} (new reference).  In steps, so a big copy can
 * run in a child process:
 * begin (checks, reserves the name, opens a hidden temp file in data/),
 * copy (copy_file_range; 0 or an errno — safe to call in a forked child),
 * finish (rename into place; the result of proj_data_add) or abort.
 * begin fails with BUSY while another copy to the same name is under way.
 */
struct proj_data_job;
struct proj_data_job *proj_data_begin(struct proj *p, const char *src, const char *name,
				      bool overwrite, struct proto_err *err);
long long proj_data_job_size(const struct proj_data_job *job);
const char *proj_data_job_tmp(const struct proj_data_job *job);
int proj_data_copy(struct proj_data_job *job);
json_t *proj_data_finish(struct proj_data_job *job, int copy_errno, struct proto_err *err);

/* The format for a file name (csv, tsv, json, jsonl, xlsx, parquet), NULL if unsupported. */
const char *proj_format_of(const char *filename);

/* Conventions: {KEY: {value, source, why?, updated}} (borrowed; valid until the
 * next set/rm).  NULL only when the project was deleted. */
json_t *proj_conventions(struct proj *p);
/* Set KEY (a safe-ish key: 1..128 bytes, no control chars) to value (borrowed,
 * copied); source "user" | "agent" | "inferred"; why may be NULL.  Atomic. */
int proj_convention_set(struct proj *p, const char *key, const json_t *value,
			const char *source, const char *why, struct proto_err *err);
/* Remove KEY (NOT_FOUND when absent).  Atomic. */
int proj_convention_rm(struct proj *p, const char *key, struct proto_err *err);

/* History: number of steps (history/NNN_*.py; names and numbering are
 * daemon/project/history_name.h's). */
int proj_step_count(struct proj *p);
/* A persistent turn counter (.daa/turn): returns the next turn number (>= 1),
 * saved atomically, or -1 with err. */
int proj_turn_next(struct proj *p, struct proto_err *err);

#endif
