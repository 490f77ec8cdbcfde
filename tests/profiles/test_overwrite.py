#!/usr/bin/python3
"""tests/profiles/test_overwrite.py — re-adding a dataset with --overwrite
while the project's kernel holds the old table: `dfs[name]` and `df` give the
new file's rows (the runtime notices the file changed), and the background
profile describes the new content under the new content hash, not the
frame the kernel had loaded before."""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, run_test_in_dir  # noqa: E402


def body(d, work):
    small, big = os.path.join(work, "t.csv"), os.path.join(work, "t2.csv")
    with open(small, "w") as f:
        f.write("a,b\n1,2\n3,4\n")
    with open(big, "w") as f:
        f.write("a,b\n1,2\n3,4\n5,6\n7,8\n")
    c = d.client(timeout=200)
    proj = c.call("project.create", name="p")["path"]
    c.call("watch", project="p")
    c.call("data.add", project="p", path=small, name="t")
    ev = c.wait_event("profiled", timeout=180)
    check(ev["rows"] == 2, "first profile %r" % ev)
    r = c.call("run", project="p", code="len(dfs['t']), len(df)", scratch=True, timeout=120)
    check(r["result"]["repr"] == "(2, 2)", "before: %r" % r["result"])
    n = len(c.events)
    c.call("data.add", project="p", path=big, name="t", overwrite=True)
    ev = c.wait_event("profiled", timeout=180, start=n)
    check(ev["rows"] == 4, "the profile after --overwrite describes the old table: %r" % ev)
    sha = hashlib.sha256(open(big, "rb").read()).hexdigest()
    entry = json.load(open(os.path.join(proj, ".daa", "profiles", "%s-t.json" % sha)))
    check(entry["profile"]["rows"] == 4, "entry rows %r" % entry["profile"]["rows"])
    old = hashlib.sha256(open(small, "rb").read()).hexdigest()
    check(not os.path.exists(os.path.join(proj, ".daa", "profiles", "%s-t.json" % old)),
          "the old content's entry was kept after the file was replaced")
    r = c.call("run", project="p", code="len(dfs['t']), len(df)", scratch=True, timeout=120)
    check(r["result"]["repr"] == "(4, 4)", "after --overwrite the kernel still has the old rows: %r" % r["result"])
    print("ok - --overwrite: dfs/df reload the new file; the profile is of the new content")


def main():
    run_test_in_dir("daa-ow.", body)


if __name__ == "__main__":
    main()
