#!/usr/bin/python3
"""tests/integration/test_project_recreated.py — a project deleted and
created again under the same name (so the same folder) starts from nothing
the old one had, through a real daemon:
  - history.list, project.info and project.list (served from the history
    index, daemon/project/history_index.c, keyed by folder and checked
    against the folders on disk) show no steps, right after the old
    project's listing was cached;
  - its kernel is a fresh one (the old one's variable is gone, and the old
    step is not replayed: it has no history);
  - its first saved run is history/001_run.py (a queue and numbering of its
    own);
while a client that followed the project by name (`watch`) keeps getting
its events — subscriptions follow the folder (daemon/project/publish.h).
Kernels are tests/lib/fake_kernel.py."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from daad import check, run_test, skip_if_valgrind  # noqa: E402


def steps(c):
    """The step counts of p: history.list, project.info, project.list."""
    listed = len(c.call("history.list", project="p")["steps"])
    info = c.call("project.info", project="p")["steps"]
    row = [r["steps"] for r in c.call("project.list")["projects"] if r["name"] == "p"]
    return listed, info, row


def main(d):
    c, watcher = d.client(), d.client()
    path = c.call("project.create", name="p")["path"]
    watcher.call("watch", project="p")
    r = c.call("run", project="p", code="x = 1")
    check(r["ok"] and r["step"] == "history/001_run.py", "first run: %r" % r)
    check(steps(c) == (1, 1, [1]) and steps(c) == (1, 1, [1]), "old p: %r" % (steps(c),))

    c.call("project.delete", project="p")
    check(c.call("project.create", name="p")["path"] == path, "p is made in the same folder")
    check(steps(c) == (0, 0, [0]), "the new p has no steps: %r" % (steps(c),))
    print("ok - history.list, project.info and project.list show nothing of the old p")

    start = len(watcher.events)
    r = c.call("run", project="p", code="x", scratch=True)
    check(not r["ok"] and r["error"]["type"] == "NameError", "x in the new p: %r" % r)
    print("ok - the new p has a fresh kernel, with nothing replayed")
    r = c.call("run", project="p", code="y = 2")
    check(r["ok"] and r["step"] == "history/001_run.py", "first run of the new p: %r" % r)
    check(steps(c) == (1, 1, [1]), "after it: %r" % (steps(c),))
    print("ok - its first run is step 1, started at once")

    watcher.call("ping")
    kinds = [e.get("kind") for e in watcher.events[start:]
             if isinstance(e, dict) and e.get("project_path") == path]
    check("restored" in kinds, "the watcher heard nothing of the new p: %r" % kinds)
    print("ok - a client watching p by name follows the new p")


if __name__ == "__main__":
    skip_if_valgrind()
    run_test(main, fake_kernel={})
