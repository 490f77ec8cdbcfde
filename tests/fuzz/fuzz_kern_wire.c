/*
 * tests/fuzz/fuzz_kern_wire.c — libFuzzer target for the daemon's reader of
 * kernel frames (daemon/kernel/kern_wire.c: the resumable scanner, then msgpack-c,
 * then daemon/core/mpjson.c into jansson), driven as kern.c drives it: bytes
 * arrive through kw_read on a descriptor in pieces, and kw_next is called
 * until it wants more or gives up on the stream.
 *
 * Input: byte 0 picks the piece size (1..64), the rest is what the kernel
 * wrote.  Every message read must be a JSON object, and must come back
 * equal after kw_queue (the daemon's writer) and kw_next again (else
 * abort: the two directions disagree).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/kernel/kern_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pipefd[2] = {-1, -1};

/* Writer → reader → equal. */
static void round_trip(const json_t *msg)
{
	struct kw_buf b = {0};
	struct proto_scan s = {0};
	json_t *back = NULL;
	char why[200];
	if (kw_queue(&b, msg) < 0 || kw_next(&b, &s, &back, why, sizeof why) != 1 ||
	    !json_equal(msg, back))
		abort();
	json_decref(back);
	kw_buf_free(&b);
}

/* Read every complete message; false once the stream is given up. */
static bool drain(struct kw_buf *b, struct proto_scan *s)
{
	for (;;) {
		json_t *msg = NULL;
		char why[200];
		why[0] = '\0';
		int rc = kw_next(b, s, &msg, why, sizeof why);
		if (rc == 0)
			return true;
		if (rc < 0) {
			if (!why[0])
				abort(); /* kern.c logs why: it must say */
			return false;
		}
		if (!json_is_object(msg))
			abort();
		round_trip(msg);
		json_decref(msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (pipefd[0] < 0 && pipe2(pipefd, O_NONBLOCK) < 0)
		abort();
	size_t chunk = (data[0] & 0x3f) + 1;
	data++, size--;
	struct kw_buf b = {0};
	struct proto_scan s = {0};
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (write(pipefd[1], data + off, n) != (ssize_t)n)
			abort();
		if (kw_read(pipefd[0], &b, 65536) != (ssize_t)n)
			abort();
		if (!drain(&b, &s))
			break;
	}
	kw_buf_free(&b);
	return 0;
}
