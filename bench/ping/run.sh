#!/bin/bash
# bench/ping/run.sh — how long does `daa ping` take, beside baselines timed
# in the same run against the same private daemon:
#   /bin/true   process start cost only
#   ping_raw    one connect + one hand-encoded request/response (libc only)
#   daa ping    the real CLI (finding the socket, msgpack, printing)
# and, for scale, the mean of N round trips on one open connection.
# bench_runs runs them interleaved and prints the median wall time and the
# median CPU time (user + system) of each, with the ratio to ping_raw; on a
# busy machine the CPU column is the steadier one.
# Usage: bench/ping/run.sh [N]   (N runs each, default 500).  Not a test.
# DAA_OTHER=/path/to/another/daa adds that binary (an older build, say) to
# the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${1:-500}
DAA=$PWD/$BUILD/bin/daa
RAW=$PWD/$BUILD/bench/ping_raw
RUNS=$PWD/$BUILD/bench/bench_runs
[ -x "$DAA" ] && [ -x "$RAW" ] && [ -x "$RUNS" ] || { echo "build first: make" >&2; exit 1; }
TMP=$(mktemp -d /tmp/daa-bench.XXXXXX)
export HOME=$TMP XDG_RUNTIME_DIR=$TMP/run XDG_DATA_HOME=$TMP/data XDG_CONFIG_HOME=$TMP/config
export XDG_STATE_HOME=$TMP/state DAA_SOCKET=$TMP/run/daa/daad.sock
unset DAA_PROJECT OPENAI_API_KEY
cleanup() { "$DAA" --no-start shutdown >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$TMP/run" && chmod 700 "$TMP/run"
"$DAA" ping >/dev/null   # starts the private daemon
"$RAW" "$DAA_SOCKET"     # warm up

echo "N=$N runs each"
"$RUNS" "$N" "/bin/true (process start)=/bin/true" \
	"ping_raw (connect + 1 round trip)=$RAW $DAA_SOCKET" \
	"daa ping=$DAA --no-start ping" \
	${DAA_OTHER:+"daa ping ($DAA_OTHER)=$DAA_OTHER --no-start ping"}
echo "one round trip on an open connection, no process start: $("$RAW" "$DAA_SOCKET" "$N") µs (mean)"
