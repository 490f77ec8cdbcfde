#!/usr/bin/python3
"""tests/dask/test_cluster_progress.py — progress of Dask work on a
configured cluster (a real dask-scheduler + two dask-workers on 127.0.0.1,
test_cluster.cluster(), stopped after): a `run` whose .compute() runs on
the cluster (one slow task per partition; the scheduler's transition count
shows it ran there) gets history.event {kind: "run_progress"} notes with
one total (at least a task per partition), done rising, some strictly
between 0 and total (counted from the scheduler's task states, not made
up at the end) and a last one with done == total; the result equals
pandas in chunks; `daa run` to a pipe
prints a plain progress line."""
# daa-test-timeout: 600
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, close, skip_unless_built  # noqa: E402
import test_cluster  # noqa: E402  (skips without python3-distributed)
from test_progress import run_with_notes  # noqa: E402

SLOW = r'''
import time
def slow(part):
    time.sleep(0.1)
    return part
o = dfs['orders']
o.map_partitions(slow, meta=o._meta).amount.sum().compute()   # meta: slow() never runs here
'''


def transitions(client):
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def main():
    skip_unless_built()
    path = dasklib.make_orders()
    ref = dasklib.pandas_in_chunks(path)
    procs, client = [], None
    try:
        addr, procs, client = test_cluster.cluster()
        with Session(config=dasklib.config(dask_scheduler=addr)) as s:
            dasklib.project_with_orders(s, path)
            r, notes = run_with_notes(s, "dfs['orders'].npartitions")
            assert r["ok"], r
            parts = int(r["result"]["repr"])
            assert parts >= 10, parts
            r, notes = run_with_notes(s, "dfs['orders'].units.sum().compute()")   # warms up
            assert r["ok"] and int(float(r["result"]["repr"])) == ref["units"], r
            before = transitions(client)
            r, notes = run_with_notes(s, SLOW)
            assert r["ok"], r
            assert close(float(r["result"]["repr"]), sum(ref["sum_by_region"].values())), r
            assert transitions(client) - before >= 2 * parts, "not computed on the cluster"
            assert len(notes) >= 2, notes
            totals = {n["total"] for n in notes}
            assert len(totals) == 1 and min(totals) >= parts, notes
            dones = [n["done"] for n in notes]
            total = notes[-1]["total"]
            assert dones == sorted(dones) and all(0 <= d <= total for d in dones), notes
            assert dones[-1] == total, notes
            assert any(0 < d < total for d in dones), notes
            print("ok - a %d-partition computation on the cluster reported %d progress events, "
                  "done rising to total (%d tasks): %s" % (parts, len(notes), total, dones))
            p = s.daa("-p", s.project, "run", "--scratch", SLOW, timeout=300)
            lines = [ln for ln in p.stderr.splitlines() if ln.startswith("progress: ")]
            assert lines and lines[0].endswith("/%d tasks)" % total), (p.stderr, lines)
            print("ok - daa run to a pipe: %s" % lines[0])
            assert s.alive()
    finally:
        if client is not None:
            client.close()
        test_cluster.stop(procs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
