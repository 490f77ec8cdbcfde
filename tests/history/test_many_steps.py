#!/usr/bin/python3
"""tests/history/test_many_steps.py — a project with more than 1,024 steps
keeps every one of them.  The step list (history.list, the kernel's replay
after a restart, re-run and export) was read into a fixed table of 1,024
entries filled in directory order: past that, steps were silently left
out of the listing, of the restored kernel and of the exported script.
With 1,100 steps written as files (what a long project holds): history
lists all 1,100 in order, a new `daa run` step is numbered 1101, a kernel
restart replays every step (the variable set by step 1100 is there), and
the exported script holds step 1100.  The steps are plain Python and the
point is the daemon's step list, so the kernels are tests/lib/fake_kernel.py
(its replay runs the 1,100 steps as the runtime would)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import Session, history, skip_unless_built, step_run  # noqa: E402

STEPS = 1100


def write_steps(path):
    hist = os.path.join(path, "history")
    os.makedirs(hist, exist_ok=True)
    for n in range(1, STEPS + 1):
        with open(os.path.join(hist, "%03d_step.py" % n), "w") as f:
            f.write("# step %d\nv_%d = %d\n" % (n, n, n))


def main():
    skip_unless_built()
    with Session(fake_kernel={}) as s:
        write_steps(s.path)
        steps = history(s)["steps"]
        ns = [st["n"] for st in steps]
        assert ns == list(range(1, STEPS + 1)), (len(ns), ns[:3], ns[-3:])
        print("ok - history lists all %d steps in order" % STEPS)
        r = step_run(s, "print(v_%d + v_1)" % STEPS)
        assert r["step"].startswith("history/%d_" % (STEPS + 1)), r["step"]
        print("ok - the next step is numbered %d" % (STEPS + 1))
        s.daa("-p", s.project, "kernel", "restart")
        r, p = s.run_json("print(v_%d, v_1024, v_1025)" % STEPS, "--scratch", timeout=300)
        assert r and r["ok"] and r["stdout"].split() == [str(STEPS), "1024", "1025"], (p.stdout, p.stderr)
        print("ok - a restarted kernel replays every step")
        dest = os.path.join(s.d.dir, "all.py")
        s.daa("-p", s.project, "export", "--script", dest)
        with open(dest) as f:
            text = f.read()
        assert "v_%d = %d" % (STEPS, STEPS) in text and "v_1025 = 1025" in text
        print("ok - the exported script holds every step")
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
