/*
 * protocol/proto_read.c — the incremental reader.
 *
 * Bytes go into msgpack-c's streaming unpacker buffer.  Before msgpack-c
 * decodes anything, a small resumable scanner walks the bytes of the current
 * message header by header: it finds where the message ends, rejects it as
 * TOO_LARGE as soon as a declared length or the bytes seen pass the cap (so a
 * huge frame is refused before it arrives), rejects nesting deeper than the
 * cap as TOO_DEEP, and notes the request's msgid so the caller can answer it.
 * Only a complete, checked message is handed to msgpack_unpacker_next(),
 * whose allocations are thereby bounded by bytes actually received.  The
 * decoded object is then checked against the msgpack-rpc shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto.h"

/* msgpack-c's own container stack (MSGPACK_EMBED_STACK_SIZE) is 32 deep;
 * deeper input makes it fail with a plain error, so never allow more. */
#define SCAN_MAX_DEPTH 32

enum hdr_kind { H_SCALAR, H_BODY, H_CONTAINER };

struct hdr {
	enum hdr_kind kind;
	size_t hlen;     /* header bytes, incl. the type byte */
	uint64_t n;      /* body bytes (H_BODY) or items (H_CONTAINER) */
	bool has_int;    /* scalar is an integer >= 0 that fits int64 ... */
	uint64_t uval;   /* ... with this value */
	bool is_array;
};

struct proto_reader {
	msgpack_unpacker up;
	size_t max_msg;
	int max_depth;
	/* scan state of the current message, relative to up.off */
	size_t pos;
	uint64_t skip;
	int depth;
	uint64_t left[SCAN_MAX_DEPTH + 1];
	uint64_t top_idx;       /* index of the next element of the top array */
	bool top_is_array;      /* ... of 4 elements (only then is a msgid noted) */
	uint64_t kind;          /* element 0, when an integer */
	bool have_kind;
	uint32_t msgid;         /* element 1, when a u32 */
	bool have_msgid;
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
	r->max_msg = max_msg ? max_msg : PROTO_DEFAULT_MAX_MSG;
	r->max_depth = max_depth > 0 ? max_depth : PROTO_DEFAULT_MAX_DEPTH;
	if (r->max_depth > SCAN_MAX_DEPTH)
		r->max_depth = SCAN_MAX_DEPTH;
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

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Sizes for the type bytes 0xc4..0xdf: header length, length-field bytes,
 * kind (0 scalar, 1 body, 2 array, 3 map; -1 never used). */
static const signed char ext_tab[][3] = {
	{2, 1, 1},  {3, 2, 1}, {5, 4, 1},  /* bin 8/16/32 */
	{3, 1, 1},  {4, 2, 1}, {6, 4, 1},  /* ext 8/16/32 (len + type byte) */
	{5, 0, 0},  {9, 0, 0},             /* float 32/64 */
	{2, 0, 0},  {3, 0, 0}, {5, 0, 0},  {9, 0, 0},  /* uint 8..64 */
	{2, 0, 0},  {3, 0, 0}, {5, 0, 0},  {9, 0, 0},  /* int 8..64 */
	{3, 0, 1},  {4, 0, 1}, {6, 0, 1},  {10, 0, 1}, {18, 0, 1}, /* fixext: payload in hlen */
	{2, 1, 1},  {3, 2, 1}, {5, 4, 1},  /* str 8/16/32 */
	{3, 2, 2},  {5, 4, 2},             /* array 16/32 */
	{3, 2, 3},  {5, 4, 3},             /* map 16/32 */
};

/* Decode the header at p (n bytes available): 1 ok, 0 need more, -1 bad byte. */
static int hdr_read(const unsigned char *p, size_t n, struct hdr *h)
{
	unsigned b = p[0];
	memset(h, 0, sizeof(*h));
	h->hlen = 1;
	if (b <= 0x7f) {
		h->has_int = true;
		h->uval = b;
	} else if (b <= 0x9f) {
		h->kind = H_CONTAINER;
		h->is_array = b >= 0x90;
		h->n = (b & 0x0f) * (h->is_array ? 1u : 2u);
	} else if (b <= 0xbf) {
		h->kind = H_BODY;
		h->n = b & 0x1f;
	} else if (b <= 0xc3) {
		if (b == 0xc1)
			return -1;
	} else if (b <= 0xdf) {
		const signed char *t = ext_tab[b - 0xc4];
		h->hlen = (size_t)t[0];
		if (n < h->hlen)
			return 0;
		uint64_t len = t[1] ? be(p + 1, t[1]) : 0;
		if (t[2] == 1) {
			h->kind = H_BODY;
			h->n = len;
		} else if (t[2] >= 2) {
			h->kind = H_CONTAINER;
			h->is_array = t[2] == 2;
			h->n = h->is_array ? len : 2 * len;
		} else if (b >= 0xcc && b <= 0xcf) {
			h->uval = be(p + 1, (int)h->hlen - 1);
			h->has_int = h->uval <= INT64_MAX;
		}
	}
	return 1;
}

/* Note a scalar that is element 0 (kind) or 1 (msgid) of the top array. */
static void note_top_scalar(struct proto_reader *r, const struct hdr *h)
{
	if (r->depth != 1 || !r->top_is_array || !h->has_int)
		return;
	if (r->top_idx == 0) {
		r->kind = h->uval;
		r->have_kind = true;
	} else if (r->top_idx == 1 && r->have_kind && r->kind != PROTO_NOTIFY &&
		   h->uval <= UINT32_MAX) {
		r->msgid = (uint32_t)h->uval;
		r->have_msgid = true;
	}
}

/* A value ended: pop finished containers.  True when the message is complete. */
static bool value_done(struct proto_reader *r)
{
	while (r->depth > 0) {
		if (r->depth == 1)
			r->top_idx++;
		if (--r->left[r->depth] > 0)
			return false;
		r->depth--;
	}
	return true;
}

/* Record a stream-breaking failure and return -1. */
static int broken(struct proto_reader *r, struct proto_err *err, int code, const char *msg)
{
	r->broken = true;
	proto_fail(&r->broken_err, code, "%s", msg);
	if (err)
		*err = r->broken_err;
	r->fail_have_id = r->have_msgid && r->kind == PROTO_REQUEST;
	r->fail_msgid = r->msgid;
	return -1;
}

/* Process one header at the scan position: 1 message complete, 0 continue
 * (or need more: *more set), -1 error. */
static int scan_one(struct proto_reader *r, const unsigned char *p, size_t avail,
		    struct proto_err *err, bool *more)
{
	struct hdr h;
	int rc = hdr_read(p, avail, &h);
	if (rc < 0)
		return broken(r, err, PROTO_ERR_PARSE, "malformed msgpack (byte 0xc1)");
	if (rc == 0 || avail < h.hlen) {
		*more = true;
		return 0;
	}
	uint64_t need = (uint64_t)r->pos + h.hlen + h.n; /* every item needs >= 1 byte */
	char why[128];
	if (need > r->max_msg) {
		snprintf(why, sizeof(why), "message larger than the size limit (%zu bytes)", r->max_msg);
		return broken(r, err, PROTO_ERR_TOO_LARGE, why);
	}
	if (h.kind == H_CONTAINER) {
		if (r->depth + 1 > r->max_depth) {
			snprintf(why, sizeof(why), "message nested deeper than the limit (%d levels)",
				 r->max_depth);
			return broken(r, err, PROTO_ERR_TOO_DEEP, why);
		}
		if (r->depth == 0)
			r->top_is_array = h.is_array && h.n == 4;
	}
	r->pos += h.hlen;
	if (h.kind == H_BODY && h.n > 0) {
		r->skip = h.n;
		return 0; /* the body is skipped by scan(), then value_done */
	}
	if (h.kind == H_CONTAINER && h.n > 0) {
		r->left[++r->depth] = h.n;
		return 0;
	}
	note_top_scalar(r, &h);
	return value_done(r) ? 1 : 0;
}

/* Scan buffered bytes of the current message: 1 complete, 0 need more, -1 error. */
static int scan(struct proto_reader *r, struct proto_err *err)
{
	for (;;) {
		size_t avail = r->up.used - r->up.off - r->pos;
		const unsigned char *p = (const unsigned char *)r->up.buffer + r->up.off + r->pos;
		if (r->skip > 0) {
			size_t n = r->skip < avail ? (size_t)r->skip : avail;
			r->pos += n;
			r->skip -= n;
			if (r->skip > 0)
				return 0;
			if (value_done(r))
				return 1;
			continue;
		}
		if (avail == 0)
			return 0;
		bool more = false;
		int rc = scan_one(r, p, avail, err, &more);
		if (rc != 0 || more)
			return rc;
	}
}

/* Reset the scan state for the next message. */
static void scan_reset(struct proto_reader *r)
{
	r->pos = 0;
	r->skip = 0;
	r->depth = 0;
	r->top_idx = 0;
	r->top_is_array = false;
	r->have_kind = false;
	r->have_msgid = false;
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
	r->fail_have_id = r->have_msgid && r->kind == PROTO_REQUEST;
	r->fail_msgid = r->msgid;
	size_t off_before = r->up.off;
	msgpack_unpack_return ur = msgpack_unpacker_next(&r->up, &msg->unpacked);
	if (ur == MSGPACK_UNPACK_SUCCESS && r->up.off - off_before != r->pos) {
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
	scan_reset(r);
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
