#!/bin/bash
# tools/check_layering.sh — `make layering`: the dependency directions of
# DESIGN.md's layout table, checked on #include lines and on the objects
# each program links:
#   protocol/  → msgpack only (no daemon/, client/, sandbox/ headers)
#   sandbox/   → libseccomp, libcap only (no protocol/, daemon/, client/)
#   client/    → protocol only (no daemon/, sandbox/)
#   daemon/    → protocol, sandbox (never client/)
# and inside daemon/, between its folders (README.md "Contributing"), as
# DAEMON_DEPS below says:
#   core ← llm, project;  project ← kernel ← history, profiler;
#   llm, history, profiler ← agent;  kernel ← server;  agent, server ← rpc ← main.c
# A folder includes only the public headers (DAEMON_PUBLIC) of folders it
# may depend on, never another folder's internal header, and (when built)
# its objects call nothing defined in a folder it may not depend on.  No
# circles: DAEMON_DEPS lists each folder after all it depends on.
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

# ---- inside daemon/: its folders ----
# FOLDER:what it may depend on, each folder listed after all of those ("."
# is daemon/ itself, where only main.c lives).
DAEMON_DEPS=(
	"core:"
	"llm:core"
	"project:core"
	"kernel:core project"
	"history:core project kernel"
	"profiler:core project kernel"
	"agent:core llm project kernel history profiler"
	"server:core project kernel"
	"rpc:core project kernel history profiler agent server"
	".:core llm project kernel history profiler agent server rpc"
)
# FOLDER:the headers other folders may include ("*": every header but the
# *_int.h ones).  core/ is a toolbox of small modules, one header each;
# project/ is the per-project layer: the handle and the services every
# subsystem above uses (its work queue, its subscribers, step names, the
# history list cache).  The other folders have one public header.
DAEMON_PUBLIC=(
	"core:*"
	"llm:llm.h"
	"project:project.h workq.h publish.h history_name.h history_index.h"
	"kernel:kernel.h kern_result.h"
	"history:history.h"
	"profiler:profiler.h"
	"agent:agent.h"
	"server:server.h"
	"rpc:"
)
# Known exceptions, FILE:HEADER (none today; " a/x.c:b/y_int.h " each).
DAEMON_EXCEPT=" "
# Functions called against the order on purpose, " name " each (none today:
# the reply functions are core's, the server provides their transport).
DAEMON_UPCALLS=" "

declare -A deps public
# Listed after all it depends on, so the table itself has no circle.
for e in "${DAEMON_DEPS[@]}"; do
	for u in ${e#*:}; do
		[ -n "${deps[$u]+x}" ] && continue
		echo "layering: DAEMON_DEPS: ${e%%:*} depends on $u, not listed before it (a circle?)"
		bad=1
	done
	deps[${e%%:*}]=" ${e#*:} "
done
for e in "${DAEMON_PUBLIC[@]}"; do public[${e%%:*}]=" ${e#*:} "; done

# folder_of PATH: the folder of a path under daemon/ into $folder ("." for
# daemon/main.c); no subshell, this runs for every include and object.
folder_of() {
	local rel=${1#daemon/}
	case "$rel" in */*) folder=${rel%%/*} ;; *) folder=. ;; esac
}

# May folder $1 depend on folder $2?
may_use() {
	[ "$1" = "$2" ] || [[ "${deps[$1]:- }" == *" $2 "* ]]
}

# Every source in a listed folder; main.c alone at the top.
while IFS= read -r f; do
	folder_of "$f"; d=$folder
	if [ -z "${deps[$d]+x}" ]; then
		echo "layering: $f: daemon/$d/ is not in DAEMON_DEPS (tools/check_layering.sh)"
		bad=1
	elif [ "$d" = . ] && [ "$f" != daemon/main.c ]; then
		echo "layering: $f: only main.c lives in daemon/ itself; put it in a folder"
		bad=1
	fi
done < <(find daemon -path daemon/analyst -prune -o \( -name '*.c' -o -name '*.h' \) -print 2>/dev/null | sort)

# Includes: only folders it may depend on, only their public headers.
while IFS=: read -r f line inc; do
	folder_of "$f"; d=$folder
	target=${inc#daemon/}
	case "$target" in
	*/*) ;;
	*) echo "layering: $f:$line: \"$inc\" is in no folder"; bad=1; continue ;;
	esac
	t=${target%%/*} h=${target#*/}
	[ "$t" = "$d" ] && continue
	case "$DAEMON_EXCEPT" in *" ${f#daemon/}:$target "*) continue ;; esac
	if [ -z "${deps[$t]+x}" ]; then
		echo "layering: $f:$line: $inc: daemon/$t/ is not in DAEMON_DEPS"
		bad=1
	elif ! may_use "$d" "$t"; then
		echo "layering: $f:$line: daemon/$d/ must not include daemon/$t/ (it may use:${deps[$d]% })"
		bad=1
	elif [ "${public[$t]}" = " * " ]; then
		case "$h" in *_int.h) echo "layering: $f:$line: $inc is internal to daemon/$t/"; bad=1 ;; esac
	elif [[ "${public[$t]}" != *" $h "* ]]; then
		echo "layering: $f:$line: $inc is internal to daemon/$t/ (public:${public[$t]% })"
		bad=1
	fi
done < <(grep -rnoE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"daemon/[^"]+"' \
	--include='*.c' --include='*.h' daemon 2>/dev/null | sed -E 's/:[^:"]*"([^"]+)"$/:\1/')

# Calls, from the built objects (a declaration written by hand instead of
# an include would pass the check above): a daemon object calls nothing
# defined in a folder its own may not depend on.
if [ -d "$BUILD/obj/daemon" ]; then
	declare -A def_dir def_src
	objs=()
	while IFS= read -r o; do
		src=${o#"$BUILD/obj/"}
		[ -f "${src%.o}.c" ] && objs+=("$o") # else a stale object of a file that moved
	done < <(find "$BUILD/obj/daemon" -name '*.o' | sort)
	# nm -A, one run for all objects: "OBJECT:VALUE TYPE NAME" (defined),
	# "OBJECT: U NAME" (undefined).
	while read -r o type name; do
		case "$type" in [TDBRC]) ;; *) continue ;; esac
		src=${o%%:*}
		src=${src#"$BUILD/obj/"}
		src=${src%.o}.c
		folder_of "$src"
		def_dir[$name]=$folder
		def_src[$name]=$src
	done < <(nm -A --defined-only -g "${objs[@]}" 2>/dev/null)
	while read -r o _ name; do
		t=${def_dir[$name]:-}
		[ -n "$t" ] || continue
		src=${o%%:*}
		src=${src#"$BUILD/obj/"}
		src=${src%.o}.c
		folder_of "$src"
		may_use "$folder" "$t" && continue
		case "$DAEMON_UPCALLS" in *" $name "*) continue ;; esac
		echo "layering: $src calls $name (${def_src[$name]}): daemon/$folder/ must not depend on daemon/$t/"
		bad=1
	done < <(nm -A -u "${objs[@]}" 2>/dev/null)
fi

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
