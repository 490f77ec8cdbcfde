#!/usr/bin/python3
"""tests/dask/test_cluster.py — a real local Dask cluster (dask-scheduler and
two dask-worker processes on 127.0.0.1, started here and stopped after) and
a daad configured with {"compute": {"dask_scheduler": "tcp://127.0.0.1:PORT"}}:
`daa doctor` reports it reachable with two workers; a sandboxed kernel's
Dask computation runs on the cluster (the scheduler counts its tasks) with
the same answers as pandas in chunks; and from that kernel every other
connection is still refused: another TCP port on the same host (a listener
of this test, a worker's own port), UDP, AF_UNIX sockets, listen() and
bind().  Storage: the workers read the project's data/ by the same path
(one machine here).

Interrupt (same cluster and kernel): `daa kernel interrupt` stops a Dask
computation running on the cluster: the step ends with KeyboardInterrupt
while most of its tasks are still to run, the cluster drops the
computation's tasks (the scheduler and then the workers hold none; fewer
tasks than partitions ever started) — whether the step waited in
.compute(), on a future it kept in a variable, with a timeout
(`.result(timeout=)`, `wait(timeout=)`), in a `for` over `as_completed`
or in `client.gather` (the runtime cancels the futures of the step: a
note says so) — and the kernel keeps its namespace and computes on the
cluster again.

Then, on the same cluster, cluster_progress.py's checks (progress of the
work a step waits on there) with a daemon and kernel of their own."""
# daa-test-timeout: 600
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, close, skip_unless_built  # noqa: E402

try:
    from distributed import Client
except ImportError as e:
    print("skip: %s (python3-distributed)" % e)
    sys.exit(77)
import cluster_progress  # noqa: E402

PY = "/usr/bin/python3"


# The test cluster's housekeeping, made rarer: the workers' statistical
# profiler (a stack sample every 10 ms while tasks run), the event-loop
# health tick (20 ms), the system and memory monitors.  None of them bears
# on what the tests check (where work runs, answers, refused ports,
# interrupts); idle, the three processes used 10% of a core, now 2%.
QUIET = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
         "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "1s",
         "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "2s",
         "DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL": "1s"}


def start(args, log):
    """A cluster process in its own session (stopped with its group)."""
    return subprocess.Popen([PY] + args, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=dasklib.TMP,
                            env=dict(os.environ, **QUIET))


def stop(procs):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()


def wait(pred, what, limit=120):
    """Poll pred() until true; a guard against hangs only."""
    deadline = time.monotonic() + limit
    while True:
        got = pred()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.2)


def scheduler_address(log_path):
    with open(log_path, errors="replace") as f:
        m = re.search(r"Scheduler at:\s+(tcp://127\.0\.0\.1:\d+)", f.read())
    return m.group(1) if m else None


def cluster():
    """(address, processes): a scheduler and two workers, ready."""
    slog = open(os.path.join(dasklib.TMP, "scheduler.log"), "w")
    procs = [start(["/usr/bin/dask-scheduler", "--host", "127.0.0.1", "--port", "0",
                    "--no-dashboard"], slog)]
    addr = wait(lambda: scheduler_address(slog.name) or (procs[0].poll() is not None and "dead"),
                "the scheduler")
    assert addr != "dead", open(slog.name).read()
    for i in range(2):
        wlog = open(os.path.join(dasklib.TMP, "worker%d.log" % i), "w")
        procs.append(start(["/usr/bin/dask-worker", addr, "--nthreads", "1", "--no-nanny",
                            "--no-dashboard", "--host", "127.0.0.1", "--local-directory",
                            os.path.join(dasklib.TMP, "w%d" % i)], wlog))
    c = Client(addr, timeout="30s")
    wait(lambda: len(c.scheduler_info()["workers"]) == 2, "two workers")
    return addr, procs, c


ATTACK = r'''
import errno, socket
def try_(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def connect(port, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.connect((host, port))
    finally:
        s.close()
def listen():
    socket.socket().listen(1)
def bind():
    socket.socket().bind(("127.0.0.1", 0))
print(json.dumps({"scheduler": try_(lambda: connect(SCHED)), "other": try_(lambda: connect(OTHER)),
                  "worker": try_(lambda: connect(WORKER)),
                  "other6": try_(lambda: connect(OTHER, socket.AF_INET6, "::1")),
                  "udp": try_(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)),
                  "sctp": try_(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132)),
                  "unix": try_(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)),
                  "listen": try_(listen), "bind": try_(bind)}))
'''


# ---- interrupt -------------------------------------------------------------
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
    wait(lambda: marks() >= 2 or proc.poll() is not None, "tasks on the workers")
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
    wait(lambda: tasks(client) == 0, "the scheduler to drop the tasks", 60)
    wait(lambda: worker_tasks(client) == 0, "the workers to drop the tasks", 60)
    settled = marks()   # tasks started (a mark as each starts); none can start now
    assert settled < parts, (how, settled, parts)
    print("ok - %s: the cluster dropped the computation: no task left on the scheduler or "
          "the workers, %d of %d partitions ran" % (how, settled, parts))


def check_interrupts(s, client, addr, ref):
    """`daa kernel interrupt` in each way of waiting, then the kernel still
    holds its namespace and computes on the cluster."""
    os.makedirs(MARKS)
    r, p = s.run_json("kept = dfs['orders'].npartitions; kept", timeout=300)
    assert r and r["ok"], p.stdout + p.stderr
    parts = int(r["result"]["repr"])
    assert parts >= 20, parts   # at 1 s a task on 2 workers: >= 10 s to finish
    for how, code in WAYS.items():
        interrupt(s, client, SLOW + code, how, parts)
    code = ("import json\nfrom distributed import default_client\n"
            "print(json.dumps({'kept': kept, 'client': default_client().scheduler.address,"
            " 'units': float(dfs['orders'].units.sum().compute())}))")
    r, p = s.run_json(code, timeout=300)
    assert r and r["ok"], p.stdout + p.stderr
    got = json.loads(r["stdout"].strip().splitlines()[-1])
    assert got["kept"] == parts and got["client"] == addr, got
    assert close(got["units"], ref["units"]), (got, ref["units"])
    print("ok - the kernel keeps its namespace and computes on the cluster again")


def main():
    skip_unless_built()
    path = dasklib.make_orders()
    ref = dasklib.pandas_in_chunks(path)
    procs, client = [], None
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(8)
    try:
        addr, procs, client = cluster()
        port = int(addr.rsplit(":", 1)[1])
        worker_port = int(list(client.scheduler_info()["workers"])[0].rsplit(":", 1)[1])
        with Session(config=dasklib.config(dask_scheduler=addr)) as s:
            dasklib.project_with_orders(s, path)
            out = s.daa("-p", s.project, "doctor").stdout
            line = [ln for ln in out.splitlines() if "dask scheduler" in ln]
            assert line and line[0].startswith("ok") and "2 worker(s)" in line[0], out
            assert "connect only to port %d" % port in out, out
            print("ok - daa doctor: %s" % line[0].split("scheduler", 1)[1].strip())

            before = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
            code = ("from distributed import default_client\n"
                    "o = dfs['orders']\n"
                    "by_region = o.groupby('region')['amount'].sum().compute()\n"
                    "print(json.dumps({'client': default_client().scheduler.address,"
                    " 'sum': by_region.to_dict()}))")
            r, p = s.run_json("import json\n" + code, timeout=300)
            assert r and r["ok"], p.stdout + p.stderr
            got = json.loads(r["stdout"].strip().splitlines()[-1])
            assert got["client"] == addr, got
            assert all(close(got["sum"][k], v) for k, v in ref["sum_by_region"].items()), got
            after = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
            assert after > before, (before, after)
            print("ok - a group-by sum ran on the cluster (%d scheduler transitions) and equals "
                  "pandas in chunks" % (after - before))

            code = "import json\nSCHED, OTHER, WORKER = %d, %d, %d\n%s" % (
                port, other.getsockname()[1], worker_port, ATTACK)
            r, p = s.run_json(code, timeout=300)
            assert r and r["ok"], p.stdout + p.stderr
            res = json.loads(r["stdout"].strip().splitlines()[-1])
            want = {"scheduler": "ok", "other": "EACCES", "worker": "EACCES", "udp": "EACCES",
                    "sctp": "EACCES", "unix": "EACCES", "listen": "EPERM", "bind": "EACCES"}
            for k, v in want.items():
                assert res[k] == v, (k, res)
            assert res["other6"] != "ok", res   # no IPv6 listener there; refused either way
            print("ok - from the kernel only the scheduler's port connects: %s" % res)
            check_interrupts(s, client, addr, ref)
            assert s.alive()
        cluster_progress.check_all(addr, client, path, ref)
    finally:
        if client is not None:
            client.close()
        stop(procs)
        other.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
