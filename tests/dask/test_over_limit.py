#!/usr/bin/python3
"""tests/dask/test_over_limit.py — test_five_times.py's checks (the
kernel cannot load the file whole: MemoryError; profile; a `daa ask`
answer equal to pandas outside daa; peak RSS under the limit) on a CSV 1.5 ×
the kernel's real memory limit (416 MiB), fast enough for `make test`;
the five-times file is `make check`'s (daa-test-slow).  Not less: at 1.2 ×
(500 MiB) pandas read the whole file in this kernel (1,220,000 rows;
tried in session 19), so "cannot load it" no longer held.  The file is
written once per build tree (bigdata.shared_big).

The same checks through a Dask cluster are test_five_times_cluster.py's
(`make check`); `make test` had them at 2 x a 312 MiB kernel on this file
too (test_over_limit_cluster.py, 35-55 s of CPU) until session 19, which
left them to `make check`: each part is still in `make test` (the cluster
answering and interrupted, and its progress: test_cluster.py with
cluster_progress.py; a file over the kernel's limit: this test).

One question of test_five_times.py's three: "total amount per month" (the
date conventions; a per-day group-by in Dask, resampled in pandas).  The
other two are a group-by mean and a group-by sum with a top N: the same
shape over the file (a reduction per block, one small result), so their
memory on a file over the limit is this one's; their Dask code's numbers
against pandas are test_out_of_core.py's (13 blocks) and
tests/analyst/test_dask.py's, and over the limit test_five_times.py's
(`make check`).  Each question is a pass over 628 MiB, about 9 s of CPU
(the group-by mean was asked here too until session 26)."""
# daa-test-timeout: 900
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_five_times  # noqa: E402

FACTOR = 1.5
SIZE = test_five_times.file_bytes(FACTOR, test_five_times.LIMIT_MB)

if __name__ == "__main__":
    sys.exit(test_five_times.main(FACTOR, size=SIZE, asks=(test_five_times.ask_sum_by_month,)))
