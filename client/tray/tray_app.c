/*
 * client/tray/tray_app.c — the tray's state and its conversation with daad:
 * connecting (starting daad once when asked to, then retrying every two
 * seconds so a restarted daemon is found again), the project list, the
 * chosen project (watch + turns.list to load its conversation and a question
 * already pending), turn.event and data.event dispatch, and the user's
 * actions (ask / answer / cancel / data.add).
 *
 *   disconnected --connect ok--> connected --socket breaks--> disconnected
 *        |  (start: run daad, which returns once it listens)     (retry 2 s)
 */
#include <string.h>

#include "client/tray/tray.h"
#include "protocol/proto_notes.h"

struct tray_app tray_app;

#define RETRY_MS 2000
#define START_SLOW_MS 5000

static void on_connected(void);
static gboolean retry_cb(gpointer data);

/* The status line, also shown in the window and the menu. */
static void status_set(const char *text)
{
	g_free(tray_app.status_text);
	tray_app.status_text = g_strdup(text);
	if (tray_app.win)
		tray_win_status(tray_app.win, text);
	tray_icon_update();
}

/* The socket broke: forget it, retry later. */
static void lost_cb(const char *why, void *ud)
{
	(void)ud;
	tconn_close(tray_app.conn);
	tray_app.conn = NULL;
	char *s = g_strdup_printf("daemon not reachable (%s) — reconnecting", why);
	status_set(s);
	g_free(s);
	tray_win_profile_progress(tray_app.win, NULL);
	tray_state_set(TRAY_IDLE);
	tray_win_progress(tray_app.win, "");
	if (!tray_app.retry_id)
		tray_app.retry_id = g_timeout_add(RETRY_MS, retry_cb, NULL);
}

/* A turn.event: the window when it is about the chosen project; icon state. */
static void on_turn_event(const msgpack_object *ev)
{
	char kind[32] = "", path[4096] = "";
	proto_map_str(ev, "kind", kind, sizeof kind);
	proto_map_str(ev, "project_path", path, sizeof path);
	bool ours = tray_app.project_path && strcmp(path, tray_app.project_path) == 0;
	if (!ours) {
		if (strcmp(kind, "done") == 0 && !tray_win_visible(tray_app.win)) {
			char *body = tray_obj_strdup(ev, "answer");
			tray_notify("daa: a turn ended in another project", body ? body : "");
			g_free(body);
		}
		return;
	}
	tray_win_event(tray_app.win, ev);
	if (!strcmp(kind, "started") || !strcmp(kind, "answered") || !strcmp(kind, "queued"))
		tray_state_set(TRAY_RUNNING);
	else if (!strcmp(kind, "question"))
		tray_state_set(TRAY_QUESTION);
	else if (!strcmp(kind, "done")) {
		tray_state_set(TRAY_IDLE);
		char *nsv = tray_obj_strdup(ev, "history_error");
		if (nsv) { /* the code ran but is not in history/: never shown as plain success */
			char *msg = g_strdup_printf("the turn's code was NOT saved as a history step: %s", nsv);
			tray_win_say(tray_app.win, "error", msg);
			g_free(msg);
		}
		g_free(nsv);
		if (!tray_win_visible(tray_app.win)) {
			char *body = tray_obj_strdup(ev, "answer");
			char *title = g_strdup_printf("daa: %s — turn ended", tray_app.project);
			tray_notify(title, body ? body : "");
			g_free(body), g_free(title);
		}
	}
}

/* profile_progress: the progress line until that computation ends. */
static void on_profile_progress(const msgpack_object *ev)
{
	char text[512];
	if (!tray_progress_text(ev, text, sizeof text))
		return;
	bool ended = proto_map_int(ev, "done", -1) == proto_map_int(ev, "total", 0);
	tray_win_profile_progress(tray_app.win, ended ? NULL : text);
}

/* A data.event (a background profile made or failed, or its progress): the
 * window when it shows that project, a desktop notification when it is not
 * in front. */
static void on_data_event(const msgpack_object *ev)
{
	char path[4096] = "", kind[32] = "";
	proto_map_str(ev, "project_path", path, sizeof path);
	proto_map_str(ev, "kind", kind, sizeof kind);
	if (!tray_app.project_path || strcmp(path, tray_app.project_path) != 0)
		return;
	if (!strcmp(kind, "profile_progress")) {
		on_profile_progress(ev);
		return;
	}
	if (!strcmp(kind, "profiled") || !strcmp(kind, "profile_failed"))
		tray_win_profile_progress(tray_app.win, NULL); /* that profile is over */
	if (!tray_data_event_new(ev))
		return;
	tray_win_data_event(tray_app.win, ev);
	bool failed;
	char *text = tray_data_event_text(ev, &failed);
	if (text && !tray_win_visible(tray_app.win)) {
		char *title = g_strdup_printf("daa: %s — %s", tray_app.project,
					      failed ? "a profile failed" : "dataset profiled");
		tray_notify(title, text);
		g_free(title);
	}
	g_free(text);
}

/* A step edit or a re-run (another client's: the tray makes neither),
 * said in the window when it shows that project: the kernel restarts, and
 * the variables of the old code go with it (proto_history_note, the words
 * `daa chat` uses). */
static void on_history_event(const msgpack_object *ev)
{
	char path[4096] = "", line[1024];
	proto_map_str(ev, "project_path", path, sizeof path);
	if (!tray_app.project_path || strcmp(path, tray_app.project_path) != 0 ||
	    !proto_history_note(ev, line, sizeof line))
		return;
	char *text = g_utf8_make_valid(line, -1);
	tray_win_say(tray_app.win, "note", text);
	g_free(text);
}

/* Every notification from daad. */
static void notify_cb(const char *method, const msgpack_object *params, void *ud)
{
	(void)ud;
	if (!params || params->type != MSGPACK_OBJECT_MAP)
		return;
	if (strcmp(method, "turn.event") == 0)
		on_turn_event(params);
	else if (strcmp(method, "data.event") == 0)
		on_data_event(params);
	else if (strcmp(method, "history.event") == 0)
		on_history_event(params);
}

/* Try to connect once; true on success. */
static bool try_connect(char *why, size_t size)
{
	struct proto_err err = {0};
	tray_app.conn = tconn_open(tray_app.socket, notify_cb, lost_cb, NULL, &err);
	if (!tray_app.conn) {
		g_strlcpy(why, err.msg, size);
		return false;
	}
	on_connected();
	return true;
}

/* Timer: retry connecting (no start). */
static gboolean retry_cb(gpointer data)
{
	(void)data;
	char why[512];
	if (tray_app.conn || try_connect(why, sizeof why)) {
		tray_app.retry_id = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* The daad we started listens, or could not start. */
void tray_daemon_started(bool ok, const char *why)
{
	char err[512];
	tray_app.start_id = 0;
	if (tray_app.start_slow_id)
		g_source_remove(tray_app.start_slow_id);
	tray_app.start_slow_id = 0;
	if (tray_app.conn || try_connect(err, sizeof err))
		return; /* ours, or another daad that won the race */
	char *s = ok ? g_strdup_printf("daemon not reachable after it started: %s", err)
		     : g_strdup(why);
	status_set(s);
	tray_win_say(tray_app.win, "error", s);
	g_free(s);
	if (!tray_app.retry_id)
		tray_app.retry_id = g_timeout_add(RETRY_MS, retry_cb, NULL);
}

/* Timer: the daad we started is still not listening after START_SLOW_MS. */
static gboolean start_slow_cb(gpointer data)
{
	(void)data;
	tray_app.start_slow_id = 0;
	char *dir = g_path_get_dirname(tray_app.socket);
	char *s = g_strdup_printf("the daemon has not started after %d s: see %s/daad.log",
				  START_SLOW_MS / 1000, dir);
	status_set(s);
	tray_win_say(tray_app.win, "error", s);
	g_free(s), g_free(dir);
	return G_SOURCE_REMOVE;
}

void tray_connect(bool start)
{
	char why[512], msg[1024];
	if (tray_app.conn || tray_app.start_id || try_connect(why, sizeof why))
		return;
	if (start && !tray_app.no_start) {
		if (tray_daemon_spawn(msg, sizeof msg) == 0) {
			status_set(msg);
			tray_app.start_slow_id = g_timeout_add(START_SLOW_MS, start_slow_cb, NULL);
			return;
		}
		tray_win_say(tray_app.win, "error", msg);
		g_strlcpy(why, msg, sizeof why);
	}
	char *s = g_strdup_printf("daemon not running: %s", why);
	status_set(s);
	g_free(s);
	if (!tray_app.retry_id)
		tray_app.retry_id = g_timeout_add(RETRY_MS, retry_cb, NULL);
}

/* Idle: a call made while disconnected fails like a broken one. */
struct late_fail {
	proto_reply_cb cb;
	void *ud;
};
static gboolean late_fail_cb(gpointer data)
{
	struct late_fail *f = data;
	struct proto_reply r = {.errmsg = "the daemon is not running", .code = PROTO_ERR_IO};
	f->cb(&r, f->ud);
	g_free(f);
	return G_SOURCE_REMOVE;
}

bool tray_call(const char *method, struct tray_kv *p, proto_reply_cb cb, void *ud)
{
	if (tray_app.conn && tconn_call(tray_app.conn, method, tray_kv_pack, p, cb, ud))
		return true;
	if (cb) {
		struct late_fail *f = g_new(struct late_fail, 1);
		f->cb = cb, f->ud = ud;
		g_idle_add(late_fail_cb, f);
	}
	return false;
}

/* status → the status line. */
static void status_reply_cb(const struct proto_reply *r, void *ud)
{
	(void)ud;
	if (!r->result) {
		status_set(r->errmsg);
		return;
	}
	char ver[64] = "?", backend[64] = "?", model[128] = "";
	proto_map_str(r->result, "version", ver, sizeof ver);
	const msgpack_object *llm = proto_map_get(r->result, "llm");
	if (llm && llm->type == MSGPACK_OBJECT_MAP) {
		proto_map_str(llm, "backend", backend, sizeof backend);
		proto_map_str(llm, "model", model, sizeof model);
	}
	char *s = g_strdup_printf("daemon running · daad %s · %s%s%s", ver, backend,
				  *model ? " " : "", model);
	status_set(s);
	g_free(s);
}

/* Connected: status, projects, the chosen project again. */
static void on_connected(void)
{
	if (tray_app.retry_id)
		g_source_remove(tray_app.retry_id);
	tray_app.retry_id = 0;
	status_set("connected");
	tray_call("status", NULL, status_reply_cb, NULL);
	tray_projects_refresh();
	tray_project_set(tray_app.project ? tray_app.project : "default");
}

/* project.list → tray_app.projects. */
static void list_reply_cb(const struct proto_reply *r, void *ud)
{
	(void)ud;
	const msgpack_object *ps = r->result ? proto_map_get(r->result, "projects") : NULL;
	if (!ps || ps->type != MSGPACK_OBJECT_ARRAY)
		return;
	g_ptr_array_set_size(tray_app.projects, 0);
	for (uint32_t i = 0; i < ps->via.array.size; i++) {
		char *name = tray_obj_strdup(&ps->via.array.ptr[i], "name");
		if (name)
			g_ptr_array_add(tray_app.projects, name);
	}
	tray_win_projects(tray_app.win);
	tray_icon_update();
}

void tray_projects_refresh(void)
{
	tray_call("project.list", NULL, list_reply_cb, NULL);
}

/* turns.list → the conversation so far. */
static void turns_reply_cb(const struct proto_reply *r, void *ud)
{
	char *project = ud;
	bool current = tray_app.project && strcmp(project, tray_app.project) == 0;
	g_free(project);
	if (!current)
		return;
	if (!r->result) {
		if (r->code == PROTO_ERR_NO_METHOD)
			tray_win_say(tray_app.win, "note", "(this daemon cannot list earlier turns)");
		else if (r->errmsg)
			tray_win_say(tray_app.win, "error", r->errmsg);
		return;
	}
	const msgpack_object *ts = proto_map_get(r->result, "turns");
	for (uint32_t i = 0; ts && ts->type == MSGPACK_OBJECT_ARRAY && i < ts->via.array.size; i++)
		tray_win_past_turn(tray_app.win, &ts->via.array.ptr[i]);
	if (proto_map_bool(r->result, "busy", false) && tray_app.state == TRAY_IDLE) {
		tray_state_set(TRAY_RUNNING);
		tray_win_progress(tray_app.win, "a turn is running on this project…");
	}
	tray_pending_check(r->result);
}

/* watch → the project's folder, then its turns. */
static void watch_reply_cb(const struct proto_reply *r, void *ud)
{
	char *project = ud;
	if (!tray_app.project || strcmp(project, tray_app.project) != 0) {
		g_free(project);
		return;
	}
	if (!r->result) {
		tray_win_say(tray_app.win, "error", r->errmsg ? r->errmsg : "watch failed");
		g_free(project);
		return;
	}
	g_free(tray_app.project_path);
	tray_app.project_path = tray_obj_strdup(r->result, "project_path");
	struct tray_kv p = {0};
	tray_kv_str(&p, "project", project);
	tray_call("turns.list", &p, turns_reply_cb, project);
}

void tray_project_set(const char *name)
{
	char *copy = g_strdup(name);
	g_free(tray_app.project);
	tray_app.project = copy;
	g_free(tray_app.project_path);
	tray_app.project_path = NULL;
	tray_state_set(TRAY_IDLE);
	tray_data_forget(NULL);
	tray_win_clear(tray_app.win);
	tray_win_projects(tray_app.win);
	tray_icon_update();
	if (!tray_app.conn)
		return;
	struct tray_kv p = {0};
	tray_kv_str(&p, "project", copy);
	tray_call("watch", &p, watch_reply_cb, g_strdup(copy));
}

void tray_state_set(enum tray_turn_state st)
{
	tray_app.state = st;
	if (st == TRAY_IDLE)
		tray_win_progress(tray_app.win, "");
	tray_win_state(tray_app.win);
	tray_icon_update();
}

/* ask / answer reply: the TURN RESULT came by events; show only failures.
 * An answer to a question that no longer waits (answered elsewhere a moment
 * before) leaves the question state. */
static void turn_reply_cb(const struct proto_reply *r, void *ud)
{
	(void)ud;
	if (!r->result && r->errmsg)
		tray_win_say(tray_app.win, "error", r->errmsg);
	if (!r->result && r->code == PROTO_ERR_NO_QUESTION && tray_app.state == TRAY_QUESTION)
		tray_state_set(TRAY_RUNNING);
}

void tray_send(const char *request)
{
	g_autofree char *text = g_strstrip(g_strdup(request ? request : ""));
	if (!*text)
		return;
	if (!tray_app.conn) {
		tray_win_say(tray_app.win, "error", "not connected to the daemon: starting it; send again "
						    "when the status says it runs");
		tray_connect(true);
		return;
	}
	struct tray_kv p = {0};
	tray_kv_str(&p, "project", tray_app.project);
	if (tray_app.state == TRAY_QUESTION) {
		tray_kv_str(&p, "text", text);
		tray_call("answer", &p, turn_reply_cb, NULL);
	} else {
		tray_kv_str(&p, "request", text);
		tray_kv_bool(&p, "interactive", true);
		tray_call("ask", &p, turn_reply_cb, NULL);
	}
	tray_win_progress(tray_app.win, "sent…");
}

/* cancel → a note when nothing was running. */
static void cancel_reply_cb(const struct proto_reply *r, void *ud)
{
	(void)ud;
	if (!r->result)
		tray_win_say(tray_app.win, "error", r->errmsg ? r->errmsg : "cancel failed");
	else if (!proto_map_bool(r->result, "cancelled", false))
		tray_win_say(tray_app.win, "note", "no turn was running");
}

void tray_cancel(void)
{
	struct tray_kv p = {0};
	tray_kv_str(&p, "project", tray_app.project);
	tray_call("cancel", &p, cancel_reply_cb, NULL);
}

/* data.add → what was added (and that its profile is under way), or why not. */
static void add_reply_cb(const struct proto_reply *r, void *ud)
{
	char *file = ud, *msg;
	bool ok = r->result && r->result->type == MSGPACK_OBJECT_MAP;
	if (ok) {
		char *name = tray_obj_strdup(r->result, "name");
		if (name)
			tray_data_forget(name); /* its next profile is news again */
		g_free(name);
		msg = tray_data_added_text(file, r->result);
	}
	else
		msg = g_strdup_printf("cannot add %s: %s", file, r->errmsg ? r->errmsg : "unknown error");
	tray_win_say(tray_app.win, ok ? "note" : "error", msg);
	g_free(msg), g_free(file);
}

void tray_add_files(char **paths)
{
	for (int i = 0; paths && paths[i]; i++) {
		if (!tray_drop_supported(paths[i])) {
			char *m = g_strdup_printf("cannot add %s: not a data file daa reads (CSV, TSV, "
						  "XLSX, JSON, JSONL, Parquet)", paths[i]);
			tray_win_say(tray_app.win, "error", m);
			g_free(m);
			continue;
		}
		struct tray_kv p = {0};
		tray_kv_str(&p, "project", tray_app.project);
		tray_kv_str(&p, "path", paths[i]);
		tray_call("data.add", &p, add_reply_cb, g_strdup(paths[i]));
	}
}

void tray_quit(void)
{
	GApplication *app = g_application_get_default();
	if (app)
		g_application_quit(app);
}
