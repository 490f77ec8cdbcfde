/*
 * tests/protocol/test_reader.c — unit tests of the incremental reader:
 * round trips, golden bytes, byte-at-a-time feeding, two messages in one
 * read, truncation, malformed bytes, size and depth caps (with the msgid
 * kept for the error reply), and recoverable invalid shapes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/proto.h"
#include "tests/protocol/tap.h"

/* Append n bytes to the reader. */
static void feed(struct proto_reader *r, const void *data, size_t n)
{
	size_t avail;
	char *buf = proto_reader_buffer(r, n, &avail);
	if (!buf || avail < n)
		abort();
	memcpy(buf, data, n);
	proto_reader_consumed(r, n);
}

/* Params for the test request: {name: "demo", n: 3}. */
static void pack_demo(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 2);
	proto_pack_kv_str(pk, "name", "demo");
	proto_pack_kv_int(pk, "n", 3);
}

static void test_roundtrip(void)
{
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_request_head(&b.pk, 42, "project.create");
	pack_demo(&b.pk);
	struct proto_reader *r = proto_reader_new(0, 0);
	feed(r, b.sb.data, b.sb.size);
	struct proto_msg m;
	struct proto_err err;
	int rc = proto_reader_next(r, &m, &err, NULL);
	CHECK(rc == 1, "request decodes");
	CHECK(m.kind == PROTO_REQUEST && m.msgid == 42, "kind and msgid");
	CHECK(m.method && strcmp(m.method, "project.create") == 0, "method");
	CHECK(m.params && m.params->type == MSGPACK_OBJECT_MAP, "params is the map");
	char name[16];
	CHECK(proto_map_str(m.params, "name", name, sizeof(name)) && !strcmp(name, "demo"), "name");
	CHECK(proto_map_int(m.params, "n", -1) == 3, "n");
	proto_msg_done(&m);
	CHECK(proto_reader_next(r, &m, &err, NULL) == 0, "nothing more");
	CHECK(proto_reader_pending(r) == 0, "nothing pending");
	proto_reader_free(r);
	proto_buf_free(&b);
}

static void test_golden(void)
{
	/* [0, 1, "ping", [{}]] and [1, 7, {code: -32601, message: "x"}, nil] */
	static const unsigned char ping[] = {0x94, 0x00, 0x01, 0xa4, 'p', 'i', 'n', 'g', 0x91, 0x80};
	static const unsigned char err7[] = {0x94, 0x01, 0x07, 0x82, 0xa4, 'c', 'o', 'd', 'e',
					     0xd1, 0x80, 0xa7, 0xa7, 'm', 'e', 's', 's', 'a', 'g',
					     'e', 0xa1, 'x', 0xc0};
	static const unsigned char note[] = {0x93, 0x02, 0xa1, 'e', 0x91, 0x81, 0xa1, 'k', 0xc3};
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_request_head(&b.pk, 1, "ping");
	msgpack_pack_map(&b.pk, 0);
	CHECK(b.sb.size == sizeof(ping) && !memcmp(b.sb.data, ping, sizeof(ping)), "request bytes");
	proto_buf_reset(&b);
	proto_pack_error_response(&b.pk, 7, PROTO_ERR_NO_METHOD, "x");
	CHECK(b.sb.size == sizeof(err7) && !memcmp(b.sb.data, err7, sizeof(err7)), "error response bytes");
	proto_buf_reset(&b);
	proto_pack_notify_head(&b.pk, "e");
	msgpack_pack_map(&b.pk, 1);
	proto_pack_kv_bool(&b.pk, "k", true);
	CHECK(b.sb.size == sizeof(note) && !memcmp(b.sb.data, note, sizeof(note)), "notification bytes");
	proto_buf_free(&b);

	struct proto_reader *r = proto_reader_new(0, 0);
	feed(r, err7, sizeof(err7));
	feed(r, note, sizeof(note));
	struct proto_msg m;
	struct proto_err e;
	CHECK(proto_reader_next(r, &m, &e, NULL) == 1 && m.kind == PROTO_RESPONSE && m.msgid == 7,
	      "response decodes");
	CHECK(m.error && proto_map_int(m.error, "code", 0) == PROTO_ERR_NO_METHOD, "error code");
	CHECK(m.result && m.result->type == MSGPACK_OBJECT_NIL, "nil result");
	proto_msg_done(&m);
	CHECK(proto_reader_next(r, &m, &e, NULL) == 1 && m.kind == PROTO_NOTIFY &&
		      !strcmp(m.method, "e") && proto_map_bool(m.params, "k", false),
	      "second message of the same read (notification)");
	proto_msg_done(&m);
	proto_reader_free(r);
}

static void test_byte_at_a_time(void)
{
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_request_head(&b.pk, 9, "data.add");
	msgpack_pack_map(&b.pk, 2);
	proto_pack_kv_str(&b.pk, "path", "/tmp/a long enough path to use str8 headers ............");
	proto_pack_key(&b.pk, "blob");
	msgpack_pack_bin(&b.pk, 300);
	char blob[300];
	memset(blob, 'z', sizeof(blob));
	msgpack_pack_bin_body(&b.pk, blob, sizeof(blob));
	struct proto_reader *r = proto_reader_new(0, 0);
	struct proto_msg m;
	struct proto_err e;
	int early = 0, rc = 0;
	for (size_t i = 0; i < b.sb.size; i++) {
		feed(r, b.sb.data + i, 1);
		rc = proto_reader_next(r, &m, &e, NULL);
		if (rc != 0 && i + 1 < b.sb.size)
			early++;
	}
	CHECK(early == 0, "no message before the last byte");
	CHECK(rc == 1 && m.msgid == 9 && !strcmp(m.method, "data.add"), "complete at the last byte");
	const msgpack_object *bl = proto_map_get(m.params, "blob");
	CHECK(bl && bl->type == MSGPACK_OBJECT_BIN && bl->via.bin.size == 300 &&
		      bl->via.bin.ptr[299] == 'z', "bin payload intact");
	proto_msg_done(&m);
	proto_reader_free(r);
	proto_buf_free(&b);
}

static void test_truncated_and_malformed(void)
{
	static const unsigned char trunc[] = {0x94, 0x00, 0x05, 0xa4, 'p', 'i'};
	struct proto_reader *r = proto_reader_new(0, 0);
	struct proto_msg m;
	struct proto_err e;
	feed(r, trunc, sizeof(trunc));
	CHECK(proto_reader_next(r, &m, &e, NULL) == 0, "truncated: needs more");
	CHECK(proto_reader_pending(r) == sizeof(trunc), "truncated bytes pending");
	proto_reader_free(r);

	static const unsigned char bad[] = {0x94, 0x00, 0x05, 0xc1, 0x90};
	r = proto_reader_new(0, 0);
	feed(r, bad, sizeof(bad));
	bool rec = true;
	uint32_t id = 0;
	CHECK(proto_reader_next(r, &m, &e, &rec) == -1 && e.code == PROTO_ERR_PARSE && !rec,
	      "0xc1 is a parse error (%s)", e.msg);
	CHECK(proto_reader_failed_msgid(r, &id) && id == 5, "msgid known for the error reply");
	static const unsigned char ok[] = {0x94, 0x00, 0x01, 0xa4, 'p', 'i', 'n', 'g', 0x90};
	feed(r, ok, sizeof(ok));
	CHECK(proto_reader_next(r, &m, &e, NULL) == -1 && e.code == PROTO_ERR_PARSE,
	      "stream stays broken after a parse error");
	proto_reader_free(r);
}

static void test_too_large(void)
{
	/* [0, 5, "m", [{"k": <str32 of 1 MiB> — refused from the header alone */
	static const unsigned char big[] = {0x94, 0x00, 0x05, 0xa1, 'm', 0x91, 0x81, 0xa1, 'k',
					    0xdb, 0x00, 0x10, 0x00, 0x00};
	struct proto_reader *r = proto_reader_new(1024, 0);
	struct proto_msg m;
	struct proto_err e;
	uint32_t id = 0;
	feed(r, big, sizeof(big));
	CHECK(proto_reader_next(r, &m, &e, NULL) == -1 && e.code == PROTO_ERR_TOO_LARGE,
	      "declared 1 MiB string over a 1 KiB cap: too_large before the body arrives");
	CHECK(proto_reader_failed_msgid(r, &id) && id == 5, "msgid 5 kept for the reply");
	proto_reader_free(r);

	/* an array of 4000 nils fed in 100-byte pieces: refused once past the cap */
	unsigned char many[4010];
	size_t n = 0;
	many[n++] = 0x94, many[n++] = 0x00, many[n++] = 0x06, many[n++] = 0xa1, many[n++] = 'm';
	many[n++] = 0xdc, many[n++] = 0x0f, many[n++] = 0xa0; /* array16 of 4000 */
	memset(many + n, 0xc0, 4000);
	n += 4000;
	r = proto_reader_new(1024, 0);
	int rc = 0;
	size_t fed = 0;
	while (fed < n && rc == 0) {
		size_t k = n - fed < 100 ? n - fed : 100;
		feed(r, many + fed, k);
		fed += k;
		rc = proto_reader_next(r, &m, &e, NULL);
	}
	CHECK(rc == -1 && e.code == PROTO_ERR_TOO_LARGE && fed <= 1100,
	      "4000 small items over a 1 KiB cap: too_large after %zu bytes", fed);
	proto_reader_free(r);

	/* exactly at the cap is fine */
	r = proto_reader_new(n, 0);
	feed(r, many, n);
	bool rec = false;
	rc = proto_reader_next(r, &m, &e, &rec);
	CHECK(rc == -1 && rec && e.code == PROTO_ERR_INVALID, "a message of exactly max bytes is read (then found invalid: params not a map)");
	proto_reader_free(r);
}

/* [0, 3, "m", [{"a": <depth-4 nested arrays>}]] — total depth = 3 + levels. */
static size_t nested(unsigned char *buf, int levels)
{
	size_t n = 0;
	buf[n++] = 0x94, buf[n++] = 0x00, buf[n++] = 0x03, buf[n++] = 0xa1, buf[n++] = 'm';
	buf[n++] = 0x91, buf[n++] = 0x81, buf[n++] = 0xa1, buf[n++] = 'a';
	for (int i = 0; i < levels; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x01;
	return n;
}

static void test_too_deep(void)
{
	unsigned char buf[128];
	struct proto_msg m;
	struct proto_err e;
	uint32_t id = 0;
	struct proto_reader *r = proto_reader_new(0, 0);
	size_t n = nested(buf, 29); /* depth 32 */
	feed(r, buf, n);
	CHECK(proto_reader_next(r, &m, &e, NULL) == 1, "depth 32 accepted");
	proto_msg_done(&m);
	n = nested(buf, 30); /* depth 33 */
	feed(r, buf, n - 1); /* not even complete */
	CHECK(proto_reader_next(r, &m, &e, NULL) == -1 && e.code == PROTO_ERR_TOO_DEEP,
	      "depth 33 refused before the message is complete (%s)", e.msg);
	CHECK(proto_reader_failed_msgid(r, &id) && id == 3, "msgid kept");
	proto_reader_free(r);

	r = proto_reader_new(0, 8); /* a lower cap */
	n = nested(buf, 6);
	feed(r, buf, n);
	CHECK(proto_reader_next(r, &m, &e, NULL) == -1 && e.code == PROTO_ERR_TOO_DEEP,
	      "depth 9 over a cap of 8");
	proto_reader_free(r);
	r = proto_reader_new(0, 1000); /* clamped to msgpack-c's 32 */
	n = nested(buf, 40);
	feed(r, buf, n);
	CHECK(proto_reader_next(r, &m, &e, NULL) == -1 && e.code == PROTO_ERR_TOO_DEEP,
	      "a cap over 32 is clamped to msgpack-c's stack");
	proto_reader_free(r);
}

struct bad_case {
	const char *what;
	unsigned char bytes[16];
	size_t len;
	bool has_id;
};

static void test_invalid_shapes(void)
{
	static const struct bad_case cases[] = {
		{"top-level map", {0x81, 0xa1, 'a', 0x01}, 4, false},
		{"array of 2", {0x92, 0x00, 0x01}, 3, false},
		{"type 5", {0x94, 0x05, 0x01, 0xa1, 'm', 0x90}, 6, false},
		{"string msgid", {0x94, 0x00, 0xa1, 'x', 0xa1, 'm', 0x90}, 7, false},
		{"negative msgid", {0x94, 0x00, 0xff, 0xa1, 'm', 0x90}, 6, false},
		{"integer method", {0x94, 0x00, 0x08, 0x07, 0x90}, 5, true},
		{"empty method", {0x94, 0x00, 0x08, 0xa0, 0x90}, 5, true},
		{"NUL in method", {0x94, 0x00, 0x08, 0xa2, 'a', 0x00, 0x90}, 7, true},
		{"params [1, 2]", {0x94, 0x00, 0x08, 0xa1, 'm', 0x92, 0x01, 0x02}, 8, true},
		{"params string", {0x94, 0x00, 0x08, 0xa1, 'm', 0xa1, 'x'}, 7, true},
		{"notification with 4", {0x94, 0x02, 0x08, 0xa1, 'm', 0x90}, 6, false},
		{"request with 3", {0x93, 0x00, 0xa1, 'm', 0x90}, 5, false},
	};
	static const unsigned char ok[] = {0x94, 0x00, 0x01, 0xa4, 'p', 'i', 'n', 'g', 0x90};
	struct proto_reader *r = proto_reader_new(0, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_msg m;
		struct proto_err e = {0};
		bool rec = false;
		uint32_t id = 0;
		feed(r, cases[i].bytes, cases[i].len);
		feed(r, ok, sizeof(ok));
		int rc = proto_reader_next(r, &m, &e, &rec);
		CHECK(rc == -1 && rec && e.code == PROTO_ERR_INVALID, "%s: invalid, recoverable (%s)",
		      cases[i].what, e.msg);
		CHECK(proto_reader_failed_msgid(r, &id) == cases[i].has_id &&
			      (!cases[i].has_id || id == 8), "%s: msgid %s", cases[i].what,
		      cases[i].has_id ? "known" : "unknown");
		rc = proto_reader_next(r, &m, &e, &rec);
		CHECK(rc == 1 && !strcmp(m.method, "ping") && !m.params, "%s: stream still usable",
		      cases[i].what);
		if (rc == 1)
			proto_msg_done(&m);
	}
	/* tolerated forms: bare map and nil as params */
	static const unsigned char bare[] = {0x94, 0x00, 0x02, 0xa1, 'm', 0x81, 0xa1, 'k', 0x01,
					     0x93, 0x02, 0xa1, 'n', 0xc0};
	feed(r, bare, sizeof(bare));
	struct proto_msg m;
	struct proto_err e;
	CHECK(proto_reader_next(r, &m, &e, NULL) == 1 && proto_map_int(m.params, "k", 0) == 1,
	      "bare map params tolerated");
	proto_msg_done(&m);
	CHECK(proto_reader_next(r, &m, &e, NULL) == 1 && m.kind == PROTO_NOTIFY && !m.params,
	      "nil params tolerated");
	proto_msg_done(&m);
	proto_reader_free(r);
}

/* Decode bytes as a request and return its params map (m must be done'd). */
static const msgpack_object *params_of(struct proto_buf *b, struct proto_reader *r,
				       struct proto_msg *m)
{
	struct proto_err e;
	feed(r, b->sb.data, b->sb.size);
	if (proto_reader_next(r, m, &e, NULL) != 1)
		abort();
	return m->params;
}

static const struct proto_field fields[] = {
	{"name", PROTO_T_STR, true},   {"n", PROTO_T_INT, false},
	{"u", PROTO_T_UINT, false},    {"f", PROTO_T_FLOAT, false},
	{"b", PROTO_T_BOOL, false},    {"m", PROTO_T_MAP, false},
	{"a", PROTO_T_ARRAY, false},   {"ss", PROTO_T_STRS, false},
	{"any", PROTO_T_ANY, false},   {NULL, 0, false},
};

typedef void (*packer_fn)(msgpack_packer *pk);

/* Run proto_params_read on {name:"x", <extra>}; returns rc, fills err/vals. */
static int try_params(packer_fn extra, int nextra, struct proto_value *vals, struct proto_err *e)
{
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_request_head(&b.pk, 1, "t");
	msgpack_pack_map(&b.pk, 1 + nextra);
	proto_pack_kv_str(&b.pk, "name", "x");
	if (extra)
		extra(&b.pk);
	struct proto_reader *r = proto_reader_new(0, 0);
	struct proto_msg m;
	const msgpack_object *p = params_of(&b, r, &m);
	int rc = proto_params_read(p, fields, vals, proto_msg_zone(&m), e);
	/* strings live in the zone: check them before it goes */
	static char first[64];
	first[0] = 0;
	if (rc == 0 && vals[0].str)
		snprintf(first, sizeof(first), "%s", vals[0].str);
	proto_msg_done(&m);
	proto_reader_free(r);
	proto_buf_free(&b);
	return rc == 0 && strcmp(first, "x") != 0 ? -2 : rc;
}

static void x_unknown(msgpack_packer *pk) { proto_pack_kv_int(pk, "nmae", 1); }
static void x_neg_uint(msgpack_packer *pk) { proto_pack_kv_int(pk, "u", -1); }
static void x_str_int(msgpack_packer *pk) { proto_pack_kv_str(pk, "n", "3"); }
static void x_dup(msgpack_packer *pk) { proto_pack_kv_str(pk, "name", "y"); }
static void x_intkey(msgpack_packer *pk) { msgpack_pack_int(pk, 1); msgpack_pack_int(pk, 2); }
static void x_bad_strs(msgpack_packer *pk)
{
	proto_pack_key(pk, "ss");
	msgpack_pack_array(pk, 2);
	proto_pack_str(pk, "a");
	msgpack_pack_int(pk, 5);
}
static void x_all(msgpack_packer *pk)
{
	proto_pack_kv_int(pk, "n", -7);
	proto_pack_kv_uint(pk, "u", UINT64_MAX);
	proto_pack_kv_int(pk, "f", 2); /* an integer is accepted as a float */
	proto_pack_kv_bool(pk, "b", true);
	proto_pack_key(pk, "m");
	msgpack_pack_map(pk, 0);
	proto_pack_key(pk, "a");
	msgpack_pack_array(pk, 1);
	msgpack_pack_nil(pk);
	proto_pack_key(pk, "ss");
	msgpack_pack_array(pk, 2);
	proto_pack_str(pk, "p");
	msgpack_pack_bin(pk, 1);
	msgpack_pack_bin_body(pk, "q", 1);
	proto_pack_kv_nil(pk, "any");
}

static void test_params(void)
{
	struct proto_value v[10];
	struct proto_err e;
	CHECK(try_params(NULL, 0, v, &e) == 0 && v[0].present && v[0].len == 1 && !v[1].present,
	      "required string only");
	CHECK(try_params(x_all, 8, v, &e) == 0, "every type (%s)", e.msg);
	CHECK(v[1].i == -7 && v[2].u == UINT64_MAX && v[3].f == 2.0 && v[4].b, "scalars");
	CHECK(v[5].present && v[5].obj && v[6].present && v[7].len == 2, "map, array, strs");
	CHECK(!v[8].present && !v[8].obj, "nil counts as absent");
	CHECK(try_params(x_unknown, 1, v, &e) < 0 && e.code == PROTO_ERR_PARAMS &&
		      strstr(e.msg, "unknown parameter 'nmae'"), "unknown key named: %s", e.msg);
	CHECK(try_params(x_neg_uint, 1, v, &e) < 0 && strstr(e.msg, "'u'"), "negative uint: %s", e.msg);
	CHECK(try_params(x_str_int, 1, v, &e) < 0 && strstr(e.msg, "'n' must be an integer"),
	      "string for int: %s", e.msg);
	CHECK(try_params(x_dup, 1, v, &e) < 0 && strstr(e.msg, "twice"), "duplicate: %s", e.msg);
	CHECK(try_params(x_intkey, 1, v, &e) < 0 && strstr(e.msg, "names must be strings"),
	      "integer key: %s", e.msg);
	CHECK(try_params(x_bad_strs, 1, v, &e) < 0 && strstr(e.msg, "item 2"), "strs item: %s", e.msg);

	/* missing required, NUL in a string, no params at all */
	struct proto_buf b;
	proto_buf_init(&b);
	proto_pack_request_head(&b.pk, 1, "t");
	msgpack_pack_map(&b.pk, 1);
	proto_pack_key(&b.pk, "name");
	proto_pack_strn(&b.pk, "a\0b", 3);
	struct proto_reader *r = proto_reader_new(0, 0);
	struct proto_msg m;
	const msgpack_object *p = params_of(&b, r, &m);
	CHECK(proto_params_read(p, fields, v, proto_msg_zone(&m), &e) < 0 && strstr(e.msg, "NUL"),
	      "NUL in a string: %s", e.msg);
	CHECK(proto_params_read(NULL, fields, v, proto_msg_zone(&m), &e) < 0 &&
		      strstr(e.msg, "missing parameter 'name'"), "missing: %s", e.msg);
	static const struct proto_field none[] = {{NULL, 0, false}};
	CHECK(proto_params_read(NULL, none, v, proto_msg_zone(&m), &e) == 0, "no params, no fields");
	CHECK(proto_params_read(p, none, v, proto_msg_zone(&m), &e) < 0, "params to a method taking none");
	proto_msg_done(&m);
	proto_reader_free(r);
	proto_buf_free(&b);
}

static void test_misc(void)
{
	struct proto_err e;
	CHECK(!strcmp(proto_errname(PROTO_ERR_NOT_FOUND), "not_found") &&
		      !strcmp(proto_errname(12345), "error"), "errname");
	CHECK(proto_fail(&e, PROTO_ERR_IO, "disk %d", 3) == -1 && e.code == PROTO_ERR_IO &&
		      !strcmp(e.msg, "disk 3"), "proto_fail");
	char buf[128];
	setenv("DAA_SOCKET", "/x/s.sock", 1);
	CHECK(proto_socket_path(buf, sizeof(buf)) == 0 && !strcmp(buf, "/x/s.sock"), "DAA_SOCKET");
	unsetenv("DAA_SOCKET");
	setenv("XDG_RUNTIME_DIR", "/run/user/9", 1);
	CHECK(proto_socket_path(buf, sizeof(buf)) == 0 && !strcmp(buf, "/run/user/9/daa/daad.sock"),
	      "XDG_RUNTIME_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	char want[64];
	snprintf(want, sizeof(want), "/tmp/daa-%u/daad.sock", (unsigned)getuid());
	CHECK(proto_socket_path(buf, sizeof(buf)) == 0 && !strcmp(buf, want), "fallback %s", buf);
	CHECK(proto_socket_path(buf, 8) == -1, "too small a buffer");
	CHECK(proto_map_get(NULL, "x") == NULL, "map_get on NULL");
}

int main(void)
{
	test_roundtrip();
	test_golden();
	test_byte_at_a_time();
	test_truncated_and_malformed();
	test_too_large();
	test_too_deep();
	test_invalid_shapes();
	test_params();
	test_misc();
	return tap_done();
}
