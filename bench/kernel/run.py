#!/usr/bin/python3
"""bench/kernel/run.py — daa's kernels beside a Jupyter kernel, in one run
(not a test; prints figures and ratios).

  (a) `1 + 1` round trip: client -> daad -> sandboxed kernel -> client,
      vs jupyter_client -> ipykernel (execute + wait for the reply).
  (b) a groupby over a 1M-row frame already in memory: through daa `run`
      (end to end, and the kernel's own duration_ms), vs the same code timed
      inside a plain python process, vs Jupyter.
  (c) open a project -> first result: a new project's first `run` (the warm
      spare is bound), vs a cold `python3 -c "import pandas, matplotlib,
      sklearn; print(1 + 1)"`, vs starting a Jupyter kernel and importing
      the same libraries.
Rounds are interleaved (daa, baseline, daa, ...) so load on the machine hits
both alike.  Usage: bench/kernel/run.py [N] (default 20).  Needs python3-
jupyter-client and python3-ipykernel (tools/deps.sh) for the Jupyter column.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
os.environ.setdefault("DAA_ROOT", ROOT)
os.environ.setdefault("DAA_BUILD", os.path.join(ROOT, os.environ.get("BUILD", "build")))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from daad import Daad  # noqa: E402

PY = "/usr/bin/python3"
SETUP = ("import numpy as np, pandas as pd\n"
         "rng = np.random.default_rng(0)\n"
         "big = pd.DataFrame({'k': rng.integers(0, 1000, 10**6), 'v': rng.random(10**6)})\n")
GROUPBY = "g = big.groupby('k')['v'].agg(['sum', 'mean'])"
COLD = "import pandas, matplotlib.pyplot, sklearn.ensemble; print(1 + 1)"


def ms(t0):
    return (time.perf_counter() - t0) * 1000


class Jupyter:
    """A real ipykernel through jupyter_client (None when not installed)."""

    def __init__(self, tmp):
        os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(tmp, "jupyter")
        os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        from jupyter_client.manager import start_new_kernel
        self.start_new_kernel = start_new_kernel
        self.km, self.kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)

    def run(self, code):
        t0 = time.perf_counter()
        reply = self.kc.execute_interactive(code, timeout=120, output_hook=lambda m: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        return ms(t0)

    def cold(self, code):
        t0 = time.perf_counter()
        km, kc = self.start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
        kc.execute_interactive(code, timeout=120, output_hook=lambda m: None)
        t = ms(t0)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        return t

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def daa_run(c, project, code, scratch=True):
    """One `run` (scratch by default: not saved as a history step, like a
    Jupyter cell; saving a step adds the atomic, fsynced history write)."""
    t0 = time.perf_counter()
    r = c.call("run", {"project": project, "code": code, "scratch": scratch})
    t = ms(t0)
    assert r["ok"], r.get("error")
    return t, r.get("duration_ms") or 0.0


def wait_spare(d):
    """Until the warm spare is ready (set-up, not timed)."""
    deadline = time.monotonic() + 120
    while d.call("status")["kernels"]["spare"] < 1:
        assert time.monotonic() < deadline, "no warm spare"
        time.sleep(0.05)


def plain_groupby():
    code = SETUP + ("import time\nt = time.perf_counter()\n" + GROUPBY +
                    "\nprint((time.perf_counter() - t) * 1000)")
    return float(subprocess.check_output([PY, "-c", code], text=True).strip())


def cold_python():
    t0 = time.perf_counter()
    subprocess.check_output([PY, "-c", COLD])
    return ms(t0)


def row(name, vals, base=None):
    m = statistics.median(vals)
    ratio = "%.2fx" % (m / base) if base else "-"
    print("  %-46s %9.2f ms %9s" % (name, m, ratio))
    return m


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    tmp = tempfile.mkdtemp(prefix="daa-bench-kernel.")
    d = Daad(keep_dir=None)
    d.start()
    jup = None
    try:
        try:
            jup = Jupyter(tmp)
        except ImportError:
            print("(jupyter_client/ipykernel not installed: no Jupyter column)")
        c = d.client(timeout=300)
        proj = c.call("project.create", {"name": "bench"})["path"]
        wait_spare(d)
        daa_run(c, proj, SETUP)
        if jup:
            jup.run(SETUP)
        a_daa, a_saved, a_jup, b_daa, b_kern, b_plain, b_jup = [], [], [], [], [], [], []
        for _ in range(n):
            a_daa.append(daa_run(c, proj, "1 + 1")[0])
            a_saved.append(daa_run(c, proj, "1 + 1", scratch=False)[0])
            if jup:
                a_jup.append(jup.run("1 + 1"))
        for _ in range(max(3, n // 4)):
            t, k = daa_run(c, proj, GROUPBY)
            b_daa.append(t)
            b_kern.append(k)
            b_plain.append(plain_groupby())
            if jup:
                b_jup.append(jup.run(GROUPBY))
        c_daa, c_cold, c_jup = [], [], []
        for i in range(max(3, n // 4)):
            p = c.call("project.create", {"name": "fresh%d" % i})["path"]
            wait_spare(d)
            c_daa.append(daa_run(c, p, "1 + 1")[0])
            c_cold.append(cold_python())
            if jup:
                c_jup.append(jup.cold(COLD))
        print("\n(a) 1 + 1 round trip, median of %d" % n)
        base = row("Jupyter (jupyter_client -> ipykernel)", a_jup) if jup else None
        row("daa run (client -> daad -> sandboxed kernel)", a_daa, base)
        row("daa run, saved as a history step (fsync)", a_saved, base)
        print("\n(b) groupby on a 1M-row frame in memory, median of %d" % len(b_daa))
        base = row("plain python process (timed inside)", b_plain)
        row("daa kernel's own duration_ms", b_kern, base)
        row("daa run, end to end", b_daa, base)
        if jup:
            row("Jupyter execute, end to end", b_jup, base)
        print("\n(c) open a project -> first result, median of %d" % len(c_daa))
        base = row("cold python3: import pandas+matplotlib+sklearn", c_cold)
        row("daa: new project's first run (warm spare bound)", c_daa, base)
        if jup:
            row("Jupyter: start a kernel + the same imports", c_jup, base)
        print("\nratios are against the first row of each block (lower is faster)")
    finally:
        if jup:
            jup.close()
        d.stop()
        d.cleanup()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
