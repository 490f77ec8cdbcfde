#!/usr/bin/python3
"""tests/dask/test_over_limit_cluster.py — test_five_times_cluster.py's
checks (a real local cluster started here: scheduler + two workers; the
kernel cannot load the file whole; profile; three `daa ask` answers equal
pandas outside daa; work seen on the scheduler; other ports refused from the
kernel; peak RSS under the limit) on a CSV 1.5 × the kernel's real memory
limit (416 MiB), fast enough for `make test` (about 50 s on a quiet 2-core
machine, 100 s on a busy one); the five-times file is `make check`'s
(daa-test-slow)."""
# daa-test-timeout: 900
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_five_times  # noqa: E402
import test_five_times_cluster  # noqa: E402

if __name__ == "__main__":
    test_five_times.FACTOR = 1.5
    sys.exit(test_five_times_cluster.main())
