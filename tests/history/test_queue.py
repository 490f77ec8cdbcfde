#!/usr/bin/python3
"""tests/history/test_queue.py — a re-run takes the project like an agent
turn: asked while a turn is suspended on a question it waits
(`history.event` rerun_queued, no response), and runs once the turn has
ended; every watching client sees the turn end before the re-run starts.
An edit asked while that re-run waits is queued behind it (the re-run
reads the scripts and rewrites their statuses): the reply says so at once,
the script is unchanged until the re-run has ended, then it is saved
(history.event "edited" with queued: true) and the statuses follow.
The turn is scripted (the fake OpenAI server: a question, then a step)
and the kernel is tests/lib/fake_kernel.py: what is tested is the
daemon's queue, not Python."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import ROOT, next_note, run_with_fake, statuses, step_run  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from daad import RpcError  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402

TURN = [reply(call("ask_user", "q1", question="Which dataset?", choices=["sales", "orders"])),
        reply(call("run_python", "c1", code="rows = 3\nprint('rows', rows)", purpose="count")),
        final("There are 3 rows.")]


def kind(m):
    return m[2][0].get("kind") if isinstance(m[2], list) and m[2] else None


def body(s, fake):
    step_run(s, "v = 1\nprint('v', v)")
    with s.d.client(timeout=120) as w, s.d.client(timeout=120) as a, \
            s.d.client(timeout=120) as r:
        w.call("watch", {"project": "demo"})
        res = a.call("ask", {"project": "demo", "request": "how many rows are there"})
        assert res["status"] == "question", res
        mid = r.send("history.rerun", {"project": "demo", "step": 1})
        next_note(w, lambda m: m[1] == "history.event" and kind(m) == "rerun_queued")
        assert mid not in r.responses
        ed = a.call("history.edit", {"project": "demo", "step": 1, "text": "v = 2\nprint('v', v)\n"})
        assert ed["queued"] is True and ed["saved"] is False and ed["stale"] == [], ed
        assert ed["file"] == "history/001_run.py", ed
        with open(os.path.join(s.path, "history", "001_run.py")) as f:
            assert "v = 1" in f.read(), "a queued edit was written before the re-run"
        next_note(w, lambda m: m[1] == "history.event" and kind(m) == "edit_queued")
        try:
            a.call("history.rerun", {"project": "demo", "step": 1})
            raise AssertionError("a second re-run was accepted while one waits")
        except RpcError as e:
            assert e.code == -32008, (e.code, e.message)
        try:
            a.call("history.undo", {"project": "demo"})
            raise AssertionError("undo accepted while a re-run waits")
        except RpcError as e:
            assert e.code == -32008, (e.code, e.message)
        print("ok - a re-run asked during a turn waits for it; an edit is queued behind it")

        res = a.call("answer", {"project": "demo", "text": "sales"})
        assert res["status"] == "done", res
        out = r.wait(mid)
        assert out[2] is None and out[3]["ok"] and out[3]["ran"][0]["stdout"] == "v 1\n", out
        # the turn's step (002) was saved while the re-run waited: it is re-run too
        assert [x["n"] for x in out[3]["ran"]] == [1, 2], out
        seen = next_note(w, lambda m: m[1] == "history.event" and kind(m) == "rerun_done")
        kinds = [(m[1], kind(m)) for m in seen]
        assert kinds.index(("turn.event", "done")) < kinds.index(("history.event", "rerun_start")), kinds
        print("ok - it runs after the turn ends (with the turn's new step); watchers see done, then the re-run")
        seen = next_note(w, lambda m: m[1] == "history.event" and kind(m) == "edited")
        ev = seen[-1][2][0]
        assert ev["queued"] is True and ev["stale"] == [2] and ev["file"] == "history/001_run.py", ev
        with open(os.path.join(s.path, "history", "001_run.py")) as f:
            assert f.read() == "v = 2\nprint('v', v)\n"
        assert statuses(s) == {1: "edited", 2: "stale"}, statuses(s)
        r2, p = s.run_json("v", "--scratch")
        assert r2 and r2["result"]["repr"] == "2", p.stdout
        print("ok - the queued edit is applied after the re-run: saved, later steps stale, kernel restarted")


if __name__ == "__main__":
    sys.exit(run_with_fake("daa-queue.", body, TURN, fake_kernel={}))
