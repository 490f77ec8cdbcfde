/*
 * daemon/agent/agent_infer.c — what the model's replies and the data mean for the
 * project: fenced code in a text-only reply becomes a run_python call (for
 * models without tool calling), dataset profile hints become conventions
 * (source "inferred", keys the kernel's loader honours — date_column (only
 * in a one-dataset project), date_columns, date_format {col: fmt},
 * id_columns, numeric_columns, thousands_separator: see
 * sandbox/python/daakernel/datasets.py — plus DATASET.date_column, which the
 * builtin analyst reads), lists merged across datasets, and an answer
 * about the data becomes a convention (source "user").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/agent/agent.h"
#include "daemon/agent/agent_int.h"
#include "daemon/core/log.h"

/* Lower-case words joined by '-' ("step" when none). */
void agent_slug(const char *text, char *buf, size_t size)
{
	size_t n = 0;
	bool dash = false;
	for (const unsigned char *s = (const unsigned char *)text; *s && n + 2 < size; s++) {
		if (isalnum(*s)) {
			if (dash && n)
				buf[n++] = '-';
			buf[n++] = (char)tolower(*s);
			dash = false;
		} else {
			dash = true;
		}
	}
	while (n > 0 && buf[n - 1] == '-')
		n--;
	if (!n)
		n = (size_t)snprintf(buf, size, "step");
	buf[n < size ? n : size - 1] = 0;
}

/* A copy without surrounding blanks, at most max bytes. */
static char *agent_strndup_trim(const char *s, size_t max)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t n = strnlen(s, max);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

/* Next fenced block ```lang\n...``` from *pos; code (malloc'd) or NULL. */
static char *next_fence(const char **pos)
{
	const char *open = strstr(*pos, "```"), *body, *close;
	if (!open)
		return NULL;
	body = strchr(open + 3, '\n');
	if (!body)
		return NULL;
	const char *lang = open + 3;
	size_t llen = (size_t)(body - lang);
	close = strstr(body + 1, "```");
	if (!close)
		close = body + strlen(body);
	*pos = *close ? close + 3 : close;
	/* only python (or unlabelled) blocks are code to run */
	while (llen && isspace((unsigned char)lang[llen - 1]))
		llen--;
	if (llen && !(llen == 6 && strncmp(lang, "python", 6) == 0) &&
	    !(llen == 2 && strncmp(lang, "py", 2) == 0))
		return next_fence(pos);
	return strndup(body + 1, (size_t)(close - body - 1));
}

/* Fenced python blocks of a text-only reply → run_python calls ("text-N" ids). */
void agent_tools_from_text(struct llm_reply *r)
{
	const char *pos = r->text;
	char *code;
	size_t n = 0;
	if (!pos || r->ncalls)
		return;
	while ((code = next_fence(&pos))) {
		struct llm_tool_call *calls = realloc(r->calls, (n + 1) * sizeof *calls);
		char id[32];
		if (!calls) {
			free(code);
			break;
		}
		r->calls = calls;
		snprintf(id, sizeof id, "text-%zu", n + 1);
		json_t *args = json_pack("{s:s, s:s}", "code", code, "purpose",
					 "code from the model's answer");
		llm_call_fill(&calls[n], id, "run_python", args); /* checked like the model's */
		json_decref(args);
		free(code);
		n++;
	}
	r->ncalls = n;
}

/* Add name to the convention list `key` being built in obj. */
static void list_add(json_t *obj, const char *key, const char *name)
{
	json_t *l = json_object_get(obj, key);
	if (!l) {
		l = json_array();
		json_object_set_new(obj, key, l);
	}
	json_array_append_new(l, json_string(name));
}

/* Does a profile column carry this hint? */
static bool has_hint(const json_t *col, const char *hint)
{
	size_t i;
	const json_t *h;
	json_array_foreach(json_object_get(col, "hints"), i, h)
		if (json_is_string(h) && strcmp(json_string_value(h), hint) == 0)
			return true;
	return false;
}

/* What a profile suggests: {date_columns:[..], formats:{col:fmt}, id_columns, numeric_columns, thousands}. */
static json_t *profile_facts(const json_t *profile)
{
	json_t *f = json_object(), *formats = json_object(), *col;
	size_t i;
	json_array_foreach(json_object_get(profile, "columns"), i, col) {
		const char *name = json_string_value(json_object_get(col, "name"));
		const char *kind = json_string_value(json_object_get(col, "kind")) ?: "";
		if (!name)
			continue;
		if (has_hint(col, "date_like") || strcmp(kind, "datetime") == 0) {
			const char *fmt = json_string_value(json_object_get(col, "date_format"));
			list_add(f, "date_columns", name);
			if (fmt && json_array_size(json_object_get(col, "date_formats")) <= 1)
				json_object_set_new(formats, name, json_string(fmt));
		} else if (has_hint(col, "id_like") || strcmp(kind, "id") == 0) {
			list_add(f, "id_columns", name);
		} else if (has_hint(col, "numeric_text")) {
			const char *th = json_string_value(json_object_get(json_object_get(col, "numeric_text"), "thousands"));
			list_add(f, "numeric_columns", name);
			if (th && *th && !json_object_get(f, "thousands"))
				json_object_set_new(f, "thousands", json_string(th));
		}
	}
	json_object_set_new(f, "formats", formats);
	return f;
}

/* Set key = value (source "inferred") unless the user or the agent set it;
 * lists and maps from another dataset's profile are merged in. */
static int infer_one(struct agent_turn *t, const char *key, json_t *value, const char *why)
{
	const json_t *have = json_object_get(agent_mem_conventions(t->proj), key);
	const json_t *old = json_object_get(have, "value");
	json_t *v = value;
	int n = 0;
	if (!value || (have && strcmp(json_string_value(json_object_get(have, "source")) ?: "",
				      "inferred") != 0)) {
		json_decref(value);
		return 0;
	}
	if (json_is_array(old) && json_is_array(value)) {
		size_t i, j;
		json_t *x, *y;
		v = json_deep_copy(old);
		json_array_foreach(value, i, x) {
			bool dup = false;
			json_array_foreach(v, j, y)
				dup = dup || json_equal(x, y);
			if (!dup)
				json_array_append(v, x);
		}
		json_decref(value);
	} else if (json_is_object(old) && json_is_object(value)) {
		v = json_deep_copy(old);
		json_object_update_missing(v, value);
		json_decref(value);
	}
	if (!json_equal(old, v) && agent_mem_convention_set(t->proj, key, v, "inferred", why) == 0) {
		agent_event(t, "convention", json_pack("{s:s, s:O, s:s}", "key", key, "value", v,
						       "source", "inferred"));
		n = 1;
	}
	json_decref(v);
	return n;
}

/* Conventions suggested by a fresh profile (source "inferred"). */
int agent_tools_infer(struct agent_turn *t, const json_t *profile)
{
	json_t *f = profile_facts(profile);
	json_t *dates = json_object_get(f, "date_columns");
	const char *ds = json_string_value(json_object_get(profile, "name")) ?: "the dataset";
	char why[160], key[160];
	int n = 0;
	snprintf(why, sizeof why, "inferred from the profile of %.100s", ds);
	if (json_array_size(dates) == 1) {
		const char *col = json_string_value(json_array_get(dates, 0));
		snprintf(key, sizeof key, "%.100s.date_column", ds);
		n += infer_one(t, key, json_string(col), why);
		if (json_array_size(t->datasets) == 1)
			n += infer_one(t, "date_column", json_string(col), why);
	}
	n += infer_one(t, "date_columns", json_incref(dates), why);
	if (json_object_size(json_object_get(f, "formats")))
		n += infer_one(t, "date_format", json_incref(json_object_get(f, "formats")), why);
	n += infer_one(t, "id_columns", json_incref(json_object_get(f, "id_columns")), why);
	n += infer_one(t, "numeric_columns", json_incref(json_object_get(f, "numeric_columns")), why);
	n += infer_one(t, "thousands_separator", json_incref(json_object_get(f, "thousands")), why);
	json_decref(f);
	return n;
}

/* The choice an answer names: exact, case-insensitive, or its number. */
static const char *match_choice(const json_t *choices, const char *answer)
{
	size_t i;
	const json_t *c;
	char *a = agent_strndup_trim(answer, 200);
	const char *hit = NULL;
	if (!a)
		return NULL;
	json_array_foreach(choices, i, c)
		if (json_is_string(c) && strcasecmp(json_string_value(c), a) == 0)
			hit = json_string_value(c);
	if (!hit && a[0] && strspn(a, "0123456789") == strlen(a)) {
		long k = strtol(a, NULL, 10);
		if (k >= 1 && (size_t)k <= json_array_size(choices))
			hit = json_string_value(json_array_get(choices, (size_t)k - 1));
	}
	free(a);
	return hit;
}

/* Is name a column of one of the turn's datasets? */
static bool is_column(const struct agent_turn *t, const char *name)
{
	size_t i, j;
	const json_t *ds, *col;
	json_array_foreach(t->datasets, i, ds)
		json_array_foreach(json_object_get(json_object_get(ds, "profile"), "columns"), j, col)
			if (strcmp(json_string_value(json_object_get(col, "name")) ?: "", name) == 0)
				return true;
	return false;
}

/* An answer naming a column (or a keyed question) → convention, source "user". */
void agent_tools_answer_convention(struct agent_turn *t, const char *answer)
{
	const json_t *q = t->question;
	const char *text = json_string_value(json_object_get(q, "text")) ?: "";
	const char *key = json_string_value(json_object_get(q, "key"));
	const char *pick = match_choice(json_object_get(q, "choices"), answer);
	char k[96], why[300], slug[48], lower[256];
	if (!pick || !is_column(t, pick))
		pick = NULL;
	if (!key && pick) {
		size_t i;
		for (i = 0; text[i] && i + 1 < sizeof lower; i++)
			lower[i] = (char)tolower((unsigned char)text[i]);
		lower[i] = 0;
		if (strstr(lower, "date") || strstr(lower, "time") || strstr(lower, "day")) {
			key = "date_column";
		} else {
			agent_slug(text, slug, sizeof slug);
			snprintf(k, sizeof k, "column_for.%s", slug);
			key = k;
		}
	}
	if (!key || (!pick && json_array_size(json_object_get(q, "choices"))))
		return; /* a free-text answer not about the data: kept in the turn only */
	snprintf(why, sizeof why, "the user answered \"%.200s\"", text);
	json_t *v = json_string(pick ? pick : answer);
	if (agent_mem_convention_set(t->proj, key, v, "user", why) == 0)
		agent_event(t, "convention", json_pack("{s:s, s:O, s:s}", "key", key, "value", v,
						       "source", "user"));
	json_decref(v);
}
