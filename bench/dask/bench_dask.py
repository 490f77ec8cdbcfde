#!/usr/bin/python3
"""bench/dask/bench_dask.py [ROWS] — "average revenue by region" on a CSV of
ROWS x 6 columns (default 10,000,000, about 0.5 GB), end to end:

  daa ask          a private daad (builtin analyst) whose kernel memory limit
                   (kernel.mem_mb) is set so the file is Dask-backed (file x 5
                   > half the limit); the kernel's peak RSS is read inside it
  dask (plain)     the same Dask code in a plain python process (threads),
                   with glibc's default malloc and with the thresholds a
                   kernel sets once it reads blocks with Dask
                   (daakernel/outofcore.py ooc_keep_blocks): CPU seconds and
                   page faults beside the wall time
  pandas           read_csv + groupby in a plain python process
  daa ask, cluster the same ask with compute.dask_scheduler = a local
                   dask-scheduler + two dask-workers (1 thread each)

Wall-clock seconds, one run each (a benchmark, not a test); the daa ask
figure is the third ask (the first two also make the profiles, again after
the conventions the first turn remembered).  Needs daad and
daa built (make) and Debian's python3-dask/python3-distributed."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "kernel"))
os.environ.setdefault("DAA_ROOT", ROOT)
from kcli import Session  # noqa: E402

PY = "/usr/bin/python3"


def make_csv(path, rows):
    """ROWS x 6: order_date, region, product, units, unit_price, revenue."""
    code = r'''
import sys, numpy as np, pandas as pd
rows, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(1)
first = True
for start in range(0, rows, 1_000_000):
    n = min(1_000_000, rows - start)
    d = pd.DataFrame({"order_date": (pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), "D")).strftime("%Y-%m-%d"),
                      "region": rng.choice(["North", "South", "East", "West", "Central"], n),
                      "product": rng.choice(["p%02d" % i for i in range(40)], n),
                      "units": rng.integers(1, 50, n), "unit_price": rng.integers(100, 50000, n) / 100})
    d["revenue"] = (d.units * d.unit_price).round(2)
    d.to_csv(path, mode="w" if first else "a", header=first, index=False)
    first = False
'''
    subprocess.run([PY, "-c", code, str(rows), path], check=True)


PLAIN_DASK = r'''
import sys, time, dask, dask.dataframe as dd
t = time.perf_counter()
dask.config.set(scheduler="threads")
d = dd.read_csv(sys.argv[1], blocksize=64 << 20, dtype={"units": "float64"})
r = d.groupby("region")["revenue"].mean().compute()
import resource
u = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_minflt)
'''
PANDAS = r'''
import sys, time, pandas as pd
t = time.perf_counter()
r = pd.read_csv(sys.argv[1]).groupby("region")["revenue"].mean()
print(time.perf_counter() - t)
'''


KEEP_BLOCKS = ("import sys\nsys.path.insert(0, %r)\n"
               "import daakernel.datasets  # imports outofcore (in this order)\n"
               "from daakernel.outofcore import ooc_keep_blocks\nooc_keep_blocks()\n"
               % os.path.join(ROOT, "sandbox", "python"))


def timed(code, path, all_figures=False):
    """The first figure the code prints last (wall seconds), or all of them."""
    p = subprocess.run([PY, "-c", code, path], capture_output=True, text=True, check=True)
    figures = [float(x) for x in p.stdout.strip().splitlines()[-1].split()]
    return figures if all_figures else figures[0]


def ask_through_daa(path, config):
    with Session(config=config) as s:
        s.daa("-p", s.project, "add", path)
        s.d.call("conventions.set", {"project": s.project, "key": "date_column", "value": "order_date"})
        r, _ = s.run_json("dfs.is_dask('big')", timeout=600)
        assert r and r["result"]["repr"] == "True", r
        secs = []
        for _ in range(3):   # the first also makes the profiles; the second re-makes
            # them after the conventions the first turn remembered; the third is steady
            t = time.perf_counter()
            p = s.daa("-p", s.project, "ask", "average revenue by region in big", timeout=3600)
            secs.append(time.perf_counter() - t)
        r, _ = s.run_json("import resource; resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024")
        return secs, int(r["result"]["repr"]), p.stdout


def cluster(tmp):
    procs = [subprocess.Popen([PY, "/usr/bin/dask-scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard"], stdout=open(os.path.join(tmp, "s.log"), "w"),
                              stderr=subprocess.STDOUT, start_new_session=True)]
    addr = None
    while not addr:
        time.sleep(0.2)
        m = re.search(r"Scheduler at:\s+(tcp://\S+)", open(os.path.join(tmp, "s.log")).read())
        addr = m and m.group(1)
    for i in range(2):
        procs.append(subprocess.Popen([PY, "/usr/bin/dask-worker", addr, "--nthreads", "1", "--no-nanny",
                                       "--no-dashboard", "--local-directory", os.path.join(tmp, "w%d" % i)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
    from distributed import Client
    c = Client(addr)
    while len(c.scheduler_info()["workers"]) < 2:
        time.sleep(0.2)
    c.close()
    return addr, procs


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    tmp = tempfile.mkdtemp(prefix="daa-bench-dask-")
    procs = []
    try:
        path = os.path.join(tmp, "big.csv")
        make_csv(path, rows)
        size = os.path.getsize(path)
        mem_mb = max(1024, size * 5 // (1 << 20))   # budget = half: file x 5 > budget
        print("file: %d rows, %.0f MB; kernel mem_mb %d (budget %d MB)" % (rows, size / 1e6, mem_mb, mem_mb // 2))
        cfg = {"kernel": {"mem_mb": mem_mb, "step_timeout_s": 3600}, "compute": {}}
        if size * 5 <= (mem_mb // 2) << 20:   # a small trial file: a smaller budget
            cfg["compute"]["memory_budget_mb"] = max(1, (size * 5 // 2) >> 20)
        daa_s, rss_mb, out = ask_through_daa(path, cfg)
        cold, _, daa_s = daa_s
        print("daa ask: %.1f s (first ask, with the profiles: %.1f s), kernel peak RSS %d MB "
              "(limit %d MB)" % (daa_s, cold, rss_mb, mem_mb))
        plain, plain_cpu, plain_faults = timed(PLAIN_DASK, path, True)
        print("plain dask: %.1f s, %.1f s CPU, %d page faults (daa ask / plain = %.2f)"
              % (plain, plain_cpu, plain_faults, daa_s / plain))
        tuned, tuned_cpu, tuned_faults = timed(KEEP_BLOCKS + PLAIN_DASK, path, True)
        print("plain dask, the kernel's malloc thresholds: %.1f s, %.1f s CPU, %d page faults"
              % (tuned, tuned_cpu, tuned_faults))
        pd_s = timed(PANDAS, path)
        print("pandas read_csv + groupby: %.1f s (daa ask / pandas = %.2f)" % (pd_s, daa_s / pd_s))
        addr, procs = cluster(tmp)
        cfg["compute"]["dask_scheduler"] = addr
        (c_cold, _, c_s), c_rss, _ = ask_through_daa(path, cfg)
        print("daa ask, local cluster (2 workers x 1 thread): %.1f s (first: %.1f s), kernel peak "
              "RSS %d MB" % (c_s, c_cold, c_rss))
        print(json.dumps({"rows": rows, "bytes": size, "daa_ask_s": daa_s, "daa_first_ask_s": cold, "kernel_peak_rss_mb": rss_mb,
                          "kernel_mem_mb": mem_mb, "plain_dask_s": plain,
                          "plain_dask_cpu_s": plain_cpu, "tuned_dask_s": tuned, "tuned_dask_cpu_s": tuned_cpu,
                          "pandas_s": pd_s,
                          "cluster_ask_s": c_s, "cluster_kernel_peak_rss_mb": c_rss}))
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
            except Exception:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
