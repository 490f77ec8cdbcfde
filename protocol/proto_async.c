/*
 * protocol/proto_async.c — the asynchronous client core (see
 * proto_async.h): an output queue written as far as the socket takes it, the
 * protocol's reader for input, a table of pending calls, and the one place
 * where a closing connection is reported to every call still waiting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/proto_async.h"

struct pending {
	uint32_t msgid;
	proto_reply_cb cb;
	void *ud;
};

struct proto_async {
	int fd;
	struct proto_reader *rd;
	struct proto_buf out;  /* requests packed, not all written yet */
	size_t out_off;        /* bytes of out already written */
	struct pending *pend;
	size_t npend, cap;
	uint32_t next_id;
	proto_notify_cb ncb;
	void *nud;
	int depth;             /* dispatching (callbacks on the stack) */
	bool broken;           /* closed: no more I/O */
	bool reported;         /* the pending calls were told */
	int sys_errno;
	char why[256];
};

struct proto_async *proto_async_new(int fd, size_t max_msg, int max_depth)
{
	struct proto_async *a = calloc(1, sizeof(*a));
	if (!a || !(a->rd = proto_reader_new(max_msg, max_depth))) {
		free(a);
		close(fd);
		return NULL;
	}
	a->fd = fd;
	a->next_id = 1;
	proto_buf_init(&a->out);
	return a;
}

int proto_async_fd(const struct proto_async *a)
{
	return a->fd;
}

void proto_async_set_notify(struct proto_async *a, proto_notify_cb cb, void *ud)
{
	a->ncb = cb;
	a->nud = ud;
}

size_t proto_async_pending(const struct proto_async *a)
{
	return a->npend;
}

const char *proto_async_error(const struct proto_async *a, int *sys_errno)
{
	if (sys_errno)
		*sys_errno = a->broken ? a->sys_errno : 0;
	return a->broken ? a->why : NULL;
}

int proto_async_events(const struct proto_async *a)
{
	if (a->broken)
		return a->reported ? 0 : PROTO_ASYNC_WRITE;
	return PROTO_ASYNC_READ | (a->out.sb.size > a->out_off ? PROTO_ASYNC_WRITE : 0);
}

/* The connection is closed from now on (first reason wins); reported later. */
__attribute__((format(printf, 3, 4)))
static void mark_broken(struct proto_async *a, int sys_errno, const char *fmt, ...)
{
	if (a->broken)
		return;
	a->broken = true;
	a->sys_errno = sys_errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
}

/* Take the pending entry at i out of the table. */
static struct pending pending_take(struct proto_async *a, size_t i)
{
	struct pending p = a->pend[i];
	memmove(&a->pend[i], &a->pend[i + 1], (a->npend - i - 1) * sizeof(a->pend[0]));
	a->npend--;
	return p;
}

/* Tell every pending call (one at a time: a callback may cancel others). */
static void report_closed(struct proto_async *a)
{
	a->reported = true;
	a->depth++;
	while (a->npend > 0) {
		struct pending p = pending_take(a, 0);
		struct proto_reply r = {.errmsg = a->why, .code = PROTO_ERR_IO,
					.sys_errno = a->sys_errno};
		p.cb(&r, p.ud);
	}
	a->depth--;
}

void proto_async_free(struct proto_async *a)
{
	if (!a)
		return;
	int saved = errno;
	mark_broken(a, ECANCELED, "%s", "the connection was closed");
	report_closed(a);
	close(a->fd);
	proto_reader_free(a->rd);
	proto_buf_free(&a->out);
	free(a->pend);
	free(a);
	errno = saved;
}

bool proto_async_cancel(struct proto_async *a, uint32_t msgid)
{
	for (size_t i = 0; i < a->npend; i++)
		if (a->pend[i].msgid == msgid) {
			pending_take(a, i);
			return true;
		}
	return false;
}

/* Write what is queued, as far as the socket takes it. */
static void flush_out(struct proto_async *a)
{
	while (!a->broken && a->out.sb.size > a->out_off) {
		ssize_t n = send(a->fd, a->out.sb.data + a->out_off, a->out.sb.size - a->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			mark_broken(a, errno, "lost the connection to the daemon: %s", strerror(errno));
			return;
		}
		a->out_off += (size_t)n;
	}
	if (a->out_off == a->out.sb.size) {
		proto_buf_reset(&a->out);
		a->out_off = 0;
	}
}

/* Room for one more pending call; false when out of memory. */
static bool pending_reserve(struct proto_async *a)
{
	if (a->npend < a->cap)
		return true;
	size_t cap = a->cap ? a->cap * 2 : 8;
	struct pending *p = realloc(a->pend, cap * sizeof(*p));
	if (!p)
		return false;
	a->pend = p;
	a->cap = cap;
	return true;
}

uint32_t proto_async_call(struct proto_async *a, const char *method, proto_pack_fn pack,
			  void *pack_ud, proto_reply_cb cb, void *ud)
{
	if (a->broken || (cb && !pending_reserve(a)))
		return 0;
	uint32_t id = a->next_id++;
	if (a->next_id == 0)
		a->next_id = 1;
	bool queued_before = a->out.sb.size > a->out_off;
	proto_pack_request_head(&a->out.pk, id, method);
	if (pack)
		pack(&a->out.pk, pack_ud);
	else
		msgpack_pack_map(&a->out.pk, 0);
	if (cb)
		a->pend[a->npend++] = (struct pending){id, cb, ud};
	if (!queued_before)
		flush_out(a); /* a failure is reported by the next proto_async_handle */
	return id;
}

/* The reply for a response message (error fields read into buf). */
static struct proto_reply response_reply(struct proto_msg *m, char *buf, size_t size)
{
	struct proto_reply r = {.msg = m};
	const msgpack_object *e = m->error;
	if (!e || e->type == MSGPACK_OBJECT_NIL) {
		r.result = m->result;
		return r;
	}
	r.error = e;
	r.code = (int)proto_map_int(e, "code", PROTO_ERR_INTERNAL);
	if (!proto_map_str(e, "message", buf, size) && e->type == MSGPACK_OBJECT_STR)
		snprintf(buf, size, "%.*s", (int)e->via.str.size, e->via.str.ptr);
	else if (!*buf)
		snprintf(buf, size, "the daemon answered with an error");
	r.errmsg = buf;
	return r;
}

/* A response: to its pending call, or dropped. */
static void on_response(struct proto_async *a, struct proto_msg *m)
{
	for (size_t i = 0; i < a->npend; i++) {
		if (a->pend[i].msgid != m->msgid)
			continue;
		struct pending p = pending_take(a, i);
		char buf[512] = "";
		struct proto_reply r = response_reply(m, buf, sizeof(buf));
		p.cb(&r, p.ud);
		return;
	}
}

/* Dispatch every complete message the reader holds. */
static void drain(struct proto_async *a)
{
	struct proto_msg m;
	struct proto_err err;
	bool recoverable;
	int rc;
	while (!a->broken && (rc = proto_reader_next(a->rd, &m, &err, &recoverable)) != 0) {
		if (rc < 0 && recoverable)
			continue;
		if (rc < 0) {
			mark_broken(a, EPROTO, "bad message from the daemon: %.200s", err.msg);
			return;
		}
		if (m.kind == PROTO_RESPONSE)
			on_response(a, &m);
		else if (m.kind == PROTO_NOTIFY && a->ncb)
			a->ncb(m.method, m.params, a->nud);
		proto_msg_done(&m);
	}
}

/* Read once into the reader and dispatch. */
static void read_some(struct proto_async *a)
{
	size_t avail;
	char *buf = proto_reader_buffer(a->rd, 65536, &avail);
	if (!buf) {
		mark_broken(a, ENOMEM, "%s", "out of memory reading from the daemon");
		return;
	}
	ssize_t n = recv(a->fd, buf, avail, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n == 0)
		mark_broken(a, ECONNRESET, "%s", "the daemon closed the connection");
	if (n < 0)
		mark_broken(a, errno, "reading from the daemon: %s", strerror(errno));
	if (n <= 0)
		return;
	proto_reader_consumed(a->rd, (size_t)n);
	a->depth++;
	drain(a);
	a->depth--;
}

int proto_async_handle(struct proto_async *a, int events)
{
	if (a->reported)
		return -1;
	if (!a->broken && ((events & PROTO_ASYNC_WRITE) || a->out.sb.size > a->out_off))
		flush_out(a);
	if (!a->broken && (events & PROTO_ASYNC_READ) && a->depth == 0)
		read_some(a);
	if (a->broken && a->depth == 0)
		report_closed(a);
	return a->broken ? -1 : 0;
}
