/*
 * protocol/proto_client.c — the daemon's socket path and a blocking client
 * connection for the CLI and tools: connect, send requests with a msgid
 * counter, wait for a response with a poll() timeout while passing
 * notifications to a callback.  Responses to other requests that arrive
 * meanwhile are kept (a few) for their own wait.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "protocol/proto.h"

#define CLIENT_STASH 8

struct proto_client {
	int fd;
	struct proto_reader *r;
	uint32_t next_id;
	proto_notify_cb cb;
	void *ud;
	struct proto_buf out;
	bool has_mask;
	sigset_t mask;
	struct proto_msg stash[CLIENT_STASH]; /* responses awaiting their wait */
	int nstash;
};

/* $DAA_SOCKET, else $XDG_RUNTIME_DIR/daa/daad.sock, else /tmp/daa-$UID/daad.sock. */
int proto_socket_path(char *buf, size_t size)
{
	const char *s = getenv("DAA_SOCKET");
	const char *x = getenv("XDG_RUNTIME_DIR");
	int n;
	if (s && *s)
		n = snprintf(buf, size, "%s", s);
	else if (x && *x)
		n = snprintf(buf, size, "%s/daa/daad.sock", x);
	else
		n = snprintf(buf, size, "/tmp/daa-%u/daad.sock", (unsigned)getuid());
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Connect to the daemon's socket at path. */
struct proto_client *proto_client_connect(const char *path, struct proto_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		proto_fail(err, PROTO_ERR_BAD_INPUT, "socket path too long (max %zu bytes): %s",
			   sizeof(sa.sun_path) - 1, path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	struct proto_client *c = calloc(1, sizeof(*c));
	if (!c || !(c->r = proto_reader_new(0, 0))) {
		free(c);
		errno = ENOMEM;
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		proto_fail(err, PROTO_ERR_IO, "cannot connect to %s: %s", path, strerror(errno));
		int saved = errno;
		if (c->fd >= 0)
			close(c->fd);
		proto_reader_free(c->r);
		free(c);
		errno = saved;
		return NULL;
	}
	c->next_id = 1;
	proto_buf_init(&c->out);
	return c;
}

/* Close the connection and free the client. */
void proto_client_close(struct proto_client *c)
{
	if (!c)
		return;
	int saved = errno;
	for (int i = 0; i < c->nstash; i++)
		proto_msg_done(&c->stash[i]);
	close(c->fd);
	proto_reader_free(c->r);
	proto_buf_free(&c->out);
	free(c);
	errno = saved;
}

/* The socket fd (for poll() next to other fds). */
int proto_client_fd(const struct proto_client *c)
{
	return c->fd;
}

/* Where notifications go while waiting (cb NULL: dropped).  The callback
 * may send requests but must not wait. */
void proto_client_set_notify(struct proto_client *c, proto_notify_cb cb, void *ud)
{
	c->cb = cb;
	c->ud = ud;
}

/* The signal mask to wait with (see proto.h). */
void proto_client_set_sigmask(struct proto_client *c, const sigset_t *mask)
{
	c->has_mask = mask != NULL;
	if (mask)
		c->mask = *mask;
}

/* Write all of buf (EINTR retried, no SIGPIPE). */
static int write_all(int fd, const char *buf, size_t len, struct proto_err *err)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return proto_fail(err, PROTO_ERR_IO, "lost the connection to the daemon: %s",
					  strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send a request; its msgid, or 0 with err. */
uint32_t proto_client_send(struct proto_client *c, const char *method,
			   proto_pack_fn pack_params, void *ud, struct proto_err *err)
{
	uint32_t id = c->next_id++;
	if (c->next_id == 0)
		c->next_id = 1;
	proto_buf_reset(&c->out);
	proto_pack_request_head(&c->out.pk, id, method);
	if (pack_params)
		pack_params(&c->out.pk, ud);
	else
		msgpack_pack_map(&c->out.pk, 0);
	if (write_all(c->fd, c->out.sb.data, c->out.sb.size, err) < 0)
		return 0;
	return id;
}

/* Milliseconds left until deadline (monotonic ms), or -1 for none. */
static int time_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Read what the socket has into the reader: 0, or -1 (err, errno). */
static int fill(struct proto_client *c, int64_t deadline, struct proto_err *err)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	int ms = time_left(deadline), rc;
	if (c->has_mask) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
		rc = ppoll(&pfd, 1, ms < 0 ? NULL : &ts, &c->mask);
	} else {
		rc = poll(&pfd, 1, ms);
	}
	if (rc < 0)
		return proto_fail(err, PROTO_ERR_IO, "waiting for the daemon: %s", strerror(errno));
	if (rc == 0) {
		errno = ETIMEDOUT;
		return proto_fail(err, PROTO_ERR_IO, "the daemon did not answer in time");
	}
	size_t avail;
	char *buf = proto_reader_buffer(c->r, 65536, &avail);
	if (!buf) {
		errno = ENOMEM;
		return proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
	}
	ssize_t n = read(c->fd, buf, avail);
	if (n < 0)
		return proto_fail(err, PROTO_ERR_IO, "reading from the daemon: %s", strerror(errno));
	if (n == 0) {
		errno = ECONNRESET;
		return proto_fail(err, PROTO_ERR_IO, "the daemon closed the connection");
	}
	proto_reader_consumed(c->r, (size_t)n);
	return 0;
}

/* Take the stashed response to msgid into msg; false if none. */
static bool stash_take(struct proto_client *c, uint32_t msgid, struct proto_msg *msg)
{
	for (int i = 0; i < c->nstash; i++)
		if (c->stash[i].msgid == msgid) {
			*msg = c->stash[i];
			memmove(&c->stash[i], &c->stash[i + 1],
				(size_t)(c->nstash - i - 1) * sizeof(c->stash[0]));
			c->nstash--;
			return true;
		}
	return false;
}

/* Keep a response to another request (the oldest goes when full). */
static void stash_put(struct proto_client *c, struct proto_msg *msg)
{
	if (c->nstash == CLIENT_STASH) {
		proto_msg_done(&c->stash[0]);
		memmove(&c->stash[0], &c->stash[1], (CLIENT_STASH - 1) * sizeof(c->stash[0]));
		c->nstash--;
	}
	c->stash[c->nstash++] = *msg;
	memset(msg, 0, sizeof(*msg));
}

/* Wait for the response to msgid; notifications go to the callback,
 * responses to other msgids are kept for their own wait (the last 8).
 * -1 with errno EINTR when a signal interrupted the wait (call again to go
 * on waiting). */
int proto_client_wait(struct proto_client *c, uint32_t msgid, int timeout_ms,
		      struct proto_msg *msg, struct proto_err *err)
{
	int64_t deadline = -1;
	if (timeout_ms >= 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	}
	if (stash_take(c, msgid, msg))
		return 0;
	for (;;) {
		bool rec;
		struct proto_err perr;
		int rc = proto_reader_next(c->r, msg, &perr, &rec);
		if (rc < 0 && rec)
			continue;
		if (rc < 0)
			return proto_fail(err, perr.code, "bad message from the daemon: %s", perr.msg);
		if (rc == 0) {
			if (fill(c, deadline, err) < 0)
				return -1;
			continue;
		}
		if (msg->kind == PROTO_RESPONSE && msg->msgid == msgid)
			return 0;
		if (msg->kind == PROTO_RESPONSE) {
			stash_put(c, msg);
			continue;
		}
		if (msg->kind == PROTO_NOTIFY && c->cb)
			c->cb(msg->method, msg->params, c->ud);
		proto_msg_done(msg);
	}
}

/* Send a request and wait for its response. */
int proto_client_call(struct proto_client *c, const char *method, proto_pack_fn pack_params,
		      void *ud, int timeout_ms, struct proto_msg *msg, struct proto_err *err)
{
	uint32_t id = proto_client_send(c, method, pack_params, ud, err);
	if (id == 0)
		return -1;
	return proto_client_wait(c, id, timeout_ms, msg, err);
}
