/*
 * client/tray/tray_pending.c — a question the agent asked before the window
 * opened the project (at start, on choosing it, or after reconnecting): the
 * window learns questions from turn.event as they happen, so one already
 * pending comes from turns.list's `question: {turn, text, choices} | nil`.
 * It is shown with its buttons and the state becomes TRAY_QUESTION, so the
 * input answers it.
 */

#include "client/tray/tray.h"

void tray_pending_check(const msgpack_object *result)
{
	const msgpack_object *q = proto_map_get(result, "question");
	if (!q || q->type != MSGPACK_OBJECT_MAP)
		return; /* nil: no turn waits for an answer */
	if (tray_win_has_question(tray_app.win) || tray_app.state == TRAY_QUESTION)
		return; /* the live question event came first */
	char *text = tray_obj_strdup(q, "text");
	tray_win_say(tray_app.win, "note", "this question was asked before the window opened:");
	tray_win_question(tray_app.win, text ? text : "(the question has no text)",
			  proto_map_get(q, "choices"));
	tray_state_set(TRAY_QUESTION);
	g_free(text);
}
