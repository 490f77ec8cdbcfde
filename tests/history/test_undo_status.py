#!/usr/bin/python3
"""tests/history/test_undo_status.py — undo leaves nothing that the next
step of the same name inherits (issue 14 item 6), through a real daemon:

1. step 2 (`daa run`, so history/002_run.py, with a figure) is edited to
   raise and re-run, so it is "failed"; history.undo drops it; the next
   `daa run` is saved as history/002_run.py again and must be "ok", with no
   error, none of the old figures and its own stdout, in `daa history`, in
   .daa/history.json and in the exported notebook's outputs.
2. step 1 is edited, so step 2 is "stale"; undo step 2; the new step 2 is
   "ok" (step 1 stays "edited": undo touches only the removed step)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import Session, skip_unless_built, history, step_run  # noqa: E402
# Session(fake_kernel={}) / run_with_fake(..., fake_kernel={}): kernels are
# tests/lib/fake_kernel.py, ready in ms; the steps are plain Python and
# plt.plot (its stand-in pyplot writes a small PNG per figure, the runtime's
# way: hidden .tmp, then renamed), and what is checked is the daemon's
# handling of scripts, statuses and figure files, not the runtime



def state(s):
    with open(os.path.join(s.path, ".daa", "history.json")) as f:
        return json.load(f)


def undo(s):
    r = s.d.call("history.undo", {"project": s.project})
    assert r["ok"] and r["removed"] == "history/002_run.py", r
    assert "002_run" not in state(s), state(s)


def edit(s, n, text):
    r = s.d.call("history.edit", {"project": s.project, "step": n, "text": text})
    assert r["saved"], r


def failed_then_undone():
    with Session(fake_kernel={}) as s:
        step_run(s, "a = 1")
        r = step_run(s, "print('old two')\nplt.plot([1, 2])")
        assert r["step"] == "history/002_run.py" and r["figures"], r
        edit(s, 2, "raise ValueError('broken on purpose')\n")
        p = s.daa("-p", s.project, "rerun", "2", check=False)
        assert p.returncode == 1 and "broken on purpose" in p.stderr, (p.stdout, p.stderr)
        h = history(s)["steps"]
        assert h[1]["status"] == "failed" and "broken on purpose" in h[1]["error"], h
        undo(s)
        print("ok - undo of a failed step drops its entry from .daa/history.json")

        r = step_run(s, "print('new two')")
        assert r["step"] == "history/002_run.py" and r["figures"] == [], r
        h = history(s)["steps"]
        assert [(x["n"], x["status"], x.get("error")) for x in h] == \
            [(1, "ok", None), (2, "ok", None)], h
        assert h[1]["outputs"] == [], h  # the undone step's figure is not the new step's
        e = state(s)["002_run"]
        assert e.get("status", "ok") == "ok" and "error" not in e and "outputs" not in e, e
        assert e.get("stdout") == "new two\n", e
        assert "failed" not in s.daa("-p", s.project, "history").stdout
        nb = os.path.join(s.path, "nb.ipynb")
        s.daa("-p", s.project, "export", "--notebook", nb, "--with-outputs")
        with open(nb) as f:
            text = f.read()
        assert "new two" in text and "old two" not in text, text
        assert os.listdir(os.path.join(s.path, "outputs", "plots", "unsaved")), \
            "the undone step's figure was not kept under unsaved/"
        print("ok - the next step of the same name is ok, with its own stdout and no old figure")


def stale_then_undone():
    with Session(fake_kernel={}) as s:
        step_run(s, "a = 1")
        step_run(s, "b = a + 1")
        edit(s, 1, "a = 5\n")
        assert [x["status"] for x in history(s)["steps"]] == ["edited", "stale"]
        undo(s)
        step_run(s, "c = 3")
        h = history(s)["steps"]
        assert [(x["n"], x["status"]) for x in h] == [(1, "edited"), (2, "ok")], h
        print("ok - undo of a stale step: the next step 2 is ok, step 1 stays edited")


def main():
    skip_unless_built()
    failed_then_undone()
    stale_then_undone()
    return 0


if __name__ == "__main__":
    sys.exit(main())
