/*
 * daemon/sha256.c — SHA-256 as FIPS 180-4 §6.2 specifies it (daemon/sha256.h).
 *
 * Speed: whole 64-byte blocks are compressed straight from the caller's
 * buffer (only a block split across two updates goes through ctx->buf); the
 * 64 rounds run eight at a time with the working variables renamed instead
 * of shifted, over a 16-word rolling message schedule.  Plain C, no
 * allocation, nothing that is not async-signal-safe.
 */
#include "daemon/sha256.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define BSIG0(x) (ROR(x, 2) ^ ROR(x, 13) ^ ROR(x, 22))
#define BSIG1(x) (ROR(x, 6) ^ ROR(x, 11) ^ ROR(x, 25))
#define SSIG0(x) (ROR(x, 7) ^ ROR(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (ROR(x, 17) ^ ROR(x, 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

/* Schedule word i (>= 16) in the rolling 16-word window. */
#define SCHED(i)                                                                        \
	(w[(i) & 15] += SSIG1(w[((i) - 2) & 15]) + w[((i) - 7) & 15] + SSIG0(w[((i) - 15) & 15]))
/* One round; the caller rotates the names a..h instead of moving values. */
#define RND(a, b, c, d, e, f, g, h, i, wi)                                   \
	do {                                                                 \
		uint32_t t1_ = (h) + BSIG1(e) + CH(e, f, g) + sha256_k[i] + (wi); \
		(d) += t1_;                                                  \
		(h) = t1_ + BSIG0(a) + MAJ(a, b, c);                          \
	} while (0)
/* Eight rounds starting at i, with schedule expression S(i). */
#define RND8(i, S)                                           \
	do {                                                 \
		RND(a, b, c, d, e, f, g, h, (i) + 0, S((i) + 0)); \
		RND(h, a, b, c, d, e, f, g, (i) + 1, S((i) + 1)); \
		RND(g, h, a, b, c, d, e, f, (i) + 2, S((i) + 2)); \
		RND(f, g, h, a, b, c, d, e, (i) + 3, S((i) + 3)); \
		RND(e, f, g, h, a, b, c, d, (i) + 4, S((i) + 4)); \
		RND(d, e, f, g, h, a, b, c, (i) + 5, S((i) + 5)); \
		RND(c, d, e, f, g, h, a, b, (i) + 6, S((i) + 6)); \
		RND(b, c, d, e, f, g, h, a, (i) + 7, S((i) + 7)); \
	} while (0)
#define WPLAIN(i) w[i]

/* Big-endian 32-bit load. */
static inline uint32_t sha256_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Compress n whole 64-byte blocks at p into the state st. */
static void sha256_blocks(uint32_t st[8], const unsigned char *p, size_t n)
{
	uint32_t w[16];
	for (; n > 0; n--, p += 64) {
		for (int i = 0; i < 16; i++)
			w[i] = sha256_be32(p + 4 * i);
		uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
		uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
		RND8(0, WPLAIN);
		RND8(8, WPLAIN);
		for (int i = 16; i < 64; i += 8)
			RND8(i, SCHED);
		st[0] += a, st[1] += b, st[2] += c, st[3] += d;
		st[4] += e, st[5] += f, st[6] += g, st[7] += h;
	}
}

/* Start a new message (FIPS 180-4 §5.3.3 initial hash value). */
void sha256_init(struct sha256_ctx *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, iv, sizeof(iv));
	c->nbytes = 0;
	c->nbuf = 0;
}

/* Feed bytes: top up a partial block, then whole blocks in place, keep the tail. */
void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	c->nbytes += len;
	if (c->nbuf > 0) {
		size_t take = 64 - c->nbuf < len ? 64 - c->nbuf : len;
		memcpy(c->buf + c->nbuf, p, take);
		c->nbuf += take;
		p += take;
		len -= take;
		if (c->nbuf < 64)
			return;
		sha256_blocks(c->h, c->buf, 1);
		c->nbuf = 0;
	}
	if (len >= 64) {
		sha256_blocks(c->h, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	if (len > 0) {
		memcpy(c->buf, p, len);
		c->nbuf = len;
	}
}

/* Pad (0x80, zeros, 64-bit bit length) and write the big-endian digest. */
void sha256_final(struct sha256_ctx *c, unsigned char out[SHA256_DIGEST_LEN])
{
	uint64_t bits = c->nbytes * 8;
	c->buf[c->nbuf++] = 0x80;
	if (c->nbuf > 56) {
		memset(c->buf + c->nbuf, 0, 64 - c->nbuf);
		sha256_blocks(c->h, c->buf, 1);
		c->nbuf = 0;
	}
	memset(c->buf + c->nbuf, 0, 56 - c->nbuf);
	for (int i = 0; i < 8; i++)
		c->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_blocks(c->h, c->buf, 1);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
	c->nbuf = 0;
}

/* Lower-case hex of a digest. */
void sha256_hex(const unsigned char d[SHA256_DIGEST_LEN], char out[SHA256_HEX_LEN + 1])
{
	static const char xd[] = "0123456789abcdef";
	for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
		out[2 * i] = xd[d[i] >> 4];
		out[2 * i + 1] = xd[d[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
}

/* Hash everything left to read on fd. */
int sha256_fd(int fd, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char buf[64 * 1024];
	struct sha256_ctx c;
	sha256_init(&c);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		sha256_update(&c, buf, (size_t)n);
	}
	unsigned char d[SHA256_DIGEST_LEN];
	sha256_final(&c, d);
	sha256_hex(d, hex);
	return 0;
}
