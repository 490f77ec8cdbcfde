/*
 * daemon/agent/agent_mem.c — the agent's memory in the project folder:
 *   .daa/turns.jsonl          one line per ended turn (request, short answer,
 *                             status, history script, figures, code excerpt):
 *                             the digest of earlier turns, reloaded on restart;
 *                             read back from its end, rotated to turns.jsonl.1
 *                             past 4 MiB
 *   history/NNN_slug.py       the code that ran successfully in a turn
 *   llm_log_YYYY-MM-DD.jsonl  every model request/response (the backend's
 *                             request_log/response_log, which never hold a key);
 *                             past 32 MiB renamed llm_log_YYYY-MM-DD.HHMMSS.jsonl
 *   llm_summary.md            a readable recap, one section per turn
 * Logs are appended (one write per record); everything else is rewritten
 * atomically through fsutil.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "daemon/agent/agent.h"
#include "daemon/agent/agent_int.h"
#include "daemon/history/history.h"
#include "daemon/core/fsutil.h"
#include "daemon/core/log.h"
#include "daemon/project/project.h"

#define DIGEST_KEEP 200            /* earlier turns kept in memory */
#define TURNS_MAX_READ (8u << 20)  /* turns.jsonl(.1) bytes read at load */
#define TURNS_ROTATE (4 << 20)     /* turns.jsonl past this → turns.jsonl.1 */
#define LLM_LOG_ROTATE (32 << 20)  /* llm_log_DAY.jsonl past this → llm_log_DAY.HHMMSS.jsonl */
#define TAIL_BLOCK (256u << 10)    /* read back from a file's end this much at a time */
#define REC_ANSWER_MAX (256u << 10) /* of a turn's answer in turns.jsonl */
#define REC_CODE_MAX (64u << 10)   /* of its code */

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

/* Read n bytes at off, in front of the *len bytes held in *buf. */
static int tail_prepend(int fd, off_t off, size_t n, char **buf, size_t *len)
{
	char *b = malloc(*len + n + 1);
	if (!b || pread(fd, b, n, off) != (ssize_t)n) {
		free(b);
		return -1;
	}
	if (*len)
		memcpy(b + n, *buf, *len);
	free(*buf);
	*buf = b;
	*len += n;
	b[*len] = '\0';
	return 0;
}

/* Append to out (oldest first) the last `limit` JSON-object lines of path,
 * reading back from its end in TAIL_BLOCK pieces, at most *budget bytes
 * (decreased by what was read); torn or bad lines are skipped. */
static void jsonl_tail(const char *path, size_t limit, size_t *budget, json_t *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0, lines = 0;
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	off_t pos = st.st_size;
	while (pos > 0 && len < *budget && lines <= limit) {
		size_t n = *budget - len < TAIL_BLOCK ? *budget - len : TAIL_BLOCK;
		if ((off_t)n > pos)
			n = (size_t)pos;
		pos -= (off_t)n;
		if (tail_prepend(fd, pos, n, &buf, &len) < 0)
			break;
		for (size_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	}
	close(fd);
	*budget -= len < *budget ? len : *budget;
	if (!buf)
		return;
	char *start = buf;
	if (pos > 0) /* a partial first line */
		start = strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf + len;
	json_t *got = json_array();
	for (line = strtok_r(start, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *e = json_loads(line, 0, NULL);
		if (json_is_object(e))
			json_array_append_new(got, e);
		else
			json_decref(e); /* a torn last line after a crash */
	}
	free(buf);
	size_t n = json_array_size(got), from = n > limit ? n - limit : 0;
	for (size_t i = from; i < n; i++)
		json_array_append(out, json_array_get(got, i));
	json_decref(got);
}

/* See agent.h. */
json_t *agent_turns_read(const char *state_dir, size_t limit, size_t max_bytes)
{
	char path[4096];
	struct proto_err err;
	json_t *out = json_array(), *older = json_array();
	size_t budget = max_bytes;
	if (fsu_path(path, sizeof path, &err, "%s/turns.jsonl", state_dir) == 0)
		jsonl_tail(path, limit, &budget, out);
	if (json_array_size(out) < limit && budget > 0 &&
	    fsu_path(path, sizeof path, &err, "%s/turns.jsonl.1", state_dir) == 0) {
		jsonl_tail(path, limit - json_array_size(out), &budget, older);
		json_array_extend(older, out);
		json_decref(out);
		return older;
	}
	json_decref(older);
	return out;
}

/* s (NULL: "") as a JSON string of at most max bytes, cut on a UTF-8
 * boundary with a marker: a turn's record stays small whatever the model or
 * the client wrote (the history script and the llm log keep the whole). */
static json_t *cut_str(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, m = max;
	if (n <= max)
		return json_string(s ? s : "");
	while (m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80)
		m--;
	return json_sprintf("%.*s\n… [%zu more bytes not kept here]", (int)m, s, n - m);
}

/* Rename path to rotated when path has grown past max (the next append
 * starts a new file; rename is atomic, a reader sees one file or the other). */
static void rotate(const char *path, const char *rotated, off_t max)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > max) {
		if (rename(path, rotated) < 0)
			log_warn("agent: cannot rotate %s: %m", path);
		else
			log_info("agent: %s rotated to %s (%lld bytes)", path, rotated, (long long)st.st_size);
	}
}

/* Read the digest back from .daa/ (turns.jsonl and, after a rotation, .1). */
void agent_mem_load(struct agent_proj *p)
{
	p->inferred = json_object();
	p->digest = agent_turns_read(proj_state_dir(p->pj), DIGEST_KEEP, TURNS_MAX_READ);
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
		hist_stem_of_rel(stem, sizeof stem, rel);
		hist_record_stdout(t->proj->path, stem, buf);
	}
	free(buf);
}

/* Write history/NNN_slug.py for the turn's successful code. */
int agent_mem_history(struct agent_turn *t)
{
	struct agent_proj *p = t->proj;
	struct proto_err err;
	char slug[48], rel[128];
	char *text = history_text(t);
	if (!text) {
		free(t->history_error);
		t->history_error = strdup("out of memory writing the history script");
		log_warn("agent: %s: no history script written: %s", t->id, t->history_error ?: "?");
		return -1;
	}
	agent_slug(t->request, slug, sizeof slug);
	if (hist_step_create(p->pj, slug, text, rel, sizeof rel, &err) < 0) { /* daemon/history/history.c */
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

/* A day's llm log past LLM_LOG_ROTATE becomes llm_log_DAY.HHMMSS[-N].jsonl
 * (never replacing one): log.tail reads the newest names first and a name
 * with a time sorts after the day's current file, so nothing is lost. */
static void log_rotate(const char *dir, const char *date, const char *path)
{
	struct stat st;
	char hms[16], to[4200];
	time_t now = time(NULL);
	struct tm tm;
	if (stat(path, &st) < 0 || st.st_size <= LLM_LOG_ROTATE)
		return;
	localtime_r(&now, &tm);
	strftime(hms, sizeof hms, "%H%M%S", &tm);
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(to, sizeof to, "%s/llm_log_%s.%s.jsonl", dir, date, hms);
		else
			snprintf(to, sizeof to, "%s/llm_log_%s.%s-%d.jsonl", dir, date, hms, i);
		if (renameat2(AT_FDCWD, path, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
			log_info("agent: %s rotated to %s", path, to);
			return;
		}
		if (errno != EEXIST)
			break;
	}
	log_warn("agent: cannot rotate %s: %m", path);
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
	if (fsu_path(path, sizeof path, &err, "%s/llm_log_%s.jsonl", t->proj->path, date) == 0) {
		log_rotate(t->proj->path, date, path);
		append_jsonl(path, line);
	}
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
	json_array_foreach(t->steps, i, st)
		agent_tools_summary(agent_tools, f, st); /* each tool's bullet */
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
	char ts[64], path[4096], rotated[4200], *code = NULL;
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
	json_t *e = json_pack("{s:i, s:s, s:o, s:s, s:o, s:s?, s:O, s:o, s:s?, s:s?}", "turn",
			      t->number, "ts", ts, "request", cut_str(t->request, REC_ANSWER_MAX),
			      "status", agent_status_of(t), "answer", cut_str(t->answer, REC_ANSWER_MAX),
			      "history", t->history, "figures", t->figures, "code",
			      cut_str(code, REC_CODE_MAX), "error", t->error, "history_error",
			      t->history_error);
	free(code);
	if (!e)
		return;
	if (fsu_path(path, sizeof path, &err, "%s/turns.jsonl", proj_state_dir(p->pj)) == 0) {
		snprintf(rotated, sizeof rotated, "%s.1", path);
		rotate(path, rotated, TURNS_ROTATE);
		append_jsonl(path, e);
	}
	digest_push(p, e);
	summary_append(t);
}
