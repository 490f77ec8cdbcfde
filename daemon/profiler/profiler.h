/*
 * daemon/profiler/profiler.h — dataset profiles, made once and kept.
 *
 * A profile is made in the project's kernel (the runtime's `profile` request
 * with `summary: true`, sandbox/KERNEL.md): the light profile the agent's
 * context is built from (schema, samples, hints for conventions) plus the
 * daa_tools summary (inferred types, warnings, correlations) and its HTML
 * report in outputs/reports/.  It is cached by the file's content:
 *
 *   .daa/profiles/<sha256 of the file>-<dataset>.json
 *                            {version, sha256, load_key, dataset, file, bytes,
 *                             created, profile, summary | summary_error}
 *   .daa/profiles.json      {version, files: {FILE: {bytes, mtime_ns, sha256}}}
 *
 * The index only saves re-hashing an unchanged file; the entry is valid
 * while the loading conventions (separator, dates, thousands, ...) it was
 * made with are the project's current ones (load_key).  Both are rewritten
 * atomically.  Adding a dataset (the project change callback) profiles it in the
 * background; a turn or `profile.run` that needs a profile under way waits
 * for it rather than starting a second one.  Finished or failed background
 * work is announced to the project's subscribers as `data.event`.
 */
#ifndef DAA_PROFILER_H
#define DAA_PROFILER_H

#include <jansson.h>
#include <stdbool.h>
#include "daemon/core/loop.h"
#include "protocol/proto.h"

struct proj;

/* entry: the cache entry (borrowed for the call; `fresh: true` when it was
 * made for this request rather than read), or NULL and err (code:
 * CANCELLED when interrupted, BAD_INPUT for a Python error on that data,
 * KERNEL/SANDBOX from the kernel, IO for the file, NOT_FOUND). */
typedef void (*prof_cb)(void *ud, const json_t *entry, const struct proto_err *err);

/* Register the profiler as a project part (close and change callbacks).
 * Never fails the daemon. */
int prof_init(struct loop *l);
/* Drop every job (callbacks do not fire) and free everything. */
void prof_shutdown(void);

/* The profile of the dataset `name` of p: from the cache, or made now.  cb
 * fires from the loop, never inside this call (cb NULL: background work).
 * refresh: make it again even when cached.  -1 with err (NOT_FOUND for an
 * unknown dataset) and cb never fires. */
int prof_get(struct proj *p, const char *name, bool refresh, prof_cb cb, void *ud,
	     struct proto_err *err);
/* The callbacks with this ud will not fire (their jobs go on). */
void prof_forget(void *ud);
/* For data.list: {state: "ready" | "running" | "failed" | "none", rows?,
 * n_columns?, warnings?: N, report?, error?} of a dataset {name, file, path}
 * (new reference).  Never hashes or starts anything. */
json_t *prof_status(struct proj *p, const json_t *ds);
/* Write <project>/.daa/view/NAME.html, the page that shows the kernel-made
 * report `rel` (outputs/reports/NAME.html) sandboxed and without network
 * (daemon/profiler/profiler_view.c); its absolute path (malloc'd), or NULL with err. */
char *prof_view_write(const char *project, const char *rel, struct proto_err *err);

#endif
