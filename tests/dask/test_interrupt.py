#!/usr/bin/python3
"""tests/dask/test_interrupt.py — `daa kernel interrupt` stops a Dask
computation on the threaded scheduler mid-way (partitions still pending),
the kernel keeps its namespace and the next computation works."""
# daa-test-timeout: 600
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402

SLOW = r'''
import time
def slow(part):
    open('outputs/dask_started', 'w').close()
    time.sleep(2)
    open('outputs/dask_part_%d' % id(part), 'w').close()
    return part
o = dfs['orders']
o.map_partitions(slow).amount.sum().compute()
'''


def wait_for(path, proc, limit=120):
    """Wait until path exists; a guard against hangs only."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        assert proc.poll() is None, "the run ended before its marker: %s" % (proc.communicate(),)
        assert time.monotonic() < deadline, "marker %s never appeared" % path
        time.sleep(0.05)


def main():
    skip_unless_built()
    path = dasklib.make_orders()
    with Session(config=dasklib.config()) as s:
        dasklib.project_with_orders(s, path)
        r, p = s.run_json("kept = dfs['orders'].npartitions; kept", timeout=300)
        assert r and r["ok"], p.stdout + p.stderr
        parts = int(r["result"]["repr"])
        assert parts >= 10, parts
        proc = s.popen("-p", s.project, "run", SLOW)
        wait_for(os.path.join(s.path, "outputs", "dask_started"), proc)
        s.daa("-p", s.project, "kernel", "interrupt")
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1 and "KeyboardInterrupt" in out + err, (out, err)
        done = [f for f in os.listdir(os.path.join(s.path, "outputs")) if f.startswith("dask_part_")]
        assert len(done) < parts, (len(done), parts)
        r, p = s.run_json("kept, float(dfs['orders'].units.sum().compute())", timeout=300)
        assert r and r["ok"], p.stdout + p.stderr
        ref = dasklib.pandas_in_chunks(path)
        assert r["result"]["repr"] == "(%d, %r)" % (parts, float(ref["units"])), r["result"]
        print("ok - interrupt stops a Dask computation after %d of %d partitions; the kernel "
              "keeps its namespace and computes again" % (len(done), parts))
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
