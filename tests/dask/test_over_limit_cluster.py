#!/usr/bin/python3
"""tests/dask/test_over_limit_cluster.py — test_five_times_cluster.py's
checks (a real local cluster started here: scheduler + two workers; the
kernel cannot load the file whole; profile; a `daa ask` answer equal to
pandas outside daa; work seen on the scheduler; other ports refused from the
kernel; peak RSS under the limit) on a CSV 2 × the kernel's real memory
limit, fast enough for `make test`; the five-times file is `make check`'s
(daa-test-slow).

The file is test_over_limit.py's (1.5 × 416 MiB, written once per build
tree: bigdata.shared_big) and this kernel's limit 312 MiB, so the file is 2
× it.  2 ×, not 1.5 ×: since the kernel's warm-up stopped importing sklearn
and scipy, pandas reads a file 1.5 × its limit whole on this cluster set-up
(the workers do the work; the kernel holds less), so "the kernel cannot
load it" no longer held.  312 MiB and not 416 with a file of its own (832
MiB): the same proof over a quarter fewer bytes read five times; the
kernel here only sends graphs and receives results (peak RSS 161 MiB).

One question, not three: what this test adds to test_over_limit.py (which
asks all three of the same file) is that the work runs on the cluster; the
three through the cluster, at 5 ×, are test_five_times_cluster.py's (`make
check`).  Each question is a pass over 628 MiB."""
# daa-test-timeout: 900
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_five_times  # noqa: E402
import test_five_times_cluster  # noqa: E402
import test_over_limit  # noqa: E402

if __name__ == "__main__":
    sys.exit(test_five_times_cluster.main(factor=2, limit_mb=312, size=test_over_limit.SIZE,
                                          asks=(test_five_times.ask_mean_by_region,)))
