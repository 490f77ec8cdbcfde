#!/usr/bin/python3
"""tests/dask/test_progress.py — a long Dask computation reports progress:
a `run` over a Dask-backed dataset (one slow task per partition) gets
history.event {kind: "run_progress", done, total} notifications on its own
connection, with done never going down within a computation, done <= total,
and a last one with done == total; a quick computation sends none; work
kept with persist() / dask.persist() reports the same way.  `daa
run` draws them as a bar rewritten in place on a terminal, wiped before the
result, and as a plain "progress: N% (d/t tasks)" line when stderr is not a
terminal."""
# daa-test-timeout: 600
import os
import pty
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402

SLOW = r'''
import time
def slow(part):
    time.sleep(0.1)
    return part
dfs['orders'].map_partitions(slow).amount.sum().compute()
'''
PERSIST = SLOW.rsplit("\n", 2)[0] + '''
import dask
p = dfs['orders'].map_partitions(slow, token="persisted").persist()
(q,) = dask.persist(dfs['orders'].map_partitions(slow, token="dask-persisted").amount.sum())
float(q.compute()) == float(p.amount.sum().compute())
'''


def run_with_notes(s, code):
    """`run` over the RPC socket: (result, its run_progress notes)."""
    with s.d.client(timeout=300) as c:
        r = c.call("run", {"project": s.project, "code": code, "scratch": True})
        notes = [m[2][0] for m in c.notifications
                 if m[1] == "history.event" and m[2] and m[2][0].get("kind") == "run_progress"]
    return r, notes


def daa_on_pty(s, *args):
    """Run daa with stdin/stdout/stderr on a pseudo-terminal: all it wrote."""
    m, sl = pty.openpty()
    proc = subprocess.Popen([os.path.join(os.environ["DAA_BUILD"], "bin", "daa")] + list(args),
                            env=s.env(), stdin=sl, stdout=sl, stderr=sl)
    os.close(sl)
    out = b""
    while True:
        try:
            d = os.read(m, 4096)
        except OSError:   # EIO: the terminal's other end closed
            break
        if not d:
            break
        out += d
    os.close(m)
    proc.wait(timeout=300)
    return out.decode("utf-8", "replace")


def main():
    skip_unless_built()
    path = dasklib.make_orders()
    with Session(config=dasklib.config()) as s:
        dasklib.project_with_orders(s, path)
        r, notes = run_with_notes(s, "dfs['orders'].npartitions")
        assert r["ok"], r
        parts = int(r["result"]["repr"])
        assert parts >= 10, parts
        assert notes == [], notes   # nothing computed with Dask, nothing reported
        r, notes = run_with_notes(s, SLOW)
        assert r["ok"], r
        assert len(notes) >= 2, notes
        totals = {n["total"] for n in notes}
        assert len(totals) == 1 and min(totals) >= parts, notes
        dones = [n["done"] for n in notes]
        assert dones == sorted(dones) and all(0 <= d <= n["total"] for d, n in zip(dones, notes)), notes
        assert dones[-1] == notes[-1]["total"] and dones[0] < dones[-1], notes
        print("ok - a %d-partition Dask computation reported %d progress events, done rising "
              "to total (%d tasks)" % (parts, len(notes), notes[-1]["total"]))
        r, notes = run_with_notes(s, PERSIST)
        assert r["ok"] and r["result"]["repr"] == "True", r
        ends = [n for n in notes if n["done"] == n["total"]]
        assert len(ends) >= 2 and all(n["total"] >= parts for n in ends), notes   # one per persist
        print("ok - persist() and dask.persist() on the local scheduler: %d events, %d "
              "computations ended full" % (len(notes), len(ends)))
        out = daa_on_pty(s, "-p", s.project, "run", "--scratch", SLOW)
        bars = out.count("\r\x1b[Kcomputing [")
        assert bars >= 2 and "(%d/%d tasks)" % (notes[-1]["total"], notes[-1]["total"]) in out, out
        tail = out[out.rindex("computing ["):]
        assert "\r\x1b[K" in tail and "progress:" not in out, out   # wiped before the result
        print("ok - daa run on a terminal: a bar rewritten in place %d times, wiped at the end" % bars)
        p = s.daa("-p", s.project, "run", "--scratch", SLOW, timeout=300)
        assert "\r" not in p.stderr + p.stdout and "\x1b" not in p.stderr + p.stdout, p
        lines = [ln for ln in p.stderr.splitlines() if ln.startswith("progress: ")]
        assert len(lines) >= 1, (p.stderr, notes)
        assert lines[0].endswith("/%d tasks)" % notes[-1]["total"]), lines
        print("ok - daa run to a pipe: %d plain progress line(s) on stderr" % len(lines))
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
