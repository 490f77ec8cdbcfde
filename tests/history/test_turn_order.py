#!/usr/bin/python3
"""tests/history/test_turn_order.py — strict arrival order between queued
agent turns and a waiting `run` (fake OpenAI server; no timing).

Turn A holds the project (its step waits for a gate file); turn B is asked
(queued), then run J (waits), then turn C.  Once the gate opens the order
must be A, B, J, C: seen on one connection (it watches the project and
asked J), and in the history numbering (A 001, B 002, J 003_run, C 004).
The positions the queued events report count every job ahead (C: 3).

(Turns and runs are jobs of one FIFO per project, daemon/project/workq.c.)
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import (ROOT, WAIT_GATE, hist_note, history, kind,  # noqa: E402
                     next_note, open_gate, params, result, run_with_fake)

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402

def turn_events(msgs):
    """[(turn, kind)] of the turn.event notifications, plus ("run", kind) of history.event."""
    out = []
    for m in msgs:
        if m[0] == 2 and m[1] == "turn.event" and kind(m) in ("started", "done"):
            out.append((params(m)["turn"], kind(m)))
        elif m[0] == 2 and m[1] == "history.event" and kind(m) in ("run_queued", "run_start"):
            out.append(("run", kind(m)))
    return out


def body(s, fake):
    with s.d.client(timeout=120) as j, s.d.client(timeout=120) as a:
        j.call("watch", {"project": "demo"})
        ta = a.send("ask", {"project": "demo", "request": "turn a"})
        next_note(j, lambda m: m[1] == "turn.event" and kind(m) == "code")
        tb = a.send("ask", {"project": "demo", "request": "turn b"})
        qb = params(next_note(j, lambda m: m[1] == "turn.event" and kind(m) == "queued")[-1])
        mid = j.send("run", {"project": "demo", "code": "print('J')"})
        qj = hist_note(j, "run_queued", mid)
        tc = a.send("ask", {"project": "demo", "request": "turn c"})
        qc = params(next_note(j, lambda m: m[1] == "turn.event" and kind(m) == "queued")[-1])
        # positions count every job ahead, whatever its kind (daemon/project/workq.c): C waits
        # behind A (running), B and J
        assert qb["position"] == 1 and qj["behind"] == "turn" and qc["position"] == 3, (qb, qj, qc)
        open_gate(s)
        out = j.wait(mid)
        assert out[2] is None and out[3]["ok"] and out[3]["stdout"] == "J\n", out
        results = [result(a, t) for t in (ta, tb, tc)]
        seen = next_note(j, lambda m: m[1] == "turn.event" and kind(m) == "done" and
                          params(m)["turn"] == results[2]["turn"])
        na, nb, nc = (r["turn"] for r in results)
        order = turn_events(seen)
        want = [(na, "done"), (nb, "started"), (nb, "done"), ("run", "run_start"),
                (nc, "started"), (nc, "done")]
        assert order == want, (order, want)
        files = [st["file"] for st in history(s)["steps"]]
        assert [f[len("history/"):][:3] for f in files] == ["001", "002", "003", "004"], files
        assert files[2] == "history/003_run.py" == out[3]["step"], (files, out[3])
        print("ok - turns and a run are served in arrival order: A, B, J, C (events and numbering)")


def main():
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    return run_with_fake("daa-hist-order.", body, [
        reply(call("run_python", "a1", code=WAIT_GATE + "print('A')", purpose="A")), final("A done"),
        reply(call("run_python", "b1", code="print('B')", purpose="B")), final("B done"),
        reply(call("run_python", "c1", code="print('C')", purpose="C")), final("C done")], fake_kernel={})


if __name__ == "__main__":
    sys.exit(main())
