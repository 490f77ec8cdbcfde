/*
 * daemon/rpc/m_memory.c — log.tail and summary.get: the project's memory as the
 * agent writes it (llm_log_YYYY-MM-DD.jsonl, llm_summary.md; agent_mem.c),
 * read through the daemon so clients never open project files themselves.
 * Read-only; sizes are capped so a huge log cannot exhaust the daemon.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/fsutil.h"
#include "daemon/history/history.h"
#include "daemon/kernel/kernel.h"
#include "daemon/project/project.h"
#include "daemon/core/rpc.h"
#include "daemon/core/strbuf.h"

#define MEM_READ_MAX (64u << 20)    /* bytes read of one log file */
#define MEM_SUMMARY_MAX (4u << 20)  /* bytes of llm_summary.md returned (the newest) */
#define MEM_LOG_DEFAULT 20
#define MEM_LOG_CAP 500
#define MEM_LOG_FILES 400           /* days looked at, newest first */
#define MEM_NOW_LINE 160            /* bytes of a step's last output shown in `now` */
#define MEM_NOW_MAX (256u << 10)    /* bytes of the whole `now` section */

static const struct proto_field tail_params[] = {
	{"project", PROTO_T_STR, false}, {"n", PROTO_T_UINT, false}, {NULL, PROTO_T_ANY, false}};
static const struct proto_field summary_params[] = {
	{"project", PROTO_T_STR, false}, {NULL, PROTO_T_ANY, false}};

/* qsort: file names newest first (llm_log_YYYY-MM-DD sorts by date). */
static int name_desc(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* The project's llm_log_*.jsonl names, newest first (caller frees). */
static char **log_files(const char *dir, size_t *count)
{
	char **names = calloc(MEM_LOG_FILES, sizeof *names);
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (names && d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (strncmp(de->d_name, "llm_log_", 8) || len < 14 ||
		    strcmp(de->d_name + len - 6, ".jsonl"))
			continue;
		if (n == MEM_LOG_FILES) { /* keep the newest names */
			qsort(names, n, sizeof *names, name_desc);
			if (strcmp(de->d_name, names[n - 1]) < 0)
				continue;
			free(names[--n]);
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	if (d)
		closedir(d);
	if (names)
		qsort(names, n, sizeof *names, name_desc);
	*count = n;
	return names;
}

/* Prepend the last entries of one file to out (oldest first), up to n in all. */
static void log_read_file(const char *path, json_t *out, size_t n)
{
	struct proto_err err;
	char *data = fsu_read_file(path, MEM_READ_MAX, NULL, &err), *line, *save = NULL;
	if (!data)
		return;
	json_t *entries = json_array();
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *e = json_loads(line, 0, NULL);
		if (json_is_object(e))
			json_array_append_new(entries, e);
		else
			json_decref(e); /* a torn last line of a killed daemon */
		while (json_array_size(entries) > n)
			json_array_remove(entries, 0);
	}
	free(data);
	size_t have = json_array_size(out);
	for (size_t i = json_array_size(entries); i > 0 && have < n; i--, have++)
		json_array_insert(out, 0, json_array_get(entries, i - 1));
	json_decref(entries);
}

/* The last n model calls of the project, oldest first. */
static json_t *log_tail(struct proj *p, size_t n)
{
	json_t *out = json_array();
	size_t count = 0;
	char **names = log_files(proj_path(p), &count);
	char path[4096];
	struct proto_err err;
	for (size_t i = 0; i < count; i++) {
		if (json_array_size(out) < n &&
		    fsu_path(path, sizeof path, &err, "%s/%s", proj_path(p), names[i]) == 0)
			log_read_file(path, out, n);
		free(names[i]);
	}
	free(names);
	return out;
}

/* log.tail {project?, n?} → {entries, project, project_path}. */
static json_t *m_log_tail(struct rpc_req *req)
{
	struct proj *p = req->proj;
	size_t n = req->args[1].present ? (size_t)req->args[1].u : MEM_LOG_DEFAULT;
	if (n > MEM_LOG_CAP)
		n = MEM_LOG_CAP;
	json_t *entries = n ? log_tail(p, n) : json_array();
	return json_pack("{s:o, s:o, s:o}", "entries", entries, "project", rpc_str(proj_name(p)),
			 "project_path", rpc_str(proj_path(p)));
}
RPC_METHOD_PROJECT(log_tail, "log.tail", tail_params, m_log_tail,
		   "the project's last model calls (llm_log_*.jsonl)");

/* The first non-blank line of text, at most MEM_NOW_LINE bytes (whole UTF-8). */
static size_t first_line(const char *text, const char **start)
{
	while (*text == '\n' || *text == ' ' || *text == '\r')
		text++;
	size_t n = strcspn(text, "\r\n");
	if (n > MEM_NOW_LINE) {
		n = MEM_NOW_LINE;
		while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;
	}
	*start = text;
	return n;
}

/* One line of the `now` section: "- `FILE`: STATUS — first output line". */
static void now_line(struct strbuf *b, const json_t *step, const json_t *state)
{
	const char *file = json_string_value(json_object_get(step, "file"));
	const json_t *e = json_object_get(state, json_string_value(json_object_get(step, "stem")));
	const char *status = json_string_value(json_object_get(e, "status"));
	const char *out = json_string_value(json_object_get(e, "stdout"));
	const char *err = json_string_value(json_object_get(e, "error"));
	const char *what = err && *err ? err : out, *line = "";
	size_t n = what ? first_line(what, &line) : 0;
	char head[600];
	int k = snprintf(head, sizeof head, "- `%s`: %s%s", file ? file : "?", status ? status : "not run since saved",
			 n ? " — " : "");
	strbuf_add(b, head, k > 0 ? (size_t)k < sizeof head ? (size_t)k : sizeof head - 1 : 0, MEM_NOW_MAX);
	strbuf_add(b, line, n, MEM_NOW_MAX);
	strbuf_add(b, "\n", 1, MEM_NOW_MAX);
}

/* The steps as they are now (history/ and .daa/history.json, read when
 * asked): the recap is written once per turn, so an edit or a re-run made
 * later shows here, not there.  NULL when the project has no step. */
static char *steps_now(const char *project_path)
{
	struct proto_err err;
	json_t *steps = hist_steps(project_path, &err), *st;
	if (!steps || !json_array_size(steps)) {
		json_decref(steps);
		return NULL;
	}
	json_t *state = hist_state_load(project_path);
	struct strbuf b = {0};
	size_t i;
	json_array_foreach(steps, i, st)
		now_line(&b, st, state);
	json_decref(state);
	json_decref(steps);
	return b.p;
}

/* summary.get {project?} → {text, truncated, now, path, project, project_path}. */
static json_t *m_summary_get(struct rpc_req *req)
{
	struct proj *p = req->proj;
	char path[4096];
	struct proto_err err = {0};
	size_t len = 0;
	char *text = NULL;
	if (fsu_path(path, sizeof path, &err, "%s/llm_summary.md", proj_path(p)) == 0)
		text = fsu_read_file(path, MEM_READ_MAX, &len, &err);
	bool truncated = text && len > MEM_SUMMARY_MAX;
	const char *shown = text ? text + (truncated ? len - MEM_SUMMARY_MAX : 0) : "";
	const char *nl = truncated ? memchr(shown, '\n', len - (size_t)(shown - text)) : NULL;
	if (nl) /* start at a whole line, never inside a UTF-8 sequence */
		shown = nl + 1;
	char *now = steps_now(proj_path(p));
	json_t *res = json_pack("{s:o, s:b, s:o, s:s, s:o, s:o}", "text",
				rpc_strn(shown, text ? len - (size_t)(shown - text) : 0), "truncated",
				truncated, "now", rpc_str(now ? now : ""), "path", "llm_summary.md",
				"project", rpc_str(proj_name(p)), "project_path", rpc_str(proj_path(p)));
	free(now);
	free(text);
	return res;
}
RPC_METHOD_PROJECT(summary_get, "summary.get", summary_params, m_summary_get,
		   "the project's Markdown recap (llm_summary.md)");
