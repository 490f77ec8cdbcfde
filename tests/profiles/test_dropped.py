#!/usr/bin/python3
"""tests/profiles/test_dropped.py — a dataset copied into data/ by hand (not
through `daa add`) is noticed (daemon/project/project_watch.c, inotify): the bound
kernel can load it at once and it is profiled in the background; a file
removed by hand leaves the profile index; a file rewritten in place is
profiled again for its new content."""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, run_test_in_dir  # noqa: E402


def body(d, work):
    c = d.client(timeout=200)
    proj = c.call("project.create", name="p")["path"]
    c.call("watch", project="p")
    r = c.call("run", project="p", code="x = 1", timeout=120)   # a bound kernel
    check(r["ok"], "run %r" % r)
    src = os.path.join(work, "orders.csv")
    with open(src, "w") as f:
        f.write("id,amount\n" + "".join("%d,%d\n" % (i, i * 3) for i in range(50)))
    shutil.copy(src, os.path.join(proj, "data", "orders.csv"))       # by hand
    ev = c.wait_event("profiled", timeout=180)
    check(ev["dataset"] == "orders" and ev["rows"] == 50, "event %r" % ev)
    r = c.call("run", project="p", code="len(dfs['orders'])", scratch=True, timeout=120)
    check(r["ok"] and r["result"]["repr"] == "50", "the kernel does not see the dropped file: %r" % r)
    print("ok - a file copied into data/ by hand is loaded by the kernel and profiled")

    n = len(c.events)
    with open(os.path.join(proj, "data", "orders.csv"), "a") as f:           # rewritten in place
        f.write("".join("%d,%d\n" % (i, i) for i in range(50, 80)))
    ev = c.wait_event("profiled", timeout=180, start=n)
    check(ev["rows"] == 80, "after an append: %r" % ev)
    print("ok - a file rewritten in place is profiled again")

    os.unlink(os.path.join(proj, "data", "orders.csv"))
    n = len(c.events)
    c.call("data.add", project="p", path=src, name="other")
    ev = c.wait_event("profiled", timeout=180, start=n)
    check(ev["dataset"] == "other", "event %r" % ev)
    index = json.load(open(os.path.join(proj, ".daa", "profiles.json")))
    check("orders.csv" not in index["files"] and "other.csv" in index["files"], "index %r" % index)
    names = [x["name"] for x in c.call("data.list", project="p")["datasets"]]
    check(names == ["other"], "datasets %r" % names)
    print("ok - a file removed by hand leaves the index")


def main():
    run_test_in_dir("daa-drop.", body)


if __name__ == "__main__":
    main()
