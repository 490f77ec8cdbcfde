/*
 * protocol/proto_scan.h — the one msgpack frame scanner, shared by the RPC
 * reader (protocol/proto_read.c: clients ↔ daemon) and the daemon's kernel
 * wire (daemon/kernel/kern_wire.c: daemon ↔ sandboxed kernel).
 *
 * Both read hostile bytes and hand only complete, checked messages to
 * msgpack-c: the scanner walks the current message header by header,
 * resumably (call it again when more bytes arrived), finds where it ends,
 * and refuses it as soon as a declared length or item count passes the size
 * cap (so a huge frame is refused before it arrives: every item needs at
 * least one byte) or containers nest deeper than the depth cap (msgpack-c's
 * own stack is 32 deep).  What the two users differ in is not the walk but
 * what they do with the result, so the options are just the two caps; the
 * RPC reader also reads the first two integers of a top-level array (the
 * msgpack-rpc kind and msgid, to answer a request whose message is refused),
 * which the scanner notes for every user at no cost.
 */
#ifndef DAA_PROTO_SCAN_H
#define DAA_PROTO_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_SCAN_MAX_DEPTH 32

struct proto_scan {
	size_t max_msg;     /* caps (proto_scan_init) */
	int max_depth;
	size_t pos;         /* bytes of the current message walked so far */
	uint64_t skip;      /* body bytes still to skip */
	int depth;
	uint64_t left[PROTO_SCAN_MAX_DEPTH + 1];
	/* the current message's top level, when it is an array */
	bool top_is_array;
	uint64_t top_len;   /* its element count */
	uint64_t top_idx;   /* index of its next element */
	bool have_top[2];   /* element 0 / 1 is an integer from 0 to INT64_MAX ... */
	uint64_t top_int[2]; /* ... with this value */
};

/* Caps: max_msg bytes per message, max_depth nested containers (clamped to
 * 1..PROTO_SCAN_MAX_DEPTH).  Resets the state. */
void proto_scan_init(struct proto_scan *s, size_t max_msg, int max_depth);
/* Forget the current message (after it was taken); keeps the caps. */
void proto_scan_reset(struct proto_scan *s);
/* Walk the current message: p points at its first byte, n bytes are there
 * (the same start each call, n growing).  1: complete, s->pos bytes long;
 * 0: need more bytes; -1: refused, *code = PROTO_ERR_PARSE (not msgpack),
 * PROTO_ERR_TOO_LARGE or PROTO_ERR_TOO_DEEP, and why says so. */
int proto_scan_feed(struct proto_scan *s, const unsigned char *p, size_t n, int *code,
		    char *why, size_t whylen);

#endif
