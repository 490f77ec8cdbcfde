#!/usr/bin/python3
"""tests/history/test_rerun_interrupted.py — a re-run cut short (issue 14
item 6), through a real daemon and the real `daa`:

1. daad gets SIGTERM while `daa rerun` runs a good step: the step did not
   fail.  The client is told the re-run was interrupted (not that the step
   failed); after daad is started again `daa history` and .daa/history.json
   show the step with its previous status (ok, no error), its script and its
   previous figure are unchanged, and no figure of the cut re-run is left.
2. The project's kernel is SIGKILLed while the re-run runs the step: that is
   a failure of the re-run (the step is marked failed with the cause), but
   its script and its previous figure are intact and the re-run's own
   half-made figure is gone.
3. daad itself is SIGKILLed: nothing was recorded, so after a restart the
   step is ok; the half-made figure leaves outputs/plots at the first work
   on the project (history_figs.c hist_figures_tidy).

The step holds while outputs/hold exists (no timing): it first writes
outputs/started and shows a figure (saved under the re-run's
temporary name), then waits.  The kernel's pid is the one the daemon
reports (`status`): inside its own pid namespace the kernel is pid 1."""
import hashlib
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import Session, skip_unless_built, history, step_run  # noqa: E402
# Session(fake_kernel={}) / run_with_fake(..., fake_kernel={}): kernels are
# tests/lib/fake_kernel.py, ready in ms; the steps are plain Python and
# plt.plot (its stand-in pyplot writes a small PNG per figure, the runtime's
# way: hidden .tmp, then renamed), and what is checked is the daemon's
# handling of scripts, statuses and figure files, not the runtime


STEP2 = ("import os, time\n"
         "held = os.path.exists('outputs/hold')\n"
         "plt.plot([3, 2, 1] if held else [1, 2, 3])\n"
         "plt.show()\n"
         "with open('outputs/started.tmp', 'w') as f:\n"
         "    f.write('started')\n"
         "os.rename('outputs/started.tmp', 'outputs/started')\n"
         "while os.path.exists('outputs/hold'):\n"
         "    time.sleep(0.02)\n"
         "print('second')\n")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def wait_file(path, proc, timeout=60):
    """Wait for path (a hang guard only); fail early when proc ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            raise AssertionError("daa rerun ended before the step started: %s %s"
                                 % proc.communicate())
        time.sleep(0.02)
    raise AssertionError("%s never appeared" % path)


def plots(s):
    """Every file under outputs/plots (relative)."""
    out = []
    for d, _, files in os.walk(os.path.join(s.path, "outputs", "plots")):
        out += [os.path.relpath(os.path.join(d, f), s.path) for f in files]
    return sorted(out)


def state(s):
    with open(os.path.join(s.path, ".daa", "history.json")) as f:
        return json.load(f)


def setup(s):
    """Steps 1 and 2 saved and ok; the digests of step 2's script and figure."""
    step_run(s, "x = 1\nprint('first')")
    r = step_run(s, STEP2)
    assert r["figures"] == ["outputs/plots/002_run_1.png"], r
    os.unlink(os.path.join(s.path, "outputs", "started"))
    return (digest(os.path.join(s.path, "history", "002_run.py")),
            digest(os.path.join(s.path, "outputs", "plots", "002_run_1.png")))


def start_held_rerun(s):
    """`daa rerun 2` (a Popen) held inside step 2; the kernel's pid."""
    with open(os.path.join(s.path, "outputs", "hold"), "w") as f:
        f.write("hold")
    p = s.popen("-p", s.project, "rerun", "2")
    started = os.path.join(s.path, "outputs", "started")
    wait_file(started, p)
    os.unlink(started)
    pid = s.kernel_pid()
    assert pid and pid > 1, pid
    return p, pid


def intact(s, digests, unsaved_ok=False):
    assert (digest(os.path.join(s.path, "history", "002_run.py")),
            digest(os.path.join(s.path, "outputs", "plots", "002_run_1.png"))) == digests, \
        "step 2's script or previous figure changed"
    left = [f for f in plots(s) if "rerun" in f and not (unsaved_ok and "/unsaved/" in f)]
    assert not left, "figures of the cut re-run left behind: %s" % left


def sigterm_case():
    with Session(fake_kernel={}) as s:
        digests = setup(s)
        p, _ = start_held_rerun(s)
        s.d.signal(signal.SIGTERM)
        rc = s.d.wait_exit()
        s.d.log.close()
        assert rc == 0, rc
        out, err = p.communicate(timeout=60)
        assert p.returncode == 4, (p.returncode, out, err)  # daad stopped while daa waited
        assert "interrupted at history/002_run.py" in err and "shutting down" in err, (out, err)
        assert "FAILED" not in out and "failed" not in err, (out, err)
        os.unlink(os.path.join(s.path, "outputs", "hold"))
        st = state(s).get("002_run", {})
        assert st.get("status", "ok") == "ok" and "error" not in st, st
        s.d.start()
        h = history(s)["steps"]
        assert [(x["n"], x["status"], x.get("error")) for x in h] == \
            [(1, "ok", None), (2, "ok", None)], h
        assert h[1]["outputs"] == ["outputs/plots/002_run_1.png"], h
        intact(s, digests)
        assert "failed" not in s.daa("-p", s.project, "history").stdout
        print("ok - SIGTERM during a re-run: the client is told it was interrupted; after a "
              "restart the step is still ok with its script and figure")
        r = s.daa("-p", s.project, "rerun", "2")
        assert "second" in r.stdout and "ok" in r.stdout, r.stdout
        print("ok - the same re-run completes after the restart")


def kernel_kill_case():
    with Session(fake_kernel={}) as s:
        digests = setup(s)
        p, pid = start_held_rerun(s)
        os.kill(pid, signal.SIGKILL)
        out, err = p.communicate(timeout=60)
        os.unlink(os.path.join(s.path, "outputs", "hold"))
        assert p.returncode != 0 and "history/002_run.py failed" in err, (out, err)
        h = history(s)["steps"]
        assert h[1]["status"] == "failed" and "kill" in (h[1].get("error") or "").lower(), h
        assert h[0]["status"] == "ok", h
        assert h[1]["outputs"] == ["outputs/plots/002_run_1.png"], h
        intact(s, digests)
        print("ok - kernel SIGKILL during a re-run: the step is failed with the cause, its "
              "script and previous figure intact, no half-made figure left")


def daemon_kill_case():
    with Session(fake_kernel={}) as s:
        digests = setup(s)
        p, pid = start_held_rerun(s)
        s.d.kill9()
        p.communicate(timeout=60)
        assert p.returncode == 4, p.returncode  # daad went away while daa waited
        os.unlink(os.path.join(s.path, "outputs", "hold"))
        s.d.start()
        h = history(s)["steps"]
        assert [(x["status"], x.get("error")) for x in h] == [("ok", None), ("ok", None)], h
        assert h[1]["outputs"] == ["outputs/plots/002_run_1.png"], h
        s.run("1", "--scratch", check=True)  # the first work on the project tidies outputs/
        intact(s, digests, unsaved_ok=True)
        print("ok - daad SIGKILL during a re-run: after a restart the step is ok, its script "
              "and figure intact, the half-made figure moved out of outputs/plots")


def main():
    skip_unless_built()
    sigterm_case()
    kernel_kill_case()
    daemon_kill_case()
    return 0


if __name__ == "__main__":
    sys.exit(main())
