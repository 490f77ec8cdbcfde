#!/bin/bash
# bench/ping/run.sh — how long does `daa ping` take, beside baselines timed
# in the same run against the same private daemon:
#   /bin/true   process start cost only
#   ping_raw    one connect + one hand-encoded request/response (libc only)
#   daa ping    the real CLI (finding the socket, msgpack, printing)
# and, for scale, the mean of N round trips on one open connection.
# Usage: bench/ping/run.sh [N]   (N runs each, default 200).  Not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${1:-200}
DAA=$PWD/$BUILD/bin/daa
RAW=$PWD/$BUILD/bench/ping_raw
[ -x "$DAA" ] && [ -x "$RAW" ] || { echo "build first: make" >&2; exit 1; }
TMP=$(mktemp -d /tmp/daa-bench.XXXXXX)
export HOME=$TMP XDG_RUNTIME_DIR=$TMP/run XDG_DATA_HOME=$TMP/data XDG_CONFIG_HOME=$TMP/config
export XDG_STATE_HOME=$TMP/state DAA_SOCKET=$TMP/run/daa/daad.sock
unset DAA_PROJECT OPENAI_API_KEY
cleanup() { "$DAA" --no-start shutdown >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$TMP/run" && chmod 700 "$TMP/run"
"$DAA" ping >/dev/null   # starts the private daemon

# Interleaved (true, raw, daa, true, raw, daa...) so that load changes on
# the machine hit the three alike; $EPOCHREALTIME is bash's µs clock.
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
"$RAW" "$DAA_SOCKET"     # warm up
t_true=0 t_raw=0 t_daa=0
for ((i = 0; i < N; i++)); do
	a=$(now_us); /bin/true; b=$(now_us)
	"$RAW" "$DAA_SOCKET"; c=$(now_us)
	"$DAA" --no-start ping >/dev/null; d=$(now_us)
	t_true=$((t_true + b - a)) t_raw=$((t_raw + c - b)) t_daa=$((t_daa + d - c))
done
t_true=$((t_true / N)) t_raw=$((t_raw / N)) t_daa=$((t_daa / N))
t_rpc=$("$RAW" "$DAA_SOCKET" "$N")   # N round trips on one connection, no process start
printf '%-34s %10s %10s\n' "N=$N runs each" "µs/run" "vs raw"
printf '%-34s %10d %10s\n' "/bin/true (process start)" "$t_true" "-"
printf '%-34s %10d %10s\n' "ping_raw (connect + 1 round trip)" "$t_raw" "1.00x"
printf '%-34s %10d %9sx\n' "daa ping" "$t_daa" "$(awk -v a="$t_daa" -v b="$t_raw" 'BEGIN{printf "%.2f", a/b}')"
printf '%-34s %10d %10s\n' "one round trip, no process start" "$t_rpc" "-"
echo "daa ping minus /bin/true: $((t_daa - t_true)) µs; ping_raw minus /bin/true: $((t_raw - t_true)) µs"
