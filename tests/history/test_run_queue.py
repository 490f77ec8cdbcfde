#!/usr/bin/python3
"""tests/history/test_run_queue.py — a direct `run` (not scratch) takes the
project like a turn.  The turn's step, scripted through the fake OpenAI
server, waits for a gate file the test creates, so the turn is provably in
progress (no timing):

1. a run asked while the turn's step runs waits (history.event run_queued
   to its client, behind "turn"), runs after the turn has ended, sees the
   turn's variables, and is numbered after the turn's step;
2. a run asked during a re-run of two steps (the first waits for the gate)
   runs after the whole re-run, not between its steps;
3. a run whose client disconnects while it waits, and one whose client sends
   kernel.interrupt while it waits, are dropped (never run; the second gets
   a "cancelled" error; the daemon logs them); kernel.interrupt from that
   client leaves the turn's step alone; a third waiting run runs, numbered
   right after the turn's step.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import (ROOT, WAIT_GATE, GATE, hist_note, history, kind,  # noqa: E402
                     next_note, open_gate, result, run_with_fake)

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402

def run_during_turn(s, fake):
    fake.set_script({"responses": [
        reply(call("run_python", "c1", code=WAIT_GATE + "turn_var = 41\nprint('turn step done')",
                   purpose="wait for the gate")),
        final("The turn is done.")]})
    with s.d.client(timeout=120) as w, s.d.client(timeout=120) as a, s.d.client(timeout=120) as r:
        w.call("watch", {"project": "demo"})
        ask = a.send("ask", {"project": "demo", "request": "wait for the gate"})
        next_note(w, lambda m: m[1] == "turn.event" and kind(m) == "code")
        mid = r.send("run", {"project": "demo", "code": "run_var = turn_var + 1\nprint('run sees', turn_var)"})
        ev = hist_note(r, "run_queued", mid)
        assert ev["behind"] == "turn" and ev["project_path"] == s.path, ev
        assert mid not in r.responses
        print("ok - a run asked while a turn's step runs waits (run_queued, behind the turn)")
        open_gate(s)
        turn = result(a, ask)
        assert turn["status"] == "done" and turn["history"].startswith("history/001_"), turn
        hist_note(r, "run_start", mid)
        out = result(r, mid)
        assert out["ok"] and out["stdout"] == "run sees 41\n", out
        assert out["step"] == "history/002_run.py", out
        steps = [st["file"] for st in history(s)["steps"]]
        assert steps == [turn["history"], "history/002_run.py"], steps
        print("ok - it runs after the turn (sees its variables) and is numbered after the turn's step")


def run_during_rerun(s):
    os.unlink(os.path.join(s.path, GATE))
    with s.d.client(timeout=120) as w, s.d.client(timeout=120) as a, s.d.client(timeout=120) as r:
        w.call("watch", {"project": "demo"})
        rr = a.send("history.rerun", {"project": "demo", "step": 1})
        hist_note(w, "rerun_start")
        mid = r.send("run", {"project": "demo", "code": "print('after', run_var)"})
        ev = hist_note(r, "run_queued", mid)
        assert ev["behind"] == "rerun", ev
        print("ok - a run asked during a re-run waits (behind the re-run)")
        open_gate(s)
        done = result(a, rr)
        assert done["ok"] and [x["n"] for x in done["ran"]] == [1, 2, 3], done
        out = result(r, mid)
        # between the re-run's steps (fresh kernel, step 2 not re-run yet) run_var would not exist
        assert out["ok"] and out["stdout"] == "after 42\n", out
        assert out["step"] == "history/004_run.py", out
        print("ok - it runs after the whole re-run, not between its steps")


def dropped_runs(s, fake):
    os.unlink(os.path.join(s.path, GATE))
    fake.set_script({"responses": [
        reply(call("run_python", "c2", code=WAIT_GATE + "print('second turn step')",
                   purpose="wait again")),
        final("Second turn done.")]})
    with s.d.client(timeout=120) as w, s.d.client(timeout=120) as a, \
            s.d.client(timeout=120) as y, s.d.client(timeout=120) as z:
        w.call("watch", {"project": "demo"})
        ask = a.send("ask", {"project": "demo", "request": "wait for the gate again"})
        next_note(w, lambda m: m[1] == "turn.event" and kind(m) == "code")
        with s.d.client(timeout=120) as x:
            xm = x.send("run", {"project": "demo", "code": "open('outputs/dropped.txt', 'w').write('x')"})
            hist_note(x, "run_queued", xm)
        ym = y.send("run", {"project": "demo", "code": "open('outputs/interrupted.txt', 'w').write('x')"})
        hist_note(y, "run_queued", ym)
        zm = z.send("run", {"project": "demo", "code": "print('z ran')"})
        hist_note(z, "run_queued", zm)
        intr = y.call("kernel.interrupt", {"project": "demo"})
        assert intr == {"ok": True, "dropped": 1}, intr
        out = y.wait(ym)
        assert out[2] and out[2]["code"] == -32009 and "never ran" in out[2]["message"], out
        print("ok - kernel.interrupt from a waiting run's client drops that run (cancelled)")
        open_gate(s)
        turn = result(a, ask)
        assert turn["status"] == "done", turn
        assert [(st["ok"], st["stdout"]) for st in turn["steps"]] == [(True, "second turn step\n")], turn
        out = result(z, zm)
        assert out["ok"] and out["stdout"] == "z ran\n", out
        n = int(turn["history"][len("history/"):][:3])
        assert out["step"] == "history/%03d_run.py" % (n + 1), (out, turn["history"])
    for f in ("dropped.txt", "interrupted.txt"):
        assert not os.path.exists(os.path.join(s.path, "outputs", f)), f + " was written"
    log = s.d.log_text()
    assert "a waiting run was dropped before it ran: its client went away" in log, log[-3000:]
    assert "a waiting run was dropped before it ran: the run was cancelled" in log, log[-3000:]
    print("ok - the turn's step was not interrupted; a disconnected client's run never ran "
          "(logged); the next waiting run is numbered right after the turn's step")


def main():
    def body(s, fake):
        run_during_turn(s, fake)
        with s.d.client() as c:  # the project is free: a run starts at once
            mid = c.send("run", {"project": "demo", "code": "print('plain run')"})
            out = result(c, mid)
            assert out["step"] == "history/003_run.py" and not c.notifications, (out, c.notifications)
        # step 1 (the turn's) waits for the gate when it is re-run
        run_during_rerun(s)
        dropped_runs(s, fake)
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    return run_with_fake("daa-hist-runq.", body, fake_kernel={})


if __name__ == "__main__":
    sys.exit(main())
