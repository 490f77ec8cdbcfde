#!/bin/sh
# tests/integration/test_layering_daemon.sh — tools/check_layering.sh fails
# on what it must refuse inside daemon/: an include up the folder order, a
# folder's internal header included from another folder, a source outside
# the folders, a circle written into the order.  Each on a copy of daemon/ (the real tree is checked by
# test_layering.sh), built objects left out.
ROOT=${DAA_ROOT:-$(dirname "$0")/../..}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect NAME PATTERN: the check on the copy fails and prints PATTERN.
expect() {
	out=$(cd "$tmp/t" && BUILD=none ./tools/check_layering.sh 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q -- "$2"; then
		echo "ok - $1"
	else
		echo "not ok - $1 (rc $rc):"
		printf '%s\n' "$out"
		fails=1
	fi
}

# fresh: a copy of what the check reads; the copy itself must pass.
fresh() {
	rm -rf "$tmp/t"
	mkdir -p "$tmp/t/tools"
	cp "$ROOT/tools/check_layering.sh" "$tmp/t/tools/"
	(cd "$ROOT" && tar cf - --exclude=daemon/analyst daemon) | (cd "$tmp/t" && tar xf -)
}

fresh
if (cd "$tmp/t" && BUILD=none ./tools/check_layering.sh >/dev/null); then
	echo "ok - the copy passes"
else
	echo "not ok - the unchanged copy fails"
	fails=1
fi

# add_include FILE HEADER: one more include line after the file's first one.
add_include() {
	sed -i "0,/^#include \"daemon/s||#include \"$2\"\\n&|" "$tmp/t/$1"
}

fresh
add_include daemon/kernel/kern.c daemon/history/history.h
expect "kernel/ including history/ (up the order)" \
	"daemon/kernel/kern.c:.*daemon/kernel/ must not include daemon/history/"

fresh
add_include daemon/history/history_undo.c daemon/kernel/kern_int.h
expect "history/ including kernel/'s internal header" \
	"kern_int.h is internal to daemon/kernel/"

fresh
add_include daemon/core/log.c daemon/project/project.h
expect "core/ including anything above it" "daemon/core/ must not include daemon/project/"

fresh
echo 'int x;' >"$tmp/t/daemon/stray.c"
expect "a source outside the folders" "daemon/stray.c: only main.c"

fresh
mkdir "$tmp/t/daemon/misc" && echo 'int y;' >"$tmp/t/daemon/misc/y.c"
expect "a folder the order does not list" "daemon/misc/ is not in DAEMON_DEPS"

fresh
sed -i 's/^\t"core:"$/\t"core:kernel"/' "$tmp/t/tools/check_layering.sh"
expect "a circle in the order itself" "core depends on kernel, not listed before it"

exit $fails
