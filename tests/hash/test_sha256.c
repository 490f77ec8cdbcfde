/*
 * tests/hash/test_sha256.c — SHA-256 as daemon/core/sha256.h gives it (nettle's
 * streaming API and our hex / fd helpers) against the NIST examples and
 * against Python's hashlib (tests/hash/vectors.h, made by gen_vectors.py):
 * every length 0..300, many chunkings of 1 MiB, sha256_fd on files and a
 * pipe; then daemon/core/filehash on a real loop (fhash_tests.c).  TAP-ish output,
 * exit 0 / 1.  `test_sha256 --bench [MiB]` prints the throughput instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "daemon/core/sha256.h"
#include "tests/hash/hash_test.h"
#include "tests/hash/vectors.h"

static int n_checks, n_failed;
static char tmpdir[256];
static pid_t tmpdir_owner; /* forked test processes must not remove it */

/* Count and print one check. */
bool ht_check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	n_checks++;
	if (!ok)
		n_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", n_checks);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
	return ok;
}

/* A comment line. */
void ht_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

/* Failed checks so far. */
int ht_failures(void)
{
	return n_failed;
}

/* The LCG stream shared with gen_vectors.py. */
void ht_fill(uint64_t seed, unsigned char *buf, size_t n)
{
	uint64_t x = seed;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (unsigned char)(x >> 56);
	}
}

/* Write a stream to a new file. */
int ht_write_file(const char *path, uint64_t seed, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = -1;
	if (buf && fd >= 0) {
		ht_fill(seed, buf, size);
		rc = write(fd, buf, size) == (ssize_t)size ? 0 : -1;
	}
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	free(buf);
	return rc;
}

/* nftw callback: remove one entry (make dirs writable first). */
static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove the temp dir (atexit). */
static void tmpdir_cleanup(void)
{
	if (tmpdir[0] && getpid() == tmpdir_owner)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* On SIGTERM/SIGINT (the runner's timeout): clean up, then die. */
static void on_signal(int sig)
{
	tmpdir_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The private temp dir. */
const char *ht_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/daa-hash.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		tmpdir[0] = '\0';
		return NULL;
	}
	tmpdir_owner = getpid();
	atexit(tmpdir_cleanup);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	return tmpdir;
}

/* A path in the temp dir (four rotating buffers). */
const char *ht_path(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ & 3];
	snprintf(b, sizeof(bufs[0]), "%s/%s", ht_tmpdir(), name);
	return b;
}

/* Hex digest of one buffer. */
static void hash_buf(const void *p, size_t n, char hex[65])
{
	struct sha256_ctx c;
	unsigned char d[32];
	sha256_init(&c);
	sha256_update(&c, n, p);
	sha256_digest(&c, SHA256_DIGEST_LEN, d);
	sha256_hex(d, hex);
}

/* FIPS 180-4 examples (and the two long NIST messages). */
static void test_nist(void)
{
	static const struct { const char *msg; const char *hex; } v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
		 "klmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"}};
	char hex[65];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hash_buf(v[i].msg, strlen(v[i].msg), hex);
		ht_check(!strcmp(hex, v[i].hex), "NIST %zu-byte message (%s)", strlen(v[i].msg), hex);
	}
	/* one million 'a', fed in uneven pieces */
	struct sha256_ctx c;
	unsigned char d[32], a[1000];
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (size_t done = 0, k = 1; done < 1000000; k = k % 997 + 1) {
		size_t n = 1000000 - done < k ? 1000000 - done : k;
		sha256_update(&c, n, a);
		done += n;
	}
	sha256_digest(&c, SHA256_DIGEST_LEN, d);
	sha256_hex(d, hex);
	ht_check(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
		 "NIST one million 'a' (%s)", hex);
	hash_buf(NULL, 0, hex);
	ht_check(!strcmp(hex, v[0].hex), "update(NULL, 0)");
}

/* Every length 0..300 (in one piece and byte by byte) against hashlib. */
static void test_lengths(void)
{
	unsigned char data[300];
	char hex[65];
	int bad1 = -1, bad2 = -1;
	ht_fill(1, data, sizeof(data));
	for (int n = 0; n <= 300; n++) {
		hash_buf(data, (size_t)n, hex);
		if (strcmp(hex, vec_len[n]) && bad1 < 0)
			bad1 = n;
		struct sha256_ctx c;
		unsigned char d[32];
		sha256_init(&c);
		for (int i = 0; i < n; i++)
			sha256_update(&c, 1, data + i);
		sha256_digest(&c, SHA256_DIGEST_LEN, d);
		sha256_hex(d, hex);
		if (strcmp(hex, vec_len[n]) && bad2 < 0)
			bad2 = n;
	}
	ht_check(bad1 < 0, "lengths 0..300 in one update match hashlib (first bad: %d)", bad1);
	ht_check(bad2 < 0, "lengths 0..300 byte by byte match hashlib (first bad: %d)", bad2);
}

/* Digest of buf fed in pieces of random length 0..maxpiece (0: 64-byte pieces). */
static void hash_chunked(const unsigned char *buf, size_t n, uint64_t seed, size_t maxpiece,
			 char hex[65])
{
	struct sha256_ctx c;
	unsigned char d[32];
	uint64_t x = seed;
	sha256_init(&c);
	for (size_t off = 0; off < n;) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t k = maxpiece ? (size_t)(x >> 33) % (maxpiece + 1) : 64;
		if (k > n - off)
			k = n - off;
		sha256_update(&c, k, buf + off); /* k may be 0 */
		off += k;
	}
	sha256_digest(&c, SHA256_DIGEST_LEN, d);
	sha256_hex(d, hex);
}

/* 1 MiB of random data in many chunkings against hashlib: three seeds per
 * largest piece, one with DAA_HASH_QUICK set (test_valgrind.sh: under
 * valgrind the point is memory errors, and tiny pieces cost seconds). */
static void test_chunkings(void)
{
	const struct vec_file *v = &vec_files[0];
	const uint64_t seeds = getenv("DAA_HASH_QUICK") ? 1 : 3;
	unsigned char *buf = malloc(v->size);
	static const size_t maxes[] = {0, 1, 3, 63, 65, 130, 1000, 4096, 70000, 1 << 20};
	char hex[65];
	if (!buf) {
		ht_check(false, "malloc 1 MiB");
		return;
	}
	ht_fill(v->seed, buf, v->size);
	hash_buf(buf, v->size, hex);
	ht_check(!strcmp(hex, v->hex), "1 MiB in one update matches hashlib");
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		for (uint64_t s = 1; s <= seeds; s++) {
			hash_chunked(buf, v->size, s * 7919 + i, maxes[i], hex);
			if (!ht_check(!strcmp(hex, v->hex), "1 MiB in random pieces of 0..%zu (seed %d)",
				      maxes[i], (int)s))
				break;
		}
	}
	/* a misaligned start in memory must not matter */
	unsigned char *odd = malloc(v->size + 3);
	if (odd) {
		memcpy(odd + 3, buf, v->size);
		hash_buf(odd + 3, v->size, hex);
		ht_check(!strcmp(hex, v->hex), "1 MiB from a misaligned address");
	}
	free(odd);
	free(buf);
}

/* sha256_fd: a file, an empty file, a pipe, a bad fd. */
static void test_fd(void)
{
	const struct vec_file *v = &vec_files[1];
	char hex[65] = "";
	if (!ht_check(ht_tmpdir() && ht_write_file(ht_path("three"), v->seed, v->size) == 0,
		      "write the 3 MiB file"))
		return;
	int fd = open(ht_path("three"), O_RDONLY | O_CLOEXEC);
	ht_check(fd >= 0 && sha256_fd(fd, hex) == 0 && !strcmp(hex, v->hex),
		 "sha256_fd on a 3 MiB file matches hashlib");
	if (fd >= 0)
		close(fd);
	ht_write_file(ht_path("empty"), 1, 0);
	fd = open(ht_path("empty"), O_RDONLY | O_CLOEXEC);
	ht_check(fd >= 0 && sha256_fd(fd, hex) == 0 && !strcmp(hex, vec_len[0]),
		 "sha256_fd on an empty file");
	if (fd >= 0)
		close(fd);
	int p[2];
	if (pipe(p) == 0) {
		ssize_t w = write(p[1], "abc", 3);
		close(p[1]);
		ht_check(w == 3 && sha256_fd(p[0], hex) == 0 &&
			 !strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
			 "sha256_fd on a pipe");
		close(p[0]);
	}
	strcpy(hex, "untouched");
	errno = 0;
	ht_check(sha256_fd(-1, hex) == -1 && errno == EBADF && !strcmp(hex, "untouched"),
		 "sha256_fd on a bad fd: -1, EBADF, output untouched");
}

/* Seconds between two timespecs. */
static double secs(struct timespec a, struct timespec b)
{
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* Throughput over an in-memory buffer, best of three rounds, by wall clock
 * and by this process's CPU time (less sensitive to a loaded machine). */
static int bench(size_t mib)
{
	size_t n = mib << 20;
	unsigned char *buf = malloc(n);
	char hex[65];
	double best = 0, best_cpu = 0;
	if (!buf)
		return 1;
	ht_fill(9, buf, n);
	for (int r = 0; r < 3; r++) {
		struct timespec a, b, ca, cb;
		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
		hash_buf(buf, n, hex);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if ((double)mib / secs(a, b) > best)
			best = (double)mib / secs(a, b);
		if ((double)mib / secs(ca, cb) > best_cpu)
			best_cpu = (double)mib / secs(ca, cb);
	}
	printf("sha256: %zu MiB, best of 3: %.1f MiB/s wall, %.1f MiB/s of CPU time (%s)\n", mib,
	       best, best_cpu, hex);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--bench"))
		return bench(argc >= 3 ? (size_t)atoi(argv[2]) : 256);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_nist();
	test_lengths();
	test_chunkings();
	test_fd();
	ht_fhash_tests();
	printf("1..%d\n# %d failed\n", n_checks, n_failed);
	return n_failed ? 1 : 0;
}
