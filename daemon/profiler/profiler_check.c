/*
 * daemon/profiler/profiler_check.c — what the daemon keeps of a kernel's profile
 * reply (daemon/profiler/profiler.h).  The reply is data made by a kernel that ran
 * on untrusted data and maybe hostile code, and the cache entry made of it
 * is read again by every later turn (the agent's context) and by `daa
 * profile`; so before it is stored: the shapes the readers expect (profile
 * and summary maps, columns a list of maps), bounded size (nesting depth,
 * strings cut, lists cut, a total cap), and a report path that can only
 * name outputs/reports/NAME.html.  Text inside stays hostile text: readers
 * quote it as data, terminals sanitize it.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "daemon/core/log.h"
#include "daemon/profiler/profiler_int.h"

#define PC_MAX_DEPTH 8
#define PC_MAX_STR 4096
#define PC_MAX_LIST 5000
#define PC_MAX_KEYS 512
#define PC_MAX_TOTAL (4 * 1024 * 1024)

/* A copy of v with strings cut to PC_MAX_STR bytes (at a UTF-8 boundary),
 * lists to PC_MAX_LIST items, maps to PC_MAX_KEYS keys, nothing below
 * PC_MAX_DEPTH (replaced by null). */
static json_t *pc_bounded(const json_t *v, int depth)
{
	if (depth > PC_MAX_DEPTH)
		return json_null();
	if (json_is_string(v)) {
		size_t n = json_string_length(v);
		const char *s = json_string_value(v);
		if (n <= PC_MAX_STR)
			return json_stringn(s, n);
		n = PC_MAX_STR;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		return json_stringn(s, n);
	}
	if (json_is_array(v)) {
		json_t *out = json_array();
		for (size_t i = 0; i < json_array_size(v) && i < PC_MAX_LIST; i++)
			json_array_append_new(out, pc_bounded(json_array_get(v, i), depth + 1));
		return out;
	}
	if (json_is_object(v)) {
		json_t *out = json_object();
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x) {
			if (json_object_size(out) >= PC_MAX_KEYS)
				break;
			json_object_set_new(out, k, pc_bounded(x, depth + 1));
		}
		return out;
	}
	return json_deep_copy(v); /* numbers, booleans, null */
}

/* Is rel exactly outputs/reports/NAME.html with NAME of [A-Za-z0-9_.-]? */
bool prof_report_path_ok(const char *rel)
{
	static const char pre[] = "outputs/reports/";
	size_t n = rel ? strlen(rel) : 0;
	if (n <= sizeof pre - 1 + 5 || n > 200 || strncmp(rel, pre, sizeof pre - 1) ||
	    strcmp(rel + n - 5, ".html"))
		return false;
	const char *name = rel + sizeof pre - 1;
	if (name[0] == '.')
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.-", *c))
			return false;
	return true;
}

/* Bytes of v once serialized (stops counting past the cap). */
static size_t pc_size(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t n = s ? strlen(s) : (size_t)-1;
	free(s);
	return n;
}

json_t *prof_reply_checked(const json_t *reply, const char *dataset)
{
	const json_t *prof = json_object_get(reply, "profile");
	const json_t *cols = json_object_get(prof, "columns");
	if (!json_is_object(prof) || (cols && !json_is_array(cols)))
		return NULL;
	json_t *out = json_object();
	json_object_set_new(out, "profile", pc_bounded(prof, 0));
	const json_t *sum = json_object_get(reply, "summary");
	if (json_is_object(sum)) {
		json_t *s = pc_bounded(sum, 0);
		const char *rep = json_string_value(json_object_get(s, "report"));
		if (json_object_get(s, "report") && !prof_report_path_ok(rep)) {
			log_warn("profiles: %s: the kernel named the report '%.80s', not "
				 "outputs/reports/NAME.html: dropped", dataset, rep ? rep : "(not text)");
			json_object_del(s, "report");
		}
		json_object_set_new(out, "summary", s);
	} else if (json_is_string(json_object_get(reply, "summary_error"))) {
		json_object_set_new(out, "summary_error",
				    pc_bounded(json_object_get(reply, "summary_error"), 0));
	}
	if (pc_size(out) > PC_MAX_TOTAL) {
		log_warn("profiles: %s: the kernel's profile is over %d bytes: not kept", dataset,
			 PC_MAX_TOTAL);
		json_decref(out);
		return NULL;
	}
	return out;
}
