/*
 * daemon/core/mpjson.c — msgpack objects <-> jansson values, for the kernel
 * manager (kernel replies arrive as msgpack, the rest of the daemon works on
 * json_t) and for handlers that forward json to a client.
 *
 * The input is hostile (a kernel runs user code): strings that are not valid
 * UTF-8 get U+FFFD in place of each bad byte, binary becomes base64, maps
 * with non-string keys get the key printed, non-finite floats become null,
 * and nesting is capped (deeper values become null) so nothing here can
 * crash or recurse without bound.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/mpjson.h"
#include "protocol/proto.h"

#define MPJSON_MAX_DEPTH 64

/* Length of the valid UTF-8 sequence starting at s (0 when invalid). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || cp == 0)
		return 0;
	return len;
}

/* A json string from bytes that may not be UTF-8 (NUL and bad bytes → U+FFFD). */
static json_t *str_sanitized(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0, ok;
	if (n == 0)
		return json_string(""); /* msgpack-c may give NULL for an empty string */
	while (i < n && (ok = utf8_seq_len(s + i, n - i)) > 0)
		i += ok;
	if (i == n)
		return json_stringn(p, n);
	char *out = malloc(n * 3 + 1);
	if (!out)
		return json_null();
	size_t o = 0;
	for (i = 0; i < n;) {
		ok = utf8_seq_len(s + i, n - i);
		if (ok == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, ok);
			o += ok;
			i += ok;
		}
	}
	json_t *j = json_stringn(out, o);
	free(out);
	return j ? j : json_null();
}

/* Binary payload as a base64 string. */
static json_t *bin_base64(const char *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)p;
	char *out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return json_null();
	size_t o = 0, i;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0);
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	json_t *j = json_stringn(out, o);
	free(out);
	return j ? j : json_null();
}

static json_t *from_obj(const msgpack_object *o, int depth);

/* A map key as a C string (non-string keys printed); returns a malloc'd string. */
static char *key_string(const msgpack_object *k)
{
	char buf[64];
	if (k->type == MSGPACK_OBJECT_STR || k->type == MSGPACK_OBJECT_BIN) {
		const char *p = k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : k->via.bin.ptr;
		size_t n = k->type == MSGPACK_OBJECT_STR ? k->via.str.size : k->via.bin.size;
		json_t *s = str_sanitized(p, n);
		char *r = json_is_string(s) ? strdup(json_string_value(s)) : strdup("?");
		json_decref(s);
		return r;
	}
	if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)k->via.u64);
	else if (k->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		snprintf(buf, sizeof buf, "%lld", (long long)k->via.i64);
	else if (k->type == MSGPACK_OBJECT_BOOLEAN)
		snprintf(buf, sizeof buf, "%s", k->via.boolean ? "true" : "false");
	else
		snprintf(buf, sizeof buf, "?");
	return strdup(buf);
}

/* A msgpack map as a json object (later duplicate keys win). */
static json_t *from_map(const msgpack_object_map *m, int depth)
{
	json_t *obj = json_object();
	if (!obj)
		return json_null();
	for (uint32_t i = 0; i < m->size; i++) {
		char *k = key_string(&m->ptr[i].key);
		if (!k)
			continue;
		/* json_object_set_new consumes the value even on failure. */
		json_object_set_new(obj, k, from_obj(&m->ptr[i].val, depth + 1));
		free(k);
	}
	return obj;
}

/* One msgpack object as json (never NULL: null on any failure). */
static json_t *from_obj(const msgpack_object *o, int depth)
{
	json_t *j = NULL;
	if (depth > MPJSON_MAX_DEPTH)
		return json_null();
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: j = json_null(); break;
	case MSGPACK_OBJECT_BOOLEAN: j = json_boolean(o->via.boolean); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		j = o->via.u64 > (uint64_t)INT64_MAX ? json_real((double)o->via.u64)
						      : json_integer((json_int_t)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: j = json_integer(o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		j = isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
		break;
	case MSGPACK_OBJECT_STR: j = str_sanitized(o->via.str.ptr, o->via.str.size); break;
	case MSGPACK_OBJECT_BIN: j = bin_base64(o->via.bin.ptr, o->via.bin.size); break;
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (uint32_t i = 0; j && i < o->via.array.size; i++)
			json_array_append_new(j, from_obj(&o->via.array.ptr[i], depth + 1));
		break;
	case MSGPACK_OBJECT_MAP: j = from_map(&o->via.map, depth); break;
	default: j = json_null(); break; /* ext: nothing meaningful to show */
	}
	return j ? j : json_null();
}

json_t *mpjson_from_object(const msgpack_object *o)
{
	return o ? from_obj(o, 0) : json_null();
}

/* Pack one json value (depth-capped: deeper values become nil). */
static void pack_json(msgpack_packer *pk, const json_t *j, int depth)
{
	if (!j || depth > MPJSON_MAX_DEPTH) {
		msgpack_pack_nil(pk);
		return;
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach((json_t *)j, k, v) {
			proto_pack_str(pk, k);
			pack_json(pk, v, depth + 1);
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v) pack_json(pk, v, depth + 1);
		break;
	}
	case JSON_STRING:
		proto_pack_strn(pk, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER: msgpack_pack_int64(pk, json_integer_value(j)); break;
	case JSON_REAL: {
		double d = json_real_value(j);
		if (isfinite(d))
			msgpack_pack_double(pk, d);
		else
			msgpack_pack_nil(pk);
		break;
	}
	case JSON_TRUE: msgpack_pack_true(pk); break;
	case JSON_FALSE: msgpack_pack_false(pk); break;
	default: msgpack_pack_nil(pk); break;
	}
}

void mpjson_pack(msgpack_packer *pk, const json_t *j)
{
	pack_json(pk, j, 0);
}
