/*
 * client/tray/tray_notify.c — desktop notifications (libnotify) when a turn
 * ends or a dataset profile is made or fails while the chat window is not
 * in front.  The body is plain text: escaped when the server reads markup.
 * notify_notification_show() waits
 * for the notification server on D-Bus, so it runs on a worker thread (one
 * GTask at a time, in order); the GTK thread never waits for it.
 */
#include <libnotify/notify.h>

#include "client/tray/tray.h"

#define BODY_MAX 300

static GThreadPool *pool;

/* One notification to show: its summary and body (plain text), taken. */
struct note {
	char *title, *body;
};

/* Does the notification server read bodies as markup (asked once)?  Then
 * the body is escaped: an answer's "<b>" or "<a href=…>" stays text. */
static bool body_markup(void)
{
	static int known = -1;
	if (known < 0) {
		GList *caps = notify_get_server_caps();
		known = g_list_find_custom(caps, "body-markup", (GCompareFunc)g_strcmp0) != NULL;
		g_list_free_full(caps, g_free);
	}
	return known == 1;
}

/* Worker: show one notification (data: a struct note, taken). */
static void show_job(gpointer data, gpointer user)
{
	struct note *j = data;
	GError *e = NULL;
	(void)user;
	char *body = body_markup() ? g_markup_escape_text(j->body, -1) : g_strdup(j->body);
	NotifyNotification *n = notify_notification_new(j->title, body, "daa");
	notify_notification_set_hint(n, "desktop-entry", g_variant_new_string("daa-tray"));
	if (!notify_notification_show(n, &e)) {
		g_message("daa-tray: desktop notification failed: %s", e ? e->message : "?");
		g_clear_error(&e);
	}
	g_object_unref(n);
	g_free(body), g_free(j->title), g_free(j->body), g_free(j);
}

void tray_notify(const char *title, const char *body)
{
	if (!notify_is_initted() && !notify_init("daa"))
		return;
	if (!pool)
		pool = g_thread_pool_new(show_job, NULL, 1, FALSE, NULL);
	char *b;
	if (!g_utf8_validate(body, -1, NULL))
		b = g_strdup("(the answer is not valid UTF-8)");
	else if (g_utf8_strlen(body, -1) <= BODY_MAX)
		b = g_strdup(body);
	else {
		/* g_utf8_substring reads past the end when asked for more than there is */
		const char *end = g_utf8_offset_to_pointer(body, BODY_MAX);
		b = g_strdup_printf("%.*s…", (int)(end - body), body);
	}
	struct note *j = g_new(struct note, 1);
	j->title = g_strdup(title);
	j->body = b;
	g_thread_pool_push(pool, j, NULL);
}
