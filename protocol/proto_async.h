/*
 * protocol/proto_async.h — the asynchronous client core shared by daa-tray
 * and the daa CLI: one msgpack-RPC connection to the daemon, with no event
 * loop of its own and no GLib.  Its owner watches the socket (GLib IO watch
 * in the tray, poll() in the CLI: client/daa_loop.c) and calls
 * proto_async_handle() when it is readable or writable; the core does the
 * rest:
 *
 *   - calls: proto_async_call() packs a request with a fresh msgid (never 0),
 *     remembers its callback and user data in the pending-call table, and
 *     writes it at once when nothing is queued before it (Redis ae's way:
 *     write directly, ask for writability only for what is left over);
 *   - writing: as much as the socket takes (partial writes kept in order,
 *     MSG_DONTWAIT, no SIGPIPE), so the fd may be blocking or not;
 *   - reading: one read per readable notification (owners are level-
 *     triggered), framed by the protocol's reader with its size and depth
 *     caps (proto_reader_new);
 *   - dispatch: a response goes to its call's callback (a response to no
 *     pending call — cancelled, or never asked — is dropped), a notification
 *     to the notify callback, a message that is msgpack but not msgpack-rpc
 *     is skipped (as the reader allows);
 *   - closing: end of stream, a read or write error, or a frame the reader
 *     refuses (too large, too deep, not msgpack) closes the connection; every
 *     pending call is then told exactly once (a failure reply saying why), so
 *     a caller never waits forever; so is every call still pending when the
 *     owner frees the connection;
 *   - cancel: proto_async_cancel() forgets a pending call: its callback is
 *     not called, its response is dropped when it comes.
 *
 * Callbacks run only inside proto_async_handle() and proto_async_free(),
 * never inside proto_async_call().  A callback may make calls, cancel calls
 * and call proto_async_handle() (only the write half then runs); it must not
 * free the connection (owners that want to, defer it: the tray closes from
 * an idle callback).
 */
#ifndef DAA_PROTO_ASYNC_H
#define DAA_PROTO_ASYNC_H

#include "protocol/proto.h"

struct proto_async;

/*
 * What a call's callback receives.  Success: result set, error NULL, code 0.
 * An error response: result NULL, error the daemon's error object, code and
 * errmsg from it.  A transport failure (the connection closed before the
 * response came): msg, result and error NULL, code PROTO_ERR_IO, errmsg says
 * why, sys_errno is ECONNRESET (the daemon closed it), EPIPE or another
 * errno of a failed read or write, EPROTO (it sent a frame the reader
 * refused), or ECANCELED (the owner freed the connection).
 */
struct proto_reply {
	struct proto_msg *msg;        /* the response; the callback may keep it by
				       * moving it out (*mine = *msg, then zero *msg) */
	const msgpack_object *result;
	const msgpack_object *error;
	const char *errmsg;
	int code;
	int sys_errno;
};
typedef void (*proto_reply_cb)(const struct proto_reply *r, void *ud);

/* What the owner should wait for (proto_async_events). */
enum { PROTO_ASYNC_READ = 1, PROTO_ASYNC_WRITE = 2 };

/* A connected socket to the daemon at path (blocking or not): its fd, or -1
 * with err filled and errno kept (ENOENT / ECONNREFUSED: nothing listens). */
int proto_connect(const char *path, bool nonblock, struct proto_err *err);

/* The core over a connected fd, which it owns from now on (closed by
 * proto_async_free).  max_msg / max_depth: the reader's caps (0: defaults).
 * NULL (fd closed) when out of memory. */
struct proto_async *proto_async_new(int fd, size_t max_msg, int max_depth);
/* Tell every pending call the connection closed (ECANCELED), close the fd,
 * free.  NULL is a no-op.  Not from inside the connection's own callbacks. */
void proto_async_free(struct proto_async *a);
int proto_async_fd(const struct proto_async *a);
/* Where notifications go (cb NULL: dropped). */
void proto_async_set_notify(struct proto_async *a, proto_notify_cb cb, void *ud);

/*
 * Send a request whose params map `pack` packs (NULL: an empty map).  cb
 * (may be NULL: the response is dropped) gets the reply later, from
 * proto_async_handle or proto_async_free.  Returns the msgid, or 0 when the
 * connection is already closed (cb is then never called).
 */
uint32_t proto_async_call(struct proto_async *a, const char *method, proto_pack_fn pack,
			  void *pack_ud, proto_reply_cb cb, void *ud);
/* Forget a pending call: its callback is never called.  False when msgid
 * is not pending (answered already, or never a call with a callback). */
bool proto_async_cancel(struct proto_async *a, uint32_t msgid);
/* How many calls wait for their response. */
size_t proto_async_pending(const struct proto_async *a);

/* PROTO_ASYNC_READ while open, | PROTO_ASYNC_WRITE while bytes wait to be
 * written (or a failed direct write waits to be reported); 0 once closed. */
int proto_async_events(const struct proto_async *a);
/*
 * The socket is ready for `events` (PROTO_ASYNC_READ / _WRITE; an owner that
 * saw an error or hang-up passes READ: the read then finds it).  Writes what
 * is queued, reads once and dispatches every complete message.  0 while
 * open; -1 once the connection is closed (every pending call has been told;
 * proto_async_error says why; the owner stops watching the fd and frees the
 * core when it likes).
 */
int proto_async_handle(struct proto_async *a, int events);
/* Why the connection closed (NULL while it is open); *sys_errno as in
 * struct proto_reply (may be NULL). */
const char *proto_async_error(const struct proto_async *a, int *sys_errno);

#endif
