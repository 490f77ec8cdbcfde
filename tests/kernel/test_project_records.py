#!/usr/bin/python3
"""tests/kernel/test_project_records.py — the kernel manager keeps each
project's live kernel on the project's handle (its kern slot,
daemon/kernel/kern_req.c), not in a list searched by folder.  Two projects
p and q each get a kernel with a variable of their own; then:
  - `status` lists one kernel per project, with different pids, and a
    further run in each reaches the same kernel (its variable is there;
    were the slot never set, every request would bind a new kernel);
  - kernel.interrupt in q, while a step holds p's kernel, signals nothing
    in p (the step still runs); kernel.interrupt in p stops it, and p keeps
    its kernel and variables;
  - kernel.restart in p gives p a new kernel (its variable gone) and leaves
    q's kernel and variable as they were.
Kernels are tests/lib/fake_kernel.py (plain-Python steps); the runs are
scratch runs (never saved, so a restart replays nothing)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from daad import check, run_test  # noqa: E402

SCRIPT = {"exec": [{"code": "HOLD = 1", "hold": True}]}


def run(c, name, code):
    """A scratch run in project name: its reply."""
    return c.call("run", project=name, code=code, scratch=True)


def kernels(c, paths):
    """{project name: (pid, state)} of the live project kernels in status."""
    by_path = {v: k for k, v in paths.items()}
    out = {}
    for k in c.call("status")["kernels"]["kernels"]:
        name = by_path.get(k.get("project"))
        if name:
            check(name not in out, "two kernels for %s: %r" % (name, k))
            out[name] = (k["pid"], k["state"])
    return out


def value(c, name, var):
    """The repr of var in name's kernel, or the error type when unset."""
    r = run(c, name, var)
    if r["ok"]:
        return r["result"]["repr"]
    return r["error"]["type"]


def wait_busy(c, paths, name):
    """Pump status until name's kernel runs a step (a hang guard, no delay)."""
    for _ in range(2000):
        if kernels(c, paths).get(name, (0, ""))[1] == "busy":
            return
    check(False, "%s's kernel never got busy: %r" % (name, kernels(c, paths)))


def main(d):
    c = d.client(timeout=60)
    paths = {n: c.call("project.create", name=n)["path"] for n in ("p", "q")}
    check(run(c, "p", "a = 1")["ok"] and run(c, "q", "b = 2")["ok"], "first runs")
    first = kernels(c, paths)
    check(set(first) == {"p", "q"} and first["p"][0] != first["q"][0],
          "one kernel per project: %r" % first)
    check(value(c, "p", "a") == "1" and value(c, "q", "b") == "2",
          "a further run reaches each project's own kernel")
    check(value(c, "p", "b") == "NameError", "p's kernel is not q's")
    check(kernels(c, paths) == first, "the same kernels: %r" % kernels(c, paths))
    print("ok - each project has its own kernel, reached again by every request")

    held = c.send("run", project="p", code="HOLD = 1", scratch=True)
    wait_busy(c, paths, "p")
    r = c.call("kernel.interrupt", project="q")
    check(r["ok"] and r["dropped"] == 0, "interrupt in q: %r" % r)
    check(value(c, "q", "b") == "2", "q's kernel after its interrupt")
    check(held not in c.responses and kernels(c, paths)["p"][1] == "busy",
          "an interrupt in q reached p's step")
    c.call("kernel.interrupt", project="p")
    r = c.wait(held)
    check(not r["ok"] and r["error"]["type"] == "KeyboardInterrupt",
          "p's step after the interrupt in p: %r" % r)
    check(value(c, "p", "a") == "1" and kernels(c, paths)["p"][0] == first["p"][0],
          "p keeps its kernel and variables after the interrupt")
    print("ok - kernel.interrupt reaches only its own project's step")

    c.call("kernel.restart", project="p")
    check(value(c, "p", "a") == "NameError", "p's variables after its restart")
    now = kernels(c, paths)
    check(now["p"][0] != first["p"][0] and now["q"][0] == first["q"][0],
          "after p's restart: %r (before %r)" % (now, first))
    check(value(c, "q", "b") == "2", "q's variable after p's restart")
    print("ok - kernel.restart in p gives p a new kernel, q's stays as it was")


if __name__ == "__main__":
    run_test(main, fake_kernel=SCRIPT)
