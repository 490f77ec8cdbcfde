"""tests/dask/cluster_progress.py — progress of Dask work on a configured
cluster: checks test_cluster.py runs on its cluster (a real dask-scheduler
+ two dask-workers on 127.0.0.1) after its own, with a daemon and kernel of
their own (a 4 MiB memory budget: fewer, larger blocks).  One cluster for
both saves starting a second one (about 5 s of CPU).

A `run` whose .compute() runs on the cluster (one slow task per partition;
the scheduler's transition count shows it ran there) gets history.event
{kind: "run_progress"} notes with one total (at least a task per
partition), done rising, some strictly between 0 and total (counted from
the scheduler's task states, not made up at the end) and a last one with
done == total; the result equals pandas in chunks; `daa run` to a pipe
prints a plain progress line.

Work the user waits on himself: `client.compute(x)` then `.result()` (in
the same step and in a later one) or `.result(timeout=...)`,
`client.persist(x)` + `wait` or `wait(timeout=...)`, `x.persist()` +
`distributed.progress`, `dask.persist(x)` + `wait`, `client.gather` of
`client.compute` futures, a `for` over `as_completed` of a future per
partition.  Each gets notes like a `.compute()` (the same checks) and the
result is right.  A step that only submits (client.compute kept in a
variable) reports nothing; a timeout that passes (the tasks held back)
still raises TimeoutError from `.result(timeout=)` and `wait(timeout=)`,
and the future still computes after."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, close  # noqa: E402
from test_progress import run_with_notes  # noqa: E402

SETUP = r'''
import time, dask
from distributed import as_completed, default_client, progress, wait
def slow(part):
    time.sleep(0.1)
    return part
def fresh(i):
    """A new graph each time (the cluster keeps what an earlier one persisted)."""
    o = dfs['orders']
    return o.map_partitions(slow, meta=o._meta, token="slow-%d" % i)   # meta: slow() never runs here
parts = fresh(0).npartitions
client = default_client()
parts
'''
# (what, code whose value is the sum of amount); each waits on the cluster itself
WAITS = [
    ("client.compute + .result()", "f = client.compute(fresh(1).amount.sum())\nf.result()"),
    ("client.persist + wait", "p = client.persist(fresh(2))\nwait(p)\np.amount.sum().compute()"),
    ("persist() + progress()", "p = fresh(3).persist()\nprogress(p)\np.amount.sum().compute()"),
    ("dask.persist + wait", "(p,) = dask.persist(fresh(4).amount.sum())\nwait(p)\np.compute()"),
    ("client.gather(client.compute([...]))",
     "client.gather(client.compute([fresh(5).amount.sum()]))[0]"),
    ("client.compute + .result(timeout=)",
     "f = client.compute(fresh(6).amount.sum())\nf.result(timeout=600)"),
    ("client.persist + wait(timeout=)",
     "p = client.persist(fresh(8))\nwait(p, timeout=600)\np.amount.sum().compute()"),
    ("for f in as_completed(a future per partition)",
     "fs = client.compute([d.sum() for d in fresh(9).amount.to_delayed()])\n"
     "sum(f.result() for f in as_completed(fs))"),
]


def check_notes(what, notes, parts):
    """One computation's notes: one total >= parts, done rising to it, some
    strictly between."""
    assert len(notes) >= 2, (what, notes)
    totals = {n["total"] for n in notes}
    assert len(totals) == 1 and min(totals) >= parts, (what, notes)
    total = notes[-1]["total"]
    dones = [n["done"] for n in notes]
    assert dones == sorted(dones) and all(0 <= d <= total for d in dones), (what, notes)
    assert dones[-1] == total and any(0 < d < total for d in dones), (what, notes)
    return dones


SLOW = r'''
o = dfs['orders']
o.map_partitions(slow, meta=o._meta).amount.sum().compute()   # meta: slow() never runs here
'''


def transitions(client):
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def check_compute(s, client, parts, ref):
    """A .compute() on the cluster: progress notes, the right sum, the work
    seen on the scheduler; `daa run` to a pipe prints a progress line."""
    r, notes = run_with_notes(s, "dfs['orders'].units.sum().compute()")   # warms up
    assert r["ok"] and int(float(r["result"]["repr"])) == ref["units"], r
    before = transitions(client)
    r, notes = run_with_notes(s, SLOW)
    assert r["ok"], r
    assert close(float(r["result"]["repr"]), sum(ref["sum_by_region"].values())), r
    assert transitions(client) - before >= 2 * parts, "not computed on the cluster"
    dones = check_notes(".compute()", notes, parts)
    total = notes[-1]["total"]
    print("ok - a %d-partition computation on the cluster reported %d progress events, "
          "done rising to total (%d tasks): %s" % (parts, len(notes), total, dones))
    p = s.daa("-p", s.project, "run", "--scratch", SLOW, timeout=300)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("progress: ")]
    assert lines and lines[0].endswith("/%d tasks)" % total), (p.stderr, lines)
    print("ok - daa run to a pipe: %s" % lines[0])


def check_waits(s, parts, amount):
    for what, code in WAITS:
        r, notes = run_with_notes(s, code)
        assert r["ok"], (what, r)
        assert close(float(r["result"]["repr"]), amount), (what, r)
        # the wait reports; a later .compute() of the persisted data is
        # quick (nothing for < 0.25 s) or reports its own computation
        first = [n for n in notes if n["total"] == notes[0]["total"]] if notes else []
        dones = check_notes(what, first, parts)
        print("ok - %s on the cluster: %d progress events, done rising to total (%d tasks): %s"
              % (what, len(first), first[-1]["total"], dones))
        if what == "persist() + progress()":
            assert "100% Completed" in r.get("stdout", ""), r   # distributed's own bar still drawn


LATER = r'''
import os
gate = os.path.abspath("outputs/gate")   # the project's: the workers see it too
def gated(part, gate=gate):
    while not os.path.exists(gate):   # the tasks wait for the next step
        time.sleep(0.05)
    return slow(part)
o = dfs['orders']
f = client.compute(o.map_partitions(gated, meta=o._meta).amount.sum())
f.key
'''


def check_later_step(s, parts, amount):
    """Submitted in one step (nothing to report), waited on in the next
    (its tasks held until then, so the work is seen whatever the load)."""
    r, notes = run_with_notes(s, LATER)
    assert r["ok"] and notes == [], (r, notes)
    r, notes = run_with_notes(s, "open(gate, 'w').close()\nf.result()")
    assert r["ok"] and close(float(r["result"]["repr"]), amount), r
    dones = check_notes("a future from an earlier step", notes, parts)
    print("ok - client.compute in one step, .result() in the next: %d events, done rising "
          "to total (%d tasks): %s" % (len(notes), notes[-1]["total"], dones))
    r, notes = run_with_notes(s, TIMEOUTS)
    assert r["ok"] and r["result"]["repr"] == "(['TimeoutError', 'TimeoutError'], 'pending')", r
    print("ok - a timeout that passes (tasks held back): .result(timeout=) and wait(timeout=) "
          "still raise TimeoutError, the future still pending")
    r, notes = run_with_notes(s, "open(gate2, 'w').close()\nf2.result()")
    assert r["ok"] and close(float(r["result"]["repr"]), amount), r
    print("ok - ... and it computes once its tasks may run")


TIMEOUTS = r'''
import distributed
gate2 = gate + "2"
f2 = client.compute(o.map_partitions(gated, gate=gate2, meta=o._meta).amount.sum())
got = []
for w in (lambda: f2.result(timeout=0.5), lambda: wait(f2, timeout=0.5)):
    try:
        w()
        got.append("returned")
    except distributed.TimeoutError:
        got.append("TimeoutError")
got, f2.status
'''


def check_all(addr, client, path, ref):
    """Every check above, through a daemon of their own on the cluster at
    addr (client: this process's client of it); path: the orders file
    test_cluster.py made, ref: pandas' answers on it."""
    amount = sum(ref["sum_by_region"].values())
    # 4 MiB, not the suite's 1: blocks of 200 KiB, about 15 partitions
    # instead of 47 (each waits 0.1 s in slow()): still several notes
    # strictly between 0 and total, for less CPU and wall time
    with Session(config=dasklib.config(dask_scheduler=addr, memory_budget_mb=4)) as s:
        dasklib.project_with_orders(s, path)
        r, notes = run_with_notes(s, SETUP)
        assert r["ok"], r
        parts = int(r["result"]["repr"])
        assert parts >= 10, parts
        check_compute(s, client, parts, ref)
        check_waits(s, parts, amount)
        check_later_step(s, parts, amount)
        assert s.alive()
