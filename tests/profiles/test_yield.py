#!/usr/bin/python3
"""tests/profiles/test_yield.py — a background profile gives way to the user.

A 600k-row dataset is added (hashed in a child process: over 1 MiB); while
its profile runs in the project's kernel, `run` is asked: the kernel
manager interrupts the profile (the runtime's profile request is
interruptible), runs the user's code first, then sends the profile again —
so the run's answer comes before the `profiled` event, the event still
comes, with the right row count, and the user's variables are intact.
(The ordering has seconds of margin: the profile of this table takes
several seconds, the step a few milliseconds.)"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, run_test_in_dir  # noqa: E402
from proflib import BIG_ROWS as ROWS, make_big, wait_log  # noqa: E402


def body(d, work):
    big = os.path.join(work, "big.csv")
    make_big(big)
    c = d.client(timeout=300)
    c.call("project.create", name="p")
    c.call("watch", project="p")
    c.call("run", project="p", code="x = 41", timeout=120)
    c.call("data.add", project="p", path=big)
    wait_log(d, "profiling big.csv")
    time.sleep(1.0)   # the profile request reaches the kernel (margin: it runs for seconds)
    r = c.call("run", project="p", code="x + 1", scratch=True, timeout=300)
    check(r["ok"] and r["result"]["repr"] == "42", "run %r" % r)
    check(not any(isinstance(e, dict) and e.get("kind") == "profiled" for e in c.events),
          "the run waited for the whole background profile")
    check("background profile yields to a exec" in d.log_text(), "no yield in the log")
    ev = c.wait_event("profiled", timeout=300)
    check(ev["rows"] == ROWS, "profiled %r" % ev)
    st = c.call("data.list", project="p")["datasets"][0]["profile"]
    check(st["state"] == "ready", "status %r" % st)
    print("ok - a run during the background profile goes first; the profile is made after")


def main():
    run_test_in_dir("daa-yield.", body)


if __name__ == "__main__":
    main()
