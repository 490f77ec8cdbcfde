/*
 * client/tray/tray_event.c — turns into the conversation: live turn.events
 * (PROTOCOL.md "turn.event": started, queued, thinking, progress, code, output,
 * question, answered, convention, done) and the ended turns of turns.list
 * when a project is opened.  Figures are paths relative to the project
 * folder the event names.
 */
#include <string.h>

#include "client/tray/tray.h"

#define OUT_MAX 4000
#define OUT_LINES 8

/* Add the plots of a `figures` array (paths under project_path). */
static void add_figures(struct tray_win *w, const msgpack_object *figs, const char *project_path)
{
	for (uint32_t i = 0; figs && figs->type == MSGPACK_OBJECT_ARRAY && i < figs->via.array.size; i++) {
		char *rel = tray_str_dup(&figs->via.array.ptr[i]);
		if (!rel)
			continue;
		char *path = g_path_is_absolute(rel) ? g_strdup(rel)
						     : g_build_filename(project_path, rel, NULL);
		tray_win_append(w, tray_view_image(path));
		g_free(path), g_free(rel);
	}
}

/* Add the table previews of a `tables` array. */
static void add_tables(struct tray_win *w, const msgpack_object *tabs)
{
	for (uint32_t i = 0; tabs && tabs->type == MSGPACK_OBJECT_ARRAY && i < tabs->via.array.size; i++) {
		const msgpack_object *pv = &tabs->via.array.ptr[i];
		GtkWidget *t = pv->type == MSGPACK_OBJECT_MAP ? tray_view_table(pv) : NULL;
		if (t)
			tray_win_append(w, t);
	}
}

/* A selectable monospace label. */
static GtkWidget *mono_label(const char *text, bool error)
{
	GtkWidget *lbl = tray_win_label(text, PANGO_WRAP_CHAR, error ? "error" : NULL);
	gtk_style_context_add_class(gtk_widget_get_style_context(lbl), "monospace");
	return lbl;
}

/* Output text: the first lines shown, the whole in a collapsed expander. */
static void add_output(struct tray_win *w, const char *text, bool error)
{
	if (!text || !*text)
		return;
	char *cut = strlen(text) > OUT_MAX ? g_strdup_printf("%.*s\n…", OUT_MAX, text) : g_strdup(text);
	g_strchomp(cut);
	char **lines = g_strsplit(cut, "\n", -1);
	guint n = g_strv_length(lines);
	if (n <= OUT_LINES) {
		tray_win_append(w, mono_label(cut, error));
	} else {
		char *last = lines[OUT_LINES];
		lines[OUT_LINES] = NULL;
		char *head = g_strjoinv("\n", lines);
		lines[OUT_LINES] = last;
		tray_win_append(w, mono_label(head, error));
		char *title = g_strdup_printf("All %u lines of output", n);
		GtkWidget *exp = gtk_expander_new(title);
		gtk_container_add(GTK_CONTAINER(exp), mono_label(cut, error));
		tray_win_append(w, exp);
		g_free(head), g_free(title);
	}
	g_strfreev(lines);
	g_free(cut);
}

/* output {ok, stdout, stderr, error, figures, tables}. */
static void on_output(struct tray_win *w, const msgpack_object *ev, const char *project_path)
{
	char *out = tray_obj_strdup(ev, "stdout");
	add_output(w, out, false);
	g_free(out);
	const msgpack_object *err = proto_map_get(ev, "error");
	if (err && err->type == MSGPACK_OBJECT_MAP) {
		char type[128] = "Error", msg[2048] = "";
		proto_map_str(err, "type", type, sizeof type);
		proto_map_str(err, "message", msg, sizeof msg);
		char *t = g_strdup_printf("%s: %s", type, msg);
		add_output(w, t, true);
		g_free(t);
	}
	add_tables(w, proto_map_get(ev, "tables"));
	add_figures(w, proto_map_get(ev, "figures"), project_path);
}

/* done {status, answer, error?}. */
static void on_done(struct tray_win *w, const msgpack_object *ev)
{
	char status[32] = "";
	proto_map_str(ev, "status", status, sizeof status);
	char *answer = tray_obj_strdup(ev, "answer"), *error = tray_obj_strdup(ev, "error");
	if (answer && *answer)
		tray_win_say(w, strcmp(status, "failed") == 0 ? "error" : "daa", answer);
	if (!strcmp(status, "cancelled")) {
		char *t = g_strdup_printf("the turn was cancelled%s%s", error ? ": " : "", error ? error : "");
		tray_win_say(w, "note", t);
		g_free(t);
	}
	g_free(answer), g_free(error);
}

bool tray_progress_text(const msgpack_object *ev, char *buf, size_t size)
{
	long long done = proto_map_int(ev, "done", -1), total = proto_map_int(ev, "total", 0);
	char dataset[128] = "";
	if (total <= 0 || done < 0 || done > total)
		return false;
	proto_map_str(ev, "dataset", dataset, sizeof dataset);
	if (*dataset)
		snprintf(buf, size, "profiling %s: %lld%% (%lld/%lld tasks)", dataset,
			 done * 100 / total, done, total);
	else
		snprintf(buf, size, "computing: %lld%% (%lld/%lld tasks)", done * 100 / total, done,
			 total);
	return true;
}

/* A short progress line for events that only tell where the turn is. */
static void progress(struct tray_win *w, const msgpack_object *ev, const char *kind)
{
	char text[512] = "", stage[64] = "";
	if (!strcmp(kind, "queued")) {
		long long pos = proto_map_int(ev, "position", 0);
		snprintf(text, sizeof text, pos > 0 ? "queued: %lld turn(s) ahead" : "starting…", pos);
	} else if (!strcmp(kind, "thinking")) {
		proto_map_str(ev, "stage", stage, sizeof stage);
		char t[400] = "";
		proto_map_str(ev, "text", t, sizeof t);
		snprintf(text, sizeof text, "thinking (%s)%s%s", stage, *t ? ": " : "", t);
	} else if (!strcmp(kind, "progress")) {
		tray_progress_text(ev, text, sizeof text); /* a step's, or a profile it waits for */
	}
	if (*text)
		tray_win_progress(w, text);
}

void tray_win_event(struct tray_win *w, const msgpack_object *ev)
{
	char kind[32] = "";
	char *pp = tray_obj_strdup(ev, "project_path");
	proto_map_str(ev, "kind", kind, sizeof kind);
	if (!w)
		goto out;
	if (!strcmp(kind, "started") || !strcmp(kind, "answered")) {
		char *t = tray_obj_strdup(ev, !strcmp(kind, "started") ? "request" : "text");
		tray_win_say(w, "you", t ? t : "");
		tray_win_progress(w, "working…");
		g_free(t);
	} else if (!strcmp(kind, "code")) {
		char *code = tray_obj_strdup(ev, "code"), *purpose = tray_obj_strdup(ev, "purpose");
		tray_win_append(w, tray_view_code(code, purpose));
		char *t = g_strdup_printf("running: %s", purpose ? purpose : "code");
		tray_win_progress(w, t);
		g_free(t), g_free(code), g_free(purpose);
	} else if (!strcmp(kind, "output")) {
		on_output(w, ev, pp ? pp : "");
	} else if (!strcmp(kind, "question")) {
		char *t = tray_obj_strdup(ev, "text");
		tray_win_question(w, t, proto_map_get(ev, "choices"));
		g_free(t);
	} else if (!strcmp(kind, "convention")) {
		char key[128] = "", *val = NULL;
		proto_map_str(ev, "key", key, sizeof key);
		val = tray_obj_strdup(ev, "value");
		char *t = g_strdup_printf("remembered: %s%s%s", key, val ? " = " : "", val ? val : "");
		tray_win_say(w, "note", t);
		g_free(t), g_free(val);
	} else if (!strcmp(kind, "done")) {
		on_done(w, ev);
	} else {
		progress(w, ev, kind);
	}
out:
	g_free(pp);
}

void tray_win_past_turn(struct tray_win *w, const msgpack_object *t)
{
	if (!w || t->type != MSGPACK_OBJECT_MAP)
		return;
	char *req = tray_obj_strdup(t, "request"), *code = tray_obj_strdup(t, "code");
	tray_win_say(w, "you", req ? req : "");
	if (code && *g_strstrip(code))
		tray_win_append(w, tray_view_code(code, "the code that ran"));
	add_figures(w, proto_map_get(t, "figures"), tray_app.project_path ? tray_app.project_path : "");
	on_done(w, t);
	g_free(req), g_free(code);
}
