/*
 * protocol/proto_read.c — the incremental reader.
 *
 * Bytes go into msgpack-c's streaming unpacker buffer.  Before msgpack-c
 * decodes anything, the shared frame scanner (protocol/proto_scan.c) walks
 * the bytes of the current message header by header: it finds where the
 * message ends, rejects it as TOO_LARGE as soon as a declared length or the
 * bytes seen pass the cap (so a huge frame is refused before it arrives),
 * rejects nesting deeper than the cap as TOO_DEEP, and notes the first two
 * integers of the top array, whence the request's msgid so the caller can
 * answer it.
 * Only a complete, checked message is handed to msgpack_unpacker_next(),
 * whose allocations are thereby bounded by bytes actually received.  The
 * decoded object is then checked against the msgpack-rpc shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto.h"
#include "protocol/proto_scan.h"

struct proto_reader {
	msgpack_unpacker up;
	struct proto_scan scan; /* the current message, from up.off */
	/* last failure */
	bool broken;
	struct proto_err broken_err;
	bool fail_have_id;
	uint32_t fail_msgid;
};

/* Reader with caps: max_msg bytes (0 = default) and max_depth (<=0 = default). */
struct proto_reader *proto_reader_new(size_t max_msg, int max_depth)
{
	struct proto_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (!msgpack_unpacker_init(&r->up, MSGPACK_UNPACKER_INIT_BUFFER_SIZE)) {
		free(r);
		return NULL;
	}
	/* msgpack-c's own container stack (MSGPACK_EMBED_STACK_SIZE) is 32 deep;
	 * the scanner never allows more (PROTO_SCAN_MAX_DEPTH). */
	proto_scan_init(&r->scan, max_msg ? max_msg : PROTO_DEFAULT_MAX_MSG,
			max_depth > 0 ? max_depth : PROTO_DEFAULT_MAX_DEPTH);
	return r;
}

/* Free the reader; messages already returned stay valid (their zones own
 * references to the buffers they point into). */
void proto_reader_free(struct proto_reader *r)
{
	if (!r)
		return;
	msgpack_unpacker_destroy(&r->up);
	free(r);
}

/* A buffer with room for at least `want` bytes (NULL when out of memory). */
char *proto_reader_buffer(struct proto_reader *r, size_t want, size_t *avail)
{
	if (want == 0)
		want = 4096;
	if (!msgpack_unpacker_reserve_buffer(&r->up, want))
		return NULL;
	if (avail)
		*avail = msgpack_unpacker_buffer_capacity(&r->up);
	return msgpack_unpacker_buffer(&r->up);
}

/* n bytes were written into the buffer. */
void proto_reader_consumed(struct proto_reader *r, size_t n)
{
	msgpack_unpacker_buffer_consumed(&r->up, n);
}

/* The msgid of the request that the last -1 from proto_reader_next was
 * about, when it could be read (so the caller can answer it). */
bool proto_reader_failed_msgid(const struct proto_reader *r, uint32_t *msgid)
{
	if (r->fail_have_id && msgid)
		*msgid = r->fail_msgid;
	return r->fail_have_id;
}

/* The request's msgid, when the current message is (so far) a request:
 * [0, msgid, ...] of 4 elements with msgid a u32. */
static bool scan_request_id(const struct proto_reader *r, uint32_t *msgid)
{
	const struct proto_scan *sc = &r->scan;
	if (!sc->top_is_array || sc->top_len != 4 || !sc->have_top[0] || !sc->have_top[1] ||
	    sc->top_int[0] != PROTO_REQUEST || sc->top_int[1] > UINT32_MAX)
		return false;
	*msgid = (uint32_t)sc->top_int[1];
	return true;
}

/* Record a stream-breaking failure and return -1. */
static int broken(struct proto_reader *r, struct proto_err *err, int code, const char *msg)
{
	r->broken = true;
	proto_fail(&r->broken_err, code, "%s", msg);
	if (err)
		*err = r->broken_err;
	r->fail_have_id = scan_request_id(r, &r->fail_msgid);
	return -1;
}

/* Scan buffered bytes of the current message: 1 complete, 0 need more, -1 error. */
static int scan(struct proto_reader *r, struct proto_err *err)
{
	char why[128];
	int code = 0;
	const unsigned char *p = (const unsigned char *)r->up.buffer + r->up.off;
	int rc = proto_scan_feed(&r->scan, p, r->up.used - r->up.off, &code, why, sizeof(why));
	return rc < 0 ? broken(r, err, code, why) : rc;
}

/* A NUL-terminated zone copy of a method name; NULL (err) when not a
 * usable string. */
static const char *method_copy(struct proto_msg *msg, const msgpack_object *o,
			       struct proto_err *err)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
	    memchr(o->via.str.ptr, 0, o->via.str.size)) {
		proto_fail(err, PROTO_ERR_INVALID, "method must be a non-empty string without NUL bytes");
		return NULL;
	}
	char *s = msgpack_zone_malloc(msg->unpacked.zone, o->via.str.size + 1);
	if (!s) {
		proto_fail(err, PROTO_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = '\0';
	return s;
}

/* params: [] → NULL, [map] → map; a bare map or nil is tolerated. */
static int params_shape(const msgpack_object *o, const msgpack_object **out,
			struct proto_err *err)
{
	*out = NULL;
	if (o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type == MSGPACK_OBJECT_MAP) {
		*out = o;
		return 0;
	}
	if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 0)
		return 0;
	if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 1 &&
	    o->via.array.ptr[0].type == MSGPACK_OBJECT_MAP) {
		*out = &o->via.array.ptr[0];
		return 0;
	}
	return proto_fail(err, PROTO_ERR_INVALID,
			  "params must be an array holding one map of named arguments");
}

/* Check the msgpack-rpc shape of the decoded object and fill msg's fields. */
static int shape_check(struct proto_msg *msg, struct proto_err *err)
{
	const msgpack_object *o = &msg->unpacked.data;
	if (o->type != MSGPACK_OBJECT_ARRAY || (o->via.array.size != 4 && o->via.array.size != 3))
		return proto_fail(err, PROTO_ERR_INVALID, "a message must be an array of 3 or 4 elements");
	const msgpack_object *e = o->via.array.ptr;
	uint32_t n = o->via.array.size;
	if (e[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || e[0].via.u64 > 2 ||
	    (e[0].via.u64 == PROTO_NOTIFY) != (n == 3))
		return proto_fail(err, PROTO_ERR_INVALID,
				  "message type must be 0 (request, 4 elements), 1 (response, 4) or 2 (notification, 3)");
	msg->kind = (enum proto_kind)e[0].via.u64;
	if (msg->kind != PROTO_NOTIFY) {
		if (e[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || e[1].via.u64 > UINT32_MAX)
			return proto_fail(err, PROTO_ERR_INVALID, "msgid must be an integer from 0 to 2^32-1");
		msg->msgid = (uint32_t)e[1].via.u64;
	}
	if (msg->kind == PROTO_RESPONSE) {
		msg->error = &e[2];
		msg->result = &e[3];
		return 0;
	}
	const msgpack_object *m = msg->kind == PROTO_REQUEST ? &e[2] : &e[1];
	msg->method = method_copy(msg, m, err);
	if (!msg->method)
		return -1;
	return params_shape(msg->kind == PROTO_REQUEST ? &e[3] : &e[2], &msg->params, err);
}

/* Next complete message (see proto.h). */
int proto_reader_next(struct proto_reader *r, struct proto_msg *msg,
		      struct proto_err *err, bool *recoverable)
{
	if (recoverable)
		*recoverable = false;
	memset(msg, 0, sizeof(*msg));
	if (r->broken) {
		if (err)
			*err = r->broken_err;
		return -1;
	}
	int rc = scan(r, err);
	if (rc <= 0)
		return rc;
	r->fail_have_id = scan_request_id(r, &r->fail_msgid);
	size_t off_before = r->up.off;
	msgpack_unpack_return ur = msgpack_unpacker_next(&r->up, &msg->unpacked);
	if (ur == MSGPACK_UNPACK_SUCCESS && r->up.off - off_before != r->scan.pos) {
		/* the scanner and msgpack-c disagree on where the message ends (a bug) */
		msgpack_unpacked_destroy(&msg->unpacked);
		memset(msg, 0, sizeof(*msg));
		return broken(r, err, PROTO_ERR_INTERNAL, "message framing out of step (reader bug)");
	}
	if (ur != MSGPACK_UNPACK_SUCCESS) {
		msgpack_unpacked_destroy(&msg->unpacked);
		memset(msg, 0, sizeof(*msg));
		if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
			return broken(r, err, PROTO_ERR_TOO_LARGE, "out of memory decoding a message");
		if (ur == MSGPACK_UNPACK_CONTINUE)
			return broken(r, err, PROTO_ERR_INTERNAL, "message framing out of step (reader bug)");
		return broken(r, err, PROTO_ERR_PARSE, "malformed msgpack (rejected by the decoder)");
	}
	proto_scan_reset(&r->scan);
	if (shape_check(msg, err) < 0) {
		msgpack_unpacked_destroy(&msg->unpacked);
		memset(msg, 0, sizeof(*msg));
		if (recoverable)
			*recoverable = true;
		return -1;
	}
	return 1;
}

/* Release a message returned by proto_reader_next. */
void proto_msg_done(struct proto_msg *msg)
{
	if (!msg)
		return;
	msgpack_unpacked_destroy(&msg->unpacked);
	memset(msg, 0, sizeof(*msg));
}

/* The message's zone, usable as the per-request arena. */
msgpack_zone *proto_msg_zone(struct proto_msg *msg)
{
	return msg->unpacked.zone;
}

/* Bytes received but not yet returned as a message. */
size_t proto_reader_pending(const struct proto_reader *r)
{
	return r->up.used - r->up.off;
}
