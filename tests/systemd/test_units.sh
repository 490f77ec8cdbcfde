#!/bin/bash
# tests/systemd/test_units.sh — the user units pass `systemd-analyze verify`
# as tools/install.sh installs them: under a temp HOME (PREFIX ~/.local,
# units in ~/.config/systemd/user, ExecStart=%h/.local/bin/daad) and with a
# PREFIX outside HOME (units in PREFIX/lib/systemd/user, absolute ExecStart).
# The installed daad finds its share files relative to itself.
set -euo pipefail
ROOT=${DAA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${DAA_BUILD:-$ROOT/build}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing"; exit 77; }
[ -x "$BUILD/bin/daad" ] || { echo "daad not built"; exit 1; }
T=$(mktemp -d /tmp/daa-units.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkdir -m 700 "$T/run"
BUILD_REL=$(realpath --relative-to="$ROOT" "$BUILD")

# 1. PREFIX = ~/.local
env -i HOME="$T/home" PATH=/usr/bin:/bin BUILD="$BUILD_REL" PREFIX="$T/home/.local" \
	"$ROOT/tools/install.sh" >/dev/null
U=$T/home/.config/systemd/user
grep -qx 'ExecStart=%h/.local/bin/daad --foreground' "$U/daad.service"
grep -qx 'Type=notify' "$U/daad.service"
grep -qx 'ListenStream=%t/daa/daad.sock' "$U/daad.socket"
grep -qx 'SocketMode=0600' "$U/daad.socket"
grep -qx 'DirectoryMode=0700' "$U/daad.socket"
out=$(env -i HOME="$T/home" XDG_RUNTIME_DIR="$T/run" PATH=/usr/bin:/bin \
	systemd-analyze verify --user "$U/daad.socket" "$U/daad.service" 2>&1) || {
	echo "systemd-analyze verify failed:"; echo "$out"; exit 1; }
[ -z "$out" ] || { echo "systemd-analyze verify warned:"; echo "$out"; exit 1; }

# 2. PREFIX outside HOME: absolute ExecStart
env -i HOME="$T/home2" PATH=/usr/bin:/bin BUILD="$BUILD_REL" PREFIX="$T/opt" \
	"$ROOT/tools/install.sh" >/dev/null
U2=$T/opt/lib/systemd/user
grep -qx "ExecStart=$T/opt/bin/daad --foreground" "$U2/daad.service"
out=$(env -i HOME="$T/home2" XDG_RUNTIME_DIR="$T/run" PATH=/usr/bin:/bin \
	systemd-analyze verify --user "$U2/daad.socket" "$U2/daad.service" 2>&1) || {
	echo "systemd-analyze verify (PREFIX outside HOME) failed:"; echo "$out"; exit 1; }

# 3. the installed daad runs from its PREFIX (no DAA_ROOT) and finds share/daa
for f in bin/daad share/daa/prompts share/daa/runtime/daa_kernel.py share/daa/analyst/daa_analyst.py; do
	[ -e "$T/opt/$f" ] || { echo "missing after install: $f"; exit 1; }
done
mkdir -m 700 "$T/run2"
SAN_ENV=()  # a sanitizer build keeps its options
for v in ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS; do [ -n "${!v:-}" ] && SAN_ENV+=("$v=${!v}"); done
env -i HOME="$T/home2" PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$T/run2" DAA_PYTHON=/usr/bin/python3 \
	"${SAN_ENV[@]}" "$T/opt/bin/daad" --foreground --log-level debug >"$T/log" 2>&1 &
PID=$!
for _ in $(seq 200); do [ -S "$T/run2/daa/daad.sock" ] && break; sleep 0.05; done
[ -S "$T/run2/daa/daad.sock" ] || { cat "$T/log"; exit 1; }
kill -TERM "$PID"; wait "$PID"; PID=""
grep -q "prompts in $T/opt/share/daa/prompts" "$T/log" ||
	grep -q "$T/opt/share/daa" "$T/log" || { echo "share dir not used:"; cat "$T/log"; exit 1; }
[ ! -e "$T/run2/daa/daad.sock" ] || { echo "socket left after SIGTERM"; exit 1; }

# 4. uninstall removes it all
env -i HOME="$T/home2" PATH=/usr/bin:/bin PREFIX="$T/opt" "$ROOT/tools/install.sh" --uninstall >/dev/null
[ ! -e "$T/opt/bin/daad" ] && [ ! -e "$T/opt/share/daa" ] && [ ! -e "$U2/daad.service" ]
echo "units verified"
