#!/usr/bin/python3
"""tests/history/test_figure_owner.py — a figure belongs to the step that
drew it (issue 14 item 1).

1. A `daa run` that plots and then fails: its figure is moved to
   outputs/plots/unsaved/ (the reply says so); the next successful run (no
   plot) becomes step 1 with no figures in `daa history` or the notebook.
2. A turn (fake OpenAI server) whose first run_python plots and fails and
   whose next two plot and succeed: the script's figures are
   <stem>_1.png, <stem>_2.png in order (the second attempt's "_s3" figure
   renamed), listed by `daa history` and the result; the failed attempt's
   figure is in unsaved/; no "_s<k>" file is left.
3. The daemon is SIGKILLed while a run that has drawn a figure waits: after a
   restart, the next run (no plot) is saved under that number with no
   figure; the leftover is in unsaved/ and a runtime temp file
   (.NNN_run_K.png.tmp) is gone.
4. A turn cancelled while its step (which has drawn a figure) runs: when
   the step ends the figure is moved to unsaved/; the next run owns none.
"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import ROOT, WAIT_GATE, run_with_fake, step_run  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402
# Session(fake_kernel={}) / run_with_fake(..., fake_kernel={}): kernels are
# tests/lib/fake_kernel.py, ready in ms; the steps are plain Python and
# plt.plot (its stand-in pyplot writes a small PNG per figure, the runtime's
# way: hidden .tmp, then renamed), and what is checked is the daemon's
# handling of scripts, statuses and figure files, not the runtime


PLOT = "plt.plot([1, 3, 2])\nplt.show()\n"


def plots(s, sub=""):
    d = os.path.join(s.path, "outputs", "plots", sub)
    return sorted(n for n in os.listdir(d) if not os.path.isdir(os.path.join(d, n))) \
        if os.path.isdir(d) else []


def outputs(s):
    h = s.daa("--json", "-p", "demo", "history")
    return {st["n"]: st["outputs"] for st in json.loads(h.stdout)["steps"]}


def failed_run(s):
    r, p = s.run_json(PLOT + "raise ValueError('after the plot')")
    assert r and not r["ok"] and "step" not in r, p.stdout
    assert r["figures"] == ["outputs/plots/unsaved/001_run_1.png"], r["figures"]
    assert plots(s) == [] and plots(s, "unsaved") == ["001_run_1.png"], plots(s)
    r = step_run(s, "print('no plot')")
    assert r["step"] == "history/001_run.py" and r["figures"] == [], r
    assert outputs(s) == {1: []}, outputs(s)
    nb = os.path.join(s.d.dir, "nb.ipynb")
    s.daa("-p", "demo", "export", "--notebook", nb, "--with-outputs")
    with open(nb) as f:
        cells = json.load(f)["cells"]
    assert not any(o.get("output_type") == "display_data" for c in cells
                   for o in c.get("outputs", [])), "the failed run's figure is in the notebook"
    print("ok - a failed run's figure is kept under unsaved/, not given to the next step")


def turn_attempts(s, fake):
    fake.set_script({"responses": [
        reply(call("run_python", "c1", code=PLOT + "raise KeyError('nope')", purpose="try")),
        reply(call("run_python", "c2", code=PLOT + "a = 1", purpose="plot a")),
        reply(call("run_python", "c3", code=PLOT + "b = 2", purpose="plot b")),
        final("Two plots.")]})
    with s.d.client(timeout=120) as c:
        res = c.call("ask", {"project": "demo", "request": "plot it"})
    assert res["status"] == "done", res
    stem = res["history"][len("history/"):-3]
    assert stem.startswith("002_"), res["history"]
    want = ["outputs/plots/%s_1.png" % stem, "outputs/plots/%s_2.png" % stem]
    assert res["figures"] == want, res["figures"]
    assert [st["figures"] for st in res["steps"]] == [
        ["outputs/plots/unsaved/%s_1.png" % stem], [want[0]], [want[1]]], res["steps"]
    assert outputs(s)[2] == want, outputs(s)
    assert not any("_s" in n for n in plots(s)), plots(s)
    assert "%s_1.png" % stem in plots(s, "unsaved"), plots(s, "unsaved")
    print("ok - a turn's figures are named after its script; the failed attempt's are unsaved")


def killed(s):
    with s.d.client(timeout=120) as c:
        c.send("run", {"project": "demo", "code": PLOT + WAIT_GATE + "x = 1"})
        fig = os.path.join(s.path, "outputs", "plots", "003_run_1.png")
        end = time.monotonic() + 60
        while not os.path.exists(fig):   # hang guard only
            assert time.monotonic() < end, "the run never drew its figure"
            time.sleep(0.05)
        s.d.kill9()
    with open(os.path.join(s.path, "outputs", "plots", ".003_run_2.png.tmp"), "wb") as f:
        f.write(b"\x89PNG half")
    s.d.start()
    r = step_run(s, "print('after the crash')")
    assert r["step"] == "history/003_run.py" and r["figures"] == [], r
    assert outputs(s)[3] == [], outputs(s)
    assert "003_run_1.png" in plots(s, "unsaved"), plots(s, "unsaved")
    assert not any(n.startswith(".") for n in plots(s)), plots(s)
    print("ok - after a SIGKILL mid-step the unsaved step's figure and temp file are not left "
          "for the next step")


def wait_for(cond, what):
    end = time.monotonic() + 60
    while not cond():   # hang guard only
        assert time.monotonic() < end, what
        time.sleep(0.05)


def cancelled(s, fake):
    fake.set_script({"responses": [
        reply(call("run_python", "c9", code=PLOT + WAIT_GATE + "v = 1", purpose="wait")),
        final("never")]})
    with s.d.client(timeout=120) as a, s.d.client(timeout=120) as b:
        mid = a.send("ask", {"project": "demo", "request": "draw then wait"})
        wait_for(lambda: any(n.startswith("004_") for n in plots(s)), "the turn never drew")
        drawn = [n for n in plots(s) if n.startswith("004_")]
        assert b.call("cancel", {"project": "demo"})["cancelled"] is True
        res = a.wait(mid)
        assert res[3]["status"] == "cancelled" and res[3]["history"] is None, res
        wait_for(lambda: set(drawn) <= set(plots(s, "unsaved")), "the figure was not moved")
    assert not any(n.startswith("004_") for n in plots(s)), plots(s)
    r = step_run(s, "print('next')")
    assert r["step"] == "history/004_run.py" and r["figures"] == [], r
    print("ok - a cancelled turn's step draws into unsaved/, not into the next step")


def body(s, fake):
    failed_run(s)
    turn_attempts(s, fake)
    killed(s)
    cancelled(s, fake)


if __name__ == "__main__":
    sys.exit(run_with_fake("daa-figure-owner.", body, fake_kernel={}))
