#!/usr/bin/python3
"""tests/profiles/test_yield.py — a background profile gives way to the user.

A dataset is added; while its profile is in the project's kernel, `run` is
asked: the kernel manager interrupts the profile, runs the user's code
first, then sends the profile again — so the run's answer comes before the
`profiled` event, the event still comes, with the profile's row count, and
the user's variables are intact.  The kernel is tests/lib/fake_kernel.py:
its profile of "big" waits for a gate file (interruptible, like the
runtime's profile: tests/kernel_runtime/test_interrupt.py), so the run
surely comes while the profile is in the kernel (the fake logs each
request it gets) and the profile ends when the test says."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, run_test_in_dir  # noqa: E402
from proflib import wait_log  # noqa: E402

ROWS = 600000
GATE = "outputs/profile-go"
KERNEL = {"profile": [{"code": "big", "gate": GATE,
                       "reply": {"profile": {"name": "big", "rows": ROWS, "columns": []}}}]}


def body(d, work):
    big = os.path.join(work, "big.csv")
    with open(big, "w") as f:
        f.write("id,a\n1,2\n")
    c = d.client(timeout=300)
    proj = c.call("project.create", name="p")["path"]
    c.call("watch", project="p")
    c.call("run", project="p", code="x = 41", timeout=120)
    c.call("data.add", project="p", path=big)
    wait_log(d, '"op": "profile"')   # the fake kernel has the profile request
    r = c.call("run", project="p", code="x + 1", scratch=True, timeout=300)
    check(r["ok"] and r["result"]["repr"] == "42", "run %r" % r)
    check(not any(isinstance(e, dict) and e.get("kind") == "profiled" for e in c.events),
          "the run waited for the whole background profile")
    check("background profile yields to a request (exec)" in d.log_text(), "no yield in the log")
    open(os.path.join(proj, GATE), "w").close()
    ev = c.wait_event("profiled", timeout=300)
    check(ev["rows"] == ROWS, "profiled %r" % ev)
    # the gate was made after the run: the first profile request ended
    # interrupted (the kernel answers one at a time), this is the second.
    # The fake kernel's log lines come through its stderr, which the daemon
    # may read after the reply on the wire: wait for the line, then count.
    wait_log(d, '"op": "profile"', times=2)
    check(d.log_text().count('"op": "profile"') == 2, "not one interrupted profile, then one")
    st = c.call("data.list", project="p")["datasets"][0]["profile"]
    check(st["state"] == "ready", "status %r" % st)
    print("ok - a run during the background profile goes first; the profile is made after")


def main():
    run_test_in_dir("daa-yield.", body, fake_kernel=KERNEL)


if __name__ == "__main__":
    main()
