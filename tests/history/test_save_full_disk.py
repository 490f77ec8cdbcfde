#!/usr/bin/python3
"""tests/history/test_save_full_disk.py — a failure to save is never
reported as success (issue 14 item 2).  history/ is a small tmpfs holding
step 001, filled to the last byte: `daa run` and `daa ask` (fake OpenAI
server) run, reply that the step was NOT saved ("No space left on device":
`step_error` / `history_error`, the answer says it too), exit with status 5,
and leave nothing half-written in history/.  The same with the tmpfs
remounted read-only.  Skips (77) only when a tmpfs cannot be mounted."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import ROOT, run_with_fake, step_run  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402


def mount(*args):
    return subprocess.run(["mount"] + list(args), capture_output=True, text=True)


def fill(d):
    """Write until the filesystem is full (unbuffered: nothing left to flush)."""
    for name, chunk in (("filler", 4096), ("filler2", 1)):
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while os.write(fd, b"\0" * chunk) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)


def not_saved(s, fake, why, n):
    p = s.daa("--json", "-p", "demo", "run", "z = %d\nprint('z', z)" % n, check=False)
    r = json.loads(p.stdout)
    assert p.returncode == 5, (p.returncode, p.stdout, p.stderr)
    assert r["ok"] and r["stdout"] == "z %d\n" % n and "step" not in r and why in r["step_error"], r
    p = s.daa("-p", "demo", "run", "z = 0", check=False)
    assert p.returncode == 5 and "NOT saved" in p.stderr and why in p.stderr, (p.returncode, p.stderr)
    fake.set_script({"responses": [
        reply(call("run_python", "c%d" % n, code="w = %d\nprint('w', w)" % n, purpose="w")),
        final("Done.")]})
    p = s.daa("--json", "-p", "demo", "ask", "--batch", "set w", check=False)
    res = json.loads(p.stdout)
    assert p.returncode == 5, (p.returncode, p.stderr)
    assert res["status"] == "done" and res["history"] is None and why in res["history_error"], res
    assert "NOT saved" in res["answer"], res["answer"]


def body(s, fake):
    r = step_run(s, "x = 1")
    assert r["step"] == "history/001_run.py", r
    hist = os.path.join(s.path, "history")
    with open(os.path.join(hist, "001_run.py"), "rb") as f:
        first = f.read()
    m = mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", hist)
    if m.returncode != 0:
        print("skip: cannot mount a tmpfs (%s)" % m.stderr.strip())
        sys.exit(77)
    try:
        with open(os.path.join(hist, "001_run.py"), "wb") as f:
            f.write(first)
        fill(hist)
        not_saved(s, fake, "No space left on device", 2)
        assert sorted(os.listdir(hist)) == ["001_run.py", "filler", "filler2"], os.listdir(hist)
        print("ok - full disk: run and ask say NOT saved (exit 5); nothing half-written left")
        os.unlink(os.path.join(hist, "filler"))
        m = mount("-o", "remount,ro", hist)
        assert m.returncode == 0, m.stderr
        not_saved(s, fake, "Read-only file system", 3)
        print("ok - read-only history/: run and ask say NOT saved (exit 5)")
    finally:
        subprocess.run(["umount", "-l", hist], capture_output=True)
    with open(os.path.join(hist, "001_run.py"), "rb") as f:
        assert f.read() == first
    r = step_run(s, "print('after')")
    assert r["step"] == "history/002_run.py", r


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skip: mounting a tmpfs needs root")
        sys.exit(77)
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    sys.exit(run_with_fake("daa-save-full.", body, fake_kernel={}))
