/*
 * client/tray/tray_main.c — daa-tray: options, then a GtkApplication (one
 * per desktop session: starting it again shows the running one's window)
 * holding the tray icon and the chat window, connected to daad's socket.
 *
 *   daa-tray [--hidden] [--no-start] [--no-tray] [-p PROJECT] [--socket PATH]
 */
#include <libnotify/notify.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/tray/tray.h"

#ifndef TRAY_SRC_DATA
#define TRAY_SRC_DATA ""
#endif

struct opts {
	bool hidden;
	const char *project, *socket;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: daa-tray [--hidden] [--no-start] [--no-tray] [-p PROJECT] [--socket PATH]\n"
		   "  --hidden    start in the tray, window closed (the autostart entry)\n"
		   "  --no-start  never start daad (wait for one to appear)\n"
		   "  --no-tray   no tray icon; closing the window quits\n"
		   "  -p PROJECT  the project shown first (else $DAA_PROJECT, else default)\n"
		   "  --socket    daad's socket (else $DAA_SOCKET, $XDG_RUNTIME_DIR/daa/daad.sock)\n");
}

/* Parse the command line; exits on --help or a usage error. */
static void parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--hidden"))
			o->hidden = true;
		else if (!strcmp(a, "--no-start"))
			tray_app.no_start = true;
		else if (!strcmp(a, "--no-tray"))
			tray_app.no_tray = true;
		else if ((!strcmp(a, "-p") || !strcmp(a, "--project")) && i + 1 < argc)
			o->project = argv[++i];
		else if (!strcmp(a, "--socket") && i + 1 < argc)
			o->socket = argv[++i];
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "daa-tray: unknown option %s\n", a);
			usage(stderr);
			exit(2);
		}
	}
}

/* Socket path (absolute), our folder, the icons when not installed. */
static void paths(const struct opts *o)
{
	char buf[4096];
	if (o->socket)
		g_strlcpy(buf, o->socket, sizeof buf);
	else if (proto_socket_path(buf, sizeof buf) < 0) {
		fprintf(stderr, "daa-tray: the socket path is too long\n");
		exit(1);
	}
	char *abs = g_canonicalize_filename(buf, NULL);
	g_strlcpy(tray_app.socket, abs, sizeof tray_app.socket);
	g_free(abs);
	char *exe = g_file_read_link("/proc/self/exe", NULL);
	char *dir = exe ? g_path_get_dirname(exe) : g_strdup(".");
	g_strlcpy(tray_app.exe_dir, dir, sizeof tray_app.exe_dir);
	char *installed = g_build_filename(dir, "..", "share", "icons", "hicolor", "scalable", "apps",
					   "daa.svg", NULL);
	const char *env = g_getenv("DAA_TRAY_ICONS");
	char *src = g_build_filename(TRAY_SRC_DATA, "daa.svg", NULL);
	if (env && *env)
		tray_app.icon_dir = g_strdup(env);
	else if (!g_file_test(installed, G_FILE_TEST_EXISTS) && g_file_test(src, G_FILE_TEST_EXISTS))
		tray_app.icon_dir = g_strdup(TRAY_SRC_DATA);
	g_free(exe), g_free(dir), g_free(installed), g_free(src);
}

static struct opts opts;

/* First activation: build everything; later ones show the window. */
static void activate_cb(GtkApplication *app, gpointer data)
{
	(void)data;
	if (tray_app.win) {
		tray_win_present(tray_app.win);
		return;
	}
	g_application_hold(G_APPLICATION(app));
	if (tray_app.icon_dir)
		gtk_icon_theme_append_search_path(gtk_icon_theme_get_default(), tray_app.icon_dir);
	gtk_window_set_default_icon_name("daa");
	tray_app.projects = g_ptr_array_new_with_free_func(g_free);
	tray_app.project = g_strdup(opts.project ? opts.project
				    : g_getenv("DAA_PROJECT") && *g_getenv("DAA_PROJECT") ? g_getenv("DAA_PROJECT")
											     : "default");
	tray_app.win = tray_win_new();
	tray_icon_init();
	if (!opts.hidden || tray_app.no_tray)
		tray_win_present(tray_app.win);
	tray_connect(true);
}

int main(int argc, char **argv)
{
	parse(argc, argv, &opts);
	paths(&opts);
	notify_init("daa");
	GtkApplication *app = gtk_application_new("org.daa.Tray", G_APPLICATION_FLAGS_NONE);
	g_signal_connect(app, "activate", G_CALLBACK(activate_cb), NULL);
	char *args[] = {argv[0], NULL};
	int rc = g_application_run(G_APPLICATION(app), 1, args);
	if (tray_app.conn)
		tconn_close(tray_app.conn);
	g_object_unref(app);
	notify_uninit();
	return rc;
}
