#!/usr/bin/python3
"""Kernel runtime: a SIGINT whose KeyboardInterrupt Python swallows still
stops the Dask work of the step.  Python ignores (prints) an exception
raised while a __del__ runs — with dask.distributed, a Future collected
while the step waits on the cluster — so the step would go on as if never
interrupted.  Here a __del__ of the step waits for the test's go-file,
the SIGINT lands inside it (swallowed: "Exception ignored in"), and the
step then computes with Dask (20 tasks of 0.1 s on the local scheduler):
the runtime raises the interrupt again from its progress callback, the
step ends with KeyboardInterrupt before the computation finished, and
the kernel serves the next step.  Deterministic: marker and go-files;
timeouts are hang guards only."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402

try:
    import dask  # noqa: F401
except ImportError as e:
    print("skip: %s (python3-dask)" % e)
    sys.exit(77)


def wait_file(k, path):
    """Wait until path exists (hang guard only)."""
    deadline = time.monotonic() + 50
    while not os.path.exists(path):
        if time.monotonic() > deadline or k.proc.poll() is not None:
            raise RuntimeError("%s never appeared; kernel log:\n%s" % (path, k.log()))
        time.sleep(0.01)


k = kt.Kernel()
proj = kt.make_project({"sales.csv": "region,revenue\nnorth,10\n"})
try:
    kt.check(k.req("bind", project=proj)["ok"], "bind")
    kt.check(k.run("import dask, time")["ok"], "dask imported (progress is reported from here on)")
    marker, go, ran = (os.path.join(proj, "outputs", n) for n in ("in-del", "go", "ran"))
    code = ("import os\n"
            "class Slow:\n"
            "    def __del__(self):\n"
            "        open(%r, 'w').close()\n"
            "        while not os.path.exists(%r):\n"
            "            time.sleep(0.01)\n"
            "Slow()\n"   # collected at once: its __del__ runs inside the step
            "def task(i):\n"
            "    time.sleep(0.1)\n"
            "    return i\n"
            "total = sum(dask.compute(*[dask.delayed(task)(i) for i in range(20)], "
            "scheduler='threads', num_workers=1))\n"
            "open(%r, 'w').close()\n"
            "total\n" % (marker, go, ran))
    k.next_id += 1
    k.send({"op": "exec", "id": k.next_id, "code": code, "step": "swallowed"})
    wait_file(k, marker)
    os.kill(k.proc.pid, signal.SIGINT)
    time.sleep(0.2)   # the handler runs inside __del__ (no pass/fail on time)
    open(go, "w").close()
    while True:
        r = k.read()
        if "ev" not in r:   # progress events go by
            break
    e = r.get("error") or {}
    kt.check(not r["ok"] and e.get("type") == "KeyboardInterrupt" and not os.path.exists(ran),
             "the step is interrupted before its computation finished", r)
    kt.check("Exception ignored in" in r.get("stderr", "") + k.log(),
             "the first KeyboardInterrupt was swallowed by __del__", (r.get("stderr"), k.log()))
    r = k.run("1 + 1")
    kt.check(r["ok"] and r["result"]["repr"] == "2", "the kernel serves the next step", r)
finally:
    k.close()
kt.finish([proj])
