/*
 * daemon/agent_mem.c — the agent's memory in the project folder:
 *   .daa/turns.jsonl          one line per ended turn (request, short answer,
 *                             status, history script, figures, code excerpt):
 *                             the digest of earlier turns, reloaded on restart
 *   history/NNN_slug.py       the code that ran successfully in a turn
 *   llm_log_YYYY-MM-DD.jsonl  every model request/response (the backend's
 *                             request_log/response_log, which never hold a key)
 *   llm_summary.md            a readable recap, one section per turn
 * Logs are appended (one write per record); everything else is rewritten
 * atomically through fsutil.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "daemon/agent.h"
#include "daemon/agent_int.h"
#include "daemon/history.h"
#include "daemon/fsutil.h"
#include "daemon/log.h"
#include "daemon/project.h"

#define DIGEST_KEEP 200            /* earlier turns kept in memory */
#define TURNS_MAX_READ (8u << 20)  /* turns.jsonl bytes read at load */

enum { TS_DATE, TS_ISO, TS_HUMAN, TS_MINUTE };
/* Local time as a date, an ISO timestamp or a readable one. */
static void now_str(char *buf, size_t size, int form)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	switch (form) {
	case TS_DATE: strftime(buf, size, "%Y-%m-%d", &tm); break;
	case TS_ISO: strftime(buf, size, "%Y-%m-%dT%H:%M:%S%z", &tm); break;
	case TS_HUMAN: strftime(buf, size, "%Y-%m-%d %H:%M:%S %z", &tm); break;
	default: strftime(buf, size, "%Y-%m-%d %H:%M", &tm); break;
	}
}

/* Append one JSON value as a line to path. */
static int append_jsonl(const char *path, const json_t *v)
{
	char *line = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t n;
	int rc;
	if (!line)
		return -1;
	n = strlen(line);
	line[n] = '\n'; /* replaces the NUL: n + 1 bytes are allocated */
	rc = fsu_append(path, line, n + 1);
	free(line);
	if (rc < 0)
		log_warn("agent: cannot append to %s: %m", path);
	return rc;
}

/* Keep the last DIGEST_KEEP entries of the in-memory digest. */
static void digest_push(struct agent_proj *p, json_t *entry)
{
	json_array_append_new(p->digest, entry);
	while (json_array_size(p->digest) > DIGEST_KEEP)
		json_array_remove(p->digest, 0);
}

/* The last max bytes of a file, from a line start (NULL when unreadable). */
static char *read_tail(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		size_t n = (size_t)st.st_size < max ? (size_t)st.st_size : max;
		off_t off = st.st_size - (off_t)n;
		buf = malloc(n + 1);
		ssize_t got = buf ? pread(fd, buf, n, off) : -1;
		if (got < 0) {
			free(buf);
			buf = NULL;
		} else {
			buf[got] = 0;
			char *nl = off > 0 ? strchr(buf, '\n') : NULL; /* drop a partial first line */
			if (nl)
				memmove(buf, nl + 1, strlen(nl + 1) + 1);
		}
	}
	close(fd);
	return buf;
}

/* Read the digest back from .daa/. */
void agent_mem_load(struct agent_proj *p)
{
	char path[4096];
	struct proto_err err;
	char *data, *line, *save = NULL;
	p->digest = json_array();
	p->inferred = json_object();
	if (fsu_path(path, sizeof path, &err, "%s/turns.jsonl", proj_state_dir(p->pj)) == 0 &&
	    (data = read_tail(path, TURNS_MAX_READ))) {
		for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			json_t *e = json_loads(line, 0, NULL);
			if (json_is_object(e))
				digest_push(p, e);
			else
				json_decref(e); /* a torn last line after a crash */
		}
		free(data);
	}
}

/* The project's datasets {name, file, format, bytes} (no absolute paths:
 * the model needs none). */
json_t *agent_mem_datasets(const struct agent_proj *p)
{
	struct proto_err err;
	json_t *list = proj_datasets(p->pj, &err), *ds;
	size_t i;
	if (!list) {
		log_warn("agent: %s: cannot list datasets: %s", p->name, err.msg);
		return json_array();
	}
	json_array_foreach(list, i, ds)
		json_object_del(ds, "path");
	return list;
}

/* The project's conventions (never NULL). */
const json_t *agent_mem_conventions(const struct agent_proj *p)
{
	static json_t *empty;
	json_t *c = proj_conventions(p->pj);
	if (c)
		return c;
	if (!empty)
		empty = json_object();
	return empty;
}

/* Save one convention through project.c (atomic). */
int agent_mem_convention_set(struct agent_proj *p, const char *key, const json_t *value,
			     const char *source, const char *why)
{
	struct proto_err err;
	if (proj_convention_set(p->pj, key, value, source, why, &err) < 0) {
		log_warn("agent: %s: convention %s not saved: %s", p->name, key, err.msg);
		return -1;
	}
	return 0;
}

/* The history script's text: a header comment, then each step's code. */
static char *history_text(const struct agent_turn *t)
{
	char date[64], *buf = NULL;
	size_t len = 0, i;
	const json_t *st;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	now_str(date, sizeof date, TS_HUMAN);
	fprintf(f, "# daa turn %d — %s\n", t->number, date);
	fprintf(f, "# request: ");
	hist_comment_put(f, t->request, "\n#          "); /* nothing can leave the comment */
	fprintf(f, "\n# backend: ");
	hist_comment_put(f, agent_backend_name(), NULL);
	fprintf(f, ", model: ");
	hist_comment_put(f, agent_backend_model(), NULL);
	fprintf(f, "\n");
	json_array_foreach(t->code_ok, i, st) {
		const char *purpose = json_string_value(json_object_get(st, "purpose"));
		const char *code = json_string_value(json_object_get(st, "code"));
		fprintf(f, "\n");
		if (purpose && *purpose) {
			fprintf(f, "# ");
			hist_comment_put(f, purpose, "\n# ");
			fprintf(f, "\n");
		}
		fprintf(f, "%s%s", code ? code : "", code && *code && code[strlen(code) - 1] != '\n' ? "\n" : "");
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Record the successful steps' stdout for the step "history/NNN_slug.py" (history.c). */
static void history_stdout(const struct agent_turn *t, const char *rel)
{
	char *buf = NULL, stem[128];
	size_t len = 0, i;
	const json_t *st;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	json_array_foreach(t->steps, i, st) {
		const json_t *res = json_object_get(st, "result");
		if (json_is_true(json_object_get(res, "ok")))
			fputs(json_string_value(json_object_get(res, "stdout")) ?: "", f);
	}
	if (fclose(f) == 0) {
		snprintf(stem, sizeof stem, "%.*s", (int)(strlen(rel) - strlen("history/") - 3), rel + strlen("history/"));
		hist_record_stdout(t->proj->path, stem, buf);
	}
	free(buf);
}

/* Write history/NNN_slug.py for the turn's successful code. */
int agent_mem_history(struct agent_turn *t)
{
	struct agent_proj *p = t->proj;
	struct proto_err err;
	char slug[48], path[4096], rel[128];
	char *text = history_text(t);
	int n = proj_next_step_number(p->pj);
	if (!text || n < 1) {
		free(text);
		free(t->history_error);
		if (asprintf(&t->history_error, "%s", !text ? "out of memory writing the history script" :
			     "history/ cannot be listed, so the step cannot be numbered (a guess could "
			     "overwrite an existing step)") < 0)
			t->history_error = NULL;
		log_warn("agent: %s: no history script written: %s", t->id, t->history_error ?: "?");
		return -1;
	}
	agent_slug(t->request, slug, sizeof slug);
	snprintf(rel, sizeof rel, "history/%03d_%s.py", n, slug);
	if (fsu_path(path, sizeof path, &err, "%s/%s", p->path, rel) < 0 ||
	    fsu_write_new(path, text, strlen(text), &err) < 0) { /* never over an existing step */
		log_warn("agent: %s: history script not written: %s", t->id, err.msg);
		free(t->history_error);
		t->history_error = strdup(err.msg);
		free(text);
		return -1;
	}
	free(text);
	free(t->history);
	t->history = strdup(rel);
	history_stdout(t, rel);
	return 0;
}

/* Append one model call to llm_log_YYYY-MM-DD.jsonl. */
void agent_mem_llm_log(const struct agent_turn *t, const struct llm_reply *r,
		       const struct llm_error *e, const char *backend)
{
	char date[32], ts[64], path[4096];
	struct proto_err err;
	json_t *line;
	now_str(date, sizeof date, TS_DATE);
	now_str(ts, sizeof ts, TS_ISO);
	line = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s}", "ts", ts, "project", t->proj->name,
			 "turn", t->number, "turn_id", t->id, "step", t->model_calls, "backend", backend);
	if (!line)
		return;
	if (r) {
		json_object_set_new(line, "model", json_string(r->model ? r->model : agent_backend_model()));
		json_object_set_new(line, "prompt_tokens", json_integer(r->prompt_tokens));
		json_object_set_new(line, "completion_tokens", json_integer(r->completion_tokens));
		json_object_set_new(line, "latency_ms", json_real(r->latency_ms));
		json_object_set(line, "request", r->request_log ? r->request_log : json_null());
		json_object_set(line, "response", r->response_log ? r->response_log : json_null());
	} else {
		json_object_set_new(line, "model", json_string(agent_backend_model()));
		json_object_set_new(line, "error", json_string(e ? e->msg : "unknown error"));
		json_object_set_new(line, "http_status", json_integer(e ? e->http_status : 0));
	}
	if (fsu_path(path, sizeof path, &err, "%s/llm_log_%s.jsonl", t->proj->path, date) == 0)
		append_jsonl(path, line);
	json_decref(line);
}

/* The list of step purposes and outcomes, one Markdown bullet each. */
static char *summary_steps(const struct agent_turn *t)
{
	char *buf = NULL;
	size_t len = 0, i;
	const json_t *st;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	json_array_foreach(t->steps, i, st) {
		const char *tool = json_string_value(json_object_get(st, "tool")) ?: "";
		const json_t *args = json_object_get(st, "args");
		if (strcmp(tool, "run_python") == 0) {
			const json_t *res = json_object_get(st, "result");
			const char *pp = json_string_value(json_object_get(args, "purpose"));
			fprintf(f, "- ran code%s%s: %s\n", pp && *pp ? " to " : "", pp && *pp ? pp : "",
				json_is_true(json_object_get(res, "ok")) ? "ok" : "failed");
		} else if (strcmp(tool, "ask_user") == 0) {
			fprintf(f, "- asked: %s — answer: %s\n",
				json_string_value(json_object_get(args, "question")) ?: "?",
				json_string_value(json_object_get(st, "answer")) ?: "(none)");
		} else if (strcmp(tool, "remember_convention") == 0) {
			fprintf(f, "- remembered convention `%s`\n",
				json_string_value(json_object_get(args, "key")) ?: "?");
		}
	}
	if (!i)
		fprintf(f, "- (no steps)\n");
	fclose(f);
	return buf;
}

/* The files a turn produced, comma separated. */
static char *summary_files(const struct agent_turn *t)
{
	char *buf = NULL;
	size_t len = 0, i;
	const json_t *v;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (t->history)
		fprintf(f, "%s", t->history);
	json_array_foreach(t->figures, i, v)
		fprintf(f, "%s%s", ftell(f) ? ", " : "", json_string_value(v) ?: "");
	if (!ftell(f))
		fprintf(f, "none");
	fclose(f);
	return buf;
}

/* Append the turn's section to llm_summary.md (template prompts/summary.md). */
static void summary_append(const struct agent_turn *t)
{
	char date[64], path[4096];
	struct proto_err err;
	char *steps = summary_steps(t), *files = summary_files(t), *text;
	const char *tmpl = agent_prompt("summary.md");
	now_str(date, sizeof date, TS_MINUTE);
	json_t *vars = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "turn", t->number, "date",
				 date, "request", t->request, "status", agent_status_of(t), "steps",
				 steps ? steps : "", "answer", t->answer ? t->answer : "", "files",
				 files ? files : "", "model", agent_backend_model());
	json_object_set_new(vars, "turn", json_sprintf("%d", t->number));
	text = agent_prompt_fill(tmpl ? tmpl : "\n## Turn {{turn}} ({{date}})\n\n**Request:** {{request}}\n\n"
					       "{{steps}}\n**Answer ({{status}}):** {{answer}}\n\n"
					       "**Files:** {{files}}\n", vars);
	if (text && fsu_path(path, sizeof path, &err, "%s/llm_summary.md", t->proj->path) == 0 &&
	    fsu_append(path, text, strlen(text)) < 0)
		log_warn("agent: cannot append to %s: %m", path);
	free(text);
	free(steps);
	free(files);
	json_decref(vars);
}

/* Every end of a turn: the digest line (memory and disk), the summary. */
void agent_mem_turn_end(struct agent_turn *t)
{
	struct agent_proj *p = t->proj;
	char ts[64], path[4096], *code = NULL;
	struct proto_err err;
	size_t len = 0, i;
	const json_t *st;
	FILE *f = open_memstream(&code, &len);
	if (f) {
		json_array_foreach(t->code_ok, i, st)
			fprintf(f, "%s\n", json_string_value(json_object_get(st, "code")) ?: "");
		fclose(f);
	}
	now_str(ts, sizeof ts, TS_ISO);
	json_t *e = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s?, s:O, s:s, s:s?, s:s?}", "turn", t->number,
			      "ts", ts, "request", t->request, "status", agent_status_of(t), "answer",
			      t->answer ? t->answer : "", "history", t->history, "figures", t->figures,
			      "code", code ? code : "", "error", t->error, "history_error",
			      t->history_error);
	free(code);
	if (!e)
		return;
	if (fsu_path(path, sizeof path, &err, "%s/turns.jsonl", proj_state_dir(p->pj)) == 0)
		append_jsonl(path, e);
	digest_push(p, e);
	summary_append(t);
}
