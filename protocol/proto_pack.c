/*
 * protocol/proto_pack.c — building messages: the sbuffer+packer pair
 * (proto_buf), message heads, error responses and small typed helpers.
 */
#include <string.h>

#include "protocol/proto.h"

/* Set up an empty buffer with a packer writing into it. */
void proto_buf_init(struct proto_buf *b)
{
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

/* Release the buffer's memory; the buffer may be init'ed again. */
void proto_buf_free(struct proto_buf *b)
{
	msgpack_sbuffer_destroy(&b->sb);
	memset(&b->sb, 0, sizeof(b->sb));
}

/* Forget the contents, keep the memory. */
void proto_buf_reset(struct proto_buf *b)
{
	msgpack_sbuffer_clear(&b->sb);
}

/* [0, msgid, method, [ — the caller packs the params map next. */
void proto_pack_request_head(msgpack_packer *pk, uint32_t msgid, const char *method)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, PROTO_REQUEST);
	msgpack_pack_uint32(pk, msgid);
	proto_pack_str(pk, method);
	msgpack_pack_array(pk, 1);
}

/* [2, method, [ — the caller packs the params map next. */
void proto_pack_notify_head(msgpack_packer *pk, const char *method)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint8(pk, PROTO_NOTIFY);
	proto_pack_str(pk, method);
	msgpack_pack_array(pk, 1);
}

/* [1, msgid, nil, — the caller packs the result next. */
void proto_pack_response_head(msgpack_packer *pk, uint32_t msgid)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, PROTO_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_nil(pk);
}

/* A whole error response [1, msgid, {code, message}, nil]. */
void proto_pack_error_response(msgpack_packer *pk, uint32_t msgid, int code,
			       const char *message)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, PROTO_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_map(pk, 2);
	proto_pack_kv_int(pk, "code", code);
	proto_pack_kv_str(pk, "message", message ? message : proto_errname(code));
	msgpack_pack_nil(pk);
}

/* A NUL-terminated string, or nil for NULL. */
void proto_pack_str(msgpack_packer *pk, const char *s)
{
	if (!s) {
		msgpack_pack_nil(pk);
		return;
	}
	proto_pack_strn(pk, s, strlen(s));
}

/* n bytes as a string, or nil for NULL. */
void proto_pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
	if (!s) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* A map key (the caller packs the value next). */
void proto_pack_key(msgpack_packer *pk, const char *key)
{
	proto_pack_str(pk, key);
}

/* key: string (nil for NULL). */
void proto_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
	proto_pack_key(pk, key);
	proto_pack_str(pk, val);
}

/* key: signed integer. */
void proto_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
	proto_pack_key(pk, key);
	msgpack_pack_int64(pk, val);
}

/* key: unsigned integer. */
void proto_pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t val)
{
	proto_pack_key(pk, key);
	msgpack_pack_uint64(pk, val);
}

/* key: boolean. */
void proto_pack_kv_bool(msgpack_packer *pk, const char *key, bool val)
{
	proto_pack_key(pk, key);
	if (val)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* key: nil. */
void proto_pack_kv_nil(msgpack_packer *pk, const char *key)
{
	proto_pack_key(pk, key);
	msgpack_pack_nil(pk);
}

/* Deep copy of a decoded object (its depth is bounded by the reader). */
void proto_pack_object(msgpack_packer *pk, const msgpack_object *o)
{
	if (!o) {
		msgpack_pack_nil(pk);
		return;
	}
	msgpack_pack_object(pk, *o);
}
