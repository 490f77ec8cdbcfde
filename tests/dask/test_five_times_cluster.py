#!/usr/bin/python3
"""tests/dask/test_five_times_cluster.py — issue #17's "Done when", through
a configured Dask cluster: test_five_times.py's checks (a CSV 5 × the
kernel's real memory limit of 416 MiB, bigdata.py; `daa profile` exact
rows; `daa ask` "average amount by region", "total amount per month", "top
5 product by amount" equal to pandas outside daa; the kernel's
peak RSS under its limit; pandas cannot load the file whole in that kernel)
with {"compute": {"dask_scheduler": ...}} naming a real local cluster this
test starts (dask-scheduler + two dask-worker processes on 127.0.0.1,
test_cluster.cluster(), stopped after).  Also: the kernel's client is
connected to that scheduler, the scheduler ran the work (its transition
count grew by at least a few per partition for the profile and the three
answers), and from that kernel a socket to another port (a listener of
this test, a worker's port) is still refused.

Slow (the 2 GiB file is read by the workers four times):
`make check` only (daa-test-slow).  DAA_FIVE_FACTOR changes the size."""
# daa-test-slow
# daa-test-serial
# daa-test-timeout: 1800
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_five_times  # noqa: E402
import test_cluster  # noqa: E402  (skips without python3-distributed)
from test_five_times import run, say  # noqa: E402

PROBE = r'''
import errno, json, socket
def connect(port):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    finally:
        s.close()
from distributed import default_client
print(json.dumps({"client": default_client().scheduler.address, "npartitions": dfs['orders'].npartitions,
                  "scheduler": connect(%d), "other": connect(%d), "worker": connect(%d)}))
'''


def transitions(client):
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def cluster_checks(addr, client, other, before, passes):
    """on_cluster for test_five_times.main: the work ran on the cluster (at
    least `passes` passes over every partition: the profile's and the
    asks'), and only the scheduler's port connects from the kernel."""
    port = int(addr.rsplit(":", 1)[1])
    worker = int(list(client.scheduler_info()["workers"])[0].rsplit(":", 1)[1])

    def check(s):
        r = run(s, PROBE % (port, other.getsockname()[1], worker))
        assert r["ok"], r
        got = json.loads(r["stdout"].strip().splitlines()[-1])
        assert got["client"] == addr, got
        grew = transitions(client) - before
        assert grew >= 4 * passes * got["npartitions"], (grew, passes, got)
        say("the kernel's client is on %s; the scheduler made %d transitions for %d "
            "partitions" % (addr, grew, got["npartitions"]))
        want = {"scheduler": "ok", "other": "EACCES", "worker": "EACCES"}
        assert all(got[k] == v for k, v in want.items()), got
        say("from the kernel only the scheduler's port connects (another port, a worker's: EACCES)")
    return check


def main(asks=test_five_times.ASKS, **sizes):
    """sizes: test_five_times.main's factor, limit_mb, size (default: its
    own); asks: which of test_five_times.ASKS to ask (default all)."""
    procs, client = [], None
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(8)
    try:
        addr, procs, client = test_cluster.cluster()
        say("a scheduler and two workers at %s" % addr)
        before = transitions(client)
        return test_five_times.main(config={"compute": {"dask_scheduler": addr}},
                                    on_cluster=cluster_checks(addr, client, other, before,
                                                              1 + len(asks)),
                                    asks=asks, **sizes)
    finally:
        if client is not None:
            client.close()
        test_cluster.stop(procs)
        other.close()


if __name__ == "__main__":
    sys.exit(main())
