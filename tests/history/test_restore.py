#!/usr/bin/python3
"""tests/history/test_restore.py — kernel restore from history: after the
project's kernel is killed (kill -9) the next step sees the variables of
the earlier steps (history replayed, with `history.event` progress seen by
a watching client); the same after the daemon itself is restarted; a
--scratch step is not replayed; a `daa ask` after the restart works on the
restored kernel.  The turn is scripted (the fake OpenAI server) and the
kernel is tests/lib/fake_kernel.py: what is tested is the daemon's replay,
not Python."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import ROOT, run_with_fake, step_run  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402

TURN = [reply(call("run_python", "c1", code="result = a + b\nprint('sum', result)", purpose="add")),
        final("The sum is 83.")]


def kernel_pid(s):
    """The kernel's host pid, as the daemon reports it (inside its own pid
    namespace the kernel is pid 1: os.getpid() there names nothing here)."""
    s.run("1", "--scratch", check=True)   # a kernel is bound to the project
    pid = s.kernel_pid()
    assert pid and pid > 1, pid
    return pid


def wait_gone(pid, timeout=30):
    """Wait until the killed kernel has been reaped (a hang guard only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("kernel %d still there" % pid)


def restore_events(c):
    """history.event notifications received so far on a watching client."""
    c.call("ping")
    evs = [m[2][0] for m in c.notifications if m[0] == 2 and m[1] == "history.event"]
    c.notifications.clear()
    return evs


def body(s, fake):
    step_run(s, "a = 41")
    step_run(s, "b = a + 1\nn_rows = len([5, 6, 7])")
    s.run("scratch_only = 1", "--scratch", check=True)
    with s.d.client() as w:
        w.call("watch", {"project": "demo"})
        restore_events(w)
        pid = kernel_pid(s)
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid)
        r, p = s.run_json("(b, n_rows > 0, 'scratch_only' in dir())", "--scratch")
        assert r and r["ok"] and r["result"]["repr"] == "(42, True, False)", p.stdout
        assert kernel_pid(s) != pid
        evs = restore_events(w)
        steps = [e["step"] for e in evs if e["kind"] == "restore"]
        assert steps == [1, 2], evs
        assert all(e["ok"] and e["of"] == 2 for e in evs if e["kind"] == "restore"), evs
        assert any(e["kind"] == "restored" and e["ok"] for e in evs), evs
    print("ok - a killed kernel is restored (steps 1, 2 replayed, scratch not), events seen")

    s.d.stop()
    s.d.start()
    r, p = s.run_json("print(a + b)")
    assert r and r["ok"] and r["stdout"] == "83\n", p.stdout
    print("ok - after a daemon restart the next step sees the earlier variables")

    p = s.daa("--json", "-p", "demo", "ask", "--batch", "total revenue by region")
    res = json.loads(p.stdout)
    assert res["status"] == "done" and res["steps"][0]["stdout"] == "sum 83\n", res
    r, p = s.run_json("(a, b, result)", "--scratch")
    assert r and r["result"]["repr"] == "(41, 42, 83)", p.stdout
    print("ok - an agent turn runs on the restored kernel and keeps its state")


if __name__ == "__main__":
    sys.exit(run_with_fake("daa-restore.", body, TURN, fake_kernel={}))
