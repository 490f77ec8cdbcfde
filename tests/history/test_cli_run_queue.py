#!/usr/bin/python3
"""tests/history/test_cli_run_queue.py — what a person sees when `daa run`
waits for a turn: while the turn's step is held (gate file), `daa run` says
on stderr that it waits for the project's turn to end; once the gate opens it
prints its output and exits 0, numbered after the turn's step."""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import ROOT, Session, WAIT_GATE, kind, next_note, open_gate, result, skip_unless_built  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import API_KEY, FakeLLM, call, final, reply  # noqa: E402


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
    skip_unless_built()
    work = tempfile.mkdtemp(prefix="daa-hist-cliq.")
    fake = FakeLLM({"responses": []}, work)
    try:
        cfg = {"llm": {"backend": "openai", "base_url": fake.base_url, "model": "fake-model",
                       "max_retries": 0, "total_timeout_ms": 60000}}
        with Session(config=cfg, extra_env={"OPENAI_API_KEY": API_KEY}) as s:
            body(s, fake)
            assert s.alive()
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
