#!/usr/bin/python3
"""tests/dask/test_progress.py — a long Dask computation reports progress:
a `run` over a Dask-backed dataset (one slow task per partition) gets
history.event {kind: "run_progress", done, total} notifications on its own
connection, with done never going down within a computation, done <= total,
and a last one with done == total; a quick computation sends none; work
kept with persist() / dask.persist() reports the same way.  `daa
run` draws them as a bar rewritten in place on a terminal, wiped before the
result, and as a plain "progress: N% (d/t tasks)" line when stderr is not a
terminal.

In an agent turn (the fake OpenAI server scripts the same slow step; same
daemon and kernel): the asking connection gets turn.event {kind:
"progress", done, total} between the step's `code` and `output` events,
done rising to total; `daa ask` writing to a pipe shows a plain
"progress: N% (d/t tasks)" line on stderr and none on stdout.

Interrupt (same kernel; formerly test_interrupt.py): `daa kernel
interrupt` stops a Dask computation on the threaded scheduler mid-way
(partitions still pending), the kernel keeps its namespace and the next
computation works."""
# daa-test-timeout: 600
import os
import pty
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402
from kcli import wait_for_marker  # noqa: E402  (dasklib put tests/kernel on the path)

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


TURN_CODE = SLOW.replace("dfs['orders'].map_partitions(slow).amount.sum().compute()",
                        "print(dfs['orders'].map_partitions(slow).amount.sum().compute())")


def check_turn(s):
    """A turn's slow Dask step: its progress as turn.event, then `daa ask`
    to a pipe (formerly test_progress_turn.py)."""
    with s.d.client(timeout=300) as c:
        r = c.call("ask", {"project": s.project, "request": "total amount"})
        evs = [m[2][0] for m in c.notifications if m[1] == "turn.event"]
    assert r["status"] == "done", r
    # the step's progress (a profile the turn waits for first carries its
    # dataset: test_profile_progress.py)
    kinds = [e["kind"] if "dataset" not in e else "profile-progress" for e in evs]
    prog = [e for e in evs if e["kind"] == "progress" and "dataset" not in e]
    assert len(prog) >= 2, kinds
    first, last = kinds.index("progress"), len(kinds) - 1 - kinds[::-1].index("progress")
    assert kinds.index("code") < first and last < kinds.index("output"), kinds
    dones = [e["done"] for e in prog]
    assert dones == sorted(dones) and prog[-1]["done"] == prog[-1]["total"], prog
    assert all(e["turn"] == r["turn"] and e["project_path"] == s.path for e in prog), prog
    print("ok - a turn's slow Dask step sent %d progress events between code and output, "
          "ending at %d/%d" % (len(prog), prog[-1]["done"], prog[-1]["total"]))
    p = s.daa("-p", s.project, "ask", "total amount", timeout=300)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("progress: ")]
    assert len(lines) >= 1 and "progress" not in p.stdout, (p.stdout, p.stderr)
    assert "\r" not in p.stderr and "\x1b" not in p.stderr, p.stderr
    print("ok - daa ask to a pipe: %r on stderr" % lines[0])


INTERRUPTED = r'''
import time
def slow(part):
    open('outputs/dask_started', 'w').close()
    time.sleep(2)
    open('outputs/dask_part_%d' % id(part), 'w').close()
    return part
o = dfs['orders']
o.map_partitions(slow).amount.sum().compute()
'''


def check_interrupt(s, path):
    r, p = s.run_json("kept = dfs['orders'].npartitions; kept", timeout=300)
    assert r and r["ok"], p.stdout + p.stderr
    parts = int(r["result"]["repr"])
    assert parts >= 10, parts
    proc = s.popen("-p", s.project, "run", INTERRUPTED)
    wait_for_marker(os.path.join(s.path, "outputs", "dask_started"), proc, limit=120)
    s.daa("-p", s.project, "kernel", "interrupt")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "KeyboardInterrupt" in out + err, (out, err)
    done = [f for f in os.listdir(os.path.join(s.path, "outputs")) if f.startswith("dask_part_")]
    assert len(done) < parts, (len(done), parts)
    r, p = s.run_json("kept, float(dfs['orders'].units.sum().compute())", timeout=300)
    assert r and r["ok"], p.stdout + p.stderr
    ref = dasklib.pandas_in_chunks(path)
    assert r["result"]["repr"] == "(%d, %r)" % (parts, float(ref["units"])), r["result"]
    print("ok - interrupt stops a Dask computation after %d of %d partitions; the kernel "
          "keeps its namespace and computes again" % (len(done), parts))


def main():
    skip_unless_built()
    sys.path.insert(0, os.path.join(dasklib.ROOT, "tests", "agent"))
    from agentlib import API_KEY, FakeLLM, call, final, reply
    turn = [reply(call("run_python", "c1", code=TURN_CODE, purpose="total amount, slowly")),
            final("The total amount is printed above.")]
    path = dasklib.make_orders()
    work = tempfile.mkdtemp(prefix="daa-progress-llm.")
    fake = FakeLLM({"responses": turn + turn}, work)
    cfg = dasklib.config()
    cfg["llm"] = {"backend": "openai", "base_url": fake.base_url, "model": "fake-model",
                  "max_retries": 0, "total_timeout_ms": 40000}
    try:
        return check_all(cfg, path, API_KEY)
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)


def check_all(cfg, path, api_key):
    with Session(config=cfg, extra_env={"OPENAI_API_KEY": api_key}) as s:
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
        check_turn(s)
        check_interrupt(s, path)
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
