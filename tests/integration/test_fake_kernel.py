#!/usr/bin/python3
"""tests/integration/test_fake_kernel.py — the test seam itself: a real
daad whose kernels are tests/lib/fake_kernel.py (Session(fake_kernel=...))
answers from the script — an exact-code rule, a regex rule whose groups
fill the stdout, a scripted error, scripted figures (files in
outputs/plots the daemon lists as the step's), plain Python run with exec()
in a namespace that persists between steps, the stand-in pyplot, a step
held until its gate file appears; a running step is interrupted by
kernel.interrupt (KeyboardInterrupt, the kernel kept), and a kernel that
exits mid-step is reported as stopped.
The daemon logs every request the fake got."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("DAA_ROOT") or
                                os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."),
                                "tests", "lib"))
from daad import Session, skip_unless_built  # noqa: E402

SCRIPT = {"exec": [
    {"code": "answer()", "stdout": "scripted 42\n", "result": "42"},
    {"match": r"^count\('(\w+)'\)$", "stdout": "rows of \\1: 7\n"},
    {"code": "fail()", "error": {"type": "ValueError", "message": "scripted failure"}},
    {"code": "draw()", "figures": 2},
    {"code": "held()", "gate": "outputs/go", "stdout": "gate opened\n"},
    {"code": "crash()", "exit": 9},
]}


def step(s, code):
    r, p = s.run_json(code)
    assert r is not None, (p.stdout, p.stderr)
    return r


def main():
    skip_unless_built()
    if os.environ.get("DAA_VALGRIND") == "1":
        # a daad under valgrind starts no kernel, not even the fake one: the
        # sandbox's Landlock, mount and rlimit calls fail under valgrind
        # (allow_missing_layers too); the SAN=1 run of `make check` covers it
        print("skip: kernels cannot start under valgrind (DAA_VALGRIND=1)")
        return 77
    with Session(fake_kernel=SCRIPT) as s:
        r = step(s, "answer()")
        assert r["ok"] and r["stdout"] == "scripted 42\n" and r["result"]["repr"] == "42", r
        r = step(s, "count('sales')")
        assert r["ok"] and r["stdout"] == "rows of sales: 7\n", r
        r = step(s, "fail()")
        assert not r["ok"] and r["error"]["type"] == "ValueError", r
        assert r["error"]["message"] == "scripted failure", r
        r = step(s, "draw()")
        assert r["ok"] and len(r["figures"]) == 2, r
        for f in r["figures"]:
            with open(os.path.join(s.path, f), "rb") as fh:
                assert fh.read(8) == b"\x89PNG\r\n\x1a\n", f
        print("ok - scripted replies: exact code, regex groups, an error, figures")

        step(s, "x = 40")
        r = step(s, "x + 2")
        assert r["ok"] and r["result"]["repr"] == "42", r
        r = step(s, "print('out', x)\nimport sys\nprint('err', file=sys.stderr)")
        assert r["stdout"] == "out 40\n" and r["stderr"] == "err\n", r
        r = step(s, "1/0")
        assert not r["ok"] and r["error"]["type"] == "ZeroDivisionError", r
        assert "line 1" in r["error"]["traceback"], r
        r = step(s, "plt.plot([1, 2]); plt.show(); plt.bar([1], [3])")
        assert r["ok"] and len(r["figures"]) == 2, r
        a, b = (open(os.path.join(s.path, f), "rb").read() for f in r["figures"])
        assert a != b, "two different drawings gave the same PNG"
        print("ok - plain Python: namespace kept, output captured, errors, the stand-in pyplot")

        out = {}
        t = threading.Thread(target=lambda: out.update(r=step(s, "held()")))
        t.start()
        with open(os.path.join(s.path, "outputs", "go"), "w"):
            pass
        t.join(60)
        assert out["r"]["ok"] and out["r"]["stdout"] == "gate opened\n", out
        loop = ("open('outputs/started', 'w').close()\nimport time\n"
                "while True:\n    time.sleep(0.02)\n")
        t = threading.Thread(target=lambda: out.update(r=step(s, loop)))
        t.start()
        started = os.path.join(s.path, "outputs", "started")
        end = time.monotonic() + 60
        while not os.path.exists(started):   # the step's own signal that it runs
            assert time.monotonic() < end and t.is_alive(), "the looping step did not start"
            time.sleep(0.02)
        s.d.call("kernel.interrupt", {"project": s.project})
        t.join(60)
        r = out["r"]
        assert not r["ok"] and r["error"]["type"] == "KeyboardInterrupt", r
        r = step(s, "x")
        assert r["ok"] and r["result"]["repr"] == "40", r
        print("ok - a gated step goes on when its file appears; a running step is "
              "interrupted, the kernel and its namespace kept")

        r, p = s.run_json("crash()")
        assert (r is None or not r.get("ok")) and p.returncode != 0, (p.stdout, p.stderr)
        assert "kernel" in (p.stdout + p.stderr).lower(), (p.stdout, p.stderr)
        r = step(s, "1 + 1")
        assert r["ok"] and r["result"]["repr"] == "2", r
        assert '"op": "bind"' in s.d.log_text()
        print("ok - a kernel exiting mid-step is reported; the next step gets a new one")
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
