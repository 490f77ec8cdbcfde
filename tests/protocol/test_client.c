/*
 * tests/protocol/test_client.c — the blocking client against a scripted
 * server in a child process: a notification and a stray response arriving
 * before the awaited one, an error response, two requests answered out of
 * order, a timeout, the daemon closing the connection, and connecting where
 * nothing listens.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "protocol/proto.h"
#include "tests/protocol/tap.h"

static char dir[64], path[96];

/* Send a whole buffer from the server side. */
static void srv_send(int fd, struct proto_buf *b)
{
	if (write(fd, b->sb.data, b->sb.size) != (ssize_t)b->sb.size)
		_exit(3);
	proto_buf_reset(b);
}

/* Read the next request on the server side (exits the child on EOF). */
static void srv_read(int fd, struct proto_reader *r, struct proto_msg *m)
{
	struct proto_err e;
	while (proto_reader_next(r, m, &e, NULL) != 1) {
		size_t avail;
		char *buf = proto_reader_buffer(r, 4096, &avail);
		ssize_t n = read(fd, buf, avail);
		if (n <= 0)
			_exit(0);
		proto_reader_consumed(r, (size_t)n);
	}
}

/* The scripted server: ping, err, slow (no answer), bye (close). */
static void server(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	struct proto_reader *r = proto_reader_new(0, 0);
	struct proto_buf b;
	struct proto_msg m;
	uint32_t held = 0;
	proto_buf_init(&b);
	for (;;) {
		srv_read(fd, r, &m);
		if (!strcmp(m.method, "first")) {
			held = m.msgid; /* answered after "second", out of order */
		} else if (!strcmp(m.method, "second")) {
			proto_pack_response_head(&b.pk, m.msgid);
			proto_pack_str(&b.pk, "second's result");
			proto_pack_response_head(&b.pk, held);
			proto_pack_str(&b.pk, "first's result");
			srv_send(fd, &b);
		} else if (!strcmp(m.method, "ping")) {
			proto_pack_notify_head(&b.pk, "turn.event");
			msgpack_pack_map(&b.pk, 1);
			proto_pack_kv_str(&b.pk, "kind", "started");
			proto_pack_response_head(&b.pk, m.msgid + 100);
			msgpack_pack_nil(&b.pk);
			proto_pack_response_head(&b.pk, m.msgid);
			msgpack_pack_map(&b.pk, 1);
			proto_pack_kv_bool(&b.pk, "pong", true);
			srv_send(fd, &b);
		} else if (!strcmp(m.method, "err")) {
			proto_pack_error_response(&b.pk, m.msgid, PROTO_ERR_NOT_FOUND, "no such project");
			srv_send(fd, &b);
		} else if (!strcmp(m.method, "bye")) {
			_exit(0);
		}
		proto_msg_done(&m);
	}
}

static int notes;
static char note_kind[32];

static void on_note(const char *method, const msgpack_object *params, void *ud)
{
	(void)ud;
	if (!strcmp(method, "turn.event"))
		notes++;
	proto_map_str(params, "kind", note_kind, sizeof(note_kind));
}

static pid_t start_server(void)
{
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30);
		server(lfd);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void test_calls(void)
{
	struct proto_err e;
	struct proto_msg m;
	struct proto_client *c = proto_client_connect(path, &e);
	CHECK(c != NULL, "connect (%s)", c ? "" : e.msg);
	if (!c)
		return;
	proto_client_set_notify(c, on_note, NULL);
	int rc = proto_client_call(c, "ping", NULL, NULL, 10000, &m, &e);
	CHECK(rc == 0 && m.kind == PROTO_RESPONSE && m.error->type == MSGPACK_OBJECT_NIL &&
		      proto_map_bool(m.result, "pong", false), "ping answered, stray response skipped");
	CHECK(notes == 1 && !strcmp(note_kind, "started"), "notification dispatched while waiting");
	uint32_t first = m.msgid;
	proto_msg_done(&m);
	rc = proto_client_call(c, "err", NULL, NULL, 10000, &m, &e);
	CHECK(rc == 0 && m.msgid == first + 1, "msgids count up");
	CHECK(m.error && proto_map_int(m.error, "code", 0) == PROTO_ERR_NOT_FOUND,
	      "error response returned as 0 with msg->error set");
	proto_msg_done(&m);
	uint32_t id1 = proto_client_send(c, "first", NULL, NULL, &e);
	uint32_t id2 = proto_client_send(c, "second", NULL, NULL, &e);
	rc = proto_client_wait(c, id1, 10000, &m, &e);
	CHECK(rc == 0 && m.msgid == id1 && m.result->type == MSGPACK_OBJECT_STR &&
		      m.result->via.str.size == 14, "out-of-order: the awaited response");
	proto_msg_done(&m);
	rc = proto_client_wait(c, id2, 0, &m, &e);
	CHECK(rc == 0 && m.msgid == id2 && m.result->via.str.size == 15,
	      "out-of-order: the other one was kept for its own wait");
	proto_msg_done(&m);
	rc = proto_client_call(c, "slow", NULL, NULL, 200, &m, &e);
	CHECK(rc == -1 && errno == ETIMEDOUT && e.code == PROTO_ERR_IO, "timeout: %s", e.msg);
	rc = proto_client_call(c, "bye", NULL, NULL, 10000, &m, &e);
	CHECK(rc == -1 && errno == ECONNRESET && strstr(e.msg, "closed"), "peer closed: %s", e.msg);
	proto_client_close(c);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/daa-proto-test.XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	struct proto_err e;
	errno = 0;
	CHECK(proto_client_connect(path, &e) == NULL && errno == ENOENT && e.code == PROTO_ERR_IO,
	      "nothing listens: %s", e.msg);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK(proto_client_connect(longp, &e) == NULL && strstr(e.msg, "too long"), "long path");
	pid_t pid = start_server();
	test_calls();
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server exited cleanly");
	unlink(path);
	rmdir(dir);
	return tap_done();
}
