#!/bin/bash
# tests/hash/test_valgrind.sh — test_sha256 again under valgrind (leaks, bad
# reads).  valgrind 3.19 does not know pidfd_open, so this run also covers
# filehash's waitpid-poll fallback.  Skips without valgrind and on the
# sanitizer build (valgrind cannot run ASan binaries).
set -u
BUILD_DIR=${DAA_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/${BUILD:-build}}
bin=$BUILD_DIR/tests/hash/test_sha256
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
case "$BUILD_DIR" in *-san) echo "ASan build: not under valgrind"; exit 77 ;; esac
[ -x "$bin" ] || { echo "no $bin (run make)"; exit 1; }
cd "${TMPDIR:-/tmp}" || exit 1
# one seed per chunking (DAA_HASH_QUICK): test_sha256 itself runs all three
DAA_HASH_QUICK=1 exec valgrind -q --error-exitcode=1 --leak-check=full --child-silent-after-fork=no "$bin"
