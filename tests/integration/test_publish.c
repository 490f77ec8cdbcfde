/*
 * tests/integration/test_publish.c — unit test of daemon/project/publish.c, the one
 * publisher of notifications: topics and projects select the subscribers,
 * a subscription removed or added from inside a send is handled (the
 * publish in progress skips the removed one and does not send to the new
 * one), a connection found closed loses its subscriptions, and an oversized
 * event arrives cut with a marker and "truncated": true.  The sink is a
 * fake that records what each connection got.  Prints TAP; exit 1 on any
 * failure.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/mpjson.h"
#include "daemon/project/project.h"
#include "daemon/project/publish.h"
#include "tests/lib/tap.h"

/* The publisher asks a project for its path only: a fake handle. */
struct proj {
	const char *path;
};
const char *proj_path(const struct proj *p)
{
	return p->path;
}

#define NCONN 8
static struct {
	int got[NCONN];          /* notifications received */
	json_t *last[NCONN];     /* [method, params] of the last one */
	size_t last_len[NCONN];  /* its packed size */
	bool closed[NCONN];      /* the sink reports the connection gone */
	int calls[NCONN];        /* sink calls, received or not */
	/* what the sink does on its next call for conn `on` */
	int on;
	void (*action)(void);
} S;

static struct proj A = {"/p/a"}, B = {"/p/b"};

/* Decode one notification [2, method, [params]] to [method, params]. */
static json_t *decode(const char *bytes, size_t len)
{
	msgpack_unpacked u;
	json_t *out = NULL;
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, bytes, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 3 &&
	    u.data.via.array.ptr[2].type == MSGPACK_OBJECT_ARRAY &&
	    u.data.via.array.ptr[2].via.array.size == 1)
		out = json_pack("[o, o]", mpjson_from_object(&u.data.via.array.ptr[1]),
				mpjson_from_object(&u.data.via.array.ptr[2].via.array.ptr[0]));
	msgpack_unpacked_destroy(&u);
	return out;
}

static int fake_sink(uint64_t conn, const char *bytes, size_t len, void *ud)
{
	(void)ud;
	S.calls[conn]++;
	if (S.action && (int)conn == S.on) {
		void (*a)(void) = S.action;
		S.action = NULL;
		a();
	}
	if (S.closed[conn])
		return -1;
	S.got[conn]++;
	json_decref(S.last[conn]);
	S.last[conn] = decode(bytes, len);
	S.last_len[conn] = len;
	return 0;
}

static void reset(void)
{
	pub_reset();
	for (int i = 0; i < NCONN; i++)
		json_decref(S.last[i]);
	memset(&S, 0, sizeof S);
	pub_set_sink(fake_sink, NULL);
}

static const char *last_method(int conn)
{
	return json_string_value(json_array_get(S.last[conn], 0));
}

static json_t *last_params(int conn)
{
	return json_array_get(S.last[conn], 1);
}

/* Topics and projects select who gets an event. */
static void test_select(void)
{
	reset();
	json_t *ev = json_pack("{s:s, s:i}", "kind", "x", "n", 7);
	pub_subscribe(1, &A, PUB_ALL);
	pub_subscribe(2, &A, 1u << PUB_DATA_EVENT);
	pub_subscribe(3, &B, PUB_ALL);
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 1, "turn.event on A reaches one subscriber");
	tap_ok(S.got[1] == 1 && S.got[2] == 0 && S.got[3] == 0, "... the one following A's turns");
	tap_ok(last_method(1) && !strcmp(last_method(1), "turn.event"), "... as a turn.event");
	tap_ok(json_integer_value(json_object_get(last_params(1), "n")) == 7, "... with its params");
	tap_ok(pub_publish(&A, PUB_DATA_EVENT, ev) == 2, "data.event on A reaches both of A's");
	tap_ok(!strcmp(last_method(2), "data.event"), "... named data.event");
	pub_subscribe(1, &A, PUB_ALL); /* again: no second copy */
	tap_ok(pub_publish(&A, PUB_HISTORY_CHANGED, ev) == 1 && S.got[1] == 3,
	       "subscribing twice sends once");
	pub_unsubscribe(1, &A, 1u << PUB_HISTORY_CHANGED);
	tap_ok(pub_publish(&A, PUB_HISTORY_CHANGED, ev) == 0, "a topic unsubscribed is not sent");
	tap_ok(pub_publish(&A, PUB_HISTORY_EVENT, ev) == 1, "... the others still are");
	struct proj a2 = {"/p/a"}; /* A's handle replaced (deleted, created again) */
	tap_ok(pub_publish(&a2, PUB_TURN_EVENT, ev) == 1, "a project is matched by its path");
	tap_ok(pub_send(3, PUB_HISTORY_EVENT, ev) == 0 && S.got[3] == 1 &&
	       !strcmp(last_method(3), "history.event"), "pub_send reaches one connection");
	pub_conn_gone(1);
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 0 && S.calls[1] == 5,
	       "a closed connection's subscriptions are gone");
	json_decref(ev);
}

/* Actions the sink runs in the middle of a publish. */
static void drop_conn2(void) { pub_unsubscribe(2, &A, PUB_ALL); }
static void add_conn4(void) { pub_subscribe(4, &A, PUB_ALL); }
static void gone_conn3(void) { pub_conn_gone(3); }

/* Subscriptions changed from inside a send. */
static void test_reentry(void)
{
	reset();
	json_t *ev = json_pack("{s:s}", "kind", "x");
	pub_subscribe(1, &A, PUB_ALL);
	pub_subscribe(2, &A, PUB_ALL);
	pub_subscribe(3, &A, PUB_ALL);
	S.on = 1, S.action = drop_conn2;
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 2 && S.calls[2] == 0 && S.got[3] == 1,
	       "unsubscribed during the publish: skipped, the rest still served");
	S.on = 1, S.action = add_conn4;
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 2 && S.calls[4] == 0,
	       "subscribed during the publish: not sent this one");
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 3 && S.got[4] == 1, "... but the next one");
	S.on = 3, S.action = gone_conn3; /* its own send closes it (server.c does that) */
	S.closed[3] = true;
	int before = S.calls[3];
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 2 && S.calls[3] == before + 1,
	       "a connection closing inside its own send");
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 2 && S.calls[3] == before + 1,
	       "... is not written to again");
	json_decref(ev);
}

/* A send finding the connection gone drops its subscriptions. */
static void test_closed(void)
{
	reset();
	json_t *ev = json_pack("{s:s}", "kind", "x");
	pub_subscribe(5, &A, PUB_ALL);
	pub_subscribe(5, &B, PUB_ALL);
	pub_subscribe(6, &A, PUB_ALL);
	S.closed[5] = true;
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 1 && S.got[6] == 1, "the live one still served");
	tap_ok(pub_publish(&B, PUB_TURN_EVENT, ev) == 0 && S.calls[5] == 1,
	       "the closed one lost all its projects after one failed send");
	tap_ok(pub_send(5, PUB_TURN_EVENT, ev) < 0, "pub_send to a closed connection fails");
	json_decref(ev);
}

/* An event over the cap arrives cut, marked, and within the cap. */
static void test_oversized(void)
{
	reset();
	size_t big = 3u << 20;
	char *text = malloc(big + 1);
	memset(text, 'a', big);
	memcpy(text + big - 4, "\xc3\xa9\xc3\xa9", 4); /* UTF-8 at the end */
	text[big] = 0;
	json_t *ev = json_pack("{s:s, s:s, s:[s]}", "kind", "step_done", "stdout", text, "more",
			       text);
	pub_subscribe(1, &A, PUB_ALL);
	tap_ok(pub_publish(&A, PUB_TURN_EVENT, ev) == 1, "an oversized event is still sent");
	json_t *p = last_params(1);
	const char *out = json_string_value(json_object_get(p, "stdout"));
	tap_ok(S.last_len[1] <= PUB_EVENT_MAX + 1024, "... within the size cap");
	tap_ok(json_is_true(json_object_get(p, "truncated")), "... marked truncated");
	tap_ok(out && strstr(out, "[cut by daa: ") != NULL, "... its strings cut with a marker");
	tap_ok(!strcmp(json_string_value(json_object_get(p, "kind")), "step_done"),
	       "... short fields kept whole");
	tap_ok(json_string_length(json_object_get(ev, "stdout")) == big, "the caller's value untouched");
	json_t *small = json_pack("{s:s}", "stdout", "hello");
	pub_publish(&A, PUB_TURN_EVENT, small);
	tap_ok(!json_object_get(last_params(1), "truncated"), "a small event is not marked");
	json_decref(small);
	json_decref(ev);
	free(text);
}

int main(void)
{
	test_select();
	test_reentry();
	test_closed();
	test_oversized();
	reset();
	pub_reset();
	return tap_done();
}
