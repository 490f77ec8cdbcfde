#!/bin/bash
# bench/suite/run.sh — `make test`'s wall and CPU time (issue #16's figure)
# beside a fixed workload timed just before and after it: six `import
# pandas` in /usr/bin/python3 (what a kernel start mostly is) and a plain
# Python loop.  On this VM the same imports took 2.6-3.4 s of CPU within
# one hour, so a suite time means little without the machine's speed at
# that moment.  Usage: bench/suite/run.sh [RUNS] (default 1).  Not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-1}
PY=${DAA_PYTHON:-/usr/bin/python3}

calibrate() {
	"$PY" - "$PY" <<'PYEOF'
import resource, subprocess, sys, time
before = resource.getrusage(resource.RUSAGE_CHILDREN)
for _ in range(6):
    subprocess.run([sys.argv[1], "-I", "-c", "import pandas"], check=True)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
imports = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
start, total = time.process_time(), 0
for i in range(3000000):
    total += i * i % 7
print("%.2f s (6 pandas imports), %.2f s (loop)" % (imports, time.process_time() - start))
PYEOF
}

make -s >/dev/null
for run in $(seq 1 "$RUNS"); do
	before=$(calibrate)
	log=$(mktemp /tmp/daa-suite.XXXXXX)
	make test >"$log" 2>&1 || echo "run $run: make test failed (log: $log)"
	summary=$(tail -n 1 "$log")
	after=$(calibrate)
	echo "run $run: $summary"
	echo "        machine before: $before; after: $after"
	case "$summary" in *" 0 failed"*) rm -f "$log" ;; esac
done
