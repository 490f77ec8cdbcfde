/*
 * client/tray/tray_data.c — datasets in the conversation: a data.event
 * (PROTOCOL.md "data.event": a background profile made or failed) becomes a
 * line such as "sales profiled: 2,000 rows × 8 columns, 3 warnings" with an
 * "Open report" button (the daemon's sandboxed view of the HTML report in
 * the desktop's viewer), or
 * "profile of broken failed: <error>"; and the note a data.add reply gets.
 * The daemon profiles a dataset again when the loading conventions change
 * (a turn infers them), so the same failure would come back after every
 * turn: a line identical to the last one shown for that dataset is skipped
 * until the dataset is added again or another project is shown.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/tray/tray.h"

/* n with thousands separators ("2,000"), whatever the locale. */
static char *count_text(unsigned long long n)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%llu", n);
	GString *s = g_string_new(NULL);
	size_t len = strlen(digits);
	for (size_t i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			g_string_append_c(s, ',');
		g_string_append_c(s, digits[i]);
	}
	return g_string_free(s, FALSE);
}

/* An integer field, or -1 when absent or not a non-negative integer. */
static long long field_count(const msgpack_object *ev, const char *key)
{
	const msgpack_object *o = proto_map_get(ev, key);
	return o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 < (1ull << 62)
		       ? (long long)o->via.u64 : -1;
}

/* "profiled": the sizes, then the warnings or why there is no summary. */
static void profiled_text(GString *s, const msgpack_object *ev)
{
	long long rows = field_count(ev, "rows"), cols = field_count(ev, "n_columns");
	long long warn = field_count(ev, "warnings");
	char *err = tray_obj_strdup(ev, "summary_error");
	if (rows >= 0 && cols >= 0) {
		char *r = count_text((unsigned long long)rows), *c = count_text((unsigned long long)cols);
		g_string_append_printf(s, ": %s row%s × %s column%s", r, rows == 1 ? "" : "s", c,
				       cols == 1 ? "" : "s");
		g_free(r), g_free(c);
	}
	if (err)
		g_string_append_printf(s, " (no detailed summary: %s)", err);
	else if (warn == 0)
		g_string_append(s, rows >= 0 && cols >= 0 ? ", no warnings" : ": no warnings");
	else if (warn > 0) {
		char *w = count_text((unsigned long long)warn);
		g_string_append_printf(s, "%s%s warning%s", rows >= 0 && cols >= 0 ? ", " : ": ", w,
				       warn == 1 ? "" : "s");
		g_free(w);
	}
	g_free(err);
}

char *tray_data_event_text(const msgpack_object *ev, bool *failed)
{
	char kind[32] = "";
	proto_map_str(ev, "kind", kind, sizeof kind);
	char *name = tray_obj_strdup(ev, "dataset");
	if (!name)
		name = tray_obj_strdup(ev, "file");
	GString *s = g_string_new(NULL);
	*failed = false;
	if (!strcmp(kind, "profiled")) {
		g_string_append_printf(s, "%s profiled", name ? name : "a dataset");
		profiled_text(s, ev);
	} else if (!strcmp(kind, "profile_failed")) {
		char *err = tray_obj_strdup(ev, "error");
		g_string_append_printf(s, "profile of %s failed: %s", name ? name : "a dataset",
				       err && *err ? err : "no reason given");
		g_free(err);
		*failed = true;
	}
	g_free(name);
	return s->len ? g_string_free(s, FALSE) : (g_string_free(s, TRUE), NULL);
}

static GHashTable *shown; /* dataset → its last line shown */

bool tray_data_event_new(const msgpack_object *ev)
{
	bool failed;
	char *text = tray_data_event_text(ev, &failed), *name = tray_obj_strdup(ev, "dataset");
	if (!text || !name) {
		g_free(text), g_free(name);
		return text != NULL;
	}
	if (!shown)
		shown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	const char *last = g_hash_table_lookup(shown, name);
	bool fresh = !last || strcmp(last, text) != 0;
	g_hash_table_replace(shown, name, text); /* takes both */
	return fresh;
}

void tray_data_forget(const char *dataset)
{
	if (shown && dataset)
		g_hash_table_remove(shown, dataset);
	else if (shown)
		g_hash_table_remove_all(shown);
}

static void open_report_cb(GtkButton *b, gpointer data)
{
	(void)b;
	tray_open_path(data);
}

/* What "Open report" opens: the event's `view`, the page the daemon wrote
 * around the kernel-made report (sandboxed, no network), only when it is a
 * regular NAME.html directly in <project_path>/.daa/view — never the report
 * itself (a kernel can rewrite it) and no button for anything else. */
static char *report_path(const msgpack_object *ev)
{
	char *view = tray_obj_strdup(ev, "view"), *pp = tray_obj_strdup(ev, "project_path");
	char *dir = pp && g_path_is_absolute(pp) ? g_build_filename(pp, ".daa", "view", NULL) : NULL;
	char rdir[PATH_MAX], rview[PATH_MAX], *path = NULL, *parent = NULL;
	struct stat st;
	if (view && dir && realpath(dir, rdir) && realpath(view, rview) &&
	    (parent = g_path_get_dirname(rview)) && strcmp(parent, rdir) == 0 &&
	    g_str_has_suffix(rview, ".html") && lstat(view, &st) == 0 && S_ISREG(st.st_mode))
		path = g_strdup(rview);
	g_free(parent), g_free(dir), g_free(view), g_free(pp);
	return path;
}

void tray_win_data_event(struct tray_win *w, const msgpack_object *ev)
{
	bool failed;
	char *text = w ? tray_data_event_text(ev, &failed) : NULL;
	if (!text)
		return;
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	GtkWidget *lbl = gtk_label_new(text);
	gtk_label_set_xalign(GTK_LABEL(lbl), 0);
	gtk_label_set_line_wrap(GTK_LABEL(lbl), TRUE);
	gtk_label_set_line_wrap_mode(GTK_LABEL(lbl), PANGO_WRAP_WORD_CHAR);
	gtk_label_set_selectable(GTK_LABEL(lbl), TRUE);
	gtk_style_context_add_class(gtk_widget_get_style_context(lbl), failed ? "error" : "dim-label");
	gtk_box_pack_start(GTK_BOX(row), lbl, FALSE, FALSE, 0);
	char *report = failed ? NULL : report_path(ev);
	if (report) {
		GtkWidget *b = gtk_button_new_with_mnemonic("_Open report");
		gtk_widget_set_tooltip_text(b, report);
		gtk_widget_set_valign(b, GTK_ALIGN_CENTER);
		g_signal_connect_data(b, "clicked", G_CALLBACK(open_report_cb), report,
				      (GClosureNotify)(void (*)(void))g_free, 0);
		gtk_box_pack_start(GTK_BOX(row), b, FALSE, FALSE, 0);
	}
	tray_win_append(w, row);
	g_free(text);
}

char *tray_data_added_text(const char *file, const msgpack_object *result)
{
	char *name = tray_obj_strdup(result, "name");
	const msgpack_object *prof = proto_map_get(result, "profile");
	char state[32] = "";
	if (prof && prof->type == MSGPACK_OBJECT_MAP)
		proto_map_str(prof, "state", state, sizeof state);
	const char *tail = !strcmp(state, "running") ? "; profiling in the background…"
			   : !strcmp(state, "ready")  ? "; its profile is ready (same content as before)"
						      : "";
	long long n = proto_map_int(result, "bytes", 0);
	char *bytes = count_text(n > 0 ? (unsigned long long)n : 0);
	char *msg = g_strdup_printf("added %s as dataset \"%s\" (%s bytes)%s", file,
				    name ? name : "?", bytes, tail);
	g_free(name), g_free(bytes);
	return msg;
}
