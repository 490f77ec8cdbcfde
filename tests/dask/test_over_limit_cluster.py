#!/usr/bin/python3
"""tests/dask/test_over_limit_cluster.py — test_five_times_cluster.py's
checks (a real local cluster started here: scheduler + two workers; the
kernel cannot load the file whole; profile; three `daa ask` answers equal
pandas outside daa; work seen on the scheduler; other ports refused from the
kernel; peak RSS under the limit) on a CSV 2 × the kernel's real memory
limit (416 MiB), fast enough for `make test` (about 60 s on a quiet 2-core
machine, 120 s on a busy one); the five-times file is `make check`'s
(daa-test-slow).  2 ×, not 1.5 ×: since the kernel's warm-up stopped
importing sklearn and scipy (58 MiB less VmData) pandas reads a 1.5 × file
whole on this cluster set-up, so "the kernel cannot load it" no longer held."""
# daa-test-timeout: 900
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_five_times  # noqa: E402
import test_five_times_cluster  # noqa: E402

if __name__ == "__main__":
    test_five_times.FACTOR = 2
    sys.exit(test_five_times_cluster.main())
