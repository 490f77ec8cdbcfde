#!/usr/bin/python3
"""bench/tools/profile_1m.py — daa_tools.profile on a 1M-row, 20-column table
next to the time pandas' describe() takes on it (a benchmark, never a test).
Usage: /usr/bin/python3 bench/tools/profile_1m.py [ROWS]"""
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import pandas as pd

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "sandbox", "python"))
import daa_tools  # noqa: E402


def table(n):
    """20 columns: 10 numeric, 4 categorical, 2 dates, a boolean, an id, text numbers, a sparse one."""
    rng = np.random.default_rng(0)
    cols = {"id": np.arange(n)}
    for i in range(10):
        cols["num%d" % i] = rng.lognormal(i % 3, 1, n) if i % 2 else rng.normal(100 * i, 10, n)
    for i in range(4):
        cols["cat%d" % i] = rng.choice(["a", "b", "c", "d", "e"][: 2 + i], n)
    cols["date"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    cols["date_text"] = cols["date"].strftime("%Y-%m-%d")
    cols["flag"] = rng.random(n) < 0.3
    cols["amount_text"] = pd.Series(rng.integers(1000, 10**6, n)).map("{:,}".format)
    cols["sparse"] = np.where(rng.random(n) < 0.9, np.nan, rng.random(n))
    return pd.DataFrame(cols)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    df = table(n)
    t0 = time.monotonic()
    df.describe(include="all")
    t_desc = time.monotonic() - t0
    out = tempfile.mkdtemp(prefix="daa-bench-")
    try:
        t0 = time.monotonic()
        s = daa_tools.profile(df, "bench", out_dir=out)
        t_prof = time.monotonic() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print("rows %d, columns %d" % (n, df.shape[1]))
    print("pandas describe(include='all'): %6.2f s" % t_desc)
    print("daa_tools.profile:              %6.2f s (%s)" % (t_prof, "; ".join(s["notes"]) or "no sampling"))
    print("warnings: %s" % "; ".join(s["warnings"]))


if __name__ == "__main__":
    main()
