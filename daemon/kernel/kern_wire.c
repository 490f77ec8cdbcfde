/*
 * daemon/kernel/kern_wire.c — the daemon's side of the kernel socketpair
 * (sandbox/KERNEL.md): msgpack maps back to back, read without blocking.
 *
 * A kernel runs user code, so every byte from it is hostile.  Before
 * msgpack-c sees a message, the frame scanner the RPC reader uses too
 * (protocol/proto_scan.c) walks the headers and checks that the message
 * ends within KW_MAX_MSG bytes, nests at most KW_MAX_DEPTH deep, and that
 * no container claims more elements than the cap leaves room for (msgpack-c
 * would allocate for the claim up front).  Only a complete, checked message
 * is unpacked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/kernel/kern_int.h"

/* Make room for `want` more bytes (moving unparsed bytes to the front). */
static int buf_reserve(struct kw_buf *b, size_t want)
{
	if (b->off > 0 && b->off == b->len) {
		b->off = b->len = 0;
	}
	if (b->cap - b->len >= want)
		return 0;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= want)
			return 0;
	}
	size_t cap = b->cap ? b->cap : 65536;
	while (cap - b->len < want)
		cap *= 2;
	char *d = realloc(b->data, cap);
	if (!d)
		return -1;
	b->data = d;
	b->cap = cap;
	return 0;
}

ssize_t kw_read(int fd, struct kw_buf *b, size_t max)
{
	if (buf_reserve(b, max) < 0) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t n;
	do
		n = read(fd, b->data + b->len, max);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		b->len += (size_t)n;
	return n;
}

/* Where the next message in b ends: >0 its length, 0 need more, -1 refused
 * (why: in the kernel manager's words). */
static long long scan(struct proto_scan *s, const struct kw_buf *b, char *why, size_t whylen)
{
	if (!s->max_msg)
		proto_scan_init(s, KW_MAX_MSG, KW_MAX_DEPTH);
	char detail[128];
	int code = 0;
	const unsigned char *p = (const unsigned char *)b->data + b->off;
	int rc = proto_scan_feed(s, p, b->len - b->off, &code, detail, sizeof detail);
	if (rc > 0)
		return (long long)s->pos;
	if (rc == 0)
		return 0;
	if (code == PROTO_ERR_TOO_LARGE)
		snprintf(why, whylen, "it sent a message over the %u MiB cap", KW_MAX_MSG >> 20);
	else if (code == PROTO_ERR_TOO_DEEP)
		snprintf(why, whylen, "it sent a message nested deeper than %d", KW_MAX_DEPTH);
	else
		snprintf(why, whylen, "it sent bytes that are not msgpack");
	return -1;
}

int kw_next(struct kw_buf *b, struct proto_scan *s, json_t **out, char *why, size_t whylen)
{
	const unsigned char *p = (const unsigned char *)b->data + b->off;
	long long len = scan(s, b, why, whylen);
	if (len <= 0)
		return (int)len;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	int rc = msgpack_unpack_next(&u, (const char *)p, (size_t)len, &off);
	if (rc != MSGPACK_UNPACK_SUCCESS || off != (size_t)len) {
		msgpack_unpacked_destroy(&u);
		snprintf(why, whylen, "it sent a message msgpack-c could not decode");
		return -1;
	}
	if (u.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&u);
		snprintf(why, whylen, "it sent a message that is not a map");
		return -1;
	}
	*out = mpjson_from_object(&u.data);
	msgpack_unpacked_destroy(&u);
	b->off += (size_t)len;
	proto_scan_reset(s);
	return 1;
}

int kw_queue(struct kw_buf *b, const json_t *msg)
{
	struct proto_buf pb;
	proto_buf_init(&pb);
	mpjson_pack(&pb.pk, msg);
	int rc = buf_reserve(b, pb.sb.size);
	if (rc == 0) {
		memcpy(b->data + b->len, pb.sb.data, pb.sb.size);
		b->len += pb.sb.size;
	}
	proto_buf_free(&pb);
	return rc;
}

int kw_flush(int fd, struct kw_buf *b)
{
	while (b->off < b->len) {
		ssize_t n = write(fd, b->data + b->off, b->len - b->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
	return 1;
}

void kw_buf_free(struct kw_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
