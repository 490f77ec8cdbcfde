#!/usr/bin/python3
"""tests/dask/test_cluster_interrupt.py — `daa kernel interrupt` stops a
Dask computation running on a configured cluster (a real dask-scheduler
and two dask-worker processes on 127.0.0.1, as test_cluster.py): the step
ends promptly with KeyboardInterrupt while most of its tasks are still to
run, the cluster drops the computation's tasks (the scheduler holds none a
few seconds later and the workers start no new ones) — whether the step
waited in .compute() or on a future it kept in a variable (cancelled by the
runtime) — and the kernel keeps its namespace and computes on the cluster
again."""
# daa-test-timeout: 600
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, close, skip_unless_built  # noqa: E402
import test_cluster  # noqa: E402  (skips without python3-distributed)

MARKS = os.path.join(dasklib.TMP, "marks")
SLOW = r'''
import os, time
def slow(part, marks=%r):
    open(os.path.join(marks, "part-%%d-%%f" %% (os.getpid(), time.time())), "w").close()
    time.sleep(1)
    return part
o = dfs['orders']
total = o.map_partitions(slow, meta=o._meta).amount.sum()   # meta: slow() never runs in the kernel
''' % MARKS
# two ways to wait for the cluster: .compute() (which releases its futures
# when interrupted), and a future kept in a variable (which the runtime
# cancels: daakernel/outofcore.py ooc_cancel_since)
WAYS = {"compute()": "total.compute()",
        "a kept future": "from distributed import default_client\n"
                         "fut = default_client().compute(total)\nfut.result()"}


def tasks(client):
    """How many tasks the scheduler holds."""
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def marks():
    return len(os.listdir(MARKS))


def interrupt(s, client, code, how, parts):
    """Run code on the cluster, interrupt it once tasks run; check the step
    stops at once and the cluster drops its tasks."""
    for f in os.listdir(MARKS):
        os.unlink(os.path.join(MARKS, f))
    proc = s.popen("-p", s.project, "run", code)
    test_cluster.wait(lambda: marks() >= 2 or proc.poll() is not None, "tasks on the workers")
    assert proc.poll() is None, proc.communicate()
    t0 = time.monotonic()
    s.daa("-p", s.project, "kernel", "interrupt")
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - t0
    assert proc.returncode == 1 and "KeyboardInterrupt" in out + err, (out, err)
    assert took < 5, took
    if how == "a kept future":
        assert "were cancelled" in out + err, (out, err)   # the runtime's note
    print("ok - %s: the step on the cluster stopped %.2f s after kernel.interrupt with "
          "KeyboardInterrupt" % (how, took))
    test_cluster.wait(lambda: tasks(client) == 0, "the scheduler to drop the tasks", 30)
    time.sleep(1)   # a message to a worker in flight
    settled = marks()   # tasks started (a mark as each starts)
    time.sleep(3)   # a worker still given tasks would have started more by now
    assert marks() == settled < parts, (how, marks(), settled, parts)
    print("ok - %s: the cluster dropped the computation: no task left on the scheduler, "
          "%d of %d partitions ran, none started after" % (how, settled, parts))


def main():
    skip_unless_built()
    path = dasklib.make_orders()
    ref = dasklib.pandas_in_chunks(path)
    os.makedirs(MARKS)
    procs, client = [], None
    try:
        addr, procs, client = test_cluster.cluster()
        with Session(config=dasklib.config(dask_scheduler=addr)) as s:
            dasklib.project_with_orders(s, path)
            r, p = s.run_json("kept = dfs['orders'].npartitions; kept", timeout=300)
            assert r and r["ok"], p.stdout + p.stderr
            parts = int(r["result"]["repr"])
            assert parts >= 20, parts   # at 1 s a task on 2 workers: >= 10 s to finish
            for how, wait in WAYS.items():
                interrupt(s, client, SLOW + wait, how, parts)
            code = ("import json\nfrom distributed import default_client\n"
                    "print(json.dumps({'kept': kept, 'client': default_client().scheduler.address,"
                    " 'units': float(dfs['orders'].units.sum().compute())}))")
            r, p = s.run_json(code, timeout=300)
            assert r and r["ok"], p.stdout + p.stderr
            got = json.loads(r["stdout"].strip().splitlines()[-1])
            assert got["kept"] == parts and got["client"] == addr, got
            assert close(got["units"], ref["units"]), (got, ref["units"])
            print("ok - the kernel keeps its namespace and computes on the cluster again")
            assert s.alive()
    finally:
        if client is not None:
            client.close()
        test_cluster.stop(procs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
