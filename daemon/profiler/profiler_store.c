/*
 * daemon/profiler/profiler_store.c — the profile cache on disk (daemon/profiler/profiler.h):
 * the per-project index .daa/profiles.json (file → size, mtime, content
 * hash) and the entries .daa/profiles/<sha256>-<dataset>.json, both rewritten
 * atomically; the load key that says which conventions an entry was made
 * with (narrowed to what they change in that dataset: a convention saved
 * that does not change how it loads, such as date_columns repeating
 * date_column or a column of another dataset, keeps its profile); and the
 * status data.list shows.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "daemon/core/fsutil.h"
#include "daemon/core/log.h"
#include "daemon/profiler/profiler_int.h"
#include "daemon/project/project.h"

#define INDEX_VERSION 2
#define ENTRY_MAX (64u << 20)

/* The conventions that change how a dataset file is read (datasets.py). */
static const char *const load_conventions[] = {
	"csv_separator", "date_column", "date_columns", "date_format", "dayfirst",
	"decimal_separator", "encoding", "id_columns", "na_values", "numeric_columns",
	"sheet", "thousands_separator", NULL};

/* A stable text of the project's loading conventions (malloc'd). */
char *prof_load_key(struct proj *p)
{
	json_t *conv = proj_conventions(p), *key = json_object();
	for (int i = 0; key && load_conventions[i]; i++) {
		json_t *c = json_object_get(conv, load_conventions[i]);
		json_t *v = json_is_object(c) ? json_object_get(c, "value") : NULL;
		if (v)
			json_object_set(key, load_conventions[i], v);
	}
	char *s = key ? json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(key); /* conv is borrowed */
	return s ? s : strdup("{}");
}

/* Add the names in v (a name, a list of names, or nothing) that are keys of
 * cols to the set `out` ({name: true}); false when an item is not a text,
 * whose meaning the key then keeps as it is. */
static bool add_columns(json_t *out, const json_t *v, const json_t *cols)
{
	size_t i;
	const json_t *x;
	if (!v || json_is_null(v))
		return true;
	if (json_is_string(v)) {
		if (json_object_get(cols, json_string_value(v)))
			json_object_set_new(out, json_string_value(v), json_true());
		return true;
	}
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, x)
		if (!json_is_string(x))
			return false;
	json_array_foreach(v, i, x)
		if (json_object_get(cols, json_string_value(x)))
			json_object_set_new(out, json_string_value(x), json_true());
	return true;
}

/* Replace the conventions `keys` (NULL-ended) in k by one set `as` of the
 * columns of cols they name (dropped when none); false when left as they
 * were (an item that is not a text). */
static bool narrow_names(json_t *k, const char *const *keys, const char *as, const json_t *cols)
{
	json_t *set = json_object();
	bool ok = set != NULL;
	for (int i = 0; ok && keys[i]; i++)
		ok = add_columns(set, json_object_get(k, keys[i]), cols);
	for (int i = 0; ok && keys[i]; i++)
		json_object_del(k, keys[i]);
	if (ok && json_object_size(set))
		json_object_set(k, as, set);
	json_decref(set);
	return ok;
}

/* The date conventions of k as datasets._fix_dates reads them for this
 * dataset: date_column and date_columns as one set of its columns; the
 * per-column formats of those only; dayfirst only when a date has no format. */
static void narrow_dates(json_t *k, const json_t *cols)
{
	static const char *const names[] = {"date_column", "date_columns", NULL};
	if (!narrow_names(k, names, "dates", cols))
		return;
	json_t *dates = json_object_get(k, "dates"), *fmt = json_object_get(k, "date_format");
	const char *d;
	void *tmp;
	json_t *v;
	bool all = json_is_string(fmt) && json_string_length(fmt) > 0;
	if (json_is_object(fmt)) {
		all = true;
		json_object_foreach_safe(fmt, tmp, d, v)
			if (!json_object_get(dates, d))
				json_object_del(fmt, d);
		json_object_foreach(dates, d, v)
			all = all && json_string_length(json_object_get(fmt, d)) > 0;
		if (!json_object_size(fmt))
			json_object_del(k, "date_format");
	}
	if (!dates)
		json_object_del(k, "date_format");
	if (!dates || all)
		json_object_del(k, "dayfirst");
}

char *prof_key_for(const char *key, const json_t *profile)
{
	static const char *const ids[] = {"id_columns", NULL}, *const nums[] = {"numeric_columns", NULL};
	json_t *k = json_loads(key, 0, NULL), *cols = json_object(), *c;
	size_t i;
	char *out = NULL;
	json_array_foreach(json_object_get(profile, "columns"), i, c)
		if (json_is_string(json_object_get(c, "name")))
			json_object_set_new(cols, json_string_value(json_object_get(c, "name")), json_true());
	if (json_is_object(k) && json_object_size(cols)) {
		narrow_dates(k, cols);
		narrow_names(k, ids, "id_columns", cols);
		narrow_names(k, nums, "numeric_columns", cols);
		out = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	}
	json_decref(k);
	json_decref(cols);
	return out ? out : strdup(key);
}

/* path of .daa/profiles.json, or of .daa/profiles/<sha>-<name>.json when sha. */
static int store_path(char *buf, size_t size, const char *project, const char *sha,
		      const char *name)
{
	struct proto_err err;
	if (sha)
		return fsu_path(buf, size, &err, "%s/.daa/profiles/%s-%s.json", project, sha, name);
	return fsu_path(buf, size, &err, "%s/.daa/profiles.json", project);
}

/* Read the project's index ({} when missing or from an older version). */
json_t *prof_index_load(const char *project)
{
	char path[4096];
	json_t *doc = store_path(path, sizeof path, project, NULL, NULL) == 0 ?
			      json_load_file(path, 0, NULL) : NULL;
	json_t *files = json_object_get(doc, "files");
	json_t *out = json_integer_value(json_object_get(doc, "version")) == INDEX_VERSION &&
				      json_is_object(files) ? json_incref(files) : json_object();
	json_decref(doc);
	return out;
}

/* Remove entries no file of the index refers to any more. */
static void prune_entries(const char *project, const json_t *files)
{
	char dir[4096], path[4400];
	struct proto_err err;
	if (fsu_path(dir, sizeof dir, &err, "%s/.daa/profiles", project) < 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 71 || e->d_name[64] != '-' || strcmp(e->d_name + n - 5, ".json") != 0)
			continue; /* only <64 hex>-<name>.json are ours */
		bool used = false;
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)files, k, v)
			used |= strncmp(json_string_value(json_object_get(v, "sha256")) ?: "",
					e->d_name, 64) == 0;
		if (!used && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
			unlink(path);
	}
	if (d)
		closedir(d);
}

/* Rewrite the index atomically and drop entries nothing refers to. */
void prof_index_save(const char *project, const json_t *files)
{
	char path[4096];
	struct proto_err err = {0};
	json_t *doc = json_pack("{s:i, s:O}", "version", INDEX_VERSION, "files", files);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!text || store_path(path, sizeof path, project, NULL, NULL) < 0 ||
	    fsu_write_atomic(path, text, strlen(text), &err) < 0)
		log_warn("profiles: %s: index not saved: %s", project, err.msg[0] ? err.msg : "?");
	else
		prune_entries(project, files);
	free(text);
	json_decref(doc);
}

/* The entry for (sha, dataset name) when whole and of this version (new reference). */
json_t *prof_entry_load(const char *project, const char *sha, const char *name)
{
	char path[4096];
	struct proto_err err;
	size_t len;
	char *text;
	if (store_path(path, sizeof path, project, sha, name) < 0 ||
	    !(text = fsu_read_file(path, ENTRY_MAX, &len, &err)))
		return NULL;
	json_t *e = json_loadb(text, len, 0, NULL);
	free(text);
	if (json_integer_value(json_object_get(e, "version")) != PROF_ENTRY_VERSION ||
	    !json_is_object(json_object_get(e, "profile"))) {
		json_decref(e);
		return NULL;
	}
	return e;
}

/* Write an entry atomically (creating .daa/profiles/). */
int prof_entry_save(const char *project, const char *sha, const char *name,
		    const json_t *entry)
{
	char path[4096];
	struct proto_err err = {0};
	char *text = json_dumps(entry, JSON_COMPACT);
	int rc = -1;
	if (text && fsu_path(path, sizeof path, &err, "%s/.daa/profiles", project) == 0 &&
	    fsu_mkdir_p(path, 0700, &err) == 0 &&
	    store_path(path, sizeof path, project, sha, name) == 0)
		rc = fsu_write_atomic(path, text, strlen(text), &err);
	if (rc < 0)
		log_warn("profiles: %s: entry not saved: %s", project, err.msg[0] ? err.msg : "?");
	free(text);
	return rc;
}

/* Does the entry fit this dataset under these loading conventions (as
 * they bear on its columns: prof_key_for)? */
bool prof_entry_fits(const json_t *entry, const char *name, const char *load_key)
{
	const json_t *prof = json_object_get(entry, "profile");
	if (!entry || !json_is_object(prof) ||
	    strcmp(json_string_value(json_object_get(entry, "dataset")) ?: "", name) != 0)
		return false;
	char *key = prof_key_for(load_key, prof);
	bool fits = key && strcmp(json_string_value(json_object_get(entry, "load_key")) ?: "", key) == 0;
	free(key);
	return fits;
}

/* The file's size and mtime (ns); -1 when it cannot be stat'ed. */
int prof_stat(const char *path, long long *bytes, long long *mtime_ns)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	*bytes = (long long)st.st_size;
	*mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	return 0;
}

/* The content hash the index knows for file when its size and mtime match. */
const char *prof_index_sha(const json_t *files, const char *file, long long bytes,
			   long long mtime_ns)
{
	const json_t *f = json_object_get(files, file);
	if (json_integer_value(json_object_get(f, "bytes")) != bytes ||
	    json_integer_value(json_object_get(f, "mtime_ns")) != mtime_ns)
		return NULL;
	const char *sha = json_string_value(json_object_get(f, "sha256"));
	return sha && strlen(sha) == 64 ? sha : NULL;
}

/* The short form of an entry for data.list / data.event (new reference). */
json_t *prof_entry_brief(const json_t *entry)
{
	const json_t *s = json_object_get(entry, "summary"), *lp = json_object_get(entry, "profile");
	json_t *b = json_pack("{s:s}", "state", "ready");
	if (!b)
		return NULL;
	json_object_set(b, "rows", json_object_get(s ? s : lp, "rows") ?: json_null());
	json_object_set_new(b, "n_columns", json_integer(s ? json_integer_value(json_object_get(
		s, "n_columns")) : (json_int_t)json_array_size(json_object_get(lp, "columns"))));
	if (s) {
		json_object_set_new(b, "warnings", json_integer((json_int_t)json_array_size(
			json_object_get(s, "warnings"))));
		json_object_set(b, "report", json_object_get(s, "report") ?: json_null());
	} else if (json_object_get(entry, "summary_error")) {
		json_object_set(b, "summary_error", json_object_get(entry, "summary_error"));
	}
	return b;
}
