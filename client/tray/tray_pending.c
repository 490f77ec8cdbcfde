/*
 * client/tray/tray_pending.c — a question the agent asked before the window
 * opened (or before it reconnected): the window learns questions from
 * turn.event as they happen, so one already pending is found when a project
 * is opened, from its turns.list reply:
 *   1. `question: {text, choices}` in turns.list, when the daemon gives it;
 *   2. else, while the project is busy, the newest model call of the turn
 *      after the last ended one (log.tail): a builtin `ask_user` reply gives
 *      the question and its choices; an OpenAI-style reply calling ask_user
 *      says only that a question waits (its arguments are a JSON string).
 * Either way the question is shown with its buttons and the state becomes
 * TRAY_QUESTION, so the input answers it.
 */
#include <string.h>

#include "client/tray/tray.h"

/* Show the question (unless the live events already did). */
static void show(const char *text, const msgpack_object *choices)
{
	if (tray_win_has_question(tray_app.win) || tray_app.state == TRAY_QUESTION)
		return;
	tray_win_say(tray_app.win, "note", "this question was asked before the window opened:");
	tray_win_question(tray_app.win, text, choices);
	tray_state_set(TRAY_QUESTION);
}

/* An OpenAI-style logged reply: does it call ask_user? */
static bool calls_ask_user(const msgpack_object *resp)
{
	const msgpack_object *ch = proto_map_get(resp, "choices");
	for (uint32_t i = 0; ch && ch->type == MSGPACK_OBJECT_ARRAY && i < ch->via.array.size; i++) {
		const msgpack_object *msg = proto_map_get(&ch->via.array.ptr[i], "message");
		const msgpack_object *tc = msg ? proto_map_get(msg, "tool_calls") : NULL;
		for (uint32_t j = 0; tc && tc->type == MSGPACK_OBJECT_ARRAY && j < tc->via.array.size; j++) {
			const msgpack_object *fn = proto_map_get(&tc->via.array.ptr[j], "function");
			char name[64] = "";
			if (fn && fn->type == MSGPACK_OBJECT_MAP)
				proto_map_str(fn, "name", name, sizeof name);
			if (!strcmp(name, "ask_user"))
				return true;
		}
	}
	return false;
}

/* The newest logged model call of a turn after `done`: a question? */
static void from_entry(const msgpack_object *e)
{
	const msgpack_object *resp = proto_map_get(e, "response");
	if (!resp || resp->type != MSGPACK_OBJECT_MAP)
		return;
	char tool[64] = "";
	proto_map_str(resp, "tool", tool, sizeof tool);
	const msgpack_object *args = proto_map_get(resp, "args");
	if (!strcmp(tool, "ask_user") && args && args->type == MSGPACK_OBJECT_MAP) {
		char *q = tray_obj_strdup(args, "question");
		show(q ? q : "(the question has no text)", proto_map_get(args, "choices"));
		g_free(q);
	} else if (calls_ask_user(resp)) {
		show("a question is waiting for your answer (see `daa log` for its text)", NULL);
	}
}

/* log.tail → the pending turn's newest model call. */
static void log_reply_cb(const struct tconn_reply *r, void *ud)
{
	char **v = ud; /* {project, last ended turn} */
	long long done = g_ascii_strtoll(v[1], NULL, 10);
	bool current = tray_app.project && strcmp(v[0], tray_app.project) == 0;
	g_strfreev(v);
	const msgpack_object *es = r->result ? proto_map_get(r->result, "entries") : NULL;
	if (!current || !es || es->type != MSGPACK_OBJECT_ARRAY || es->via.array.size == 0)
		return;
	const msgpack_object *last = &es->via.array.ptr[es->via.array.size - 1];
	if (last->type == MSGPACK_OBJECT_MAP && proto_map_int(last, "turn", 0) > done)
		from_entry(last);
}

void tray_pending_check(const char *project, const msgpack_object *result)
{
	const msgpack_object *q = proto_map_get(result, "question");
	if (q && q->type == MSGPACK_OBJECT_MAP) {
		char *text = tray_obj_strdup(q, "text");
		show(text ? text : "", proto_map_get(q, "choices"));
		g_free(text);
		return;
	}
	if (!proto_map_bool(result, "busy", false) || (q && q->type == MSGPACK_OBJECT_NIL))
		return; /* nothing runs, or the daemon says no question waits */
	long long done = 0;
	const msgpack_object *ts = proto_map_get(result, "turns");
	for (uint32_t i = 0; ts && ts->type == MSGPACK_OBJECT_ARRAY && i < ts->via.array.size; i++)
		if (ts->via.array.ptr[i].type == MSGPACK_OBJECT_MAP)
			done = MAX(done, proto_map_int(&ts->via.array.ptr[i], "turn", 0));
	char **v = g_new0(char *, 3);
	v[0] = g_strdup(project);
	v[1] = g_strdup_printf("%lld", done);
	struct tray_kv p = {0};
	tray_kv_str(&p, "project", project);
	tray_call("log.tail", &p, log_reply_cb, v);
}
