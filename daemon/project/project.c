/*
 * daemon/project/project.c — projects on disk (daemon/project/project.h): lookup, creation,
 * deletion, listing, the folder layout, the step and turn counters.
 * Datasets live in project_data.c, conventions in project_conv.c; both use
 * the private struct below through daemon/project/project_int.h.
 *
 * Handles are cached for the daemon's lifetime and never freed before
 * proj_close_all(), so a pointer held by a callback never dangles: a deleted
 * project keeps its handle, marked deleted.
 */
#include "daemon/project/project.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon/core/config.h"
#include "daemon/core/fsutil.h"
#include "daemon/project/history_index.h"
#include "daemon/project/history_name.h"
#include "daemon/core/log.h"
#include "daemon/project/project_int.h"

#define PROJ_BUF (PATH_MAX + 64) /* a real path plus a suffix */

static struct proj *projs;

/* The data/ watch is a part of the project module itself. */
static void watch_close(struct proj *p, const struct proto_err *why)
{
	(void)why;
	proj_watch_remove(p);
}
static const struct proj_part_ops watch_ops = {
	.open = proj_watch_add,
	.close = watch_close,
};
static const struct proj_part_ops *parts[PROJ_PARTS] = {
	[PROJ_PART_WATCH] = &watch_ops,
};

/* Accessors. */
const char *proj_name(const struct proj *p) { return p->name; }
const char *proj_path(const struct proj *p) { return p->path; }
const char *proj_data_dir(const struct proj *p) { return p->data; }
const char *proj_history_dir(const struct proj *p) { return p->history; }
const char *proj_outputs_dir(const struct proj *p) { return p->outputs; }
const char *proj_state_dir(const struct proj *p) { return p->state; }
bool proj_deleted(const struct proj *p) { return p->deleted; }

/* NOT_FOUND for a deleted handle. */
int proj_check_alive(const struct proj *p, struct proto_err *err)
{
	if (!p->deleted)
		return 0;
	return proto_fail(err, PROTO_ERR_NOT_FOUND, "project '%s' was deleted", p->name);
}

/* Set a part's callbacks (its place in the order is its enum value). */
void proj_part_set(enum proj_part part, const struct proj_part_ops *ops)
{
	if ((unsigned)part < PROJ_PARTS)
		parts[part] = ops;
}

/* The typed slots of p. */
struct proj_slots *proj_slots(struct proj *p)
{
	return &p->slots;
}

/* The one open order: every part's open callback, first to last. */
static void proj_parts_open(struct proj *p)
{
	for (int i = 0; i < PROJ_PARTS; i++)
		if (parts[i] && parts[i]->open)
			parts[i]->open(p);
}

/* The one close order: every part's close callback, first to last. */
static void proj_parts_close(struct proj *p, const struct proto_err *why)
{
	for (int i = 0; i < PROJ_PARTS; i++)
		if (parts[i] && parts[i]->close)
			parts[i]->close(p, why);
}

/* Tell the parts that p's datasets or conventions changed. */
void proj_changed(struct proj *p)
{
	for (int i = 0; i < PROJ_PARTS; i++)
		if (parts[i] && parts[i]->changed)
			parts[i]->changed(p);
}

/* "a/b" joined, malloc'd. */
static char *proj_join(const char *a, const char *b)
{
	char *s = NULL;
	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

/* Free one handle. */
static void proj_free(struct proj *p)
{
	free(p->name);
	free(p->path);
	free(p->data);
	free(p->history);
	free(p->outputs);
	free(p->state);
	free(p->conv_file);
	if (p->conv)
		json_decref(p->conv);
	free(p);
}

/* Create the layout's folders and files that are missing. */
static int proj_ensure_layout(const char *path, struct proto_err *err)
{
	static const char *const dirs[] = {"data", "history", "outputs", "outputs/plots",
					   "outputs/tables", "outputs/models", ".daa", NULL};
	char buf[PATH_MAX];
	for (int i = 0; dirs[i]; i++) {
		if (fsu_path(buf, sizeof(buf), err, "%s/%s", path, dirs[i]) < 0)
			return -1;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return proto_fail(err, PROTO_ERR_IO, "cannot create %s: %s", buf,
					  strerror(errno));
	}
	if (fsu_path(buf, sizeof(buf), err, "%s/conventions.json", path) < 0)
		return -1;
	if (access(buf, F_OK) < 0 && fsu_write_atomic(buf, "{}\n", 3, err) < 0)
		return -1;
	return 0;
}

/* Is name an atomic write's temp file (fsutil: "<file>.tmp.<pid>")? */
static bool proj_is_atomic_temp(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	if (!t || t == name)
		return false;
	t += strlen(".tmp.");
	return *t && strspn(t, "0123456789") == strlen(t);
}

/* Remove temp files a killed daemon left in dir (names holding `marker`,
 * hidden ones for the ".part-" of data.add copies: a user's data/x.part-2.csv
 * stays; NULL: atomic-write temps only, so a user's file is never taken). */
static void proj_clean_temps(const char *dir, const char *marker)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		bool ours = marker ? strstr(de->d_name, marker) != NULL &&
					     (strcmp(marker, ".part-") || de->d_name[0] == '.')
				   : proj_is_atomic_temp(de->d_name);
		if (ours && unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_info("removed %s/%s, left by an interrupted write", dir, de->d_name);
	}
	if (d)
		closedir(d);
}

/* The next code point of a UTF-8 string (advancing *s), or -1 when the
 * bytes are not well-formed UTF-8 (overlong, surrogate, truncated). */
static long proj_utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	long cp;
	int n;
	if (p[0] < 0x80)
		cp = p[0], n = 0;
	else if ((p[0] & 0xe0) == 0xc0)
		cp = p[0] & 0x1f, n = 1;
	else if ((p[0] & 0xf0) == 0xe0)
		cp = p[0] & 0x0f, n = 2;
	else if ((p[0] & 0xf8) == 0xf0)
		cp = p[0] & 0x07, n = 3;
	else
		return -1;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	static const long min[] = {0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*s = p + n + 1;
	return cp;
}

/* Is cp a control (Cc), format (Cf: bidi overrides and isolates, zero-width
 * characters, BOM, tags...), line/paragraph separator, filler, private-use
 * or noncharacter: anything that can hide or reorder what a terminal shows? */
static bool proj_cp_hidden(long cp)
{
	static const long ranges[][2] = {
		{0x00, 0x1f},       {0x7f, 0x9f},       {0xad, 0xad},       {0x34f, 0x34f},
		{0x61c, 0x61c},     {0x600, 0x605},     {0x6dd, 0x6dd},     {0x70f, 0x70f},
		{0x890, 0x891},     {0x8e2, 0x8e2},     {0x115f, 0x1160},   {0x17b4, 0x17b5},
		{0x180b, 0x180f},   {0x200b, 0x200f},   {0x2028, 0x202e},   {0x2060, 0x206f},
		{0x3164, 0x3164},   {0xe000, 0xf8ff},   {0xfeff, 0xfeff},   {0xffa0, 0xffa0},
		{0xfff0, 0xfffb},   {0xfffe, 0xffff},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
		{0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe0fff},
		{0xf0000, 0x10ffff}};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

/* fsu_name_check, and the name is well-formed UTF-8 with no control or
 * format character (a bidi override in a name shown by `daa project list`
 * or the tray can make it read as something else). */
int proj_name_check(const char *name, const char *what, struct proto_err *err)
{
	if (fsu_name_check(name, what, err) < 0)
		return -1;
	const unsigned char *s = (const unsigned char *)name;
	while (*s) {
		long cp = proj_utf8_next(&s);
		if (cp < 0)
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "invalid %s: it is not valid UTF-8", what);
		if (proj_cp_hidden(cp))
			return proto_fail(err, PROTO_ERR_BAD_INPUT,
					  "invalid %s: it holds the invisible or control character "
					  "U+%04lX (bidi overrides, zero-width and format characters "
					  "are refused)", what, (unsigned long)cp);
	}
	return 0;
}

/* A new handle for the project folder at real path rp. */
static struct proj *proj_open(const char *name, const char *rp, struct proto_err *err)
{
	if (proj_ensure_layout(rp, err) < 0)
		return NULL;
	struct proj *p = calloc(1, sizeof(*p));
	if (!p) {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	p->name = strdup(name);
	p->path = strdup(rp);
	p->data = proj_join(rp, "data");
	p->history = proj_join(rp, "history");
	p->outputs = proj_join(rp, "outputs");
	p->state = proj_join(rp, ".daa");
	p->conv_file = proj_join(rp, "conventions.json");
	if (!p->name || !p->path || !p->data || !p->history || !p->outputs || !p->state ||
	    !p->conv_file) {
		proj_free(p);
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	/* Only this daemon writes here, so leftovers are from a killed one. */
	proj_clean_temps(p->path, ".tmp.");
	proj_clean_temps(p->state, ".tmp.");
	proj_clean_temps(p->data, ".part-");
	proj_clean_temps(p->history, NULL);
	char sub[PROJ_BUF];
	if (snprintf(sub, sizeof sub, "%s/profiles", p->state) < (int)sizeof sub)
		proj_clean_temps(sub, NULL);
	p->next = projs;
	projs = p;
	proj_parts_open(p);
	log_debug("project %s opened (%s)", p->name, p->path);
	return p;
}

/* The cached live handle of real path rp, or NULL. */
static struct proj *proj_cached(const char *rp)
{
	for (struct proj *p = projs; p; p = p->next)
		if (!p->deleted && !strcmp(p->path, rp))
			return p;
	return NULL;
}

/* Does folder rp look like a project (data/ or conventions.json)? */
static bool proj_looks_like(const char *rp)
{
	char buf[PROJ_BUF];
	struct stat st;
	snprintf(buf, sizeof(buf), "%s/data", rp);
	if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	snprintf(buf, sizeof(buf), "%s/conventions.json", rp);
	return stat(buf, &st) == 0;
}

/* A project by absolute folder path. */
static struct proj *proj_get_path(const char *path, struct proto_err *err)
{
	char rp[PATH_MAX];
	struct stat st;
	if (!realpath(path, rp) || stat(rp, &st) < 0 || !S_ISDIR(st.st_mode)) {
		proto_fail(err, PROTO_ERR_NOT_FOUND, "no project folder at %s", path);
		return NULL;
	}
	struct proj *p = proj_cached(rp);
	if (p)
		return p;
	if (!proj_looks_like(rp)) {
		proto_fail(err, PROTO_ERR_NOT_FOUND,
			   "%s is not a daa project (no data/ folder): create one with "
			   "`daa project new NAME --dir PARENT`", rp);
		return NULL;
	}
	const char *base = strrchr(rp, '/');
	base = base && base[1] ? base + 1 : rp;
	if (proj_name_check(base, "project folder name", err) < 0)
		return NULL;
	return proj_open(base, rp, err);
}

/* A project by name (the default one is created on demand). */
struct proj *proj_get(const char *name_or_path, struct proto_err *err)
{
	const struct daa_config *cfg = config_get();
	const char *name = name_or_path && *name_or_path ? name_or_path : cfg->default_project;
	if (name[0] == '/')
		return proj_get_path(name, err);
	if (proj_name_check(name, "project name", err) < 0)
		return NULL;
	char link[PATH_MAX], rp[PATH_MAX];
	if (fsu_path(link, sizeof(link), err, "%s/%s", cfg->data_dir, name) < 0)
		return NULL;
	if (!realpath(link, rp)) {
		if (strcmp(name, cfg->default_project) != 0) {
			proto_fail(err, PROTO_ERR_NOT_FOUND,
				   "no project named '%s' (see `daa project list`; create it with "
				   "`daa project new %s`)", name, name);
			return NULL;
		}
		return proj_create(name, NULL, err);
	}
	struct proj *p = proj_cached(rp);
	return p ? p : proj_open(name, rp, err);
}

/* Create a project folder and register it. */
struct proj *proj_create(const char *name, const char *parent_dir, struct proto_err *err)
{
	const struct daa_config *cfg = config_get();
	char link[PATH_MAX], target[PATH_MAX], rp[PATH_MAX];
	struct stat st;
	if (proj_name_check(name, "project name", err) < 0 ||
	    fsu_mkdir_p(cfg->data_dir, 0755, err) < 0 ||
	    fsu_path(link, sizeof(link), err, "%s/%s", cfg->data_dir, name) < 0)
		return NULL;
	if (lstat(link, &st) == 0) {
		proto_fail(err, PROTO_ERR_EXISTS, "a project named '%s' already exists", name);
		return NULL;
	}
	if (parent_dir) {
		if (parent_dir[0] != '/' || !realpath(parent_dir, rp) || stat(rp, &st) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			proto_fail(err, PROTO_ERR_BAD_INPUT,
				   "dir must be an existing folder given by its absolute path (got %s)",
				   parent_dir);
			return NULL;
		}
		if (fsu_path(target, sizeof(target), err, "%s/%s", rp, name) < 0)
			return NULL;
	} else {
		snprintf(target, sizeof(target), "%s", link);
	}
	if (mkdir(target, 0755) < 0) {
		proto_fail(err, errno == EEXIST ? PROTO_ERR_EXISTS : PROTO_ERR_IO,
			   "cannot create the project folder %s: %s", target,
			   errno == EEXIST ? "it already exists" : strerror(errno));
		return NULL;
	}
	if (parent_dir && symlink(target, link) < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot register %s as %s: %s", target, link,
			   strerror(errno));
		rmdir(target);
		return NULL;
	}
	if (proj_ensure_layout(target, err) < 0 || !realpath(target, rp))
		return NULL;
	fsu_fsync_dir(cfg->data_dir);
	log_info("project %s created at %s", name, rp);
	return proj_open(name, rp, err);
}

/* Is p registered by a symlink in data_dir (created with a chosen dir)? */
static bool proj_is_linked(const struct proj *p, char *link, size_t size)
{
	struct stat st;
	snprintf(link, size, "%s/%s", config_get()->data_dir, p->name);
	return lstat(link, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Delete a project (files only when it lives under data_dir). */
int proj_delete(struct proj *p, bool *files_removed, struct proto_err *err)
{
	char link[PATH_MAX], trash[PATH_MAX], rp[PATH_MAX];
	*files_removed = false;
	if (proj_check_alive(p, err) < 0)
		return -1;
	struct proto_err why;
	proto_fail(&why, PROTO_ERR_NOT_FOUND, "the project was closed");
	proj_parts_close(p, &why);
	if (proj_is_linked(p, link, sizeof(link))) {
		if (unlink(link) < 0)
			return proto_fail(err, PROTO_ERR_IO, "cannot unregister %s: %s", link,
					  strerror(errno));
	} else if (realpath(link, rp) && !strcmp(rp, p->path)) {
		/* Move it out of sight first: a crash mid-removal leaves a hidden
		 * folder, never a half-deleted project. */
		if (fsu_path(trash, sizeof(trash), err, "%s/.deleted-%s-%d", config_get()->data_dir,
			     p->name, (int)getpid()) < 0)
			return -1;
		if (rename(p->path, trash) < 0)
			return proto_fail(err, PROTO_ERR_IO, "cannot delete %s: %s", p->path,
					  strerror(errno));
		fsu_fsync_dir(config_get()->data_dir);
		if (fsu_rm_rf(trash, err) < 0)
			log_warn("project %s: %s", p->name, err->msg);
		*files_removed = true;
	}
	p->deleted = true;
	log_info("project %s deleted%s", p->name, *files_removed ? " with its files" : "");
	return 0;
}

/* Count directory entries accepted by pred. */
static int proj_count(const char *dir, bool (*pred)(const char *name))
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += pred(de->d_name);
	closedir(d);
	return n;
}

/* Is name a history step? */
static bool proj_is_step(const char *name)
{
	return hist_step_number(name) >= 0; /* daemon/project/history_name.c */
}

/* Is name a dataset file? */
static bool proj_is_dataset(const char *name)
{
	return name[0] != '.' && proj_format_of(name) != NULL;
}

/* The steps in a history/ folder (hidx_step_count counts through this). */
static int proj_count_steps(const char *history_dir)
{
	return proj_count(history_dir, proj_is_step);
}

/* Number of history steps (kept by daemon/project/history_index.c). */
int proj_step_count(struct proj *p)
{
	return hidx_step_count(p->path, proj_count_steps);
}

/* Next turn number, persisted in .daa/turn. */
int proj_turn_next(struct proj *p, struct proto_err *err)
{
	char path[PATH_MAX], buf[32];
	if (proj_check_alive(p, err) < 0 ||
	    fsu_path(path, sizeof(path), err, "%s/turn", p->state) < 0)
		return -1;
	struct proto_err e2 = {0};
	char *s = fsu_read_file(path, 64, NULL, &e2);
	long n = s ? strtol(s, NULL, 10) : 0;
	free(s);
	if (n < 0 || n > 1000000000)
		n = 0;
	int len = snprintf(buf, sizeof(buf), "%ld\n", n + 1);
	if (fsu_write_atomic(path, buf, (size_t)len, err) < 0)
		return -1;
	return (int)(n + 1);
}

/* One row of project.list. */
static json_t *proj_list_row(const char *name, const char *rp)
{
	char data[PROJ_BUF];
	snprintf(data, sizeof(data), "%s/data", rp);
	return json_pack("{s:s, s:s, s:i, s:i}", "name", name, "path", rp, "datasets",
			 proj_count(data, proj_is_dataset), "steps", hidx_step_count(rp, proj_count_steps));
}

/* Compare two list rows by name. */
static int proj_row_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "name")),
		      json_string_value(json_object_get(y, "name")));
}

/* Every registered project under data_dir, sorted by name. */
json_t *proj_list(struct proto_err *err)
{
	const char *root = config_get()->data_dir;
	json_t *arr = json_array();
	DIR *d = opendir(root);
	if (!d && errno != ENOENT) {
		json_decref(arr);
		proto_fail(err, PROTO_ERR_IO, "cannot list %s: %s", root, strerror(errno));
		return NULL;
	}
	struct dirent *de;
	char path[PATH_MAX], rp[PATH_MAX];
	struct stat st;
	while (d && (de = readdir(d))) {
		struct proto_err skip = {0};
		if (proj_name_check(de->d_name, "project name", &skip) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		if (!realpath(path, rp) || stat(rp, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		json_array_append_new(arr, proj_list_row(de->d_name, rp));
	}
	if (d)
		closedir(d);
	size_t n = json_array_size(arr);
	json_t **rows = calloc(n ? n : 1, sizeof(*rows));
	for (size_t i = 0; rows && i < n; i++)
		rows[i] = json_incref(json_array_get(arr, i));
	if (rows) {
		qsort(rows, n, sizeof(*rows), proj_row_cmp);
		json_array_clear(arr);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, rows[i]);
		free(rows);
	}
	return arr;
}

/* The data.add temp files a killed daemon left in the data/ of the
 * registered project link (or folder) name under root. */
static void proj_clean_copy_temps(const char *root, const char *name)
{
	char path[PATH_MAX], rp[PATH_MAX], data[PROJ_BUF];
	struct proto_err skip = {0};
	if (proj_name_check(name, "project name", &skip) < 0 ||
	    fsu_path(path, sizeof(path), &skip, "%s/%s", root, name) < 0 || !realpath(path, rp))
		return;
	snprintf(data, sizeof(data), "%s/data", rp);
	proj_clean_temps(data, ".part-");
}

/* Finish deletions a killed daemon left half-done (data_dir/.deleted-*) and
 * remove the dataset copies it left (data/.NAME.part-*: a copying child that
 * outlived it, or one whose rename never came).  Called once at start-up,
 * after the socket lock is held. */
void proj_startup_cleanup(void)
{
	const char *root = config_get()->data_dir;
	DIR *d = opendir(root);
	struct dirent *de;
	char path[PATH_MAX];
	struct proto_err err = {0};
	while (d && (de = readdir(d))) {
		proj_clean_copy_temps(root, de->d_name);
		if (strncmp(de->d_name, ".deleted-", 9) ||
		    fsu_path(path, sizeof(path), &err, "%s/%s", root, de->d_name) < 0)
			continue;
		if (fsu_rm_rf(path, &err) == 0)
			log_info("finished deleting %s", path);
		else
			log_warn("%s", err.msg);
	}
	if (d)
		closedir(d);
}

/* Names of the open projects. */
json_t *proj_open_names(void)
{
	json_t *arr = json_array();
	for (struct proj *p = projs; p; p = p->next)
		if (!p->deleted)
			json_array_append_new(arr, json_string(p->name));
	return arr;
}

/* Shutdown: every open project closes in the one close order. */
void proj_close_open(const struct proto_err *why)
{
	for (struct proj *p = projs; p; p = p->next)
		if (!p->deleted)
			proj_parts_close(p, why);
}

/* Free every handle. */
void proj_close_all(void)
{
	while (projs) {
		struct proj *p = projs;
		projs = p->next;
		proj_free(p);
	}
	for (int i = 0; i < PROJ_PARTS; i++)
		parts[i] = i == PROJ_PART_WATCH ? &watch_ops : NULL;
}
