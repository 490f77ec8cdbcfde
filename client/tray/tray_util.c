/*
 * client/tray/tray_util.c — small helpers: named params for a call, string
 * copies out of decoded msgpack, starting daad (the same rule as the CLI:
 * $DAA_DAEMON, else next to this binary, else on $PATH) in its own
 * background mode, which returns once the daemon listens, with its log in
 * <socket folder>/daad.log, and opening a file (a plot, a profile report) in
 * the desktop's viewer with xdg-open, detached.
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

/* In a detached child (xdg-open): its own session, so it outlives the tray. */
static void child_setup(gpointer data)
{
	(void)data;
	setsid();
}

/* The daad we started in its own background mode: the process we spawn
 * forks the daemon, waits on the daemon's readiness pipe and exits 0 once
 * the socket listens, or 1 with the reason on stderr (daemon/main.c). */
struct start_job {
	int errfd;  /* that process's stderr */
	char *log;
};

/* The start-up process exited: tell tray_app.c how it went. */
static void start_done_cb(GPid pid, gint status, gpointer data)
{
	struct start_job *job = data;
	char buf[1024];
	fcntl(job->errfd, F_SETFL, O_NONBLOCK); /* the process is gone: take what it wrote */
	ssize_t n = read(job->errfd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	g_strstrip(buf);
	g_strdelimit(buf, "\n", ' '); /* "daad: why" and "daad: log: path" on one line */
	close(job->errfd);
	g_spawn_close_pid(pid);
	bool ok = g_spawn_check_wait_status(status, NULL);
	char *why = ok ? NULL
		       : g_strdup_printf("the daemon did not start: %s (its log: %s)",
					 *buf ? buf : "no reason given", job->log);
	g_free(job->log);
	g_free(job);
	tray_daemon_started(ok, why);
	g_free(why);
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
	int fd = -1, errfd = -1, rc = -1;
	/* created here, not by daad, so that a symlink planted as the log is refused */
	if (g_mkdir_with_parents(dir, 0700) < 0 ||
	    (fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		snprintf(msg, size, "cannot start the daemon: cannot open %s: %s", log, strerror(errno));
		goto out;
	}
	char *argv[] = {daad, "--socket", tray_app.socket, "--log-file", log, NULL};
	GPid pid;
	GError *e = NULL;
	if (!g_spawn_async_with_pipes("/", argv, NULL,
				      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
				      NULL, &pid, NULL, NULL, &errfd, &e)) {
		snprintf(msg, size, "cannot start %s: %s", daad, e->message);
		g_error_free(e);
		goto out;
	}
	struct start_job *job = g_new0(struct start_job, 1);
	job->errfd = errfd;
	job->log = g_strdup(log);
	tray_app.start_id = g_child_watch_add(pid, start_done_cb, job);
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
