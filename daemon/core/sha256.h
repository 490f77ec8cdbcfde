/*
 * daemon/core/sha256.h — SHA-256 for daa, from nettle (already loaded in daad
 * through libcurl → gnutls): nettle's own streaming API (struct sha256_ctx,
 * sha256_init, sha256_update(ctx, len, data), sha256_digest) plus two small
 * helpers of ours, hex output and a whole-fd hash.  Nettle's SHA-256 does no
 * allocation and keeps no lazily-built global state, so sha256_fd stays
 * async-signal-safe (usable in a forked child of a threaded process).
 */
#ifndef DAA_SHA256_H
#define DAA_SHA256_H

#include <nettle/sha2.h>

#define SHA256_DIGEST_LEN SHA256_DIGEST_SIZE
#define SHA256_HEX_LEN (2 * SHA256_DIGEST_SIZE)

/* Lower-case hex of a digest, NUL-terminated. */
void sha256_hex(const unsigned char d[SHA256_DIGEST_LEN], char out[SHA256_HEX_LEN + 1]);

/* Read fd to EOF (EINTR-safe) and write the hex digest of what was read.
 * 0, or -1 with errno (the fd is not closed; hex is untouched on error). */
int sha256_fd(int fd, char hex[SHA256_HEX_LEN + 1]);

#endif
