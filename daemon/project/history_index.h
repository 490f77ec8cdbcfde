/*
 * daemon/project/history_index.h — history.list served from memory: per project the
 * packed `steps` array of its last reply, kept until something under the
 * project's history/, outputs/plots/ or .daa/history.json changes
 * (inotify, read at every lookup — exact, no timing window).  Used by
 * daemon/rpc/m_history.c; the daemon's own writes need no hook (they raise
 * inotify events like any other writer).  DAA_HISTORY_INDEX=0 in the
 * environment turns it off (bench/fairness/ "before").
 */
#ifndef DAA_HISTORY_INDEX_H
#define DAA_HISTORY_INDEX_H

#include <stddef.h>

/* The cached packed steps array of the project (borrowed until the next
 * hidx_ call), or NULL: build it between hidx_begin and hidx_put. */
const char *hidx_get(const char *project_path, size_t *len);
/* Before building: watch the project's folders, forget older events. */
void hidx_begin(const char *project_path);
/* After building: keep a copy of bytes, unless something changed since
 * hidx_begin or a folder could not be watched. */
void hidx_put(const char *project_path, const char *bytes, size_t len);
/* The number of steps of the project: count(history_dir) when it is not
 * known or history/ changed since it was counted. */
int hidx_step_count(const char *project_path, int (*count)(const char *history_dir));

#endif
