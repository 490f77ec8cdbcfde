/*
 * tests/fuzz/fuzz_reader.c — libFuzzer target for the RPC reader (protocol/): the input
 * is fed in chunks whose sizes come from the first byte, every message read
 * is run through proto_params_read and repacked; nothing may crash, leak or
 * read out of bounds, and the reader's own scanner must agree with
 * msgpack-c on where every message ends (else abort).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct proto_field fields[] = {
	{"project", PROTO_T_STR, false}, {"n", PROTO_T_INT, false},
	{"u", PROTO_T_UINT, false},      {"f", PROTO_T_FLOAT, false},
	{"b", PROTO_T_BOOL, false},      {"m", PROTO_T_MAP, false},
	{"a", PROTO_T_ARRAY, false},     {"ss", PROTO_T_STRS, false},
	{"any", PROTO_T_ANY, false},     {NULL, 0, false},
};

/* Read every available message; returns false once the stream is broken. */
static bool drain(struct proto_reader *r, struct proto_buf *out)
{
	for (;;) {
		struct proto_msg m;
		struct proto_err e;
		bool rec;
		int rc = proto_reader_next(r, &m, &e, &rec);
		if (rc == 0)
			return true;
		if (rc < 0 && (strstr(e.msg, "out of step") || strstr(e.msg, "by the decoder")))
			abort(); /* scanner and msgpack-c disagree: a framing bug */
		if (rc < 0 && !rec)
			return false;
		if (rc < 0)
			continue;
		struct proto_value v[10];
		if (m.kind != PROTO_RESPONSE)
			proto_params_read(m.params, fields, v, proto_msg_zone(&m), &e);
		proto_pack_object(&out->pk, &m.unpacked.data);
		proto_msg_done(&m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (data[0] & 0x3f) + 1;
	data++, size--;
	struct proto_reader *r = proto_reader_new(2048, 0);
	struct proto_buf out;
	proto_buf_init(&out);
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk, avail;
		char *buf = proto_reader_buffer(r, n, &avail);
		memcpy(buf, data + off, n);
		proto_reader_consumed(r, n);
		if (!drain(r, &out))
			break;
	}
	proto_buf_free(&out);
	proto_reader_free(r);
	return 0;
}
