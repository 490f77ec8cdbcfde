/*
 * daemon/agent/agent_result.c — what clients see of a turn: the `turn.event`
 * notifications broadcast to the project's subscribers, and the TURN RESULT
 * (protocol/PROTOCOL.md, method `ask`) sent to the clients waiting on it.
 * Both are built as jansson values and packed with mpjson_pack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/agent/agent.h"
#include "daemon/agent/agent_int.h"
#include "daemon/core/mpjson.h"
#include "daemon/project/publish.h"

#define STDOUT_EXCERPT 4000
#define RESULT_MAX (4u << 20)  /* a TURN RESULT's */

/* See agent_int.h. */
static json_t *agent_shrink(const json_t *v, size_t max)
{
	return pub_shrink(v, max);
}

/* Broadcast one turn.event to the project's subscribers. */
void agent_event(const struct agent_turn *t, const char *kind, json_t *fields)
{
	json_t *ev = json_pack("{s:s, s:s, s:i, s:s}", "project", t->proj->name, "project_path",
			       t->proj->path, "turn", t->number, "kind", kind);
	if (!ev) {
		json_decref(fields);
		return;
	}
	if (json_is_object(fields))
		json_object_update_missing(ev, fields);
	json_decref(fields);
	/* cut to PUB_EVENT_MAX there: one event never costs a subscriber its connection */
	pub_publish(t->proj->pj, PUB_TURN_EVENT, ev);
	json_decref(ev);
}

/* A string trimmed to max bytes (on a UTF-8 boundary), with a marker. */
static json_t *excerpt(const json_t *s, size_t max)
{
	const char *v = json_string_value(s);
	size_t n;
	if (!v)
		return json_string("");
	n = strlen(v);
	if (n <= max)
		return json_string(v);
	while (max > 0 && ((unsigned char)v[max] & 0xC0) == 0x80)
		max--;
	json_t *out = json_stringn(v, max);
	char tail[64];
	snprintf(tail, sizeof tail, "\n… (%zu more bytes)", n - max);
	json_t *r = json_sprintf("%s%s", json_string_value(out), tail);
	json_decref(out);
	return r;
}

/* One run_python step as the result lists it. */
static json_t *result_step(const json_t *st)
{
	const json_t *args = json_object_get(st, "args");
	const json_t *res = json_object_get(st, "result");
	const json_t *err = json_object_get(res, "error");
	json_t *e = json_null();
	if (json_is_object(err))
		e = json_sprintf("%s: %s", json_string_value(json_object_get(err, "type")) ?: "Error",
				 json_string_value(json_object_get(err, "message")) ?: "");
	return json_pack("{s:O, s:O?, s:b, s:o, s:o, s:O?, s:O?}", "code", json_object_get(args, "code"),
			 "purpose", json_object_get(args, "purpose"), "ok",
			 json_is_true(json_object_get(res, "ok")), "stdout",
			 excerpt(json_object_get(res, "stdout"), STDOUT_EXCERPT), "error", e,
			 "figures", json_object_get(res, "figures"), "tables",
			 json_object_get(res, "tables"));
}

/* The TURN RESULT for the turn in its current state. */
static json_t *agent_result(const struct agent_turn *t, const char *status)
{
	json_t *steps = json_array(), *st;
	size_t i;
	json_array_foreach(t->steps, i, st)
		if (strcmp(json_string_value(json_object_get(st, "tool")) ?: "", "run_python") == 0 &&
		    json_object_get(st, "result"))
			json_array_append_new(steps, result_step(st));
	json_t *r = json_pack("{s:i, s:s, s:s, s:O?, s:o, s:O, s:O, s:s?, s:s, s:s, s:s, s:s?, s:s}",
			      "turn", t->number, "status", status, "answer",
			      t->answer ? t->answer : "", "question", t->question, "steps", steps,
			      "figures", t->figures, "tables", t->tables, "history", t->history,
			      "project_path", t->proj->path, "project", t->proj->name, "backend",
			      agent_backend_name(), "error", t->error, "model", agent_backend_model());
	if (r && !t->question)
		json_object_set_new(r, "question", json_null());
	if (r && !t->history)
		json_object_set_new(r, "history", json_null());
	if (r) /* the code that ran was not saved: never reported as plain success */
		json_object_set_new(r, "history_error", t->history_error ? json_string(t->history_error)
									 : json_null());
	return r;
}

/* Send the result to the waiting clients; a question only goes to the
 * non-interactive ones (interactive clients keep waiting for the end). */
void agent_reply_all(struct agent_turn *t, const char *status)
{
	bool question = strcmp(status, "question") == 0;
	json_t *r = agent_result(t, status), *small = r ? agent_shrink(r, RESULT_MAX) : NULL;
	size_t keep = 0;
	if (small) {
		json_decref(r);
		r = small;
	}
	for (size_t i = 0; i < t->nwaiters; i++) {
		struct agent_waiter *w = &t->waiters[i];
		if (question && w->interactive) {
			t->waiters[keep++] = *w;
			continue;
		}
		if (r) {
			rpc_reply_value(w->to, r);
		} else {
			rpc_reply_error(w->to, PROTO_ERR_INTERNAL, "out of memory building the result");
		}
	}
	t->nwaiters = keep;
	json_decref(r);
}
