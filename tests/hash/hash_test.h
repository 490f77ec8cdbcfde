/*
 * tests/hash/hash_test.h — the small harness shared by the two halves of
 * test_sha256 (test_sha256.c: the digest itself; fhash_tests.c: filehash on
 * a real loop): checks, deterministic data, a private temp dir.
 */
#ifndef DAA_HASH_TEST_H
#define DAA_HASH_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Count a check; print "ok"/"not ok" with the message (printf-style). */
bool ht_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a note (not a check). */
void ht_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Failed checks so far. */
int ht_failures(void);
/* The byte stream of gen_vectors.py: 64-bit LCG, byte = state >> 56. */
void ht_fill(uint64_t seed, unsigned char *buf, size_t n);
/* Write `size` bytes of stream `seed` to path (mode 0644).  0 / -1. */
int ht_write_file(const char *path, uint64_t seed, size_t size);
/* The test's private temp dir (made on first use, removed at exit); NULL on error. */
const char *ht_tmpdir(void);
/* "<tmpdir>/<name>" in a static rotating buffer. */
const char *ht_path(const char *name);

/* The filehash checks (fhash_tests.c). */
void ht_fhash_tests(void);

#endif
