#!/usr/bin/python3
"""tests/dask/test_profile_progress.py — the profile of a Dask-backed
dataset (its passes over the file) reports progress: the kernel sends
`progress` events for its `profile` request as for a step, and the daemon
passes them on as data.event {kind: "profile_progress", dataset, file,
done, total} to the project's subscribers and to a profile.run caller
while it waits; `daa profile` shows them (a plain "progress: N% (d/t
tasks)" line when stderr is not a terminal).  A pandas dataset's profile
sends none."""
# daa-test-timeout: 600
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dasklib  # noqa: E402
from dasklib import Session, skip_unless_built  # noqa: E402


def progress_events(c, dataset=None):
    out = []
    for m in c.notifications:
        if m[1] == "data.event" and m[2] and m[2][0].get("kind") == "profile_progress":
            if dataset is None or m[2][0].get("dataset") == dataset:
                out.append(m[2][0])
    return out


def main():
    skip_unless_built()
    path = dasklib.make_orders(rows=200000)
    with Session(config=dasklib.config()) as s:
        dasklib.project_with_orders(s, path)
        with s.d.client(timeout=600) as c:
            r = c.call("profile.run", {"project": s.project, "dataset": "orders", "refresh": True})
            assert r["rows"] == 200000, r.get("rows")
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
        assert "200000 rows" in p.stdout, p.stdout
        print("ok - daa profile shows it: %r" % lines[0])
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
