"""tests/history/histlib.py — shared helpers for the history suite: the
kernel suite's Session (a private daad, project `demo` holding
examples/sales.csv, the real `daa` CLI) plus small readers."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "kernel"))
from kcli import Session, skip_unless_built  # noqa: E402,F401


def history(s):
    """`daa --json history` as a dict."""
    p = s.daa("--json", "-p", s.project, "history")
    return json.loads(p.stdout)


def statuses(s):
    """{n: status} of every step."""
    return {st["n"]: st["status"] for st in history(s)["steps"]}


def step_run(s, code):
    """`daa run CODE` that must succeed and become a step; the reply."""
    r, p = s.run_json(code)
    assert r and r["ok"] and r.get("step", "").startswith("history/"), (p.stdout, p.stderr)
    return r
