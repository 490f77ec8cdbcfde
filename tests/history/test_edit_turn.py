#!/usr/bin/python3
"""tests/history/test_edit_turn.py — editing a step while an agent turn
holds the project, and a turn asked while a direct `run` holds it (turns
scripted through the fake OpenAI server; no timing).

1. A turn suspended on a question has run a step (turn_var = 41).  An edit
   of step 1 is saved at once (file and statuses; reply saved: true,
   restart_deferred: true) but the kernel is not restarted under the turn:
   once answered, the turn's next step still sees turn_var and the old
   value of v.  When the turn ends the restart happens (history.event
   "edit_restart"), the turn's new step is marked stale (it ran on the state
   before the edit), and the kernel then holds the edited state (v == 2).
2. A run holding the project (its code waits for a gate file) makes a turn
   asked meanwhile wait: the run's response comes before the turn's
   "started" event on the same connection, and the turn sees the run's
   variable.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import (ROOT, WAIT_GATE, hist_note, kind, next_note,  # noqa: E402
                     open_gate, params, result, run_with_fake, statuses, step_run)

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402


def edit_during_turn(s, fake):
    step_run(s, "v = 1\nprint('v', v)")
    fake.set_script({"responses": [
        reply(call("run_python", "c1", code="turn_var = 41", purpose="set")),
        reply(call("ask_user", "q1", question="Go on?", choices=["yes", "no"])),
        reply(call("run_python", "c2", code="print('turn sees', turn_var + v)", purpose="use")),
        final("Done.")]})
    with s.d.client(timeout=120) as w, s.d.client(timeout=120) as a:
        w.call("watch", {"project": "demo"})
        q = a.call("ask", {"project": "demo", "request": "set and ask"})
        assert q["status"] == "question", q
        ed = a.call("history.edit", {"project": "demo", "step": 1, "text": "v = 2\nprint('v', v)\n"})
        assert ed == {"file": "history/001_run.py", "stale": [], "saved": True, "queued": False,
                      "restart_deferred": True}, ed
        with open(os.path.join(s.path, "history", "001_run.py")) as f:
            assert f.read() == "v = 2\nprint('v', v)\n"
        assert statuses(s) == {1: "edited"}, statuses(s)
        ev = hist_note(w, "edited")
        assert ev["restart_deferred"] is True and ev["file"] == "history/001_run.py", ev
        print("ok - an edit during a turn is saved at once; the kernel restart is deferred")

        done = a.call("answer", {"project": "demo", "text": "yes"})
        assert done["status"] == "done", done
        assert [(st["ok"], st["stdout"]) for st in done["steps"]] == \
            [(True, ""), (True, "turn sees 42\n")], done["steps"]
        assert done["history"].startswith("history/002_"), done
        seen = next_note(w, lambda m: m[1] == "history.event" and kind(m) == "edit_restart")
        kinds = [(m[1], kind(m)) for m in seen]
        assert kinds.index(("turn.event", "done")) < len(kinds) - 1, kinds
        ev = params(seen[-1])
        assert ev["step"] == 1 and ev["stale"] == [2], ev
        assert statuses(s) == {1: "edited", 2: "stale"}, statuses(s)
        r, p = s.run_json("v", "--scratch")
        assert r and r["result"]["repr"] == "2", p.stdout
        print("ok - the turn kept its kernel; after it the kernel restarted with the edit, "
              "its step is stale")


def turn_during_run(s, fake):
    fake.set_script({"responses": [
        reply(call("run_python", "c3", code="print('turn sees', from_run)", purpose="use")),
        final("Seen.")]})
    with s.d.client(timeout=120) as r, s.d.client(timeout=120) as a:
        r.call("watch", {"project": "demo"})
        mid = r.send("run", {"project": "demo", "code": WAIT_GATE + "from_run = 7"})
        r.call("ping")  # one connection's requests are dispatched in order: the run took the project
        ask = a.send("ask", {"project": "demo", "request": "use the run's value"})
        next_note(r, lambda m: m[1] == "turn.event" and kind(m) == "queued")
        assert not any(kind(m) == "started" for m in r.notifications)
        open_gate(s)
        out = result(r, mid)
        assert out["ok"] and out["step"] == "history/003_run.py", out
        # the response was read before the turn's "started" event on this connection
        assert not any(m[1] == "turn.event" and kind(m) == "started" for m in r.notifications), \
            r.notifications
        turn = result(a, ask)
        assert turn["status"] == "done" and turn["steps"][0]["stdout"] == "turn sees 7\n", turn
        assert turn["history"].startswith("history/004_"), turn
        print("ok - a turn asked while a run holds the project starts after it and sees its state")


def main():
    def body(s, fake):
        edit_during_turn(s, fake)
        turn_during_run(s, fake)
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    return run_with_fake("daa-hist-edturn.", body, fake_kernel={})


if __name__ == "__main__":
    sys.exit(main())
