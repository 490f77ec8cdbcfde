#!/bin/bash
# tools/check_layering.sh — `make layering`: the dependency directions of
# DESIGN.md's layout table, checked on #include lines and on the objects
# each program links:
#   protocol/  → msgpack only (no daemon/, client/, sandbox/ headers)
#   sandbox/   → libseccomp, libcap only (no protocol/, daemon/, client/)
#   client/    → protocol only (no daemon/, sandbox/)
#   daemon/    → protocol, sandbox (never client/)
#   daemon/workq.* (the work queue) → never the agent or history headers:
#              it calls its jobs only through the ops they register
# Exit 0 when clean, 1 with one line per violation.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
bad=0

# check DIR FORBIDDEN-PREFIX...: no quoted include of those folders in DIR.
check() {
	local dir=$1; shift
	[ -d "$dir" ] || return 0
	for forbidden in "$@"; do
		while IFS= read -r hit; do
			echo "layering: $hit  ($dir/ must not include $forbidden/)"
			bad=1
		done < <(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$forbidden/" \
			--include='*.c' --include='*.h' "$dir" 2>/dev/null)
	done
}
check protocol daemon client sandbox
check sandbox daemon client protocol
check client daemon sandbox
check daemon client

# check_files GLOB FORBIDDEN-PREFIX...: no quoted include of those headers in the files.
check_files() {
	local glob=$1; shift
	for forbidden in "$@"; do
		while IFS= read -r hit; do
			echo "layering: $hit  ($glob must not include $forbidden*)"
			bad=1
		done < <(grep -nHE "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$forbidden" \
			$glob 2>/dev/null)
	done
}
check_files 'daemon/workq.[ch]' daemon/agent daemon/history

# Linked objects: a client binary must hold no daemon/ or sandbox/ object.
for b in "$BUILD/bin/daa" "$BUILD/bin/daa-tray"; do
	[ -x "$b" ] || continue
	if nm -a "$b" 2>/dev/null | grep -qE '[[:space:]](daemon|sandbox)/[^[:space:]]+\.c$'; then
		echo "layering: $b links daemon/ or sandbox/ code"
		bad=1
	fi
	for sym in loop_run proj_get kern_exec sbx_spawn server_start; do
		if nm "$b" 2>/dev/null | grep -qE "[[:space:]]T $sym\$"; then
			echo "layering: $b defines $sym (daemon/sandbox code in a client)"
			bad=1
		fi
	done
done
[ $bad -eq 0 ] && echo "layering: ok"
exit $bad
