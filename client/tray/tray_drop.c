/*
 * client/tray/tray_drop.c — files dropped on the chat window (XDND,
 * text/uri-list) become data.add calls on the chosen project.  Entries that
 * are not local files, and files of a type daa does not read, get a message
 * in the conversation instead of a silent no-op.
 */
#include <string.h>

#include "client/tray/tray.h"

static const char *const exts[] = {".csv", ".tsv", ".tab", ".txt", ".json", ".jsonl",
				   ".ndjson", ".xlsx", ".parquet", NULL};

bool tray_drop_supported(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return false;
	for (int i = 0; exts[i]; i++)
		if (g_ascii_strcasecmp(dot, exts[i]) == 0)
			return true;
	return false;
}

char **tray_drop_paths(const char *uri_list, char **bad)
{
	char **uris = g_uri_list_extract_uris(uri_list ? uri_list : "");
	GPtrArray *out = g_ptr_array_new();
	GString *msg = g_string_new(NULL);
	for (int i = 0; uris[i]; i++) {
		char *p = g_filename_from_uri(uris[i], NULL, NULL);
		if (p)
			g_ptr_array_add(out, p);
		else
			g_string_append_printf(msg, "%scannot add %s: only local files can be added",
					       msg->len ? "\n" : "", uris[i]);
	}
	g_ptr_array_add(out, NULL);
	g_strfreev(uris);
	if (bad)
		*bad = msg->len ? g_string_free(msg, FALSE) : (g_string_free(msg, TRUE), NULL);
	else
		g_string_free(msg, TRUE);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* The drop: the URIs as text, then to data.add. */
static void received_cb(GtkWidget *w, GdkDragContext *ctx, gint x, gint y, GtkSelectionData *sel,
			guint info, guint time, gpointer data)
{
	(void)w, (void)x, (void)y, (void)info, (void)data;
	const guchar *raw = gtk_selection_data_get_data(sel);
	gint len = gtk_selection_data_get_length(sel);
	char *text = raw && len > 0 ? g_strndup((const char *)raw, (gsize)len) : NULL;
	char *bad = NULL;
	char **paths = tray_drop_paths(text, &bad);
	if (bad)
		tray_win_say(tray_app.win, "error", bad);
	if (!paths[0] && !bad)
		tray_win_say(tray_app.win, "error", "the drop held no file");
	tray_add_files(paths);
	gtk_drag_finish(ctx, paths[0] != NULL, FALSE, time);
	g_strfreev(paths);
	g_free(bad), g_free(text);
}

void tray_drop_attach(GtkWidget *widget)
{
	static const GtkTargetEntry targets[] = {{(char *)"text/uri-list", 0, 0}};
	gtk_drag_dest_set(widget, GTK_DEST_DEFAULT_ALL, targets, 1, GDK_ACTION_COPY);
	g_signal_connect(widget, "drag-data-received", G_CALLBACK(received_cb), NULL);
}
