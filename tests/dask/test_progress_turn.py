#!/usr/bin/python3
"""tests/dask/test_progress_turn.py — progress of a long Dask step in an
agent turn (the fake OpenAI server scripts the step): the asking connection
gets turn.event {kind: "progress", done, total} between the step's `code`
and `output` events, done rising to total; `daa ask` writing to a pipe shows
a plain "progress: N% (d/t tasks)" line on stderr and none on stdout."""
# daa-test-timeout: 600
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402

sys.path.insert(0, os.path.join(dasklib.ROOT, "tests", "agent"))
from agentlib import API_KEY, FakeLLM, call, final, reply  # noqa: E402

SLOW = ("import time\n"
        "def slow(part):\n"
        "    time.sleep(0.1)\n"
        "    return part\n"
        "print(dfs['orders'].map_partitions(slow).amount.sum().compute())\n")
TURN = [reply(call("run_python", "c1", code=SLOW, purpose="total amount, slowly")),
        final("The total amount is printed above.")]


def main():
    skip_unless_built()
    path = dasklib.make_orders()
    work = tempfile.mkdtemp(prefix="daa-progress-llm.")
    fake = FakeLLM({"responses": TURN + TURN}, work)
    cfg = dasklib.config()
    cfg["llm"] = {"backend": "openai", "base_url": fake.base_url, "model": "fake-model",
                  "max_retries": 0, "total_timeout_ms": 40000}
    try:
        with Session(config=cfg, extra_env={"OPENAI_API_KEY": API_KEY}) as s:
            dasklib.project_with_orders(s, path)
            with s.d.client(timeout=300) as c:
                r = c.call("ask", {"project": s.project, "request": "total amount"})
                evs = [m[2][0] for m in c.notifications if m[1] == "turn.event"]
            assert r["status"] == "done", r
            # the step's progress (a profile the turn waits for first carries its
            # dataset: test_profile_progress_turn.py)
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
            assert s.alive()
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
