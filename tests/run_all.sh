#!/bin/bash
# tests/run_all.sh — runs every test suite, one process per test with a
# timeout, several tests at once, output shown only on failure (libuv / tmux
# habits).
#
# A suite is a folder tests/<suite>/ holding executables named test_* (shell
# or Python scripts) or a list of C test binaries built into
# $BUILD/tests/<suite>/test_*.  Each test exits 0 (pass), 77 (skip) or other
# (fail).  Usage: tests/run_all.sh [-j N] [suite...]
#
# -j N (or DAA_TEST_JOBS=N; default: the number of cores plus one) tests
# run at once: most tests wait part of their time (a daemon, a kernel or a
# cluster starting, a bounded wait), so with one slot per core the cores sat
# idle about a sixth of an idle 2-core run (351 s wall for 585 s of CPU); a
# model of the runner fed the tests' figures gave 344 s with 2 slots, 286 s
# with 3 and 282 with 4.  Plus up to DAA_TEST_LIGHT_JOBS (default 2; 0 with
# -j 1) light ones: tests
# whose last run took at most 1 s of CPU (most of them wait: timeouts,
# retries, a bounded wait in the sandbox), so a core does not sit idle
# while they hold a slot.  Every test makes its own temp dirs, sockets and
# ports, so they do not collide.  A script may say, in a line of its own:
#   # daa-test-timeout: SECONDS   a longer limit than DAA_TEST_TIMEOUT (300)
#   # daa-test-serial             one at a time among the tests marked so (the
#                                 tray's: one desktop at a time), alongside
#                                 the others; they start first, as a lane
#   # daa-test-alone              run alone, after the rest (nothing else at
#                                 the same time)
#   # daa-test-slow               minutes long (e.g. a dataset 5x the kernel's
#                                 memory): skipped unless DAA_TEST_SLOW=1,
#                                 which `make check` sets
# Tests start longest first by the durations of the last run kept in
# $BUILD/tests/durations, "WALL-SECONDS NAME CPU-SECONDS" a line (a test
# not there: tests/durations.seed; a test in neither starts last, in suite
# order, and is not light); a line per test is
# printed as it ends (its wall seconds and the CPU seconds, user+sys, of
# the test and every process it reaped), a failure's log after its line;
# the summary line (wall and CPU of the whole run) and the exit code (0
# only when nothing failed) come last.  A failed test's whole log is kept
# in $BUILD/tests/failed/ (until the next run).  Each test gets a TMPDIR of
# its own; a test that leaves anything there fails (exit 3).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
export DAA_ROOT=$ROOT DAA_BUILD=$ROOT/$BUILD
export DAA_PYTHON=${DAA_PYTHON:-/usr/bin/python3}
# one cache folder for every test's daemon (tests/lib/daad.py passes it on):
# the kernels' shared matplotlib font list (daemon/kernel/kern_fonts.c) is
# built once per build tree, not once per test, and never in the user's ~/.cache
export XDG_CACHE_HOME=$ROOT/$BUILD/tests/cache
mkdir -p "$XDG_CACHE_HOME"
TIMEOUT=${DAA_TEST_TIMEOUT:-300}
SLOW=${DAA_TEST_SLOW:-0}
JOBS=${DAA_TEST_JOBS:-$(( $(nproc 2>/dev/null || echo 1) + 1 ))}
LIGHT_JOBS=${DAA_TEST_LIGHT_JOBS:-}
LIGHT_CPU=1.0   # a test that took at most this many CPU seconds last time is light
suites=()
while [ $# -gt 0 ]; do
	case "$1" in
	-j) JOBS=$2; shift 2 ;;
	-j*) JOBS=${1#-j}; shift ;;
	*) suites+=("$1"); shift ;;
	esac
done
case "$JOBS" in ''|*[!0-9]*|0) echo "run_all.sh: bad job count '$JOBS'" >&2; exit 2 ;; esac
[ -n "$LIGHT_JOBS" ] || { [ "$JOBS" -gt 1 ] && LIGHT_JOBS=2 || LIGHT_JOBS=0; }
case "$LIGHT_JOBS" in ''|*[!0-9]*) echo "run_all.sh: bad light job count '$LIGHT_JOBS'" >&2; exit 2 ;; esac
if [ ${#suites[@]} -eq 0 ]; then
	for d in tests/*/; do suites+=("$(basename "$d")"); done
fi
DURATIONS=$BUILD/tests/durations
# the last run's figures first, then the committed ones (a fresh build, or
# a test the runs so far did not include)
ORDER=$(cat "$DURATIONS" tests/durations.seed 2>/dev/null)
logdir=$(mktemp -d /tmp/daa-tests.XXXXXX)
# the tests' own TMPDIRs (left_behind): a folder others may pass through
# (a test runs a client as another uid against a socket below it), not list
tmpbase=$(mktemp -d /tmp/daa-tmp.XXXXXX) && chmod 711 "$tmpbase" || exit 2
trap 'rm -rf "$logdir" "$tmpbase"' EXIT

# every test as "SECONDS-LAST-RUN KIND NAME PATH LIMIT SLOW", longest first
# (KIND: 0 any time, 1 serial, 2 alone, 3 light: any time, beside the -j
# others; LIMIT: its timeout in seconds; SLOW: 1 when marked slow).  One
# awk reads the last run's figures and every script's marker lines: a
# process or two per test here cost ~5 s of one core before the first test
# started.  A marker is a line starting "# daa-test-NAME", then nothing,
# blanks (yes) or ": N"; only scripts (first line "#!") are read for them.
list_tests() {
	local s t
	for s in "${suites[@]}"; do
		for t in "tests/$s"/test_* "$BUILD/tests/$s"/test_*; do
			[ -f "$t" ] && [ -x "$t" ] || continue
			case "$t" in *.d|*.o) continue ;; esac
			printf '%s/%s %s\n' "$s" "${t##*/}" "$t"
		done
	done | awk -v light="$LIGHT_CPU" -v timeout="$TIMEOUT" '
		function mark(line, key,   rest, a) {   # "" (no such marker), "yes" or N
			if (index(line, "# daa-test-" key) != 1) return ""
			rest = substr(line, length("# daa-test-" key) + 1)
			if (rest ~ /^:/) { sub(/^: */, "", rest); split(rest, a, /[^0-9]/); return a[1] }
			return (rest == "" || rest ~ /^[ \t]/) ? "yes" : ""
		}
		NR == FNR { if (!($2 in last)) { last[$2] = $1; cpu[$2] = $3 }; next }
		{
			name = $1; path = $2; serial = alone = slow = ""; own = ""
			if ((getline line < path) > 0 && line ~ /^#!/) {
				do {
					if (serial == "") serial = mark(line, "serial")
					if (alone == "") alone = mark(line, "alone")
					if (slow == "") slow = mark(line, "slow")
					if (own == "") own = mark(line, "timeout")
				} while ((getline line < path) > 0)
			}
			close(path)
			kind = serial != "" ? 1 : 0
			if (alone != "") kind = 2
			if (kind == 0 && cpu[name] ~ /^[0-9.]+$/ && cpu[name] + 0 <= light) kind = 3
			limit = (own ~ /^[0-9]+$/ && own + 0 > timeout) ? own : timeout
			print (name in last ? last[name] : 0), kind, name, path, limit, (slow != "" ? 1 : 0)
		}' <(printf '%s\n' "$ORDER") - | sort -s -k1,1nr
}

# A test runs with TMPDIR set to a folder of its own; what it leaves there
# (a temp dir it never removed) fails it, named in its log (exit 3).
left_behind() {
	local dir=$tmpbase/$1 left
	left=$(find "$dir" -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null)
	rm -rf "$dir"
	[ -n "$left" ] || return 1
	echo "run_all.sh: the test left in its temp dir (TMPDIR): $left" >>"$logdir/$1.log"
}

# run one test (NAME PATH LIMIT SLOW) in the background: its log, then
# "RC SECONDS LIMIT" in .rc
start_test() {
	local name=$1 t=$2 limit=$3 slow=$4 id=${1//\//_}
	(
		start=$(date +%s)
		if [ "$SLOW" != 1 ] && [ "$slow" = 1 ]; then
			echo "slow test (daa-test-slow): make check runs it, or DAA_TEST_SLOW=1" >"$logdir/$id.log"
			rc=77
		else
			mkdir "$tmpbase/$id"
			TMPDIR=$tmpbase/$id timeout -k 10 "$limit" env --default-signal=INT,QUIT \
				"$t" >"$logdir/$id.log" 2>&1 </dev/null
			rc=$?
			left_behind "$id" && [ "$rc" -eq 0 ] && rc=3
		fi
		times >"$logdir/$id.times"   # CPU of the test and the descendants it reaped
		echo "$rc $(( $(date +%s) - start )) $limit" >"$logdir/$id.rc"
	) &
	names[$!]=$name
}

# the user+sys CPU seconds of a finished test (bash `times`, children line)
cpu_of() {
	awk 'NR == 2 {
		n = 0
		for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }
		printf "%.1f", n
	}' "$logdir/$1.times" 2>/dev/null || echo 0
}

pass=0 fail=0 skip=0 failed=() cpu_total=0
declare -A names=() light=()   # running tests by pid; the light ones among them
lane=   # pid of the serial test running, if any
: >"$logdir/durations"

# A failed test's log: its TAP failures with their tracebacks first (a
# daemon's log dumped after them would push them out of the tail), then
# the last 60 lines; the whole log is kept in $BUILD/tests/failed/.
show_failure() {
	local log=$logdir/$1.log keep=$BUILD/tests/failed/$1.log
	if [ "$(wc -l <"$log")" -gt 60 ] && grep -q '^not ok' "$log"; then
		awk '/^not ok/ {n = 25} n > 0 {print; n--}' "$log" | sed 's/^/    | /'
		echo "    | ..."
	fi
	sed 's/^/    | /' "$log" | tail -n 60
	mkdir -p "$BUILD/tests/failed" && cp "$log" "$keep" && echo "    (whole log: $keep)"
}

# report a finished test (its name)
report() {
	local name=$1 id=${1//\//_} rc secs limit cpu
	read -r rc secs limit <"$logdir/$id.rc"
	cpu=$(cpu_of "$id")
	cpu_total=$(awk -v a="$cpu_total" -v b="${cpu:-0}" 'BEGIN {printf "%.1f", a + b}')
	echo "$secs $name ${cpu:-?}" >>"$logdir/durations"
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok   $name (${secs}s, ${cpu:-?} s CPU)"
	elif [ "$rc" -eq 77 ]; then
		skip=$((skip + 1)); echo "skip $name: $(tail -n 1 "$logdir/$id.log")"
	else
		fail=$((fail + 1)); failed+=("$name")
		[ "$rc" -eq 124 ] && echo "FAIL $name (timeout after ${limit}s)" || echo "FAIL $name (exit $rc, ${secs}s)"
		show_failure "$id"
	fi
}

# wait for any one running test and report it
reap_one() {
	local pid= p
	wait -n -p pid
	if [ -z "$pid" ]; then   # no child left to wait for: report what ended
		lane=
		for p in "${!names[@]}"; do
			[ -f "$logdir/${names[$p]//\//_}.rc" ] ||
				echo "125 0 $TIMEOUT" >"$logdir/${names[$p]//\//_}.rc"
			report "${names[$p]}"
			unset "names[$p]" "light[$p]"
		done
		return 0
	fi
	[ -n "${names[$pid]:-}" ] || return 0
	report "${names[$pid]}"
	unset "names[$pid]" "light[$pid]"
	[ "$pid" = "$lane" ] && lane=
	return 0
}

# run the "NAME PATH LIMIT SLOW" lines given, at most $1 at once
run_pool() {
	local max=$1 line
	shift
	for line in "$@"; do
		while [ ${#names[@]} -ge "$max" ]; do reap_one; done
		start_test ${line}
	done
	while [ ${#names[@]} -gt 0 ]; do reap_one; done
}

# the "NAME PATH LIMIT SLOW" lines of $2 (any-time tests), $3 (serial ones, at most
# one running: started first whenever the lane is free, since their chain
# is the longest) and $4 (light ones, in the LIGHT_JOBS slots beside the
# others or in a free one), at most $1 tests at once that are not light
run_lanes() {
	local max=$1 i=0 j=0 k=0 busy
	local -n any=$2 ser=$3 lit=$4
	while [ $i -lt ${#any[@]} ] || [ $j -lt ${#ser[@]} ] || [ $k -lt ${#lit[@]} ]; do
		busy=$(( ${#names[@]} - ${#light[@]} ))   # slots taken by tests that are not light
		if [ $busy -lt "$max" ] && [ -z "$lane" ] && [ $j -lt ${#ser[@]} ]; then
			start_test ${ser[$j]}
			lane=$!
			j=$((j + 1))
		elif [ $busy -lt "$max" ] && [ $i -lt ${#any[@]} ]; then
			start_test ${any[$i]}
			i=$((i + 1))
		elif [ $k -lt ${#lit[@]} ] && [ ${#names[@]} -lt $((max + LIGHT_JOBS)) ]; then
			start_test ${lit[$k]}
			light[$!]=1
			k=$((k + 1))
		else
			reap_one   # every slot is taken, or only serial tests are left: wait
		fi
	done
	while [ ${#names[@]} -gt 0 ]; do reap_one; done
}

run_start=$(date +%s)
rm -rf "$BUILD/tests/failed"
all=$(list_tests)
mapfile -t parallel < <(awk '$2 == 0 {print $3, $4, $5, $6}' <<<"$all")
mapfile -t serial < <(awk '$2 == 1 {print $3, $4, $5, $6}' <<<"$all")
mapfile -t alone < <(awk '$2 == 2 {print $3, $4, $5, $6}' <<<"$all")
mapfile -t lights < <(awk '$2 == 3 {print $3, $4, $5, $6}' <<<"$all")
run_lanes "$JOBS" parallel serial lights
run_pool 1 "${alone[@]}"

# keep the durations for the next run's order (other suites' lines stay)
if [ -d "$BUILD/tests" ]; then
	touch "$DURATIONS" 2>/dev/null &&
		awk 'NR == FNR {seen[$2] = 1; print; next} !($2 in seen)' "$logdir/durations" \
			"$DURATIONS" >"$logdir/durations.new" &&
		mv "$logdir/durations.new" "$DURATIONS"
fi
echo
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "$pass passed, $fail failed, $skip skipped; $(( $(date +%s) - run_start )) s wall, $cpu_total s CPU (user+sys of the tests)"
[ $fail -eq 0 ]
