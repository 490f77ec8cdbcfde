#!/bin/bash
# tools/check_symbols.sh — part of `make lint`: external functions that
# should not be external.  Reads the built objects (nm), so run after a build.
#   unused:      an external function no object (program or test) calls and
#                its own file does not use either (dead code);
#   file-local:  an external function called only inside its own file
#                (make it static, or say why in ALLOW below);
#   weak:        a weak symbol reference or definition in our code (a rename
#                would silently turn the call into a no-op).
# Exit 0 when clean, 1 with one line per finding.  Usage: [BUILD=dir] $0
set -u
cd "$(dirname "$0")/.."
OBJ=${BUILD:-build}/obj
# Functions external on purpose though called from one file: entry points
# found by symbol (ctypes, linker sections) or kept as the public API of a
# library used by programs outside this tree.
ALLOW=" main sbx_seal proto_pack_object "  # proto_pack_object: also tests/fuzz (built apart)
# Weak on purpose: the linker's bounds of the RPC method section (absent,
# not an error, when no method file is linked, as in unit tests).
ALLOW_WEAK=" __start_daa_rpc __stop_daa_rpc "
[ -d "$OBJ" ] || { echo "check_symbols: no objects in $OBJ (build first)"; exit 1; }
mapfile -t objs < <(find "$OBJ/daemon" "$OBJ/client" "$OBJ/protocol" "$OBJ/sandbox" \
	"$OBJ/tray" -name '*.o' 2>/dev/null | sort)
mapfile -t users < <(find "$OBJ" -name '*.o' | sort)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# every undefined reference, from every object (tests included)
for o in "${users[@]}"; do nm -u "$o" | awk -v o="$o" '{print $NF "\t" o}'; done \
	| sort -u >"$tmp/refs"
bad=0
for o in "${objs[@]}"; do
	src=${o#"$OBJ"/}
	src=${src%.o}.c
	[ -f "$src" ] || continue
	while read -r _ type name; do
		case "$type" in T) ;; *) continue ;; esac
		case "$ALLOW" in *" $name "*) continue ;; esac
		if awk -F'\t' -v n="$name" -v o="$o" '$1 == n && $2 != o {f=1} END {exit !f}' \
			"$tmp/refs"; then
			continue
		fi
		uses=$(grep -cw -- "$name" "$src")
		if [ "$uses" -le 1 ]; then
			echo "unused: $name ($src)"
		else
			echo "file-local: $name ($src): only $src calls it; make it static"
		fi
		bad=1
	done < <(nm --defined-only -g "$o")
	while read -r _ type name; do
		case "$ALLOW_WEAK" in *" $name "*) continue ;; esac
		case "$type" in w|W|v|V) echo "weak: $name ($src)"; bad=1 ;; esac
	done < <(nm "$o" | awk 'NF == 3 || NF == 2 {print (NF == 2 ? "- " $0 : $0)}')
done
exit $bad
