/*
 * client/tray/tray_util.c — small helpers: named params for a call, string
 * copies out of decoded msgpack, starting daad detached (the same rule as
 * the CLI: $DAA_DAEMON, else next to this binary, else on $PATH), with its
 * output in <socket folder>/daad.log, and opening a file (a plot, a profile
 * report) in the desktop's viewer with xdg-open, detached.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/tray/tray.h"

void tray_kv_str(struct tray_kv *p, const char *k, const char *s)
{
	if (p->n < TRAY_KV_MAX && s)
		p->kv[p->n].k = k, p->kv[p->n].s = s, p->kv[p->n++].b = -1;
}

void tray_kv_bool(struct tray_kv *p, const char *k, bool b)
{
	if (p->n < TRAY_KV_MAX)
		p->kv[p->n].k = k, p->kv[p->n].s = NULL, p->kv[p->n++].b = b;
}

void tray_kv_pack(msgpack_packer *pk, void *ud)
{
	const struct tray_kv *p = ud;
	msgpack_pack_map(pk, p ? (size_t)p->n : 0);
	for (int i = 0; p && i < p->n; i++) {
		if (p->kv[i].b < 0)
			proto_pack_kv_str(pk, p->kv[i].k, p->kv[i].s);
		else
			proto_pack_kv_bool(pk, p->kv[i].k, p->kv[i].b);
	}
}

char *tray_str_dup(const msgpack_object *o)
{
	if (!o)
		return NULL;
	if (o->type == MSGPACK_OBJECT_STR)
		return g_strndup(o->via.str.ptr, o->via.str.size);
	if (o->type == MSGPACK_OBJECT_BIN)
		return g_strndup(o->via.bin.ptr, o->via.bin.size);
	return NULL;
}

char *tray_obj_strdup(const msgpack_object *map, const char *key)
{
	return map ? tray_str_dup(proto_map_get(map, key)) : NULL;
}

/* Is path an executable regular file? */
static bool executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The daad to start, g_malloc'd, or NULL. */
static char *find_daad(void)
{
	const char *env = g_getenv("DAA_DAEMON");
	if (env && *env)
		return executable(env) ? g_strdup(env) : NULL;
	char *p = g_build_filename(tray_app.exe_dir, "daad", NULL);
	if (executable(p))
		return p;
	g_free(p);
	return g_find_program_in_path("daad");
}

/* In the child: its own session, so it outlives the tray. */
static void child_setup(gpointer data)
{
	(void)data;
	setsid();
}

/* Reap the daad we started when it exits while we run. */
static void child_exit_cb(GPid pid, gint status, gpointer data)
{
	(void)status, (void)data;
	g_spawn_close_pid(pid);
}

int tray_daemon_spawn(char *msg, size_t size)
{
	char *daad = find_daad();
	if (!daad) {
		snprintf(msg, size, "no daad found (not next to daa-tray, not on $PATH, $DAA_DAEMON "
				    "unset): install daa or set DAA_DAEMON");
		return -1;
	}
	char *dir = g_path_get_dirname(tray_app.socket);
	char *log = g_build_filename(dir, "daad.log", NULL);
	int fd = -1, rc = -1;
	if (g_mkdir_with_parents(dir, 0700) < 0 ||
	    (fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		snprintf(msg, size, "cannot start the daemon: cannot open %s: %s", log, strerror(errno));
		goto out;
	}
	char *argv[] = {daad, "--foreground", "--socket", tray_app.socket, NULL};
	GPid pid;
	GError *e = NULL;
	if (!g_spawn_async_with_fds("/", argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_setup, NULL,
				    &pid, -1, fd, fd, &e)) {
		snprintf(msg, size, "cannot start %s: %s", daad, e->message);
		g_error_free(e);
		goto out;
	}
	g_child_watch_add(pid, child_exit_cb, NULL);
	snprintf(msg, size, "starting the daemon (%s; its log: %s)", daad, log);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	g_free(daad), g_free(dir), g_free(log);
	return rc;
}

void tray_open_path(const char *path)
{
	char *uri = path ? g_filename_to_uri(path, NULL, NULL) : NULL;
	char *xdg = g_find_program_in_path("xdg-open");
	GError *e = NULL;
	if (!uri) {
		tray_win_say(tray_app.win, "error", "cannot open that file: its path is not absolute");
	} else if (!xdg) { /* no xdg-utils: GIO's own idea of the default viewer */
		g_app_info_launch_default_for_uri_async(uri, NULL, NULL, NULL, NULL);
	} else {
		/* Without DO_NOT_REAP GLib forks twice: xdg-open is detached and reaped. */
		char *argv[] = {xdg, uri, NULL};
		if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, child_setup, NULL,
				   NULL, &e)) {
			char *m = g_strdup_printf("cannot open %s with %s: %s", path, xdg, e->message);
			tray_win_say(tray_app.win, "error", m);
			g_free(m);
			g_error_free(e);
		}
	}
	g_free(uri), g_free(xdg);
}
