/*
 * client/tray/tray_icon.c — the tray icon: a StatusNotifierItem through
 * libayatana-appindicator, which itself falls back to a GtkStatusIcon (the
 * XEmbed tray) when no SNI host runs.  The icon tells the state: "daa"
 * idle, "daa-busy" while a turn runs, the attention icon "daa-attention"
 * while the agent waits for an answer.  Its menu: Open chat, the projects
 * (the chosen one first), New project from a file…, the daemon's status (and
 * Start the daemon when it is not running), Quit.
 */
#include <libayatana-appindicator/app-indicator.h>
#include <string.h>

#include "client/tray/tray.h"

#define MENU_PROJECTS 8

static void open_cb(GtkMenuItem *mi, gpointer data)
{
	(void)mi, (void)data;
	tray_win_present(tray_app.win);
}

static void project_cb(GtkMenuItem *mi, gpointer data)
{
	(void)mi;
	tray_project_set(data);
	tray_win_present(tray_app.win);
}

static void start_cb(GtkMenuItem *mi, gpointer data)
{
	(void)mi, (void)data;
	tray_connect(true);
}

static void quit_cb(GtkMenuItem *mi, gpointer data)
{
	(void)mi, (void)data;
	tray_quit();
}

/* project.create for the file's name, then data.add (exists: use it). */
static void created_cb(const struct proto_reply *r, void *ud)
{
	char **v = ud; /* {name, path} */
	if (!r->result && r->code != PROTO_ERR_EXISTS) {
		char *m = g_strdup_printf("cannot create the project %s: %s", v[0], r->errmsg);
		tray_win_say(tray_app.win, "error", m);
		g_free(m);
	} else {
		tray_projects_refresh();
		tray_project_set(v[0]);
		char *paths[] = {v[1], NULL};
		tray_add_files(paths);
	}
	g_strfreev(v);
}

/* The file chooser answered. */
static void chooser_cb(GtkDialog *d, gint resp, gpointer data)
{
	(void)data;
	char *path = resp == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(d)) : NULL;
	gtk_widget_destroy(GTK_WIDGET(d));
	if (!path)
		return;
	char *base = g_path_get_basename(path), *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = '\0';
	char **v = g_new0(char *, 3);
	v[0] = base, v[1] = path;
	struct tray_kv p = {0};
	tray_kv_str(&p, "name", base);
	tray_win_present(tray_app.win);
	tray_call("project.create", &p, created_cb, v);
}

/* Idle: the file chooser (not from inside the menu's own event).  A plain
 * GtkFileChooserDialog over the chat window: the native one only differs
 * inside a Flatpak sandbox, where daa does not run. */
static gboolean new_project_idle(gpointer data)
{
	(void)data;
	GtkWidget *d = gtk_file_chooser_dialog_new("New project from a file", tray_win_window(tray_app.win),
						   GTK_FILE_CHOOSER_ACTION_OPEN, "_Cancel", GTK_RESPONSE_CANCEL,
						   "_Create", GTK_RESPONSE_ACCEPT, NULL);
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
	gtk_window_set_default_size(GTK_WINDOW(d), 760, 520);
	GtkFileFilter *f = gtk_file_filter_new();
	gtk_file_filter_set_name(f, "Data files (CSV, TSV, XLSX, JSON, Parquet)");
	static const char *const pats[] = {"*.csv", "*.tsv", "*.tab", "*.txt", "*.json", "*.jsonl",
					   "*.ndjson", "*.xlsx", "*.parquet", NULL};
	for (int i = 0; pats[i]; i++)
		gtk_file_filter_add_pattern(f, pats[i]);
	gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
	g_signal_connect(d, "response", G_CALLBACK(chooser_cb), NULL);
	gtk_window_present(GTK_WINDOW(d));
	return G_SOURCE_REMOVE;
}

static void new_project_cb(GtkMenuItem *mi, gpointer data)
{
	(void)mi, (void)data;
	g_idle_add(new_project_idle, NULL);
}

/* One menu item. */
static GtkWidget *item(GtkWidget *menu, const char *label, GCallback cb, gpointer data)
{
	GtkWidget *mi = gtk_menu_item_new_with_label(label);
	if (cb)
		g_signal_connect_data(mi, "activate", cb, data,
				      data ? (GClosureNotify)(void (*)(void))g_free : NULL, 0);
	else
		gtk_widget_set_sensitive(mi, FALSE);
	gtk_menu_shell_append(GTK_MENU_SHELL(menu), mi);
	return mi;
}

/* Refill the menu for the current state.  The menu and its first item (Open
 * chat, also the icon's middle-click target) stay: ayatana's set_menu is
 * called once, and the dbusmenu exporter follows the items that change. */
static void fill_menu(GtkWidget *m)
{
	GList *kids = gtk_container_get_children(GTK_CONTAINER(m));
	if (!kids)
		item(m, "Open chat", G_CALLBACK(open_cb), NULL);
	for (GList *k = kids ? kids->next : NULL; k; k = k->next)
		gtk_widget_destroy(k->data);
	g_list_free(kids);
	gtk_menu_shell_append(GTK_MENU_SHELL(m), gtk_separator_menu_item_new());
	int n = 0;
	if (tray_app.project) {
		char *l = g_strdup_printf("✓ %s", tray_app.project);
		item(m, l, G_CALLBACK(project_cb), g_strdup(tray_app.project));
		g_free(l), n++;
	}
	for (guint i = 0; i < tray_app.projects->len && n < MENU_PROJECTS; i++) {
		const char *p = g_ptr_array_index(tray_app.projects, i);
		if (tray_app.project && strcmp(p, tray_app.project) == 0)
			continue;
		item(m, p, G_CALLBACK(project_cb), g_strdup(p)), n++;
	}
	item(m, "New project from a file…", G_CALLBACK(new_project_cb), NULL);
	gtk_menu_shell_append(GTK_MENU_SHELL(m), gtk_separator_menu_item_new());
	char *st = g_strdup_printf("Daemon: %s", tray_app.conn ? "running" : "not running");
	GtkWidget *si = item(m, st, NULL, NULL);
	gtk_widget_set_tooltip_text(si, tray_app.status_text);
	g_free(st);
	if (!tray_app.conn && !tray_app.start_id)
		item(m, "Start the daemon", G_CALLBACK(start_cb), NULL);
	gtk_menu_shell_append(GTK_MENU_SHELL(m), gtk_separator_menu_item_new());
	item(m, "Quit", G_CALLBACK(quit_cb), NULL);
	gtk_widget_show_all(m);
}

void tray_icon_init(void)
{
	if (tray_app.no_tray)
		return;
	AppIndicator *ind = app_indicator_new("daa-tray", "daa", APP_INDICATOR_CATEGORY_APPLICATION_STATUS);
	if (tray_app.icon_dir)
		app_indicator_set_icon_theme_path(ind, tray_app.icon_dir);
	app_indicator_set_attention_icon_full(ind, "daa-attention", "daa waits for your answer");
	app_indicator_set_title(ind, "daa");
	app_indicator_set_status(ind, APP_INDICATOR_STATUS_ACTIVE);
	tray_app.menu = g_object_ref_sink(gtk_menu_new());
	fill_menu(tray_app.menu);
	app_indicator_set_menu(ind, GTK_MENU(tray_app.menu));
	GList *kids = gtk_container_get_children(GTK_CONTAINER(tray_app.menu));
	app_indicator_set_secondary_activate_target(ind, kids->data);
	g_list_free(kids);
	tray_app.indicator = ind;
	tray_icon_update();
}

static guint update_id;

/* Idle: icon and menu for the current state (never rebuilt inside a menu
 * item's own signal). */
static gboolean update_cb(gpointer data)
{
	AppIndicator *ind = tray_app.indicator;
	(void)data;
	update_id = 0;
	const char *icon = tray_app.state == TRAY_RUNNING ? "daa-busy" : "daa";
	const char *desc = tray_app.state == TRAY_RUNNING ? "daa: a turn is running"
			   : tray_app.state == TRAY_QUESTION ? "daa waits for your answer"
							      : "daa";
	app_indicator_set_icon_full(ind, icon, desc);
	app_indicator_set_status(ind, tray_app.state == TRAY_QUESTION ? APP_INDICATOR_STATUS_ATTENTION
								      : APP_INDICATOR_STATUS_ACTIVE);
	fill_menu(tray_app.menu);
	return G_SOURCE_REMOVE;
}

void tray_icon_update(void)
{
	if (tray_app.indicator && !update_id)
		update_id = g_idle_add(update_cb, NULL);
}
