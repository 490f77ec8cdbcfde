#!/usr/bin/python3
"""Benchmark (not a test; never run by run_all.sh): the daa kernel runtime's
start-up, bind and `1+1` round trip, side by side with a Jupyter kernel
(ipykernel through jupyter_client, when installed) doing the same.
Usage: tests/kernel_runtime/bench_roundtrip.py [N]   (default 500 round trips)."""

import os
import shutil
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402


def summary(name, samples_ms):
    """One line: median, p90, p99 and mean of a list of milliseconds."""
    s = sorted(samples_ms)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]  # noqa: E731
    print("%-28s median %8.3f ms  p90 %8.3f  p99 %8.3f  mean %8.3f  (n=%d)"
          % (name, statistics.median(s), pick(0.9), pick(0.99), statistics.mean(s), len(s)))


def bench_daa(n):
    """Start, bind and round-trip the daa runtime (test mode: no seal)."""
    t0 = time.perf_counter()
    k = kt.Kernel(args=())   # as a warm spare: matplotlib imported at start
    ready = (time.perf_counter() - t0) * 1000
    proj = kt.make_project({"a.csv": "x\n1\n"})
    t1 = time.perf_counter()
    k.req("bind", project=proj)
    bind = (time.perf_counter() - t1) * 1000
    rt = []
    for _ in range(n):
        t = time.perf_counter()
        r = k.run("1+1")
        rt.append((time.perf_counter() - t) * 1000)
        assert r["result"]["repr"] == "2"
    k.close()
    shutil.rmtree(proj)
    print("daa kernel: start to ready %.0f ms (pandas, matplotlib, sklearn imported), bind %.1f ms"
          % (ready, bind))
    summary("daa kernel 1+1 round trip", rt)


def bench_jupyter(n):
    """The same with ipykernel, when jupyter_client is installed."""
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        print("jupyter_client not installed: no Jupyter baseline")
        return
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"   # quiet debugpy's start-up note
    t0 = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3", extra_arguments=["--HistoryManager.enabled=False"])
    ready = (time.perf_counter() - t0) * 1000
    rt = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            reply = kc.execute_interactive("1+1", timeout=30, output_hook=lambda m: None)
            rt.append((time.perf_counter() - t) * 1000)
            assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print("jupyter kernel: start to ready %.0f ms (no pandas imported)" % ready)
    summary("jupyter kernel 1+1 round trip", rt)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    bench_daa(count)
    bench_jupyter(count)
