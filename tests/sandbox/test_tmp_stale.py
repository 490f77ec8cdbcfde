#!/usr/bin/python3
"""A kernel's private temp dir does not outlive its daemon: after daad is
killed with SIGKILL (its kernels die with it, by their parent-death signal,
and nobody removes their temp dirs), the next daad removes the stale dirs
at start — and leaves alone the dir of a daemon that is still alive."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernel"))
from kcli import Session, skip_unless_built  # noqa: E402


def main():
    skip_unless_built()
    with Session() as s:
        r, p = s.run_json('import os; open(os.environ["TMPDIR"] + "/left", "w").write("x"); '
                          'print(os.environ["TMPDIR"])')
        assert r and r.get("ok"), p.stdout + p.stderr
        tmp = r["stdout"].strip()
        base = os.path.dirname(tmp)
        assert os.path.basename(tmp).startswith("k-%d-" % s.d.proc.pid), tmp
        # a dir named after a live process that is not this daemon: kept
        live = os.path.join(base, "k-%d-keepme" % os.getpid())
        os.mkdir(live)
        s.d.kill9()
        assert os.path.exists(os.path.join(tmp, "left")), "the dir went with the daemon"
        s.d.start()
        deadline = time.monotonic() + 30   # a guard against hangs, not a timing test
        while os.path.exists(tmp) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(tmp), "the stale temp dir %s was left" % tmp
        assert os.path.isdir(live), "the dir of a live process was removed"
        os.rmdir(live)
        r, p = s.run_json("1 + 1")
        assert r and r.get("ok"), p.stdout + p.stderr
    print("ok: stale kernel temp dirs are removed at start")


if __name__ == "__main__":
    main()
