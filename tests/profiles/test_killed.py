#!/usr/bin/python3
"""tests/profiles/test_killed.py — a daemon killed (SIGKILL) while profiling
leaves the project consistent: after a restart the profile index and every
cache entry parse, temp files of interrupted atomic writes in .daa/profiles/
and history/ are removed (a user's file that merely contains ".tmp." is
kept), and the dataset is profiled again when asked.  The kernel is
tests/lib/fake_kernel.py: its profile of "big" waits for a gate file, so
the daemon is surely killed while the profile is in the kernel (the fake
logs each request it gets), and the next profile ends when the test
opens the gate."""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, run_test_in_dir  # noqa: E402
from proflib import GATE, gated_big_profile, wait_log  # noqa: E402

ROWS = 600000
KERNEL = gated_big_profile(ROWS)


def body(d, work):
    big = os.path.join(work, "big.csv")
    with open(big, "w") as f:
        f.write("id,a\n1,2\n")
    c = d.client(timeout=300)
    proj = c.call("project.create", name="p")["path"]
    c.call("data.add", project="p", path=big)
    wait_log(d, '"op": "profile"')                # the fake kernel has it
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
    open(os.path.join(proj, GATE), "w").close()
    r = c.call("profile.run", project="p", dataset="big", timeout=300)
    check(r["rows"] == ROWS, "profile after restart %r" % r.get("rows"))
    print("ok - killed mid-profile: index and entries parse, temps removed, profiled again")


def main():
    run_test_in_dir("daa-kill.", body, fake_kernel=KERNEL)


if __name__ == "__main__":
    main()
