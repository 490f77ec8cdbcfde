/*
 * client/tray/tray_conn.c — the tray's connection: the protocol's client
 * core (protocol/proto_async.h) driven by the GLib main loop.  A read watch
 * lives as long as the connection, a write watch only while the core has
 * bytes queued.  When the connection breaks, the core has told every pending
 * call; the owner is told once, from an idle callback, so it may close the
 * connection there; a close asked for inside a callback waits until the
 * core returns.
 */
#include <glib-unix.h>

#include "client/tray/tray.h"

struct tconn {
	struct proto_async *core;
	guint in_id, out_id, dead_id;
	tconn_lost_cb lcb;
	void *ud;
	int dispatching;        /* inside the core: defer the free */
	bool closing;
};

static gboolean tconn_in_cb(gint fd, GIOCondition cond, gpointer data);

struct tconn *tconn_open(const char *path, proto_notify_cb ncb, tconn_lost_cb lcb, void *ud,
			 struct proto_err *err)
{
	int fd = proto_connect(path, true, err);
	struct proto_async *core = fd < 0 ? NULL : proto_async_new(fd, 0, 0);
	if (!core) {
		if (fd >= 0)
			proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	struct tconn *c = g_new0(struct tconn, 1);
	c->core = core;
	proto_async_set_notify(core, ncb, ud);
	c->lcb = lcb, c->ud = ud;
	c->in_id = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, tconn_in_cb, c);
	return c;
}

/* Remove a GLib source if it is set. */
static void source_drop(guint *id)
{
	if (*id)
		g_source_remove(*id);
	*id = 0;
}

/* Free everything; calls still pending are told (by the core). */
static void tconn_free(struct tconn *c)
{
	source_drop(&c->in_id);
	source_drop(&c->out_id);
	source_drop(&c->dead_id);
	proto_async_free(c->core);
	g_free(c);
}

void tconn_close(struct tconn *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	if (c->dispatching == 0)
		tconn_free(c);
}

/* Idle: tell the owner the connection broke (the owner may close it then). */
static gboolean tconn_dead_cb(gpointer data)
{
	struct tconn *c = data;
	c->dead_id = 0;
	char why[256];
	g_strlcpy(why, proto_async_error(c->core, NULL), sizeof why);
	if (c->lcb)
		c->lcb(why, c->ud); /* last use of c here: the owner may free it */
	return G_SOURCE_REMOVE;
}

static gboolean tconn_out_cb(gint fd, GIOCondition cond, gpointer data);

/* Watch for writability while the core has bytes queued. */
static void want_out(struct tconn *c)
{
	if (!c->out_id && (proto_async_events(c->core) & PROTO_ASYNC_WRITE))
		c->out_id = g_unix_fd_add(proto_async_fd(c->core), G_IO_OUT, tconn_out_cb, c);
}

/* Let the core do its I/O; *self is the calling watch, which ends (returns
 * G_SOURCE_REMOVE) when the result says so (its id is then cleared). */
static gboolean pump(struct tconn *c, int events, guint *self, gboolean keep)
{
	c->dispatching++;
	int rc = proto_async_handle(c->core, events);
	c->dispatching--;
	if (c->closing || rc < 0 || !keep) {
		*self = 0;
		keep = FALSE;
	}
	if (c->closing) {
		tconn_free(c);
	} else if (rc < 0) {
		source_drop(&c->in_id);
		source_drop(&c->out_id);
		c->dead_id = g_idle_add(tconn_dead_cb, c);
	} else {
		want_out(c);
	}
	return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* G_IO_IN / HUP / ERR: read (the read finds a hang-up or an error). */
static gboolean tconn_in_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct tconn *c = data;
	(void)fd, (void)cond;
	return pump(c, PROTO_ASYNC_READ, &c->in_id, TRUE);
}

/* G_IO_OUT: write the rest; want_out watches again if some is left. */
static gboolean tconn_out_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct tconn *c = data;
	(void)fd, (void)cond;
	return pump(c, PROTO_ASYNC_WRITE, &c->out_id, FALSE);
}

uint32_t tconn_call(struct tconn *c, const char *method, proto_pack_fn pack, void *pack_ud,
		    proto_reply_cb cb, void *ud)
{
	if (!c || c->closing)
		return 0;
	uint32_t id = proto_async_call(c->core, method, pack, pack_ud, cb, ud);
	want_out(c); /* what the socket did not take now, or a failure to report */
	return id;
}
