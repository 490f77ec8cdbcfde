#!/usr/bin/python3
"""tests/agent/test_turns_tail.py — the conversation never disappears
(issue 14 item 4), through a real daemon with the builtin analyst:

- a 9 MiB .daa/turns.jsonl (3000 turns, written by the test): turns.list
  gives its last 50 turns, oldest first (it gave nothing over 8 MiB);
- the next turn rotates the file to turns.jsonl.1 (past 4 MiB) and is
  numbered 3001; turns.list then joins the tail of .1 and the new file;
- the daemon, restarted on these files, loads its digest from them and
  goes on (turns 3001, 3002);
- a day's llm log over 32 MiB is rotated to llm_log_DAY.HHMMSS.jsonl and
  log.tail still gives the newest calls."""
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import check, project_with_sales, run_test  # noqa: E402

N = 3000


def record(i):
    return {"turn": i, "ts": "2026-01-01T00:00:00+0000", "request": "request %d" % i,
            "status": "done", "answer": ("answer %d " % i) + "x" * 3000, "history": None,
            "figures": [], "code": "print(%d)\n" % i, "error": None}


def turns(c, limit):
    return [t["turn"] for t in c.call("turns.list", project="p", limit=limit)["turns"]]


def main(d):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    state = os.path.join(path, ".daa")
    tj = os.path.join(state, "turns.jsonl")
    with open(tj, "w") as f:
        for i in range(1, N + 1):
            f.write(json.dumps(record(i)) + "\n")
        f.write('{"turn": 99999, "torn')  # a torn last line (crash) is skipped
    with open(os.path.join(state, "turn"), "w") as f:  # the project's turn counter
        f.write("%d\n" % N)
    size = os.path.getsize(tj)
    check(size > (8 << 20), "the test file is only %d bytes" % size)
    got = turns(c, 50)
    print("turns.list of a %d-byte turns.jsonl: %d turns, %s..%s" % (size, len(got), got[:1], got[-1:]))
    check(got == list(range(N - 49, N + 1)), "turns.list gave %r" % got[:5])
    day = time.strftime("%Y-%m-%d")
    log = os.path.join(path, "llm_log_%s.jsonl" % day)
    with open(log, "w") as f:
        line = json.dumps({"ts": "old", "turn": 0, "request": "y" * 4000}) + "\n"
        f.write(line * ((33 << 20) // len(line)))
    d.restart()  # the digest is loaded from the 9 MiB file
    c = d.client(timeout=120)
    r = c.call("ask", timeout=120, project="p", request="total revenue by region")
    check(r["status"] == "done" and r["turn"] == N + 1, "the next turn: %r %r" % (r["status"], r["turn"]))
    check(os.path.exists(tj + ".1") and os.path.getsize(tj) < (1 << 20),
          "turns.jsonl was not rotated to turns.jsonl.1")
    got = turns(c, 50)
    check(got == list(range(N - 48, N + 2)), "after the rotation turns.list gave %r" % got[-5:])
    rotated = glob.glob(os.path.join(path, "llm_log_%s.*.jsonl" % day))
    check(len(rotated) == 1 and os.path.getsize(log) < (1 << 20), "the llm log was not rotated: %r" % rotated)
    entries = c.call("log.tail", project="p", n=3)["entries"]
    check(entries and entries[-1].get("turn") == N + 1, "log.tail after the rotation: %r"
          % [e.get("turn") for e in entries])
    d.restart()
    c = d.client(timeout=120)
    r = c.call("ask", timeout=120, project="p", request="total revenue by region")
    check(r["status"] == "done" and r["turn"] == N + 2, "after a restart: %r %r" % (r["status"], r["turn"]))
    check(turns(c, 3) == [N, N + 1, N + 2], "after a restart turns.list gave %r" % turns(c, 3))
    print("rotated: turns.jsonl.1 (%d bytes), %s; the conversation goes on across the rotation"
          % (os.path.getsize(tj + ".1"), os.path.basename(rotated[0])))


if __name__ == "__main__":
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the turn files; what the steps of the builtin analyst print is not checked
    run_test(main, fake_kernel={})
    print("ok")
