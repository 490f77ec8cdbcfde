"""tests/kernel/kcli.py — helpers for the kernel and sandbox-attack suites:
a private daad and the real `daa` CLI run against it (Session, now in
tests/lib/daad.py, the one harness, re-exported here).

    with Session(config={...}, extra_env={...}) as s:
        r = s.run_json("1 + 1")          # the `run` reply as JSON (daa --json)
        out = s.daa("-p", "demo", "doctor")

Every call has a timeout that only guards against hangs.
"""
import os
import shutil
import sys
import time

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from daad import BUILD, DAA, Daad, Session, skip_unless_built  # noqa: E402,F401  (the one harness)


def data_digest(path):
    """{relative path: bytes} of a project's data/ (to prove it unchanged)."""
    out = {}
    base = os.path.join(path, "data")
    for dirpath, _, files in os.walk(base):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, base)] = fh.read()
    return out


def rmtree(p):
    shutil.rmtree(p, ignore_errors=True)


def wait_for_marker(path, proc, limit=60):
    """Wait until path exists (a running step's marker file) while proc (the
    `daa run` of that step) has not ended; guards against hangs only."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        assert proc.poll() is None, "the run ended before its marker: %s" % (proc.communicate(),)
        assert time.monotonic() < deadline, "marker %s never appeared" % path
        time.sleep(0.05)
