/*
 * daemon/profiler/profiler_int.h — shared between profiler.c (jobs) and
 * profiler_store.c (the cache on disk).  Not for other modules.
 */
#ifndef DAA_PROFILER_INT_H
#define DAA_PROFILER_INT_H

#include <jansson.h>
#include <stdbool.h>

#define PROF_ENTRY_VERSION 1

struct proj;

char *prof_load_key(struct proj *p);
/* The load key `key` as it bears on the dataset `profile` describes: the
 * conventions naming columns (date_column/date_columns as one set "dates",
 * date_format per column, id_columns, numeric_columns) narrowed to its
 * columns, sorted; dayfirst and date_format dropped where unused
 * (datasets.py).  Malloc'd; key itself when the profile lists no columns. */
char *prof_key_for(const char *key, const json_t *profile);
json_t *prof_index_load(const char *project);
void prof_index_save(const char *project, const json_t *files);
json_t *prof_entry_load(const char *project, const char *sha, const char *name);
int prof_entry_save(const char *project, const char *sha, const char *name,
		    const json_t *entry);
bool prof_entry_fits(const json_t *entry, const char *name, const char *load_key);
int prof_stat(const char *path, long long *bytes, long long *mtime_ns);
const char *prof_index_sha(const json_t *files, const char *file, long long bytes,
			   long long mtime_ns);
json_t *prof_entry_brief(const json_t *entry);
/* profiler_check.c: {profile, summary | summary_error} of a kernel reply,
 * shapes checked and sizes bounded (new reference), or NULL when it is not
 * a profile or too big.  The report path is kept only when it passes
 * prof_report_path_ok. */
json_t *prof_reply_checked(const json_t *reply, const char *dataset);
bool prof_report_path_ok(const char *rel);

#endif
