/*
 * client/tray/tray_conn.c — a non-blocking msgpack-RPC connection driven by
 * the GLib main loop (g_unix_fd_add), on top of libdaaproto's reader and
 * message builders.  Requests get a callback called when their response
 * arrives; notifications go to one callback; a broken connection fails every
 * pending request and tells the owner once, from an idle callback, so no
 * object is freed inside a callback that is still using it.
 */
#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/tray/tray.h"

struct pending {
	uint32_t msgid;
	tconn_reply_cb cb;
	void *ud;
};

struct tconn {
	int fd;
	struct proto_reader *rd;
	GByteArray *out;        /* bytes not yet written */
	guint in_id, out_id, dead_id;
	GArray *pending;        /* struct pending */
	uint32_t next_id;
	tconn_notify_cb ncb;
	tconn_lost_cb lcb;
	void *ud;
	int dispatching;        /* inside a callback: defer the free */
	bool closing, broken;
	char why[256];
};

static gboolean tconn_in_cb(gint fd, GIOCondition cond, gpointer data);

/* Connect the non-blocking socket to path. */
static int sock_connect(const char *path, struct proto_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return proto_fail(err, PROTO_ERR_BAD_INPUT, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return proto_fail(err, PROTO_ERR_IO, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return proto_fail(err, PROTO_ERR_IO, "no daemon answers on %s (%s)", path, strerror(e));
	}
	return fd;
}

struct tconn *tconn_open(const char *path, tconn_notify_cb ncb, tconn_lost_cb lcb, void *ud,
			 struct proto_err *err)
{
	int fd = sock_connect(path, err);
	if (fd < 0)
		return NULL;
	struct tconn *c = g_new0(struct tconn, 1);
	c->fd = fd;
	c->rd = proto_reader_new(PROTO_DEFAULT_MAX_MSG, PROTO_DEFAULT_MAX_DEPTH);
	c->out = g_byte_array_new();
	c->pending = g_array_new(FALSE, FALSE, sizeof(struct pending));
	c->ncb = ncb, c->lcb = lcb, c->ud = ud;
	c->in_id = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, tconn_in_cb, c);
	return c;
}

/* Call every pending callback with a transport error, then forget them. */
static void fail_pending(struct tconn *c, const char *why)
{
	while (c->pending->len > 0) {
		struct pending p = g_array_index(c->pending, struct pending, 0);
		g_array_remove_index(c->pending, 0);
		struct tconn_reply r = {NULL, NULL, why, PROTO_ERR_IO};
		if (p.cb)
			p.cb(&r, p.ud);
	}
}

/* Free everything (no callbacks). */
static void tconn_free(struct tconn *c)
{
	if (c->in_id)
		g_source_remove(c->in_id);
	if (c->out_id)
		g_source_remove(c->out_id);
	if (c->dead_id)
		g_source_remove(c->dead_id);
	if (c->fd >= 0)
		close(c->fd);
	proto_reader_free(c->rd);
	g_byte_array_free(c->out, TRUE);
	g_array_free(c->pending, TRUE);
	g_free(c);
}

void tconn_close(struct tconn *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	c->dispatching++;
	fail_pending(c, "the connection was closed");
	c->dispatching--;
	if (c->dispatching == 0)
		tconn_free(c);
}

/* Idle: tell the owner the connection broke (the owner may close it then). */
static gboolean tconn_dead_cb(gpointer data)
{
	struct tconn *c = data;
	c->dead_id = 0;
	char why[256];
	g_strlcpy(why, c->why, sizeof why);
	tconn_lost_cb lcb = c->lcb;
	void *ud = c->ud;
	c->dispatching++;
	fail_pending(c, why);
	c->dispatching--;
	if (c->closing) {
		tconn_free(c);
		return G_SOURCE_REMOVE;
	}
	if (lcb)
		lcb(why, ud); /* last use of c here: the owner may free it */
	return G_SOURCE_REMOVE;
}

/* Stop using the socket and schedule the lost callback once. */
static void tconn_break(struct tconn *c, const char *why)
{
	if (c->broken)
		return;
	c->broken = true;
	g_strlcpy(c->why, why, sizeof c->why);
	if (c->in_id)
		g_source_remove(c->in_id);
	if (c->out_id)
		g_source_remove(c->out_id);
	c->in_id = c->out_id = 0;
	close(c->fd);
	c->fd = -1;
	c->dead_id = g_idle_add(tconn_dead_cb, c);
}

/* Write what is buffered; 0 or -1 (broken). */
static int flush_out(struct tconn *c)
{
	while (c->out->len > 0) {
		ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			tconn_break(c, "the daemon closed the connection");
			return -1;
		}
		g_byte_array_remove_range(c->out, 0, (guint)n);
	}
	return 0;
}

/* G_IO_OUT: write the rest; stop watching when all is out. */
static gboolean tconn_out_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct tconn *c = data;
	(void)fd, (void)cond;
	if (flush_out(c) < 0)
		return G_SOURCE_REMOVE; /* out_id already cleared by tconn_break */
	if (c->out->len == 0) {
		c->out_id = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

uint32_t tconn_call(struct tconn *c, const char *method, proto_pack_fn pack, void *pack_ud,
		    tconn_reply_cb cb, void *ud)
{
	if (!c || c->broken || c->closing)
		return 0;
	struct proto_buf b;
	uint32_t id = ++c->next_id ? c->next_id : ++c->next_id;
	proto_buf_init(&b);
	proto_pack_request_head(&b.pk, id, method); /* up to the params array's one map */
	if (pack)
		pack(&b.pk, pack_ud);
	else
		msgpack_pack_map(&b.pk, 0);
	g_byte_array_append(c->out, (const guint8 *)b.sb.data, (guint)b.sb.size);
	proto_buf_free(&b);
	struct pending p = {id, cb, ud};
	g_array_append_val(c->pending, p);
	if (flush_out(c) < 0)
		return id; /* the callback comes from the dead idle */
	if (c->out->len > 0 && !c->out_id)
		c->out_id = g_unix_fd_add(c->fd, G_IO_OUT, tconn_out_cb, c);
	return id;
}

/* A response: find its pending entry and call it. */
static void on_response(struct tconn *c, const struct proto_msg *m)
{
	for (guint i = 0; i < c->pending->len; i++) {
		struct pending p = g_array_index(c->pending, struct pending, i);
		if (p.msgid != m->msgid)
			continue;
		g_array_remove_index(c->pending, i);
		struct tconn_reply r = {m->error, m->result, NULL, 0};
		char msg[512] = "";
		if (m->error && m->error->type == MSGPACK_OBJECT_MAP) {
			proto_map_str(m->error, "message", msg, sizeof msg);
			r.code = (int)proto_map_int(m->error, "code", PROTO_ERR_INTERNAL);
			r.errmsg = msg;
		}
		if (p.cb)
			p.cb(&r, p.ud);
		return;
	}
}

/* Decode every complete message in the reader; -1 when the stream broke. */
static int drain(struct tconn *c)
{
	struct proto_msg m;
	struct proto_err err;
	bool recoverable;
	int rc;
	while (!c->closing && (rc = proto_reader_next(c->rd, &m, &err, &recoverable)) != 0) {
		if (rc < 0) {
			if (recoverable)
				continue;
			tconn_break(c, "the daemon sent a malformed message");
			return -1;
		}
		if (m.kind == PROTO_RESPONSE)
			on_response(c, &m);
		else if (m.kind == PROTO_NOTIFY && c->ncb)
			c->ncb(m.method, m.params, c->ud);
		proto_msg_done(&m);
	}
	return 0;
}

/* G_IO_IN: read what is there and dispatch it. */
static gboolean tconn_in_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct tconn *c = data;
	(void)cond;
	size_t avail;
	char *buf = proto_reader_buffer(c->rd, 65536, &avail);
	ssize_t n = read(fd, buf, avail);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		c->in_id = 0;
		tconn_break(c, n == 0 ? "the daemon closed the connection" : "reading from the daemon failed");
		return G_SOURCE_REMOVE;
	}
	proto_reader_consumed(c->rd, (size_t)n);
	c->dispatching++;
	int rc = drain(c);
	c->dispatching--;
	if (c->closing && c->dispatching == 0) {
		c->in_id = 0; /* this source ends by returning REMOVE */
		tconn_free(c);
		return G_SOURCE_REMOVE;
	}
	if (rc < 0) {
		return G_SOURCE_REMOVE; /* in_id was removed by tconn_break */
	}
	return G_SOURCE_CONTINUE;
}
