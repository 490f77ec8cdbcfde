#!/usr/bin/python3
"""tests/dask/test_profile_progress.py — the profile of a Dask-backed
dataset (its passes over the file) reports progress (one daemon, kernel and
200,000-row dataset for all the checks; formerly also
test_profile_progress_turn.py):

- a turn that waits for the dataset's profile (the first ask after the
  dataset was added) shows that profile's progress as its own events: the
  asking connection gets turn.event {kind: "progress", done, total,
  dataset} for the dataset, before the model is called (the turn's first
  `thinking`), one ending full; the project's data.event profile_progress
  still goes out;
- the kernel sends `progress` events for its `profile` request as for a
  step, and the daemon passes them on as data.event {kind:
  "profile_progress", dataset, file, done, total} to a profile.run caller
  while it waits; `daa profile` shows them (a plain "progress: N% (d/t
  tasks)" line when stderr is not a terminal).  A pandas dataset's profile
  sends none;
- `daa ask` on a terminal draws a profile's progress (the dataset profiled
  again after a convention changed) as the turn's bar ("[turn N]
  computing [...]"), wiped before the answer."""
# daa-test-timeout: 900
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402
from test_progress import daa_on_pty  # noqa: E402

ROWS = 80000   # a profile of a few blocks (the last progress event, done == total, always goes out)


def progress_events(c, dataset=None):
    out = []
    for m in c.notifications:
        if m[1] == "data.event" and m[2] and m[2][0].get("kind") == "profile_progress":
            if dataset is None or m[2][0].get("dataset") == dataset:
                out.append(m[2][0])
    return out


def reprofile(s, fmt):
    """A convention that bears on orders: its profile is made again, in the
    background, from now on (the next ask waits for it)."""
    s.d.call("conventions.set", {"project": s.project, "key": "date_format",
                                 "value": {"order_date": fmt}})


def check_turn_waits(s):
    """The first ask waits for the profile started when orders was added."""
    with s.d.client(timeout=900) as c:
        r = c.call("ask", {"project": s.project, "request": "average amount by region"})
        turn_evs = [m[2][0] for m in c.notifications if m[1] == "turn.event"]
        data_prog = [m[2][0] for m in c.notifications if m[1] == "data.event"
                     and m[2][0].get("kind") == "profile_progress"]
    assert r["status"] == "done", r
    kinds = [e["kind"] for e in turn_evs]
    assert "thinking" in kinds, kinds
    # before the model call: the profile's (a step's come later, without dataset)
    prog = [e for e in turn_evs[:kinds.index("thinking")] if e["kind"] == "progress"]
    assert prog, kinds
    assert all(e.get("dataset") == "orders" and e["turn"] == r["turn"] for e in prog), prog
    assert all(0 <= e["done"] <= e["total"] for e in prog), prog
    assert any(e["done"] == e["total"] for e in prog), prog
    assert data_prog, "no data.event profile_progress"
    print("ok - a turn waiting for a Dask dataset's profile: %d turn.event progress "
          "(dataset orders) before the model call, last %d/%d; %d data.event "
          "profile_progress" % (len(prog), prog[-1]["done"], prog[-1]["total"], len(data_prog)))
    return r["turn"]


def check_profile_run(s):
    with s.d.client(timeout=600) as c:
        r = c.call("profile.run", {"project": s.project, "dataset": "orders", "refresh": True})
        assert r["rows"] == ROWS, r.get("rows")
        evs = progress_events(c)
    assert evs, "no profile_progress event"
    for e in evs:
        assert e["dataset"] == "orders" and e["file"] == "orders.csv", e
        assert isinstance(e["done"], int) and isinstance(e["total"], int), e
        assert 0 <= e["done"] <= e["total"] and e["total"] > 0, e
        assert e["project_path"] == s.path, e
    assert any(e["done"] == e["total"] for e in evs), evs
    print("ok - profile.run of a Dask dataset: %d profile_progress events (last %d/%d)"
          % (len(evs), evs[-1]["done"], evs[-1]["total"]))

    with s.d.client(timeout=600) as c:
        r = c.call("profile.run", {"project": s.project, "dataset": "sales", "refresh": True})
        assert not progress_events(c), progress_events(c)
    print("ok - a pandas dataset's profile sends no progress")

    p = s.daa("-p", s.project, "profile", "orders", "--refresh", timeout=600)
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("progress: ")]
    assert lines and "tasks)" in lines[0], p.stderr
    assert "%d rows" % ROWS in p.stdout, p.stdout
    print("ok - daa profile shows it: %r" % lines[0])


def check_pty_ask(s, turn):
    reprofile(s, "%d/%m/%y")   # a wrong format: the profile is made again (all NaT)
    reprofile(s, "%d/%m/%Y")
    out = daa_on_pty(s, "-p", s.project, "ask", "average amount by region")
    assert "running code" in out, out
    before = out[:out.index("running code")]   # the profile's bar, not the step's
    bars = before.count("\r\x1b[K[turn %d] computing [" % (turn + 1))
    assert bars >= 1 and "\r\x1b[Kcomputing [" not in before, out   # the turn's, drawn once
    tail = before[before.rindex("computing ["):]
    assert "\r\x1b[K" in tail, out   # wiped before what follows
    print("ok - daa ask on a terminal: the profile's progress drawn as the turn's bar "
          "%d time(s), wiped after" % bars)


def main():
    skip_unless_built()
    path = dasklib.make_orders(rows=ROWS)
    # 4 MiB, not the suite's 1: blocks of 200 KiB rather than 64 (about 50
    # instead of 160): still a profile of seconds with many progress events,
    # for 40% less CPU (the per-block cost dominates).  Progress events from
    # every computation, however short (kernel.progress_interval_ms 0): at
    # 0.25 s a profile whose passes each ended sooner sent none (the turn's
    # check failed once that way in a loaded run)
    cfg = dasklib.config(memory_budget_mb=4)
    cfg["kernel"] = {"progress_interval_ms": 0}
    with Session(config=cfg) as s:
        dasklib.project_with_orders(s, path)   # its profile starts now, in the background
        turn = check_turn_waits(s)
        check_profile_run(s)
        check_pty_ask(s, turn)
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
