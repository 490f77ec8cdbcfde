/*
 * daemon/sha256.h — SHA-256 (FIPS 180-4), written for daa: a streaming
 * context, hex output and a whole-fd helper.  No allocation, no global
 * state, async-signal-safe (usable in a forked child of a threaded process).
 */
#ifndef DAA_SHA256_H
#define DAA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 64

struct sha256_ctx {
	uint32_t h[8];        /* chaining state */
	uint64_t nbytes;      /* message length so far, in bytes */
	unsigned char buf[64]; /* a partial block */
	size_t nbuf;          /* bytes in buf (0..63) */
};

void sha256_init(struct sha256_ctx *c);
/* Feed len bytes (data may be NULL when len is 0). */
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Pad, write the digest to out; the context must be re-initialised to reuse. */
void sha256_final(struct sha256_ctx *c, unsigned char out[SHA256_DIGEST_LEN]);
/* Lower-case hex of a digest, NUL-terminated. */
void sha256_hex(const unsigned char d[SHA256_DIGEST_LEN], char out[SHA256_HEX_LEN + 1]);

/* Read fd to EOF (EINTR-safe) and write the hex digest of what was read.
 * 0, or -1 with errno (the fd is not closed; hex is untouched on error). */
int sha256_fd(int fd, char hex[SHA256_HEX_LEN + 1]);

#endif
