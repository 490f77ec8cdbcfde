#!/bin/bash
# tests/run_all.sh — runs every test suite, one process per test with a
# timeout, output shown only on failure (libuv / tmux habits).
#
# A suite is a folder tests/<suite>/ holding executables named test_* (shell
# or Python scripts) or a list of C test binaries built into
# $BUILD/tests/<suite>/test_*.  Each test exits 0 (pass), 77 (skip) or other
# (fail).  Usage: tests/run_all.sh [suite...]
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
export DAA_ROOT=$ROOT DAA_BUILD=$ROOT/$BUILD
export DAA_PYTHON=${DAA_PYTHON:-/usr/bin/python3}
TIMEOUT=${DAA_TEST_TIMEOUT:-300}
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
	for d in tests/*/; do suites+=("$(basename "$d")"); done
fi
pass=0 fail=0 skip=0 failed=()
logdir=$(mktemp -d /tmp/daa-tests.XXXXXX)
for s in "${suites[@]}"; do
	tests=()
	for t in "tests/$s"/test_* "$BUILD/tests/$s"/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		case "$t" in *.d|*.o) continue ;; esac
		tests+=("$t")
	done
	for t in "${tests[@]}"; do
		name="$s/$(basename "$t")"
		log="$logdir/${name//\//_}.log"
		start=$(date +%s)
		# a script may ask for a longer limit: a "# daa-test-timeout: SECONDS" line
		limit=$TIMEOUT
		case "$t" in
		*.py|*.sh) own=$(sed -n 's/^# daa-test-timeout: *\([0-9][0-9]*\).*/\1/p' "$t" | head -n 1)
			[ -n "$own" ] && [ "$own" -gt "$limit" ] && limit=$own ;;
		esac
		timeout -k 10 "$limit" "$t" >"$log" 2>&1
		rc=$?
		secs=$(( $(date +%s) - start ))
		if [ $rc -eq 0 ]; then
			pass=$((pass + 1)); echo "ok   $name (${secs}s)"
		elif [ $rc -eq 77 ]; then
			skip=$((skip + 1)); echo "skip $name: $(tail -n 1 "$log")"
		else
			fail=$((fail + 1)); failed+=("$name")
			[ $rc -eq 124 ] && echo "FAIL $name (timeout after ${limit}s)" || echo "FAIL $name (exit $rc, ${secs}s)"
			sed 's/^/    | /' "$log" | tail -n 60
		fi
	done
done
rm -rf "$logdir"
echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
