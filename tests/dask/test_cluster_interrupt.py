#!/usr/bin/python3
"""tests/dask/test_cluster_interrupt.py — `daa kernel interrupt` stops a
Dask computation running on a configured cluster (a real dask-scheduler
and two dask-worker processes on 127.0.0.1, as test_cluster.py): the step
ends with KeyboardInterrupt while most of its tasks are still to run, the
cluster drops the computation's tasks (the scheduler and then the workers
hold none; fewer tasks than partitions ever started) — whether the step
waited in .compute(), on a future it kept in a variable, with a timeout
(`.result(timeout=)`, `wait(timeout=)`), in a `for` over `as_completed`
or in `client.gather` (the runtime cancels the futures of the step: a note
says so) — and the kernel keeps its namespace and computes on the cluster
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
# ways to wait for the cluster: .compute() (which releases its futures
# when interrupted), and futures kept in variables (which the runtime
# cancels: daakernel/outofcore.py ooc_cancel_since)
KEPT = ("from distributed import as_completed, default_client, wait\n"
        "client = default_client()\n")
WAYS = {"compute()": "total.compute()",
        "a kept future": KEPT + "fut = client.compute(total)\nfut.result()",
        "result(timeout=)": KEPT + "fut = client.compute(total)\nfut.result(timeout=600)",
        "wait(timeout=)": KEPT + "fut = client.compute(total)\nwait(fut, timeout=600)",
        "as_completed": KEPT + "fs = client.compute([d.sum() for d in "
                        "o.map_partitions(slow, meta=o._meta).amount.to_delayed()])\n"
                        "for f in as_completed(fs):\n    pass",
        "client.gather": KEPT + "client.gather(client.compute([total]))"}


def tasks(client):
    """How many tasks the scheduler holds."""
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def worker_tasks(client):
    """How many tasks the workers hold (a cancelled one that is running
    stays until it returns)."""
    return sum(client.run(lambda dask_worker: len(dask_worker.state.tasks)).values())


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
    if how != "compute()":
        assert "were cancelled" in out + err, (out, err)   # the runtime's note
    print("ok - %s: the step on the cluster stopped (%.2f s after kernel.interrupt) with "
          "KeyboardInterrupt%s" % (how, took, "" if how == "compute()" else ", futures cancelled"))
    test_cluster.wait(lambda: tasks(client) == 0, "the scheduler to drop the tasks", 60)
    test_cluster.wait(lambda: worker_tasks(client) == 0, "the workers to drop the tasks", 60)
    settled = marks()   # tasks started (a mark as each starts); none can start now
    assert settled < parts, (how, settled, parts)
    print("ok - %s: the cluster dropped the computation: no task left on the scheduler or "
          "the workers, %d of %d partitions ran" % (how, settled, parts))


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
