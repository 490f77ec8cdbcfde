#!/usr/bin/python3
"""tests/history/test_cache.py — the loaded-dataset cache under .daa/cache:
a large dataset gets <name>-<key>.pkl when a kernel is bound (the `cache`
request, before any user code; small files are not cached) and its SHA-256
in .daa/cache.json; a kernel restored after a crash loads the dataset from
that entry when it matches the recorded hash (shown by planting a different
frame and recording its hash by hand: the replayed step then sees it), and
ignores and rebuilds an entry whose hash is not the recorded one; a changed
file gets a new key (the old entry, and the temp file of a write a killed
kernel left, are dropped) and the replay reads the new content; the kernel can write .daa/cache but still nothing else of .daa/."""
import hashlib
import json
import os
import pickle
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import Session, skip_unless_built, step_run  # noqa: E402

import pandas as pd  # noqa: E402


def write_big(path, scale):
    """A CSV over the 1 MiB threshold; returns the sum of column v."""
    with open(path, "w") as f:
        f.write("id,v,label\n")
        for i in range(60000):
            f.write("%d,%d,row-number-%d\n" % (i, i * scale, i))
    return sum(i * scale for i in range(60000))


def entries(s):
    d = os.path.join(s.path, ".daa", "cache")
    return sorted(f for f in os.listdir(d) if f.endswith(".pkl"))


def kill_kernel(s):
    s.run("1", "--scratch", check=True)   # a kernel is bound to the project
    pid = s.kernel_pid()   # the host pid (inside its pid namespace it is 1)
    assert pid and pid > 1, pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30  # a hang guard only
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("kernel not reaped")


def main():
    skip_unless_built()
    with Session() as s:
        src = os.path.join(s.d.dir, "big.csv")
        total = write_big(src, 1)
        s.daa("-p", "demo", "add", src)
        s.daa("-p", "demo", "kernel", "restart")   # entries are made when a kernel is bound
        step_run(s, "sales_rows = len(dfs['sales'])")
        r = step_run(s, "big_total = int(dfs['big']['v'].sum())\nprint(big_total)")
        assert r["stdout"] == "%d\n" % total, r
        names = entries(s)
        assert len(names) == 1 and names[0].startswith("big-"), names
        print("ok - a large dataset is cached under .daa/cache (the small one is not)")

        cache = os.path.join(s.path, ".daa", "cache")
        ledger = os.path.join(s.path, ".daa", "cache.json")
        with open(ledger) as f:
            assert list(json.load(f)["files"]) == names, open(ledger).read()
        planted = pd.DataFrame({"id": [0, 1], "v": [5, 7], "label": ["a", "b"]})
        raw = pickle.dumps((planted, []))
        with open(os.path.join(cache, names[0]), "wb") as f:
            f.write(raw)
        kill_kernel(s)
        r, p = s.run_json("(big_total, sales_rows > 0)", "--scratch")
        assert r and r["ok"] and r["result"]["repr"] == "(%d, True)" % total, p.stdout
        assert "rebuilt from data/" in s.d.log_text()
        print("ok - an entry whose SHA-256 is not the recorded one is ignored and rebuilt")

        with open(os.path.join(cache, names[0]), "wb") as f:
            f.write(raw)
        with open(ledger, "w") as f:   # the user (not a kernel) vouches for it
            json.dump({"version": 1, "files": {names[0]: hashlib.sha256(raw).hexdigest()}}, f)
        kill_kernel(s)
        r, p = s.run_json("(big_total, sales_rows > 0)", "--scratch")
        assert r and r["ok"] and r["result"]["repr"] == "(12, True)", p.stdout
        print("ok - the restored kernel loads the dataset from a verified cache entry")

        stale = os.path.join(cache, ".tmp-killed")   # as a kernel killed mid-write leaves it
        with open(stale, "wb") as f:
            f.write(b"\0" * 4096)
        total2 = write_big(os.path.join(s.path, "data", "big.csv"), 3)
        kill_kernel(s)
        r, p = s.run_json("big_total", "--scratch")
        assert r and r["ok"] and r["result"]["repr"] == str(total2), p.stdout
        new = entries(s)
        assert len(new) == 1 and new != names, (names, new)
        assert not os.path.exists(stale), os.listdir(cache)
        print("ok - a changed file gets a new cache entry (the old one and a killed "
              "write's temp file are dropped)")

        r, p = s.run_json("open('.daa/cache/x.txt', 'w').write('ok')", "--scratch")
        assert r and r["ok"], p.stdout
        r, p = s.run_json("open('.daa/evil', 'w').write('x')", "--scratch")
        assert r and not r["ok"] and r["error"]["type"] == "PermissionError", p.stdout
        print("ok - the kernel may write .daa/cache, still nothing else of .daa/")
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
