/*
 * tests/protocol/test_async.c — the client core (protocol/proto_async.c)
 * against a scripted "daemon" on the other end of a socketpair, in one
 * process: the test plays both sides step by step, so every interleaving is
 * fixed.  Covers: a call and its reply, partial writes, replies out of
 * order, notifications between replies, error responses, cancel, a huge or
 * garbage frame closing the connection with every pending call told once,
 * the daemon hanging up, freeing with calls pending, re-entrant callbacks,
 * many calls, and connecting where nothing listens.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/proto_async.h"
#include "tests/protocol/tap.h"

/* The daemon's end: a reader and a packing buffer. */
struct srv {
	int fd;
	struct proto_reader *r;
	struct proto_buf b;
};

/* What a call's callback saw. */
struct seen {
	int calls;        /* times the callback ran (must end at most 1) */
	int code, sys_errno;
	char result[64];  /* a string result */
	char errmsg[128];
	int order;        /* when it ran, in a global sequence */
};
static int sequence;

static void seen_cb(const struct proto_reply *r, void *ud)
{
	struct seen *s = ud;
	s->calls++;
	s->order = ++sequence;
	s->code = r->code;
	s->sys_errno = r->sys_errno;
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", r->errmsg ? r->errmsg : "");
	if (r->result && r->result->type == MSGPACK_OBJECT_STR)
		snprintf(s->result, sizeof(s->result), "%.*s", (int)r->result->via.str.size,
			 r->result->via.str.ptr);
}

static int notes, note_order;
static void note_cb(const char *method, const msgpack_object *params, void *ud)
{
	(void)ud;
	if (!strcmp(method, "turn.event") && proto_map_get(params, "kind"))
		notes++;
	note_order = ++sequence;
}

/* A fresh pair: *srv is the daemon's end, the core owns the other. */
static struct proto_async *pair(struct srv *srv, size_t max_msg)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	srv->fd = sv[0];
	srv->r = proto_reader_new(0, 0);
	proto_buf_init(&srv->b);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	struct proto_async *a = proto_async_new(sv[1], max_msg, 0);
	proto_async_set_notify(a, note_cb, NULL);
	return a;
}

static void srv_close(struct srv *srv)
{
	if (srv->fd >= 0)
		close(srv->fd);
	srv->fd = -1;
	proto_reader_free(srv->r);
	proto_buf_free(&srv->b);
}

/* The next request the daemon received (1), or 0 when none is complete. */
static int srv_next(struct srv *srv, struct proto_msg *m)
{
	struct proto_err e;
	for (;;) {
		int rc = proto_reader_next(srv->r, m, &e, NULL);
		if (rc != 0)
			return rc;
		size_t avail;
		char *buf = proto_reader_buffer(srv->r, 65536, &avail);
		ssize_t n = read(srv->fd, buf, avail);
		if (n <= 0)
			return 0;
		proto_reader_consumed(srv->r, (size_t)n);
	}
}

/* Send what the daemon packed (small: the socket takes it at once). */
static void srv_flush(struct srv *srv)
{
	if (write(srv->fd, srv->b.sb.data, srv->b.sb.size) != (ssize_t)srv->b.sb.size)
		abort();
	proto_buf_reset(&srv->b);
}

static void srv_reply_str(struct srv *srv, uint32_t msgid, const char *s)
{
	proto_pack_response_head(&srv->b.pk, msgid);
	proto_pack_str(&srv->b.pk, s);
}

static void srv_notify(struct srv *srv, const char *kind)
{
	proto_pack_notify_head(&srv->b.pk, "turn.event");
	msgpack_pack_map(&srv->b.pk, 1);
	proto_pack_kv_str(&srv->b.pk, "kind", kind);
}

/* Packs {"text": <the string ud>}. */
static void pack_text(msgpack_packer *pk, void *ud)
{
	msgpack_pack_map(pk, 1);
	proto_pack_kv_str(pk, "text", ud);
}

static void test_call_and_reply(void)
{
	struct srv srv;
	struct proto_async *a = pair(&srv, 0);
	struct seen s = {0};
	struct proto_msg m;
	uint32_t id = proto_async_call(a, "ping", NULL, NULL, seen_cb, &s);
	CHECK(id == 1 && s.calls == 0 && proto_async_pending(a) == 1, "call queued, written directly, no callback inside call");
	CHECK(proto_async_events(a) == PROTO_ASYNC_READ, "nothing left to write: only READ wanted");
	CHECK(srv_next(&srv, &m) == 1 && m.kind == PROTO_REQUEST && m.msgid == id &&
		      !strcmp(m.method, "ping") && m.params && m.params->via.map.size == 0,
	      "the daemon got [0, 1, \"ping\", [{}]]");
	proto_msg_done(&m);
	srv_reply_str(&srv, id, "pong");
	srv_flush(&srv);
	CHECK(proto_async_handle(a, PROTO_ASYNC_READ) == 0 && s.calls == 1 && !strcmp(s.result, "pong") &&
		      s.code == 0 && proto_async_pending(a) == 0, "the reply reached its callback");
	uint32_t id2 = proto_async_call(a, "err", NULL, NULL, seen_cb, &s);
	CHECK(id2 == id + 1, "msgids count up");
	srv_next(&srv, &m);
	proto_pack_error_response(&srv.b.pk, m.msgid, PROTO_ERR_NOT_FOUND, "no such project");
	proto_msg_done(&m);
	srv_flush(&srv);
	proto_async_handle(a, PROTO_ASYNC_READ);
	CHECK(s.calls == 2 && s.code == PROTO_ERR_NOT_FOUND && !strcmp(s.errmsg, "no such project"),
	      "an error response: code and message, no result");
	proto_async_free(a);
	CHECK(s.calls == 2, "free with nothing pending calls nothing");
	srv_close(&srv);
}

static void test_partial_writes(void)
{
	struct srv srv;
	struct proto_async *a = pair(&srv, 0);
	int small = 4096;
	setsockopt(proto_async_fd(a), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	size_t big = 1 << 20;
	char *text = malloc(big + 1);
	for (size_t i = 0; i < big; i++)
		text[i] = (char)('a' + i % 26);
	text[big] = '\0';
	struct seen s1 = {0}, s2 = {0};
	uint32_t id1 = proto_async_call(a, "big", pack_text, text, seen_cb, &s1);
	uint32_t id2 = proto_async_call(a, "after", NULL, NULL, seen_cb, &s2);
	CHECK(proto_async_events(a) & PROTO_ASYNC_WRITE, "the socket did not take 1 MiB: WRITE wanted");
	struct proto_msg m1 = {0}, m2 = {0};
	int got = 0, rounds = 0;
	while (got < 2 && rounds++ < 100000) {
		if (proto_async_events(a) & PROTO_ASYNC_WRITE)
			proto_async_handle(a, PROTO_ASYNC_WRITE);
		if (srv_next(&srv, got == 0 ? &m1 : &m2) == 1)
			got++;
	}
	const msgpack_object *t = m1.params ? proto_map_get(m1.params, "text") : NULL;
	CHECK(got == 2 && m1.msgid == id1 && t && t->via.str.size == big &&
		      memcmp(t->via.str.ptr, text, big) == 0 && rounds > 2,
	      "1 MiB written in %d rounds arrived whole", rounds);
	CHECK(m2.msgid == id2 && !strcmp(m2.method, "after"), "the next request after it, in order");
	CHECK(proto_async_events(a) == PROTO_ASYNC_READ, "all written: WRITE no longer wanted");
	proto_msg_done(&m1);
	proto_msg_done(&m2);
	free(text);
	proto_async_free(a);
	CHECK(s1.calls == 1 && s2.calls == 1 && s1.sys_errno == ECANCELED && s1.code == PROTO_ERR_IO,
	      "free told both pending calls once (ECANCELED)");
	srv_close(&srv);
}

static void test_order_and_notifications(void)
{
	struct srv srv;
	struct proto_async *a = pair(&srv, 0);
	struct seen s[3] = {{0}};
	uint32_t id[3];
	for (int i = 0; i < 3; i++)
		id[i] = proto_async_call(a, "q", NULL, NULL, seen_cb, &s[i]);
	notes = 0;
	sequence = 0;
	srv_notify(&srv, "started");
	srv_reply_str(&srv, id[2], "third");
	srv_notify(&srv, "step");
	srv_reply_str(&srv, id[0], "first");
	srv_reply_str(&srv, 4242, "to nobody");
	srv_reply_str(&srv, id[1], "second");
	srv_notify(&srv, "done");
	srv_flush(&srv);
	proto_async_handle(a, PROTO_ASYNC_READ);
	CHECK(!strcmp(s[0].result, "first") && !strcmp(s[1].result, "second") &&
		      !strcmp(s[2].result, "third"), "replies out of order reach their own calls");
	CHECK(notes == 3 && s[2].order == 2 && s[0].order == 4 && s[1].order == 5 && note_order == 6,
	      "notifications dispatched between replies, in arrival order");
	CHECK(s[0].calls + s[1].calls + s[2].calls == 3, "a reply to no call is dropped");
	proto_async_free(a);
	CHECK(s[0].calls == 1 && s[1].calls == 1, "answered calls are not told again at free");
	srv_close(&srv);
}

static void test_cancel(void)
{
	struct srv srv;
	struct proto_async *a = pair(&srv, 0);
	struct seen s1 = {0}, s2 = {0};
	uint32_t id1 = proto_async_call(a, "slow", NULL, NULL, seen_cb, &s1);
	uint32_t id2 = proto_async_call(a, "fast", NULL, NULL, seen_cb, &s2);
	CHECK(proto_async_cancel(a, id1) && !proto_async_cancel(a, id1) && !proto_async_cancel(a, 999),
	      "cancel: true once, false for what is not pending");
	srv_reply_str(&srv, id1, "late");
	srv_reply_str(&srv, id2, "ok");
	srv_flush(&srv);
	proto_async_handle(a, PROTO_ASYNC_READ);
	CHECK(s1.calls == 0 && s2.calls == 1 && !strcmp(s2.result, "ok"),
	      "a cancelled call's reply is dropped, the other goes on");
	uint32_t id3 = proto_async_call(a, "x", NULL, NULL, seen_cb, &s1);
	proto_async_cancel(a, id3);
	proto_async_free(a);
	CHECK(s1.calls == 0, "a cancelled call is not told at free either");
	srv_close(&srv);
}

/* Start n calls on a; the daemon then sends bytes (len) of junk. */
static int closing_with(const unsigned char *junk, size_t len, size_t max_msg, struct seen *s, int n,
			char *why, size_t whylen, int *sys_errno)
{
	struct srv srv;
	struct proto_async *a = pair(&srv, max_msg);
	for (int i = 0; i < n; i++)
		proto_async_call(a, "q", NULL, NULL, seen_cb, &s[i]);
	if (write(srv.fd, junk, len) != (ssize_t)len)
		abort();
	int rc = 0, rounds = 0;
	while (rc == 0 && rounds++ < 1000)
		rc = proto_async_handle(a, PROTO_ASYNC_READ);
	snprintf(why, whylen, "%s", proto_async_error(a, sys_errno) ?: "(open)");
	int after = proto_async_handle(a, PROTO_ASYNC_READ | PROTO_ASYNC_WRITE);
	uint32_t id = proto_async_call(a, "more", NULL, NULL, seen_cb, &s[0]);
	int events = proto_async_events(a);
	proto_async_free(a);
	srv_close(&srv);
	return rc == -1 && after == -1 && id == 0 && events == 0 ? 0 : -1;
}

static void test_bad_frames(void)
{
	/* a str32 announcing 1 GiB: refused by its header, before the bytes come */
	static const unsigned char huge[] = {0xdb, 0x40, 0x00, 0x00, 0x00, 'x'};
	/* 0xc1 is never used in msgpack */
	static const unsigned char garbage[] = {0xc1, 0x00, 0x01};
	/* a 2 KiB string in a response, over a 1 KiB cap */
	unsigned char over[2100] = {0x94, 0x01, 0x01, 0xc0, 0xda, 0x08, 0x00};
	struct { const char *name; const unsigned char *p; size_t len; size_t cap; } cases[] = {
		{"a huge frame", huge, sizeof(huge), 0},
		{"a garbage frame", garbage, sizeof(garbage), 0},
		{"a frame over the cap", over, sizeof(over), 1024},
	};
	for (size_t c = 0; c < 3; c++) {
		struct seen s[4] = {{0}};
		char why[256];
		int e = 0;
		int rc = closing_with(cases[c].p, cases[c].len, cases[c].cap, s, 4, why, sizeof why, &e);
		CHECK(rc == 0 && e == EPROTO && strstr(why, "bad message"),
		      "%s closes the connection for good: %s", cases[c].name, why);
		CHECK(s[0].calls == 1 && s[1].calls == 1 && s[2].calls == 1 && s[3].calls == 1 &&
			      s[3].sys_errno == EPROTO && s[3].code == PROTO_ERR_IO && !strcmp(s[3].errmsg, why),
		      "%s: every pending call told exactly once", cases[c].name);
	}
}

static void test_hang_up(void)
{
	struct srv srv;
	struct proto_async *a = pair(&srv, 0);
	struct seen s[2] = {{0}};
	proto_async_call(a, "a", NULL, NULL, seen_cb, &s[0]);
	proto_async_call(a, "b", NULL, NULL, seen_cb, &s[1]);
	srv_reply_str(&srv, 1, "one");
	srv_flush(&srv);
	struct proto_msg m;
	while (srv_next(&srv, &m) == 1) /* read: closing with unread bytes would be a reset */
		proto_msg_done(&m);
	close(srv.fd);
	srv.fd = -1;
	int rc = 0;
	for (int i = 0; i < 10 && rc == 0; i++)
		rc = proto_async_handle(a, PROTO_ASYNC_READ);
	int e;
	const char *why = proto_async_error(a, &e);
	CHECK(rc == -1 && e == ECONNRESET && why && strstr(why, "closed"), "the daemon hung up: %s", why);
	CHECK(s[0].calls == 1 && !strcmp(s[0].result, "one") && s[1].calls == 1 &&
		      s[1].sys_errno == ECONNRESET, "the reply before the hang-up delivered, the rest told");
	proto_async_free(a);
	CHECK(s[1].calls == 1, "told once, not again at free");
	srv_close(&srv);
}

/* Callbacks that act on the connection while it reports. */
static struct proto_async *re_a;
static uint32_t re_victim;
static int re_new_id = -1;
static void canceller_cb(const struct proto_reply *r, void *ud)
{
	seen_cb(r, ud);
	proto_async_cancel(re_a, re_victim);
	re_new_id = (int)proto_async_call(re_a, "from a callback", NULL, NULL, seen_cb, ud);
}

static void test_reentrant(void)
{
	struct srv srv;
	struct proto_async *a = pair(&srv, 0);
	struct seen s[3] = {{0}};
	struct proto_msg m;
	re_a = a;
	uint32_t id = proto_async_call(a, "a", NULL, NULL, canceller_cb, &s[0]);
	re_victim = proto_async_call(a, "b", NULL, NULL, seen_cb, &s[1]);
	proto_async_call(a, "c", NULL, NULL, seen_cb, &s[2]);
	srv_reply_str(&srv, id, "a");
	srv_flush(&srv);
	proto_async_handle(a, PROTO_ASYNC_READ);
	CHECK(re_new_id > 0 && proto_async_pending(a) == 2 && s[1].calls == 0,
	      "a callback made a call and cancelled another");
	bool written = false;
	while (!written && srv_next(&srv, &m) == 1) {
		written = !strcmp(m.method, "from a callback") && m.msgid == (uint32_t)re_new_id;
		proto_msg_done(&m);
	}
	CHECK(written, "the call made in the callback was written");
	proto_async_free(a);
	srv_close(&srv);

	/* closing: the first call told cancels the second and tries a new one */
	memset(s, 0, sizeof(s));
	a = re_a = pair(&srv, 0);
	proto_async_call(a, "d", NULL, NULL, canceller_cb, &s[0]);
	re_victim = proto_async_call(a, "e", NULL, NULL, seen_cb, &s[1]);
	close(srv.fd);
	srv.fd = -1;
	while (proto_async_handle(a, PROTO_ASYNC_READ) == 0)
		;
	CHECK(s[0].calls == 1 && s[1].calls == 0,
	      "a call cancelled while the close is reported is not told");
	CHECK(re_new_id == 0, "a call made while the close is reported is refused (0)");
	proto_async_free(a);
	CHECK(s[0].calls == 1 && s[1].calls == 0, "nor told at free");
	srv_close(&srv);
}

static void test_many_calls(void)
{
	enum { N = 5000 };
	struct srv srv;
	struct proto_async *a = pair(&srv, 0);
	static struct seen s[N];
	static uint32_t ids[N];
	memset(s, 0, sizeof(s));
	for (int i = 0; i < N; i++)
		ids[i] = proto_async_call(a, "n", NULL, NULL, seen_cb, &s[i]);
	/* the daemon reads them all, then answers newest first; both sides step */
	uint32_t got[N];
	int ngot = 0, rounds = 0;
	struct proto_msg m;
	while (ngot < N && rounds++ < 100000) {
		proto_async_handle(a, proto_async_events(a));
		while (ngot < N && srv_next(&srv, &m) == 1) {
			got[ngot++] = m.msgid;
			proto_msg_done(&m);
		}
	}
	bool ordered = ngot == N;
	for (int i = 0; ordered && i < N; i++)
		ordered = got[i] == ids[i];
	CHECK(ordered && ids[N - 1] == N, "%d requests arrived in order with msgids 1..%d", ngot, N);
	for (int i = N - 1; i >= 0; i--) {
		char r[16];
		snprintf(r, sizeof r, "r%d", i);
		srv_reply_str(&srv, ids[i], r);
		if (srv.b.sb.size > 16384 || i == 0) {
			const char *p = srv.b.sb.data;
			size_t left = srv.b.sb.size;
			while (left > 0) {
				ssize_t n = write(srv.fd, p, left);
				if (n > 0)
					p += n, left -= (size_t)n;
				proto_async_handle(a, PROTO_ASYNC_READ);
			}
			proto_buf_reset(&srv.b);
		}
	}
	while (proto_async_pending(a) > 0 && proto_async_handle(a, PROTO_ASYNC_READ) == 0)
		;
	int right = 0;
	for (int i = 0; i < N; i++) {
		char r[16];
		snprintf(r, sizeof r, "r%d", i);
		right += s[i].calls == 1 && !strcmp(s[i].result, r);
	}
	CHECK(right == N, "%d of %d replies reached their own call once", right, N);
	proto_async_free(a);
	srv_close(&srv);
}

static void test_connect(void)
{
	struct proto_err e;
	errno = 0;
	CHECK(proto_connect("/nonexistent/daa-test.sock", false, &e) < 0 && errno == ENOENT &&
		      e.code == PROTO_ERR_IO, "nothing listens: %s", e.msg);
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CHECK(proto_connect(longp, true, &e) < 0 && strstr(e.msg, "too long"), "a path too long");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	test_call_and_reply();
	test_partial_writes();
	test_order_and_notifications();
	test_cancel();
	test_bad_frames();
	test_hang_up();
	test_reentrant();
	test_many_calls();
	test_connect();
	return tap_done();
}
