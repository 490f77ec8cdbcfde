#!/bin/sh
# tests/fuzz/run.sh — run the libFuzzer targets of tests/fuzz/ one at a time
# under nice (make fuzz), or minimize what they found into the committed
# corpora (make fuzz-merge).
#   run.sh FUZZ_DIR SECONDS TARGET...        fuzz each target SECONDS seconds
#   run.sh --merge FUZZ_DIR 0 TARGET...      merge FUZZ_DIR/corpus/T into
#                                            tests/fuzz/corpus/T (minimized;
#                                            crash-* reproducers kept)
# New inputs go to FUZZ_DIR/corpus/T, crashes to FUZZ_DIR/artifacts/, logs
# to FUZZ_DIR/logs/T.log; a summary line per target is printed at the end.
set -u
cd "$(dirname "$0")/../.."
merge=0
[ "${1:-}" = "--merge" ] && { merge=1; shift; }
dir=$1 secs=$2
shift 2
status=0 summary=""
# the config/history/profile targets make their folders under TMPDIR
scratch=$(mktemp -d /tmp/daa-fuzz-run.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch
for t in "$@"; do
	bin=$dir/fuzz_$t seeds=tests/fuzz/corpus/$t work=$dir/corpus/$t
	mkdir -p "$work" "$seeds" "$dir/artifacts" "$dir/logs"
	case $t in
	png) maxlen=65536 ;;
	sse | llm_parse | profile) maxlen=16384 ;;
	*) maxlen=8192 ;;
	esac
	if [ $merge -eq 1 ]; then
		tmp=$(mktemp -d)
		"$bin" -merge=1 -max_len=$maxlen "$tmp" "$seeds" "$work" >"$dir/logs/$t.merge.log" 2>&1 ||
			{ echo "merge $t failed: see $dir/logs/$t.merge.log"; status=1; rm -rf "$tmp"; continue; }
		# (crash-* are named reproducers of fixed bugs: always kept)
		find "$seeds" -type f ! -name 'crash-*' -delete
		cp "$tmp"/* "$seeds"/ 2>/dev/null
		rm -rf "$tmp"
		echo "merge $t: $(ls "$seeds" | wc -l) inputs in $seeds"
		continue
	fi
	echo "fuzz $t for ${secs}s (log $dir/logs/$t.log)"
	start=$(date +%s)
	nice -n 19 "$bin" -max_total_time="$secs" -max_len=$maxlen -timeout=30 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$t-" \
		"$work" "$seeds" >"$dir/logs/$t.log" 2>&1
	rc=$?
	ran=$(($(date +%s) - start))
	log=$dir/logs/$t.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	line="$t: ${ran}s, ${execs:-?} execs, ${rate:-?}/s, corpus ${corp:-?}, cov ${cov:-?}, ft ${ft:-?}"
	if [ $rc -ne 0 ]; then
		line="$line, CRASH (exit $rc; $(ls "$dir/artifacts" | grep "^$t-" | tr '\n' ' '))"
		status=1
	fi
	summary="$summary$line
"
done
[ -n "$summary" ] && printf '\n%s' "$summary"
exit $status
