/*
 * client/tray/tray_notify.c — desktop notifications (libnotify) when a turn
 * ends or a dataset profile is made or fails while the chat window is not
 * in front.  notify_notification_show() waits
 * for the notification server on D-Bus, so it runs on a worker thread (one
 * GTask at a time, in order); the GTK thread never waits for it.
 */
#include <libnotify/notify.h>

#include "client/tray/tray.h"

#define BODY_MAX 300

static GThreadPool *pool;

/* Worker: show one notification (data: a NotifyNotification, taken). */
static void show_job(gpointer data, gpointer user)
{
	NotifyNotification *n = data;
	GError *e = NULL;
	(void)user;
	if (!notify_notification_show(n, &e)) {
		g_message("daa-tray: desktop notification failed: %s", e ? e->message : "?");
		g_clear_error(&e);
	}
	g_object_unref(n);
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
	NotifyNotification *n = notify_notification_new(title, b, "daa");
	notify_notification_set_hint(n, "desktop-entry", g_variant_new_string("daa-tray"));
	g_free(b);
	g_thread_pool_push(pool, n, NULL);
}
