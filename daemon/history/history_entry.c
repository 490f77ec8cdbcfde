/*
 * daemon/history/history_entry.c — one step's entry of .daa/history.json read into
 * a struct (daemon/history/history.h struct hist_entry).  The file is the user's
 * (a project folder can be edited or copied by hand), so every part is
 * checked: a part of the wrong type reads as absent, never as a crash and
 * never as a value of another kind.
 */
#include <string.h>

#include "daemon/history/history.h"

/* A string member of obj, or NULL when absent or not a string. */
static const char *str_member(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

void hist_entry_read(const json_t *state, const char *stem, struct hist_entry *e)
{
	const json_t *obj = stem && json_is_object(state) ? json_object_get(state, stem) : NULL;
	memset(e, 0, sizeof *e);
	if (!json_is_object(obj))
		return;
	e->present = true;
	e->status = str_member(obj, "status");
	e->error = str_member(obj, "error");
	e->stdout_text = str_member(obj, "stdout");
	const json_t *o = json_object_get(obj, "outputs");
	e->outputs = json_is_array(o) ? o : NULL;
	e->failed = e->status && strcmp(e->status, "failed") == 0;
}
