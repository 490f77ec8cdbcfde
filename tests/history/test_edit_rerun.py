#!/usr/bin/python3
"""tests/history/test_edit_rerun.py — steps made with `daa run` (and one
with --scratch, which is not saved), `daa history` / `daa show`; editing a
middle step with `daa edit` ($EDITOR is a sed script) marks the later
steps stale; `daa rerun 2` updates their outputs (stdout and the plot);
a re-run that fails reports the traceback, marks the step failed and leaves
its previous plot in place."""
import hashlib
import os
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import Session, skip_unless_built, history, statuses, step_run  # noqa: E402
# Session(fake_kernel={}) / run_with_fake(..., fake_kernel={}): kernels are
# tests/lib/fake_kernel.py, ready in ms; the steps are plain Python and
# plt.plot (its stand-in pyplot writes a small PNG per figure, the runtime's
# way: hidden .tmp, then renamed), and what is checked is the daemon's
# handling of scripts, statuses and figure files, not the runtime



def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make_editor(tmp, script):
    """An $EDITOR that rewrites the file it is given with a sed expression."""
    path = os.path.join(tmp, "ed.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nsed -i %s \"$1\"\n" % script)
    os.chmod(path, stat.S_IRWXU)
    return path


def main():
    skip_unless_built()
    tmp = tempfile.mkdtemp(prefix="daa-hist-ed.")
    try:
        with Session(fake_kernel={}) as s:
            step_run(s, "base = 10\nprint('base', base)")
            step_run(s, "scale = 2\nprint('scale', scale)")
            r = step_run(s, "result = base * scale\nprint('result', result)\n"
                         "plt.bar(['r'], [result])")
            assert len(r["figures"]) == 1, r
            fig = os.path.join(s.path, r["figures"][0])
            old_fig = digest(fig)
            r, p = s.run_json("print('scratch')", "--scratch")
            assert r and r["ok"] and "step" not in r, p.stdout
            h = history(s)
            assert [st["n"] for st in h["steps"]] == [1, 2, 3], h
            assert h["steps"][2]["outputs"] == ["outputs/plots/003_run_1.png"], h
            assert set(statuses(s).values()) == {"ok"}, h
            p = s.daa("-p", "demo", "history")
            assert "  1  ok" in p.stdout and "outputs/plots/003_run_1.png" in p.stdout, p.stdout
            p = s.daa("-p", "demo", "show", "2")
            assert "scale = 2" in p.stdout and "# request:" in p.stdout, p.stdout
            print("ok - run steps are saved (not --scratch), listed and shown")

            env_ed = make_editor(tmp, "'s/scale = 2/scale = 5/'")
            s.d.env["EDITOR"] = env_ed
            s.d.env.pop("VISUAL", None)
            p = s.daa("-p", "demo", "edit", "2")
            assert "2 later step(s) now stale" not in p.stderr, p.stderr
            assert "1 later step(s) now stale" in p.stderr and "daa rerun 2" in p.stderr, p.stderr
            st = statuses(s)
            assert st == {1: "ok", 2: "edited", 3: "stale"}, st
            with open(os.path.join(s.path, "history", "002_run.py")) as f:
                assert "scale = 5" in f.read()
            print("ok - edit a middle step: it is 'edited', the later one 'stale'")

            p = s.daa("-p", "demo", "rerun", "2")
            assert "scale 5" in p.stdout and "result 50" in p.stdout, p.stdout
            assert "base 10" not in p.stdout, p.stdout  # step 1 was replayed, not re-run
            assert "replayed 1/1 001_run.py" in p.stderr and "ran step 3: ok" in p.stderr, p.stderr
            st = statuses(s)
            assert st == {1: "ok", 2: "ok", 3: "ok"}, st
            assert digest(fig) != old_fig, "the plot of step 3 was not updated"
            r, p = s.run_json("result", "--scratch")
            assert r["result"]["repr"] == "50", p.stdout
            print("ok - rerun 2: outputs updated (result 50, new plot), kernel holds the new state")

            new_fig = digest(fig)
            s.d.env["EDITOR"] = make_editor(tmp, "'s/^result = base \\* scale$/result = base * nope/'")
            p = s.daa("-p", "demo", "edit", "3", "--rerun", check=False)
            assert p.returncode == 1, (p.stdout, p.stderr)
            assert "NameError" in p.stderr and "nope" in p.stderr, p.stderr
            assert "previous outputs are kept" in p.stderr, p.stderr
            assert statuses(s)[3] == "failed", statuses(s)
            assert digest(fig) == new_fig, "a failed re-run replaced the previous plot"
            assert "NameError" in (history(s)["steps"][2].get("error") or "")
            print("ok - a failing re-run shows the traceback, step 'failed', outputs kept")

            p = s.daa("-p", "demo", "rerun", check=False)
            assert p.returncode == 2, (p.returncode, p.stderr)
            p = s.daa("-p", "demo", "rerun", "9", check=False)
            assert p.returncode == 1 and "no step 9" in p.stderr, p.stderr
            print("ok - rerun usage errors")
            assert s.alive()
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
