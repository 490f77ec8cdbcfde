#!/usr/bin/python3
"""tests/history/test_project_records.py — the history module keeps one
record per project (its slot in the project handle, daemon/history/history.c):
which kernel it last brought up to date.  Two projects each save a step;
a second run in each finds the kernel already restored (no replay: with a
record lost between calls every run would replay the history); a
kernel.restart in one project replays that project's step, and only there.
Kernels are tests/lib/fake_kernel.py (plain-Python steps)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from daad import check, run_test  # noqa: E402


def replays(c, start):
    """The project paths of the `restore` events (one per replayed step)
    received from index start on."""
    c.call("ping")
    return [e["project_path"] for e in c.events[start:]
            if isinstance(e, dict) and e.get("kind") == "restore"]


def main(d):
    c = d.client(timeout=60)
    paths = {}
    for name in ("p", "q"):
        paths[name] = c.call("project.create", name=name)["path"]
        c.call("watch", project=name)
    for name, code in (("p", "a = 1"), ("q", "b = 2")):
        r = c.call("run", project=name, code=code)
        check(r["ok"] and r.get("step") == "history/001_run.py", "first run in %s: %r" % (name, r))
    start = len(c.events)
    for name, code in (("p", "a + 1"), ("q", "b + 1"), ("p", "a + 2")):
        r = c.call("run", project=name, code=code, scratch=True)
        check(r["ok"], "run in %s: %r" % (name, r))
    got = replays(c, start)
    check(got == [], "a kernel already restored was replayed again: %r" % got)
    print("ok - each project's record remembers its restored kernel: no replay")

    c.call("kernel.restart", project="p")
    start = len(c.events)
    r = c.call("run", project="p", code="print(a)", scratch=True)
    check(r["ok"] and r["stdout"] == "1\n", "p after the restart: %r" % r)
    r = c.call("run", project="q", code="print(b)", scratch=True)
    check(r["ok"] and r["stdout"] == "2\n", "q: %r" % r)
    got = replays(c, start)
    check(got == [paths["p"]], "only p's step is replayed after p's restart: %r" % got)
    print("ok - a restart in p replays p's history, q's kernel stays as it was")


if __name__ == "__main__":
    run_test(main, fake_kernel={})
