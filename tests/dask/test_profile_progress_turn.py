#!/usr/bin/python3
"""tests/dask/test_profile_progress_turn.py — a turn that waits for a
Dask-backed dataset's profile (the first ask after the dataset was added)
shows that profile's progress as its own events: the asking connection
gets turn.event {kind: "progress", done, total, dataset} for the dataset,
before the model is called (the turn's first `thinking`), one ending
full; the project's data.event profile_progress still goes out.  `daa ask`
on a terminal draws them as the turn's bar ("[turn N] computing [...]"),
wiped before the answer."""
# daa-test-timeout: 900
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402
from test_progress import daa_on_pty  # noqa: E402

ROWS = 200000   # a profile of several seconds: long enough to report


def reprofile(s, fmt):
    """A convention that bears on orders: its profile is made again, in the
    background, from now on (the next ask waits for it)."""
    s.d.call("conventions.set", {"project": s.project, "key": "date_format",
                                 "value": {"order_date": fmt}})


def main():
    skip_unless_built()
    path = dasklib.make_orders(rows=ROWS)
    with Session(config=dasklib.config()) as s:
        dasklib.project_with_orders(s, path)   # its profile starts now, in the background
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

        reprofile(s, "%d/%m/%y")   # a wrong format: the profile is made again (all NaT)
        reprofile(s, "%d/%m/%Y")
        out = daa_on_pty(s, "-p", s.project, "ask", "average amount by region")
        assert "running code" in out, out
        before = out[:out.index("running code")]   # the profile's bar, not the step's
        bars = before.count("\r\x1b[K[turn %d] computing [" % (r["turn"] + 1))
        assert bars >= 1 and "\r\x1b[Kcomputing [" not in before, out   # the turn's, drawn once
        tail = before[before.rindex("computing ["):]
        assert "\r\x1b[K" in tail, out   # wiped before what follows
        print("ok - daa ask on a terminal: the profile's progress drawn as the turn's bar "
              "%d time(s), wiped after" % bars)
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
