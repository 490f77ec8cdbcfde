/*
 * daemon/kern_wire.c — the daemon's side of the kernel socketpair
 * (sandbox/KERNEL.md): msgpack maps back to back, read without blocking.
 *
 * A kernel runs user code, so every byte from it is hostile.  Before
 * msgpack-c sees a message, a resumable scanner walks the headers and
 * checks that the message ends within KW_MAX_MSG bytes, nests at most
 * KW_MAX_DEPTH deep, and that no container claims more elements than the
 * cap leaves room for (msgpack-c would allocate for the claim up front).
 * Only a complete, checked message is unpacked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/kern_int.h"

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

/* Header of the object at p (n bytes available): sets *hdr (header bytes),
 * *payload (bytes after the header) and *items (child objects).
 * 0 ok, 1 need more bytes, -1 invalid. */
static int scan_header(const unsigned char *p, size_t n, size_t *hdr, uint64_t *payload,
		       uint64_t *items)
{
	unsigned c = p[0];
	*hdr = 1, *payload = 0, *items = 0;
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return 0;
	if (c >= 0x80 && c <= 0x8f) { *items = 2u * (c & 0x0f); return 0; }
	if (c >= 0x90 && c <= 0x9f) { *items = c & 0x0f; return 0; }
	if (c >= 0xa0 && c <= 0xbf) { *payload = c & 0x1f; return 0; }
	static const unsigned char fixed[] = {
		[0xca - 0xc4] = 4, [0xcb - 0xc4] = 8, [0xcc - 0xc4] = 1, [0xcd - 0xc4] = 2,
		[0xce - 0xc4] = 4, [0xcf - 0xc4] = 8, [0xd0 - 0xc4] = 1, [0xd1 - 0xc4] = 2,
		[0xd2 - 0xc4] = 4, [0xd3 - 0xc4] = 8, [0xd4 - 0xc4] = 2, [0xd5 - 0xc4] = 3,
		[0xd6 - 0xc4] = 5, [0xd7 - 0xc4] = 9, [0xd8 - 0xc4] = 17};
	if (c >= 0xca && c <= 0xd8) { *payload = fixed[c - 0xc4]; return 0; }
	if (c == 0xc1)
		return -1;
	/* Length-prefixed: bin/ext/str 8/16/32, array/map 16/32. */
	unsigned lenbytes;
	switch (c) {
	case 0xc4: case 0xc7: case 0xd9: lenbytes = 1; break;
	case 0xc5: case 0xc8: case 0xda: case 0xdc: case 0xde: lenbytes = 2; break;
	default: lenbytes = 4; break;
	}
	if (n < 1 + lenbytes)
		return 1;
	uint64_t v = 0;
	for (unsigned i = 0; i < lenbytes; i++)
		v = v << 8 | p[1 + i];
	*hdr = 1 + lenbytes;
	if (c == 0xc7 || c == 0xc8 || c == 0xc9)
		*payload = v + 1; /* the ext type byte */
	else if (c == 0xdc || c == 0xdd)
		*items = v;
	else if (c == 0xde || c == 0xdf)
		*items = 2 * v;
	else
		*payload = v;
	return 0;
}

/* One object finished: pop finished containers. True when the message ended. */
static bool scan_done_one(struct kw_scan *s)
{
	while (s->depth > 0) {
		if (--s->left[s->depth - 1] > 0)
			return false;
		s->depth--;
	}
	return true;
}

/* Advance the scanner: >0 = length of a complete message, 0 = need more, -1 bad. */
static long long scan(struct kw_scan *s, const unsigned char *p, size_t n, char *why,
		      size_t whylen)
{
	for (;;) {
		if (s->pos >= n)
			return 0;
		size_t hdr;
		uint64_t payload, items;
		int rc = scan_header(p + s->pos, n - s->pos, &hdr, &payload, &items);
		if (rc < 0) {
			snprintf(why, whylen, "it sent bytes that are not msgpack");
			return -1;
		}
		if (rc > 0)
			return 0;
		if (payload > KW_MAX_MSG || s->pos + hdr + payload > KW_MAX_MSG ||
		    items > KW_MAX_MSG - s->pos) {
			snprintf(why, whylen, "it sent a message over the %u MiB cap",
				 KW_MAX_MSG >> 20);
			return -1;
		}
		if (n - s->pos < hdr + payload)
			return 0;
		s->pos += hdr + payload;
		if (items > 0) {
			if (s->depth >= KW_MAX_DEPTH) {
				snprintf(why, whylen, "it sent a message nested deeper than %d",
					 KW_MAX_DEPTH);
				return -1;
			}
			s->left[s->depth++] = items;
			continue;
		}
		if (scan_done_one(s))
			return (long long)s->pos;
	}
}

int kw_next(struct kw_buf *b, struct kw_scan *s, json_t **out, char *why, size_t whylen)
{
	const unsigned char *p = (const unsigned char *)b->data + b->off;
	long long len = scan(s, p, b->len - b->off, why, whylen);
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
	memset(s, 0, sizeof *s);
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
