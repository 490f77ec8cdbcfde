/*
 * client/tray/tray_view.c — the widgets of a conversation step: the code
 * (a collapsed expander, monospace, selectable so it can be copied), a table
 * PREVIEW (sandbox/KERNEL.md) as a GtkTreeView grid, and a plot read with
 * GIO's async calls and kept scaled to the window's width (never above its
 * own size); a click on a plot opens the PNG in the desktop's viewer.
 */
#include <string.h>

#include "client/tray/tray.h"

#define IMG_MARGIN 48

GtkWidget *tray_view_code(const char *code, const char *purpose)
{
	char *title = g_strdup_printf("Code%s%s", purpose && *purpose ? ": " : "",
				      purpose ? purpose : "");
	GtkWidget *exp = gtk_expander_new(title);
	GtkWidget *lbl = gtk_label_new(code ? code : "");
	gtk_label_set_selectable(GTK_LABEL(lbl), TRUE);
	gtk_label_set_xalign(GTK_LABEL(lbl), 0);
	gtk_label_set_line_wrap(GTK_LABEL(lbl), TRUE);
	gtk_label_set_line_wrap_mode(GTK_LABEL(lbl), PANGO_WRAP_CHAR);
	gtk_style_context_add_class(gtk_widget_get_style_context(lbl), "monospace");
	gtk_widget_set_margin_start(lbl, 12);
	gtk_container_add(GTK_CONTAINER(exp), lbl);
	gtk_expander_set_expanded(GTK_EXPANDER(exp), FALSE);
	g_free(title);
	return exp;
}

/* A cell (str/int/float/bool/nil) as text. */
static char *cell_text(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return g_strdup("");
	case MSGPACK_OBJECT_BOOLEAN: return g_strdup(o->via.boolean ? "True" : "False");
	case MSGPACK_OBJECT_POSITIVE_INTEGER: return g_strdup_printf("%llu", (unsigned long long)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return g_strdup_printf("%lld", (long long)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return g_strdup_printf("%.6g", o->via.f64);
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN: return tray_str_dup(o);
	default: return g_strdup("…");
	}
}

/* Append the rows of `rows` (with labels from `index`) to the store. */
static void add_rows(GtkListStore *st, const msgpack_object *rows, const msgpack_object *index,
		     int ncols)
{
	for (uint32_t r = 0; rows && rows->type == MSGPACK_OBJECT_ARRAY && r < rows->via.array.size; r++) {
		const msgpack_object *row = &rows->via.array.ptr[r];
		GtkTreeIter it;
		gtk_list_store_append(st, &it);
		if (index && index->type == MSGPACK_OBJECT_ARRAY && r < index->via.array.size) {
			char *t = cell_text(&index->via.array.ptr[r]);
			gtk_list_store_set(st, &it, 0, t, -1);
			g_free(t);
		}
		for (int c = 0; row->type == MSGPACK_OBJECT_ARRAY && c < ncols &&
				(uint32_t)c < row->via.array.size; c++) {
			char *t = cell_text(&row->via.array.ptr[c]);
			gtk_list_store_set(st, &it, c + 1, t, -1);
			g_free(t);
		}
	}
}

/* The grid's columns: the index, then the frame's columns. */
static GtkWidget *table_view(GtkListStore *st, const msgpack_object *cols, int ncols)
{
	GtkWidget *tv = gtk_tree_view_new_with_model(GTK_TREE_MODEL(st));
	for (int c = 0; c <= ncols; c++) {
		char *title = c == 0 ? g_strdup("") : tray_str_dup(&cols->via.array.ptr[c - 1]);
		GtkCellRenderer *cr = gtk_cell_renderer_text_new();
		GtkTreeViewColumn *col = gtk_tree_view_column_new_with_attributes(title ? title : "?", cr,
										  "text", c, NULL);
		gtk_tree_view_column_set_resizable(col, TRUE);
		gtk_tree_view_append_column(GTK_TREE_VIEW(tv), col);
		g_free(title);
	}
	gtk_tree_view_set_grid_lines(GTK_TREE_VIEW(tv), GTK_TREE_VIEW_GRID_LINES_BOTH);
	return tv;
}

GtkWidget *tray_view_table(const msgpack_object *pv)
{
	const msgpack_object *cols = proto_map_get(pv, "columns");
	if (!cols || cols->type != MSGPACK_OBJECT_ARRAY)
		return NULL;
	int ncols = (int)MIN(cols->via.array.size, 50u);
	const msgpack_object *head = proto_map_get(pv, "head");
	int have = head && head->type == MSGPACK_OBJECT_ARRAY && head->via.array.size > 0 &&
		   head->via.array.ptr[0].type == MSGPACK_OBJECT_ARRAY ?
			   (int)head->via.array.ptr[0].via.array.size : ncols;
	ncols = MIN(ncols, have);
	GType *types = g_new(GType, ncols + 1);
	for (int i = 0; i <= ncols; i++)
		types[i] = G_TYPE_STRING;
	GtkListStore *st = gtk_list_store_newv(ncols + 1, types);
	g_free(types);
	add_rows(st, head, proto_map_get(pv, "index"), ncols);
	const msgpack_object *tail = proto_map_get(pv, "tail");
	if (tail && tail->type == MSGPACK_OBJECT_ARRAY && tail->via.array.size > 0) {
		GtkTreeIter it;
		gtk_list_store_append(st, &it);
		gtk_list_store_set(st, &it, 0, "…", -1);
		add_rows(st, tail, proto_map_get(pv, "tail_index"), ncols);
	}
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	const msgpack_object *shape = proto_map_get(pv, "shape");
	char name[128] = "table";
	proto_map_str(pv, "name", name, sizeof name);
	long long rows = shape && shape->type == MSGPACK_OBJECT_ARRAY && shape->via.array.size == 2 &&
				 shape->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
			 (long long)shape->via.array.ptr[0].via.u64 : -1;
	char *cap = g_strdup_printf("%s — %lld rows × %u columns", name, rows, cols->via.array.size);
	GtkWidget *lbl = gtk_label_new(cap);
	gtk_label_set_xalign(GTK_LABEL(lbl), 0);
	gtk_style_context_add_class(gtk_widget_get_style_context(lbl), "dim-label");
	g_free(cap);
	GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
	gtk_scrolled_window_set_propagate_natural_height(GTK_SCROLLED_WINDOW(sw), TRUE);
	gtk_container_add(GTK_CONTAINER(sw), table_view(st, cols, ncols));
	g_object_unref(st);
	gtk_box_pack_start(GTK_BOX(box), lbl, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(box), sw, FALSE, FALSE, 0);
	return box;
}

/* Scale one image to fit width (not above its own size). */
static void image_fit(GtkWidget *img, int width)
{
	GdkPixbuf *orig = g_object_get_data(G_OBJECT(img), "daa-pixbuf");
	if (!orig || width <= 0)
		return;
	int ow = gdk_pixbuf_get_width(orig), oh = gdk_pixbuf_get_height(orig);
	int w = MIN(ow, MAX(64, width - IMG_MARGIN));
	if (GPOINTER_TO_INT(g_object_get_data(G_OBJECT(img), "daa-w")) == w)
		return;
	int h = MAX(1, (int)((double)oh * w / ow));
	GdkPixbuf *sc = w == ow ? g_object_ref(orig) : gdk_pixbuf_scale_simple(orig, w, h, GDK_INTERP_BILINEAR);
	gtk_image_set_from_pixbuf(GTK_IMAGE(img), sc);
	g_object_unref(sc);
	g_object_set_data(G_OBJECT(img), "daa-w", GINT_TO_POINTER(w));
}

/* Walk containers for our images. */
static void fit_each(GtkWidget *w, gpointer data)
{
	if (GTK_IS_IMAGE(w))
		image_fit(w, GPOINTER_TO_INT(data));
	else if (GTK_IS_CONTAINER(w))
		gtk_container_foreach(GTK_CONTAINER(w), fit_each, data);
}

void tray_view_images_fit(GtkWidget *box, int width)
{
	g_object_set_data(G_OBJECT(box), "daa-width", GINT_TO_POINTER(width));
	gtk_container_foreach(GTK_CONTAINER(box), fit_each, GINT_TO_POINTER(width));
}

/* The width images are fitted to: the conversation box's, stored by fit. */
static int box_width(GtkWidget *img)
{
	for (GtkWidget *p = img; p; p = gtk_widget_get_parent(p)) {
		int w = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(p), "daa-width"));
		if (w > 0)
			return w;
	}
	return 640;
}

/* The PNG is decoded: keep it and show it scaled. */
static void pixbuf_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	GtkWidget *img = data;
	GError *e = NULL;
	GdkPixbuf *pb = gdk_pixbuf_new_from_stream_finish(res, &e);
	(void)src;
	if (pb) {
		g_object_set_data_full(G_OBJECT(img), "daa-pixbuf", pb, g_object_unref);
		image_fit(img, box_width(img));
	} else {
		gtk_image_set_from_icon_name(GTK_IMAGE(img), "image-missing", GTK_ICON_SIZE_DIALOG);
		gtk_widget_set_tooltip_text(img, e ? e->message : "cannot read the plot");
		g_clear_error(&e);
	}
	g_object_unref(img);
}

/* The file is open: decode it asynchronously. */
static void read_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	GtkWidget *img = data;
	GError *e = NULL;
	GFileInputStream *in = g_file_read_finish(G_FILE(src), res, &e);
	if (!in) {
		gtk_image_set_from_icon_name(GTK_IMAGE(img), "image-missing", GTK_ICON_SIZE_DIALOG);
		gtk_widget_set_tooltip_text(img, e->message);
		g_error_free(e);
		g_object_unref(img);
		return;
	}
	gdk_pixbuf_new_from_stream_async(G_INPUT_STREAM(in), NULL, pixbuf_cb, img);
	g_object_unref(in);
}

/* A click: the PNG at full size in the desktop's viewer. */
static gboolean image_click_cb(GtkWidget *ebox, GdkEventButton *ev, gpointer data)
{
	(void)ebox;
	if (ev->type != GDK_BUTTON_PRESS || ev->button != GDK_BUTTON_PRIMARY)
		return FALSE;
	tray_open_path(data);
	return TRUE;
}

GtkWidget *tray_view_image(const char *path)
{
	GtkWidget *ebox = gtk_event_box_new();
	GtkWidget *img = gtk_image_new_from_icon_name("image-loading", GTK_ICON_SIZE_DIALOG);
	gtk_widget_set_halign(img, GTK_ALIGN_START);
	char *base = g_path_get_basename(path);
	char *name = g_strdup_printf("plot %s", base);
	AtkObject *acc = gtk_widget_get_accessible(img);
	atk_object_set_name(acc, name);
	atk_object_set_role(acc, ATK_ROLE_IMAGE);
	gtk_widget_set_tooltip_text(ebox, "click to open the plot at full size");
	g_free(base), g_free(name);
	gtk_container_add(GTK_CONTAINER(ebox), img);
	g_signal_connect_data(ebox, "button-press-event", G_CALLBACK(image_click_cb), g_strdup(path),
			      (GClosureNotify)(void (*)(void))g_free, 0);
	GFile *f = g_file_new_for_path(path);
	g_file_read_async(f, G_PRIORITY_DEFAULT, NULL, read_cb, g_object_ref(img));
	g_object_unref(f);
	return ebox;
}
