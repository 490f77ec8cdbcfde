/*
 * protocol/proto_scan.c — the resumable msgpack frame scanner
 * (protocol/proto_scan.h): header by header, bodies skipped as they
 * arrive, caps checked on declared sizes before the bytes are there.
 */
#include "protocol/proto_scan.h"

#include <stdio.h>
#include <string.h>

#include "protocol/proto.h"

enum hdr_kind { H_SCALAR, H_BODY, H_CONTAINER };

struct hdr {
	enum hdr_kind kind;
	size_t hlen;     /* header bytes, incl. the type byte */
	uint64_t n;      /* body bytes (H_BODY) or items (H_CONTAINER) */
	bool has_int;    /* scalar is an integer >= 0 that fits int64 ... */
	uint64_t uval;   /* ... with this value */
	bool is_array;
};

void proto_scan_init(struct proto_scan *s, size_t max_msg, int max_depth)
{
	memset(s, 0, sizeof(*s));
	s->max_msg = max_msg;
	s->max_depth = max_depth < 1 || max_depth > PROTO_SCAN_MAX_DEPTH ? PROTO_SCAN_MAX_DEPTH
									  : max_depth;
}

void proto_scan_reset(struct proto_scan *s)
{
	proto_scan_init(s, s->max_msg, s->max_depth);
}

/* Big-endian unsigned of n bytes. */
static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Sizes for the type bytes 0xc4..0xdf: header length, length-field bytes,
 * kind (0 scalar, 1 body, 2 array, 3 map). */
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

/* Note a scalar that is element 0 or 1 of the top array. */
static void note_top_scalar(struct proto_scan *s, const struct hdr *h)
{
	if (s->depth != 1 || !s->top_is_array || !h->has_int || s->top_idx > 1)
		return;
	s->have_top[s->top_idx] = true;
	s->top_int[s->top_idx] = h->uval;
}

/* A value ended: pop finished containers.  True when the message is complete. */
static bool value_done(struct proto_scan *s)
{
	while (s->depth > 0) {
		if (s->depth == 1)
			s->top_idx++;
		if (--s->left[s->depth] > 0)
			return false;
		s->depth--;
	}
	return true;
}

/* Process one header at the scan position: 1 message complete, 0 continue
 * (or need more: *more set), -1 refused. */
static int scan_one(struct proto_scan *s, const unsigned char *p, size_t avail, int *code,
		    char *why, size_t whylen, bool *more)
{
	struct hdr h;
	int rc = hdr_read(p, avail, &h);
	if (rc < 0) {
		*code = PROTO_ERR_PARSE;
		snprintf(why, whylen, "malformed msgpack (byte 0xc1)");
		return -1;
	}
	if (rc == 0 || avail < h.hlen) {
		*more = true;
		return 0;
	}
	if (h.n > s->max_msg || (uint64_t)s->pos + h.hlen + h.n > s->max_msg) {
		*code = PROTO_ERR_TOO_LARGE; /* every item needs >= 1 byte */
		snprintf(why, whylen, "message larger than the size limit (%zu bytes)", s->max_msg);
		return -1;
	}
	if (h.kind == H_CONTAINER) {
		if (s->depth + 1 > s->max_depth) {
			*code = PROTO_ERR_TOO_DEEP;
			snprintf(why, whylen, "message nested deeper than the limit (%d levels)",
				 s->max_depth);
			return -1;
		}
		if (s->depth == 0) {
			s->top_is_array = h.is_array;
			s->top_len = h.n;
		}
	}
	s->pos += h.hlen;
	if (h.kind == H_BODY && h.n > 0) {
		s->skip = h.n;
		return 0; /* the body is skipped by proto_scan_feed, then value_done */
	}
	if (h.kind == H_CONTAINER && h.n > 0) {
		s->left[++s->depth] = h.n;
		return 0;
	}
	note_top_scalar(s, &h);
	return value_done(s) ? 1 : 0;
}

int proto_scan_feed(struct proto_scan *s, const unsigned char *p, size_t n, int *code,
		    char *why, size_t whylen)
{
	for (;;) {
		size_t avail = n > s->pos ? n - s->pos : 0;
		if (s->skip > 0) {
			size_t k = s->skip < avail ? (size_t)s->skip : avail;
			s->pos += k;
			s->skip -= k;
			if (s->skip > 0)
				return 0;
			if (value_done(s))
				return 1;
			continue;
		}
		if (avail == 0)
			return 0;
		bool more = false;
		int rc = scan_one(s, p + s->pos, avail, code, why, whylen, &more);
		if (rc != 0 || more)
			return rc;
	}
}
