#!/usr/bin/python3
"""tests/history/test_cli_run_queue.py — what a person sees when `daa run`
waits for a turn: while the turn's step is held (gate file), `daa run` says
on stderr that it waits for the project's turn to end; once the gate opens it
prints its output and exits 0, numbered after the turn's step."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import ROOT, WAIT_GATE, kind, next_note, open_gate, result, run_with_fake  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402


def body(s, fake):
    fake.set_script({"responses": [
        reply(call("run_python", "c1", code=WAIT_GATE + "turn_var = 41", purpose="wait for the gate")),
        final("The turn is done.")]})
    with s.d.client(timeout=120) as w, s.d.client(timeout=120) as a:
        w.call("watch", {"project": "demo"})
        ask = a.send("ask", {"project": "demo", "request": "wait for the gate"})
        next_note(w, lambda m: m[1] == "turn.event" and kind(m) == "code")
        p = s.popen("-p", "demo", "run", "print(turn_var + 1)")
        line = p.stderr.readline()
        assert "waiting for the project's turn to end" in line, line
        open_gate(s)
        assert result(a, ask)["status"] == "done"
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and "42" in out, (p.returncode, out, err)
        assert "history/002_run.py" in out + err or os.path.exists(os.path.join(s.path, "history", "002_run.py")), (out, err)
    print("ok - `daa run` during a turn says it waits, then runs after the turn")


def main():
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    return run_with_fake("daa-hist-cliq.", body, fake_kernel={})


if __name__ == "__main__":
    sys.exit(main())
