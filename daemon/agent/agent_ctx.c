/*
 * daemon/agent/agent_ctx.c — the context of a model call, within a token budget
 * (tokens estimated as bytes/4, agent_cfg.context_tokens):
 *   system    prompts/system.txt (loaded at run time from the prompts dir)
 *   user      the datasets (profiles from daemon/profiler/profiler.c with the
 *             daa_tools types and warnings; values from the data — samples,
 *             top values, min/max/mean — unless "agent": {"privacy":
 *             "schema"}), the conventions, a digest of earlier turns
 *             (the last few in full-ish form, older ones one line each), and
 *             the request
 *   then the turn's own conversation (assistant tool calls, tool results).
 * When over budget, the oldest digest lines go first, then long outputs of
 * older steps are cut.  The builtin analyst gets the same facts as `state`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/agent/agent.h"
#include "daemon/agent/agent_int.h"
#include "daemon/core/fsutil.h"
#include "daemon/core/log.h"

#define PROMPT_MAX (256u * 1024)
#define SHORT_ENTRIES 12      /* one-line digest entries at most */
#define OUT_CUT 3000          /* bytes of stdout / traceback sent back */
#define OLD_OUT_CUT 600       /* older tool results when over budget */

static struct prompt_cache {
	char name[32];
	char *text;
	bool missing;
} prompts[8];

/* A template from the prompts dir, loaded once (NULL when missing). */
const char *agent_prompt(const char *name)
{
	struct proto_err err;
	char path[4096];
	size_t i;
	for (i = 0; i < sizeof prompts / sizeof prompts[0] && prompts[i].name[0]; i++)
		if (strcmp(prompts[i].name, name) == 0)
			return prompts[i].text;
	if (i == sizeof prompts / sizeof prompts[0])
		return NULL;
	snprintf(prompts[i].name, sizeof prompts[i].name, "%s", name);
	if (fsu_path(path, sizeof path, &err, "%s/%s", agent_cfg.prompts_dir, name) == 0)
		prompts[i].text = fsu_read_file(path, PROMPT_MAX, NULL, &err);
	if (!prompts[i].text)
		log_warn("agent: prompt template %s: %s (using a built-in fallback)", name, err.msg);
	return prompts[i].text;
}

/* Forget the loaded templates (shutdown). */
void agent_prompts_reset(void)
{
	for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++) {
		free(prompts[i].text);
		memset(&prompts[i], 0, sizeof prompts[i]);
	}
}

/* Replace {{key}} by vars[key] (strings as is, others as JSON, absent: ""). */
char *agent_prompt_fill(const char *tmpl, const json_t *vars)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	if (!tmpl)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	while (*tmpl) {
		const char *open = strstr(tmpl, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
		if (!open || !close || close - open > 40) {
			size_t n = open ? (size_t)(open - tmpl) + 2 : strlen(tmpl);
			fwrite(tmpl, 1, n, f);
			tmpl += n;
			continue;
		}
		fwrite(tmpl, 1, (size_t)(open - tmpl), f);
		char key[48];
		snprintf(key, sizeof key, "%.*s", (int)(close - open - 2), open + 2);
		const json_t *v = json_object_get(vars, key);
		if (json_is_string(v)) {
			fputs(json_string_value(v), f);
		} else if (v && !json_is_null(v)) {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			fputs(s ? s : "", f);
			free(s);
		}
		tmpl = close + 2;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Write s cut to max bytes (head and tail kept) into f. */
static void put_cut(FILE *f, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n <= max) {
		fputs(s ? s : "", f);
		return;
	}
	fprintf(f, "%.*s\n… [%zu bytes cut] …\n%s", (int)(max * 2 / 3), s, n - max,
		s + n - max / 3);
}

/* Privacy "schema": a column keeps its name, types, counts, hints and
 * warnings, never a value from the data. */
static void agent_ctx_strip_values(json_t *col)
{
	static const char *const values[] = {"samples", "top", "min", "max", "mean", NULL};
	for (int i = 0; !agent_cfg.profile_samples && values[i]; i++)
		json_object_del(col, values[i]);
}

/* The summary's entry for column i when it is about the same column. */
static const json_t *summary_column(const json_t *summary, size_t i, const json_t *col)
{
	const json_t *sc = json_array_get(json_object_get(summary, "columns"), i);
	return json_equal(json_object_get(sc, "name"), json_object_get(col, "name")) ? sc : NULL;
}

/* One column: the light profile (samples only when privacy allows) with
 * the daa_tools type and warnings. */
static void put_column(FILE *f, const json_t *col, const json_t *sc)
{
	json_t *c = json_deep_copy(col);
	json_object_del(c, "name");
	agent_ctx_strip_values(c);
	if (sc) {
		json_object_set(c, "type", json_object_get(sc, "type"));
		if (json_array_size(json_object_get(sc, "warnings")))
			json_object_set(c, "warnings", json_object_get(sc, "warnings"));
	}
	char *s = json_dumps(c, JSON_COMPACT);
	fprintf(f, "  - %s: ", json_string_value(json_object_get(col, "name")) ?: "?");
	put_cut(f, s ? s : "", 400);
	fputc('\n', f);
	free(s);
	json_decref(c);
}

/* The table-level part of the summary: duplicates, strongest correlations, notes. */
static void put_summary_tail(FILE *f, const json_t *summary)
{
	const char *method;
	const json_t *pairs, *pair, *note;
	size_t i;
	if (json_integer_value(json_object_get(summary, "duplicate_rows")) > 0)
		fprintf(f, "  duplicate rows: %lld\n",
			(long long)json_integer_value(json_object_get(summary, "duplicate_rows")));
	json_object_foreach((json_t *)json_object_get(summary, "correlations"), method, pairs) {
		if (!json_array_size(pairs))
			continue;
		fprintf(f, "  strongest %s:", method);
		json_array_foreach(pairs, i, pair) {
			if (i == 3)
				break;
			fprintf(f, "%s %.60s~%.60s %.2f", i ? "," : "",
				json_string_value(json_array_get(pair, 0)) ?: "?",
				json_string_value(json_array_get(pair, 1)) ?: "?",
				json_number_value(json_array_get(pair, 2)));
		}
		fputc('\n', f);
	}
	json_array_foreach(json_object_get(summary, "notes"), i, note)
		if (i < 3)
			fprintf(f, "  note: %.300s\n", json_string_value(note) ?: "");
}

/* A dataset profile as compact text for the model. */
static void put_dataset(FILE *f, const json_t *ds, size_t max)
{
	const json_t *prof = json_object_get(ds, "profile"), *col;
	const json_t *summary = json_object_get(ds, "summary");
	long start = ftell(f);
	size_t i;
	fprintf(f, "- %s (data/%s", json_string_value(json_object_get(ds, "name")) ?: "?",
		json_string_value(json_object_get(ds, "file")) ?: "?");
	if (json_integer_value(json_object_get(prof, "rows")))
		fprintf(f, ", %lld rows", (long long)json_integer_value(json_object_get(prof, "rows")));
	if (json_string_value(json_object_get(summary, "report")))
		fprintf(f, "; profile report %s", json_string_value(json_object_get(summary, "report")));
	fprintf(f, ")\n");
	if (json_is_string(json_object_get(prof, "backend")) &&
	    !strcmp(json_string_value(json_object_get(prof, "backend")), "dask"))
		fprintf(f, "  Dask-backed (larger than the kernel's memory): dfs[\"%s\"] is a Dask DataFrame "
			"in %lld partitions; end each computation with .compute(), never .values or "
			"a pandas conversion of the whole frame; rows and counts are exact, other column "
			"facts come from a sample of %lld rows\n",
			json_string_value(json_object_get(ds, "name")) ?: "?",
			(long long)json_integer_value(json_object_get(prof, "partitions")),
			(long long)json_integer_value(json_object_get(prof, "sample_rows")));
	if (!prof) {
		fprintf(f, "  (no profile: %s)\n", json_string_value(json_object_get(ds, "error")) ?: "?");
		return;
	}
	json_array_foreach(json_object_get(prof, "columns"), i, col) {
		if (ftell(f) - start > (long)max) {
			fprintf(f, "  … %zu more columns\n", json_array_size(json_object_get(prof, "columns")) - i);
			break;
		}
		put_column(f, col, summary_column(summary, i, col));
	}
	if (summary && ftell(f) - start <= (long)max)
		put_summary_tail(f, summary);
}

/* One earlier turn: full-ish (request, answer, code) or one line. */
static void put_digest_entry(FILE *f, const json_t *e, bool full)
{
	const char *req = json_string_value(json_object_get(e, "request")) ?: "";
	const char *ans = json_string_value(json_object_get(e, "answer")) ?: "";
	const char *st = json_string_value(json_object_get(e, "status")) ?: "";
	long long n = (long long)json_integer_value(json_object_get(e, "turn"));
	if (!full) {
		bool done = strcmp(st, "done") == 0;
		fprintf(f, "- #%lld %.120s → %s%.*s\n", n, req, done ? "" : st, done ? 100 : 0, ans);
		return;
	}
	fprintf(f, "### turn %lld (%s)\nrequest: %.400s\nanswer: ", n, st, req);
	put_cut(f, ans, 400);
	const char *code = json_string_value(json_object_get(e, "code"));
	if (code && *code) {
		fprintf(f, "\ncode:\n");
		put_cut(f, code, 600);
	}
	const char *h = json_string_value(json_object_get(e, "history"));
	if (h)
		fprintf(f, "\nscript: %s", h);
	fputc('\n', f);
}

/* The digest text: full-ish last turns, then one line each for older ones
 * (newest first kept) while they fit in max bytes. */
static char *digest_text(const json_t *digest, size_t max)
{
	size_t n = json_array_size(digest), nfull = (size_t)agent_cfg.digest_full, i, first;
	char *buf = NULL, *shortb = NULL, *fullb = NULL;
	size_t len = 0, slen = 0, flen = 0;
	FILE *f, *fs, *ff;
	if (nfull > n)
		nfull = n;
	ff = open_memstream(&fullb, &flen);
	for (i = n - nfull; ff && i < n; i++)
		put_digest_entry(ff, json_array_get(digest, i), true);
	if (ff)
		fclose(ff);
	first = n - nfull;
	size_t budget = max > flen ? max - flen : 0, take = 0;
	/* count how many one-liners fit, newest first */
	for (i = first; i > 0 && take < SHORT_ENTRIES; i--, take++) {
		char line[512];
		FILE *lf = fmemopen(line, sizeof line, "w");
		if (!lf)
			break;
		put_digest_entry(lf, json_array_get(digest, i - 1), false);
		long l = ftell(lf);
		fclose(lf);
		if ((size_t)l > budget)
			break;
		budget -= (size_t)l;
	}
	fs = open_memstream(&shortb, &slen);
	if (fs && first - take > 0)
		fprintf(fs, "(%zu earlier turns not shown)\n", first - take);
	for (i = first - take; fs && i < first; i++)
		put_digest_entry(fs, json_array_get(digest, i), false);
	if (fs)
		fclose(fs);
	f = open_memstream(&buf, &len);
	if (f) {
		fprintf(f, "%s%s", shortb ? shortb : "", fullb ? fullb : "");
		fclose(f);
	}
	free(shortb);
	free(fullb);
	return buf;
}

/* The conventions as "key = value (source)" lines. */
static void put_conventions(FILE *f, const json_t *conv)
{
	const char *k;
	const json_t *v;
	if (!json_object_size(conv)) {
		fprintf(f, "(none yet)\n");
		return;
	}
	json_object_foreach((json_t *)conv, k, v) {
		char *s = json_dumps(json_object_get(v, "value"), JSON_COMPACT | JSON_ENCODE_ANY);
		const char *why = json_string_value(json_object_get(v, "why"));
		fprintf(f, "- %s = %s (%s%s%s)\n", k, s ? s : "null",
			json_string_value(json_object_get(v, "source")) ?: "?", why ? ": " : "", why ? why : "");
		free(s);
	}
}

/* The user message: datasets, conventions, digest, request. */
static char *user_text(const struct agent_turn *t, size_t digest_max)
{
	char *buf = NULL, *dg;
	size_t len = 0, i, per;
	const json_t *ds;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	per = (size_t)agent_cfg.context_tokens * 4 / 2 / (json_array_size(t->datasets) + 1);
	fprintf(f, "## Datasets (loaded as dfs[\"NAME\"]%s)\n",
		json_array_size(t->datasets) == 1 ? "; also as df" : "");
	json_array_foreach(t->datasets, i, ds)
		put_dataset(f, ds, per);
	if (!i)
		fprintf(f, "(no datasets yet: the user can add some with `daa add FILE`)\n");
	fprintf(f, "\n## Conventions of this project\n");
	put_conventions(f, agent_mem_conventions(t->proj));
	dg = digest_max ? digest_text(t->proj->digest, digest_max) : NULL;
	if (dg && *dg)
		fprintf(f, "\n## Earlier turns\n%s", dg);
	free(dg);
	fprintf(f, "\n## Request (turn %d)\n%s\n", t->number, t->request);
	fclose(f);
	return buf;
}

/* Estimated tokens of messages (bytes / 4). */
static size_t agent_ctx_tokens(const json_t *messages)
{
	size_t bytes = 0, i;
	const json_t *m;
	json_array_foreach(messages, i, m) {
		char *s = json_dumps(m, JSON_COMPACT);
		bytes += s ? strlen(s) : 0;
		free(s);
	}
	return bytes / 4;
}

/* Cut long contents of older tool/user results while over max bytes. */
static void trim_convo(json_t *convo, size_t max)
{
	size_t n = json_array_size(convo), i;
	for (i = 0; i + 2 < n && agent_ctx_tokens(convo) * 4 > max; i++) {
		json_t *m = json_array_get(convo, i);
		const char *role = json_string_value(json_object_get(m, "role")) ?: "";
		const char *c = json_string_value(json_object_get(m, "content"));
		if (strcmp(role, "assistant") == 0 || !c || strlen(c) <= OLD_OUT_CUT)
			continue;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			return;
		put_cut(f, c, OLD_OUT_CUT);
		fclose(f);
		json_object_set_new(m, "content", json_string(buf));
		free(buf);
	}
}

/* The OpenAI messages for the next call, within the budget. */
json_t *agent_ctx_messages(const struct agent_turn *t)
{
	size_t budget = (size_t)agent_cfg.context_tokens * 4, fixed, digest_max;
	char date[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y-%m-%d", &tm);
	char *tools = agent_tools_prompt(agent_tools);
	json_t *vars = json_pack("{s:s, s:s, s:s, s:s}", "date", date, "backend", agent_backend_name(),
				 "model", agent_backend_model(), "tools", tools ? tools : "");
	char *sys = agent_prompt_fill(agent_prompt("system.txt") ?:
		"You are daa, a careful data analyst. Use the tools:\n{{tools}}", vars);
	json_decref(vars);
	free(tools);
	json_t *convo = json_deep_copy(t->convo);
	char *user0 = user_text(t, 0);
	fixed = (sys ? strlen(sys) : 0) + (user0 ? strlen(user0) : 0);
	free(user0);
	trim_convo(convo, budget > fixed ? budget - fixed : 0);
	fixed += agent_ctx_tokens(convo) * 4;
	digest_max = budget > fixed ? budget - fixed : 0;
	if (digest_max > budget / 4)
		digest_max = budget / 4;
	char *user = user_text(t, digest_max);
	json_t *msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content", sys ? sys : "",
				 "role", "user", "content", user ? user : t->request);
	free(sys);
	free(user);
	json_array_extend(msgs, convo);
	json_decref(convo);
	return msgs;
}

/* The builtin analyst's state: {request, datasets, conventions, steps, digest}. */
json_t *agent_ctx_state(const struct agent_turn *t)
{
	json_t *datasets = json_array(), *digest = json_array(), *ds, *e;
	size_t i, n = json_array_size(t->proj->digest);
	json_array_foreach(t->datasets, i, ds) {
		json_t *prof = json_object_get(ds, "profile");
		/* whole: the builtin analyst is local, privacy is about what leaves */
		json_t *d = json_is_object(prof) ? json_deep_copy(prof) : json_object();
		if (json_object_get(ds, "summary"))
			json_object_set(d, "summary", json_object_get(ds, "summary"));
		json_object_set(d, "name", json_object_get(ds, "name"));
		json_object_set(d, "file", json_object_get(ds, "file"));
		json_object_set(d, "format", json_object_get(ds, "format"));
		json_array_append_new(datasets, d);
	}
	for (i = n > 10 ? n - 10 : 0; i < n; i++) {
		e = json_array_get(t->proj->digest, i);
		json_array_append_new(digest, json_pack("{s:O, s:O, s:O, s:O?}", "turn",
			json_object_get(e, "turn"), "request", json_object_get(e, "request"), "status",
			json_object_get(e, "status"), "answer", json_object_get(e, "answer")));
	}
	return json_pack("{s:s, s:i, s:o, s:O, s:O, s:o}", "request", t->request, "turn", t->number,
			 "datasets", datasets, "conventions", agent_mem_conventions(t->proj), "steps",
			 t->steps, "digest", digest);
}

/* A successful step's result as text for the model. */
static void put_ok(FILE *f, const json_t *res)
{
	const json_t *r = json_object_get(res, "result"), *v;
	size_t i;
	fprintf(f, "The code ran successfully.\n");
	if (json_string_length(json_object_get(res, "stdout"))) {
		fprintf(f, "stdout:\n");
		put_cut(f, json_string_value(json_object_get(res, "stdout")), OUT_CUT);
		fputc('\n', f);
	}
	if (json_is_object(r))
		fprintf(f, "value of the last expression (%s): %.1500s\n",
			json_string_value(json_object_get(r, "type")) ?: "?",
			json_string_value(json_object_get(r, "repr")) ?: "");
	json_array_foreach(json_object_get(res, "tables"), i, v) {
		char *s = json_dumps(v, JSON_COMPACT);
		fprintf(f, "table: ");
		put_cut(f, s ? s : "", 1500);
		fputc('\n', f);
		free(s);
	}
	json_array_foreach(json_object_get(res, "figures"), i, v)
		fprintf(f, "figure saved: %s\n", json_string_value(v) ?: "?");
}

/* What the model reads about a step (failures through fix_error.txt). */
char *agent_ctx_exec_text(const struct agent_turn *t, const json_t *res)
{
	char *buf = NULL;
	size_t len = 0;
	if (json_is_true(json_object_get(res, "ok"))) {
		FILE *f = open_memstream(&buf, &len);
		if (!f)
			return NULL;
		put_ok(f, res);
		fclose(f);
		return buf;
	}
	const json_t *e = json_object_get(res, "error");
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	put_cut(f, json_string_value(json_object_get(e, "traceback")) ?: "", OUT_CUT);
	fclose(f);
	json_t *vars = json_pack("{s:s, s:s, s:s, s:s, s:s}", "error_type",
		json_string_value(json_object_get(e, "type")) ?: "Error", "error_message",
		json_string_value(json_object_get(e, "message")) ?: "", "traceback", buf ? buf : "",
		"stdout", json_string_value(json_object_get(res, "stdout")) ?: "", "request", t->request);
	json_object_set_new(vars, "attempt", json_sprintf("%d", t->consec_fail + 1));
	json_object_set_new(vars, "max_attempts", json_sprintf("%d", agent_cfg.max_failures));
	free(buf);
	char *out = agent_prompt_fill(agent_prompt("fix_error.txt") ?:
		"The code failed: {{error_type}}: {{error_message}}\n{{traceback}}\nFix it and try again.",
		vars);
	json_decref(vars);
	return out;
}
