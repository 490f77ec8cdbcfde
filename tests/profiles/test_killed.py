#!/usr/bin/python3
"""tests/profiles/test_killed.py — a daemon killed (SIGKILL) while profiling
leaves the project consistent: after a restart the profile index and every
cache entry parse, temp files of interrupted atomic writes in .daa/profiles/
and history/ are removed (a user's file that merely contains ".tmp." is
kept), and the dataset is profiled again when asked."""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, run_test_in_dir  # noqa: E402
from proflib import make_big, wait_log  # noqa: E402


def body(d, work):
    big = os.path.join(work, "big.csv")
    make_big(big)
    c = d.client(timeout=300)
    proj = c.call("project.create", name="p")["path"]
    c.call("data.add", project="p", path=big)
    wait_log(d, "profiling big.csv")
    d.d.kill9()                                    # mid-profile
    prof = os.path.join(proj, ".daa", "profiles")
    os.makedirs(prof, exist_ok=True)
    leftovers = [os.path.join(prof, "%s-big.json.tmp.4242" % ("0" * 64)),
                 os.path.join(proj, "history", "001_x.py.tmp.4242")]
    keep = os.path.join(proj, "history", "notes.tmp.py")
    for f in leftovers + [keep]:
        with open(f, "w") as fh:
            fh.write("{half")
    d.d.start()
    c = d.client(timeout=300)
    st = c.call("data.list", project="p")["datasets"][0]["profile"]
    for f in leftovers:
        check(not os.path.exists(f), "left after restart: %s" % f)
    check(os.path.exists(keep), "a user's file was removed: %s" % keep)
    index = os.path.join(proj, ".daa", "profiles.json")
    if os.path.exists(index):
        json.load(open(index))
    for e in glob.glob(os.path.join(prof, "*.json")):
        json.load(open(e))
    check(st["state"] in ("none", "ready"), "status after restart %r" % st)
    r = c.call("profile.run", project="p", dataset="big", timeout=300)
    check(r["rows"] == 600000, "profile after restart %r" % r.get("rows"))
    print("ok - killed mid-profile: index and entries parse, temps removed, profiled again")


def main():
    run_test_in_dir("daa-kill.", body)


if __name__ == "__main__":
    main()
