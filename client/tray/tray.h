/*
 * client/tray/tray.h — daa-tray's internals: the GLib-integrated msgpack-RPC
 * connection (tconn_*), the application state shared by the icon, the chat
 * window and the turn renderer (tray_*), and the drop handler.
 *
 * Everything runs on the GTK main thread; nothing there blocks: the socket
 * is non-blocking and driven by g_unix_fd_add, the daemon is spawned and
 * waited for with timers, plots are read with GIO's async calls, and
 * desktop notifications are sent from a worker thread.
 */
#ifndef DAA_TRAY_H
#define DAA_TRAY_H

#include <gtk/gtk.h>
#include <stdbool.h>
#include "protocol/proto_async.h"

/* ---- the connection (tray_conn.c): the protocol's client core
 * (protocol/proto_async.h) on the GLib main loop ---- */
struct tconn;
/* Called once when an open connection breaks (why: for the user). */
typedef void (*tconn_lost_cb)(const char *why, void *ud);

/* A connection to the socket at path; NULL with err when nothing listens. */
struct tconn *tconn_open(const char *path, proto_notify_cb ncb, tconn_lost_cb lcb, void *ud,
			 struct proto_err *err);
/* Close; pending callbacks are called with a transport error first. */
void tconn_close(struct tconn *c);
/* Send a request (params packed by pack, may be NULL); cb (may be NULL) gets
 * the reply later, never from inside this call.  Returns the msgid or 0. */
uint32_t tconn_call(struct tconn *c, const char *method, proto_pack_fn pack, void *pack_ud,
		    proto_reply_cb cb, void *ud);

/* ---- named params for a call ---- */
#define TRAY_KV_MAX 8
struct tray_kv {
	int n;
	struct {
		const char *k;
		const char *s;
		int b; /* -1: string s; 0/1: a bool */
	} kv[TRAY_KV_MAX];
};
void tray_kv_str(struct tray_kv *p, const char *k, const char *s);
void tray_kv_bool(struct tray_kv *p, const char *k, bool b);
/* proto_pack_fn packing a struct tray_kv (copied at call time). */
void tray_kv_pack(msgpack_packer *pk, void *ud);
/* A string field copied into a g_malloc'd string (NULL when absent). */
char *tray_obj_strdup(const msgpack_object *map, const char *key);
/* A msgpack string object as a g_malloc'd string (NULL if not a string). */
char *tray_str_dup(const msgpack_object *o);

/* ---- the application (tray_app.c) ---- */
enum tray_turn_state { TRAY_IDLE, TRAY_RUNNING, TRAY_QUESTION };

struct tray_win;
struct tray_app {
	char socket[4096];
	char exe_dir[4096];
	bool no_start;          /* never start daad */
	bool no_tray;           /* --no-tray: only the window (tests) */
	struct tconn *conn;     /* NULL while disconnected */
	guint retry_id;         /* reconnect timer */
	guint start_id;         /* waiting for a daad we started (child watch) */
	guint start_slow_id;    /* it is taking long: say so once */
	char *status_text;      /* "daad 0.1.0 · builtin" or why not connected */
	char *project;          /* the chosen project's name */
	char *project_path;     /* its folder (from watch) */
	GPtrArray *projects;    /* names, from project.list */
	enum tray_turn_state state;
	struct tray_win *win;
	GtkWidget *menu;        /* the tray menu */
	void *indicator;        /* AppIndicator* */
	GtkStatusIcon *status_icon; /* fallback (unused while SNI works) */
	char *icon_dir;         /* where our SVGs are, when not installed */
};
extern struct tray_app tray_app;

/* Connect now (starting daad unless no_start, when start is true). */
void tray_connect(bool start);
/* Call a method on the daemon; false (and cb with an error) when disconnected. */
bool tray_call(const char *method, struct tray_kv *p, proto_reply_cb cb, void *ud);
/* Choose the project shown in the window (subscribes, loads its turns). */
void tray_project_set(const char *name);
/* Ask for the project list again (menu and chooser). */
void tray_projects_refresh(void);
/* The turn state changed: icon, window controls. */
void tray_state_set(enum tray_turn_state st);
/* Send a request or, when a question waits, an answer. */
void tray_send(const char *text);
/* Cancel the running turn of the current project. */
void tray_cancel(void);
/* Add files (absolute paths) to the current project; messages in the chat. */
void tray_add_files(char **paths);
/* Start daad in its background mode (tray_util.c); 0 (msg says so, and
 * tray_daemon_started follows) or -1 with msg. */
int tray_daemon_spawn(char *msg, size_t size);
/* The daad we started is listening (ok) or failed to start (why). */
void tray_daemon_started(bool ok, const char *why);
/* Open a file in the desktop's viewer (xdg-open URI, detached; tray_util.c). */
void tray_open_path(const char *path);
/* A notification when the window is hidden (tray_notify.c). */
void tray_notify(const char *title, const char *body);
/* Quit the application. */
void tray_quit(void);

/* ---- the tray icon (tray_icon.c) ---- */
void tray_icon_init(void);
void tray_icon_update(void);   /* state, status, recent projects */

/* ---- the chat window (tray_win.c, tray_view.c) ---- */
struct tray_win *tray_win_new(void);
void tray_win_present(struct tray_win *w);
bool tray_win_visible(const struct tray_win *w);
/* The chat window itself (NULL when w is), e.g. as a dialog's parent. */
GtkWindow *tray_win_window(struct tray_win *w);
void tray_win_status(struct tray_win *w, const char *text);
void tray_win_projects(struct tray_win *w);
void tray_win_state(struct tray_win *w);
void tray_win_clear(struct tray_win *w);
/* Add a line of the conversation: who "you" / "daa" / "note" / "error". */
void tray_win_say(struct tray_win *w, const char *who, const char *text);
/* Append a widget to the conversation. */
void tray_win_append(struct tray_win *w, GtkWidget *child);
/* A selectable, left-aligned, wrapped label with an optional style class. */
GtkWidget *tray_win_label(const char *text, PangoWrapMode wrap, const char *style_class);
/* A question with a button per choice and an entry. */
void tray_win_question(struct tray_win *w, const char *text, const msgpack_object *choices);
/* Render one turn.event for the current project (tray_event.c). */
void tray_win_event(struct tray_win *w, const msgpack_object *ev);
/* Render one record of turns.list (an ended turn). */
void tray_win_past_turn(struct tray_win *w, const msgpack_object *t);
/* The progress line of a Dask computation's {done, total} ("computing: 40%
 * (120/300 tasks)", "profiling orders: ..." with a dataset); false when the
 * numbers are not usable (tray_event.c). */
bool tray_progress_text(const msgpack_object *ev, char *buf, size_t size);
/* A Dask dataset's profile moved on (text) or ended (NULL): the progress
 * line, shown meanwhile even with no turn running (no Cancel then). */
void tray_win_profile_progress(struct tray_win *w, const char *text);
/* Render a data.event of the current project (tray_data.c). */
void tray_win_data_event(struct tray_win *w, const msgpack_object *ev);
/* Its line ("sales profiled: 2,000 rows × 8 columns, 3 warnings"), g_malloc'd;
 * NULL for a kind that is not shown; *failed for profile_failed. */
char *tray_data_event_text(const msgpack_object *ev, bool *failed);
/* Is this data.event's line different from the last one shown for its
 * dataset (remembered from now on)?  Repeats are not shown again. */
bool tray_data_event_new(const msgpack_object *ev);
/* Forget the last line of dataset (NULL: of every dataset). */
void tray_data_forget(const char *dataset);
/* The note for a data.add result ("added F as dataset "N" (B bytes); profiling
 * in the background…"), g_malloc'd. */
char *tray_data_added_text(const char *file, const msgpack_object *result);
/* A turns.list result of the current project: show the question a turn
 * already waits on (tray_pending.c). */
void tray_pending_check(const msgpack_object *result);
/* Is a question block waiting for an answer in the window? */
bool tray_win_has_question(const struct tray_win *w);
/* Progress text below the conversation ("" hides it). */
void tray_win_progress(struct tray_win *w, const char *text);

/* Conversation widgets (tray_view.c). */
GtkWidget *tray_view_code(const char *code, const char *purpose);
GtkWidget *tray_view_table(const msgpack_object *preview);
GtkWidget *tray_view_image(const char *path);
/* Keep images scaled to this width. */
void tray_view_images_fit(GtkWidget *box, int width);

/* ---- drag and drop (tray_drop.c) ---- */
/* Paths of the file:// URIs of a text/uri-list (NULL-terminated, g_strfreev);
 * *bad gets a message for entries that are not local files. */
char **tray_drop_paths(const char *uri_list, char **bad);
/* Is the extension one data.add accepts? */
bool tray_drop_supported(const char *path);
/* Make widget a drop target for files. */
void tray_drop_attach(GtkWidget *widget);

#endif
