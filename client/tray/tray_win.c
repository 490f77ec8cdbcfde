/*
 * client/tray/tray_win.c — the chat window: a project chooser and the
 * daemon's status on top, the conversation (scrolling, kept at the bottom
 * while new things arrive), a progress line with a Cancel button while a
 * turn runs (the line alone while a Dask dataset's profile reports
 * progress), and the input.  Enter sends, Shift+Enter starts a new line,
 * Ctrl+L focuses the input, Esc cancels the running turn.  Closing the
 * window hides it (the tray keeps running) unless there is no tray.
 */
#include <gdk/gdkkeysyms.h>
#include <string.h>

#include "client/tray/tray.h"

struct tray_win {
	GtkWidget *window, *chooser, *status, *scroller, *box;
	GtkWidget *progress, *spinner, *progress_label, *cancel;
	GtkWidget *input, *send;
	GtkWidget *question;   /* the pending question's block, or NULL */
	bool filling;          /* chooser being refilled: ignore "changed" */
	bool stick;            /* keep the view at the bottom */
	bool profiling;        /* a profile's progress is on the progress line */
	int width;
};

/* Send what the input holds and empty it. */
static void send_input(struct tray_win *w)
{
	GtkTextBuffer *b = gtk_text_view_get_buffer(GTK_TEXT_VIEW(w->input));
	GtkTextIter s, e;
	gtk_text_buffer_get_bounds(b, &s, &e);
	char *text = gtk_text_buffer_get_text(b, &s, &e, FALSE);
	if (*g_strstrip(text)) {
		tray_send(text);
		gtk_text_buffer_set_text(b, "", 0);
	}
	g_free(text);
}

static void send_clicked_cb(GtkButton *b, gpointer data)
{
	(void)b;
	send_input(data);
}

static void cancel_clicked_cb(GtkButton *b, gpointer data)
{
	(void)b, (void)data;
	tray_cancel();
}

/* Enter sends; Shift+Enter is a new line. */
static gboolean input_key_cb(GtkWidget *tv, GdkEventKey *ev, gpointer data)
{
	(void)tv;
	if ((ev->keyval == GDK_KEY_Return || ev->keyval == GDK_KEY_KP_Enter) &&
	    !(ev->state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK))) {
		send_input(data);
		return TRUE;
	}
	return FALSE;
}

/* Window keys: Esc cancels, Ctrl+L focuses the input. */
static gboolean win_key_cb(GtkWidget *win, GdkEventKey *ev, gpointer data)
{
	struct tray_win *w = data;
	(void)win;
	if (ev->keyval == GDK_KEY_Escape && tray_app.state != TRAY_IDLE) {
		tray_cancel();
		return TRUE;
	}
	if ((ev->keyval == GDK_KEY_l || ev->keyval == GDK_KEY_L) && (ev->state & GDK_CONTROL_MASK)) {
		gtk_widget_grab_focus(w->input);
		return TRUE;
	}
	return FALSE;
}

/* Closing hides the window while a tray icon can bring it back. */
static gboolean delete_cb(GtkWidget *win, GdkEvent *ev, gpointer data)
{
	(void)ev, (void)data;
	if (tray_app.no_tray) {
		tray_quit();
		return FALSE;
	}
	gtk_widget_hide(win);
	return TRUE;
}

static void chooser_changed_cb(GtkComboBox *cb, gpointer data)
{
	struct tray_win *w = data;
	char *name = gtk_combo_box_text_get_active_text(GTK_COMBO_BOX_TEXT(cb));
	if (!w->filling && name && (!tray_app.project || strcmp(name, tray_app.project) != 0))
		tray_project_set(name);
	g_free(name);
}

/* New content grew the view: follow it when at the bottom. */
static void adj_changed_cb(GtkAdjustment *adj, gpointer data)
{
	struct tray_win *w = data;
	if (w->stick)
		gtk_adjustment_set_value(adj, gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj));
}

/* The user scrolled: stick to the bottom only when there. */
static void adj_value_cb(GtkAdjustment *adj, gpointer data)
{
	struct tray_win *w = data;
	w->stick = gtk_adjustment_get_value(adj) + gtk_adjustment_get_page_size(adj) >=
		   gtk_adjustment_get_upper(adj) - 8;
}

/* The window's width changed: plots follow it. */
static void size_cb(GtkWidget *sw, GdkRectangle *a, gpointer data)
{
	struct tray_win *w = data;
	(void)sw;
	if (a->width != w->width) {
		w->width = a->width;
		tray_view_images_fit(w->box, a->width);
	}
}

/* The top bar: project chooser and status. */
static GtkWidget *top_bar(struct tray_win *w)
{
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *lbl = gtk_label_new_with_mnemonic("_Project:");
	w->chooser = gtk_combo_box_text_new();
	gtk_label_set_mnemonic_widget(GTK_LABEL(lbl), w->chooser);
	atk_object_set_name(gtk_widget_get_accessible(w->chooser), "Project");
	g_signal_connect(w->chooser, "changed", G_CALLBACK(chooser_changed_cb), w);
	w->status = gtk_label_new("connecting…");
	gtk_label_set_ellipsize(GTK_LABEL(w->status), PANGO_ELLIPSIZE_END);
	gtk_label_set_xalign(GTK_LABEL(w->status), 1);
	gtk_style_context_add_class(gtk_widget_get_style_context(w->status), "dim-label");
	gtk_box_pack_start(GTK_BOX(bar), lbl, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(bar), w->chooser, FALSE, FALSE, 0);
	gtk_box_pack_end(GTK_BOX(bar), w->status, TRUE, TRUE, 0);
	return bar;
}

/* The conversation area. */
static GtkWidget *conversation(struct tray_win *w)
{
	w->scroller = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(w->scroller), GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	w->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
	gtk_container_set_border_width(GTK_CONTAINER(w->box), 8);
	atk_object_set_name(gtk_widget_get_accessible(w->box), "Conversation");
	gtk_container_add(GTK_CONTAINER(w->scroller), w->box);
	GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(w->scroller));
	g_signal_connect(adj, "changed", G_CALLBACK(adj_changed_cb), w);
	g_signal_connect(adj, "value-changed", G_CALLBACK(adj_value_cb), w);
	g_signal_connect(w->scroller, "size-allocate", G_CALLBACK(size_cb), w);
	w->stick = true;
	return w->scroller;
}

/* Progress line and input. */
static GtkWidget *bottom(struct tray_win *w)
{
	GtkWidget *v = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	w->progress = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	w->spinner = gtk_spinner_new();
	w->progress_label = gtk_label_new("");
	gtk_label_set_ellipsize(GTK_LABEL(w->progress_label), PANGO_ELLIPSIZE_END);
	gtk_label_set_xalign(GTK_LABEL(w->progress_label), 0);
	w->cancel = gtk_button_new_with_mnemonic("_Cancel");
	gtk_widget_set_tooltip_text(w->cancel, "Cancel the running turn (Esc)");
	g_signal_connect(w->cancel, "clicked", G_CALLBACK(cancel_clicked_cb), w);
	gtk_box_pack_start(GTK_BOX(w->progress), w->spinner, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(w->progress), w->progress_label, TRUE, TRUE, 0);
	gtk_box_pack_end(GTK_BOX(w->progress), w->cancel, FALSE, FALSE, 0);
	gtk_widget_set_no_show_all(w->progress, TRUE);
	GtkWidget *h = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *sw = gtk_scrolled_window_new(NULL, NULL);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(sw), 56);
	gtk_scrolled_window_set_shadow_type(GTK_SCROLLED_WINDOW(sw), GTK_SHADOW_IN);
	w->input = gtk_text_view_new();
	gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(w->input), GTK_WRAP_WORD_CHAR);
	atk_object_set_name(gtk_widget_get_accessible(w->input), "Message");
	g_signal_connect(w->input, "key-press-event", G_CALLBACK(input_key_cb), w);
	gtk_container_add(GTK_CONTAINER(sw), w->input);
	w->send = gtk_button_new_with_mnemonic("_Send");
	g_signal_connect(w->send, "clicked", G_CALLBACK(send_clicked_cb), w);
	gtk_box_pack_start(GTK_BOX(h), sw, TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(h), w->send, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(v), w->progress, FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(v), h, FALSE, FALSE, 0);
	return v;
}

struct tray_win *tray_win_new(void)
{
	struct tray_win *w = g_new0(struct tray_win, 1);
	w->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
	gtk_window_set_title(GTK_WINDOW(w->window), "daa — chat");
	gtk_window_set_icon_name(GTK_WINDOW(w->window), "daa");
	gtk_window_set_default_size(GTK_WINDOW(w->window), 760, 640);
	GtkWidget *v = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_container_set_border_width(GTK_CONTAINER(v), 8);
	gtk_box_pack_start(GTK_BOX(v), top_bar(w), FALSE, FALSE, 0);
	gtk_box_pack_start(GTK_BOX(v), conversation(w), TRUE, TRUE, 0);
	gtk_box_pack_start(GTK_BOX(v), bottom(w), FALSE, FALSE, 0);
	gtk_container_add(GTK_CONTAINER(w->window), v);
	g_signal_connect(w->window, "key-press-event", G_CALLBACK(win_key_cb), w);
	g_signal_connect(w->window, "delete-event", G_CALLBACK(delete_cb), w);
	tray_drop_attach(w->window);
	gtk_widget_show_all(v);
	return w;
}

void tray_win_present(struct tray_win *w)
{
	gtk_window_present(GTK_WINDOW(w->window));
	gtk_widget_grab_focus(w->input);
	if (tray_app.conn)
		tray_projects_refresh(); /* projects made by other clients meanwhile */
}

bool tray_win_visible(const struct tray_win *w)
{
	return w && gtk_widget_get_visible(w->window) && gtk_window_is_active(GTK_WINDOW(w->window));
}

GtkWindow *tray_win_window(struct tray_win *w)
{
	return w ? GTK_WINDOW(w->window) : NULL;
}

void tray_win_status(struct tray_win *w, const char *text)
{
	if (w)
		gtk_label_set_text(GTK_LABEL(w->status), text);
}

void tray_win_projects(struct tray_win *w)
{
	if (!w)
		return;
	w->filling = true;
	gtk_combo_box_text_remove_all(GTK_COMBO_BOX_TEXT(w->chooser));
	int active = -1, n = 0;
	for (guint i = 0; i < tray_app.projects->len; i++, n++) {
		const char *p = g_ptr_array_index(tray_app.projects, i);
		gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(w->chooser), p);
		if (tray_app.project && strcmp(p, tray_app.project) == 0)
			active = n;
	}
	if (active < 0 && tray_app.project) {
		gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(w->chooser), tray_app.project);
		active = n;
	}
	gtk_combo_box_set_active(GTK_COMBO_BOX(w->chooser), active);
	w->filling = false;
}

void tray_win_state(struct tray_win *w)
{
	if (!w)
		return;
	bool busy = tray_app.state != TRAY_IDLE, shown = busy || w->profiling;
	/* one by one: show_all does nothing on a no-show-all widget, so the
	 * line's children were never shown (an empty line) */
	gtk_widget_show(w->spinner);
	gtk_widget_show(w->progress_label);
	gtk_widget_set_visible(w->cancel, busy); /* a profile has nothing to cancel */
	gtk_widget_set_visible(w->progress, shown);
	if (tray_app.state == TRAY_RUNNING || (w->profiling && !busy))
		gtk_spinner_start(GTK_SPINNER(w->spinner));
	else
		gtk_spinner_stop(GTK_SPINNER(w->spinner));
	if (tray_app.state == TRAY_QUESTION)
		gtk_label_set_text(GTK_LABEL(w->progress_label), "waiting for your answer");
	if (tray_app.state != TRAY_QUESTION && w->question) {
		gtk_widget_set_sensitive(w->question, FALSE);
		w->question = NULL;
	}
}

bool tray_win_has_question(const struct tray_win *w)
{
	return w && w->question;
}

void tray_win_progress(struct tray_win *w, const char *text)
{
	if (w && text)
		gtk_label_set_text(GTK_LABEL(w->progress_label), text);
}

void tray_win_profile_progress(struct tray_win *w, const char *text)
{
	if (!w)
		return;
	w->profiling = text != NULL;
	if (text || tray_app.state == TRAY_IDLE) /* a turn's own line stays at the end */
		gtk_label_set_text(GTK_LABEL(w->progress_label), text ? text : "");
	tray_win_state(w);
}

void tray_win_clear(struct tray_win *w)
{
	if (!w)
		return;
	w->profiling = false;
	GList *kids = gtk_container_get_children(GTK_CONTAINER(w->box));
	for (GList *k = kids; k; k = k->next)
		gtk_widget_destroy(k->data);
	g_list_free(kids);
	w->question = NULL;
	w->stick = true;
}

/* Append a widget to the conversation. */
void tray_win_append(struct tray_win *w, GtkWidget *child)
{
	gtk_box_pack_start(GTK_BOX(w->box), child, FALSE, FALSE, 0);
	gtk_widget_show_all(child);
}

GtkWidget *tray_win_label(const char *text, PangoWrapMode wrap, const char *style_class)
{
	GtkWidget *lbl = gtk_label_new(text);
	gtk_label_set_xalign(GTK_LABEL(lbl), 0);
	gtk_label_set_line_wrap(GTK_LABEL(lbl), TRUE);
	gtk_label_set_line_wrap_mode(GTK_LABEL(lbl), wrap);
	gtk_label_set_selectable(GTK_LABEL(lbl), TRUE);
	if (style_class)
		gtk_style_context_add_class(gtk_widget_get_style_context(lbl), style_class);
	return lbl;
}

void tray_win_say(struct tray_win *w, const char *who, const char *text)
{
	if (!w || !text)
		return;
	GtkWidget *row = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	const char *title = !strcmp(who, "you") ? "You" : !strcmp(who, "daa") ? "daa" : NULL;
	if (title) {
		GtkWidget *h = gtk_label_new(NULL);
		char *m = g_markup_printf_escaped("<b>%s</b>", title);
		gtk_label_set_markup(GTK_LABEL(h), m);
		g_free(m);
		gtk_label_set_xalign(GTK_LABEL(h), 0);
		gtk_box_pack_start(GTK_BOX(row), h, FALSE, FALSE, 0);
	}
	const char *style = !strcmp(who, "error") ? "error" : !strcmp(who, "note") ? "dim-label" : NULL;
	GtkWidget *lbl = tray_win_label(text, PANGO_WRAP_WORD_CHAR, style);
	gtk_box_pack_start(GTK_BOX(row), lbl, FALSE, FALSE, 0);
	tray_win_append(w, row);
}

/* Choice button / entry of a question: answer with it. */
static void choice_cb(GtkButton *b, gpointer data)
{
	(void)data;
	tray_send(gtk_button_get_label(b));
}

static void answer_entry_cb(GtkEntry *e, gpointer data)
{
	(void)data;
	tray_send(gtk_entry_get_text(e));
	gtk_entry_set_text(e, "");
}

/* A question: its text, a button per choice, an entry for another answer. */
void tray_win_question(struct tray_win *w, const char *text, const msgpack_object *choices)
{
	GtkWidget *q = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	GtkWidget *lbl = gtk_label_new(NULL);
	char *m = g_markup_printf_escaped("<b>daa asks:</b> %s", text ? text : "");
	gtk_label_set_markup(GTK_LABEL(lbl), m);
	g_free(m);
	gtk_label_set_xalign(GTK_LABEL(lbl), 0);
	gtk_label_set_line_wrap(GTK_LABEL(lbl), TRUE);
	gtk_box_pack_start(GTK_BOX(q), lbl, FALSE, FALSE, 0);
	GtkWidget *flow = gtk_flow_box_new();
	gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(flow), GTK_SELECTION_NONE);
	for (uint32_t i = 0; choices && choices->type == MSGPACK_OBJECT_ARRAY && i < choices->via.array.size; i++) {
		char *c = tray_str_dup(&choices->via.array.ptr[i]);
		if (!c)
			continue;
		GtkWidget *b = gtk_button_new_with_label(c);
		g_signal_connect(b, "clicked", G_CALLBACK(choice_cb), NULL);
		gtk_container_add(GTK_CONTAINER(flow), b);
		g_free(c);
	}
	gtk_box_pack_start(GTK_BOX(q), flow, FALSE, FALSE, 0);
	GtkWidget *e = gtk_entry_new();
	gtk_entry_set_placeholder_text(GTK_ENTRY(e), "or type another answer and press Enter");
	atk_object_set_name(gtk_widget_get_accessible(e), "Answer");
	g_signal_connect(e, "activate", G_CALLBACK(answer_entry_cb), NULL);
	gtk_box_pack_start(GTK_BOX(q), e, FALSE, FALSE, 0);
	if (w->question)
		gtk_widget_set_sensitive(w->question, FALSE);
	w->question = q;
	tray_win_append(w, q);
}
