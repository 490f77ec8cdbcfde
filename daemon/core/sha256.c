/*
 * daemon/core/sha256.c — the two helpers daemon/core/sha256.h adds to nettle's
 * SHA-256: lower-case hex of a digest, and the digest of everything left to
 * read on an fd.  Only read(2) and nettle's pure block functions: nothing
 * that is not async-signal-safe.
 */
#include "daemon/core/sha256.h"

#include <errno.h>
#include <unistd.h>

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
		sha256_update(&c, (size_t)n, buf);
	}
	unsigned char d[SHA256_DIGEST_LEN];
	sha256_digest(&c, SHA256_DIGEST_LEN, d);
	sha256_hex(d, hex);
	return 0;
}
