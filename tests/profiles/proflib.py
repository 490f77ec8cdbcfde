"""tests/profiles/proflib.py — what the profile tests share: a table big
enough that its profile runs for seconds (so a test can act while it runs),
and waiting for a line of the daemon's log."""
import subprocess
import sys
import os
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "agent"))
from agentlib import PYTHON  # noqa: E402

BIG_ROWS = 600000


def make_big(path):
    """A 600k-row, 6-column CSV (ids, numbers, a category, dates) at path."""
    code = ("import numpy as np, pandas as pd\n"
            "rng = np.random.default_rng(0); n = %d\n"
            "pd.DataFrame({'id': np.arange(n), 'a': rng.normal(size=n), 'b': rng.integers(0, 9, n),\n"
            "  'c': rng.choice(['x', 'y', 'z'], n), 'd': rng.lognormal(size=n),\n"
            "  'e': pd.Timestamp('2021-01-01') + pd.to_timedelta(rng.integers(0, 900, n), unit='D')}"
            ").to_csv(%r, index=False)\n" % (BIG_ROWS, path))
    subprocess.run([PYTHON, "-c", code], check=True)


def wait_log(d, text, timeout=120):
    """Wait until the daemon's log holds text (a hang guard, not a timing check)."""
    end = time.monotonic() + timeout
    while text not in d.log_text():
        if time.monotonic() > end:
            raise TimeoutError("no %r in the daemon log" % text)
        time.sleep(0.05)
