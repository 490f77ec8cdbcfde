#!/usr/bin/python3
"""bench/analyst/bench_calls.py — what one builtin-analyst call costs, the
way daad made it until session 23 (a process per call: `python3 -I -S
daa_analyst.py`, state on stdin) side by side with the way it makes it now
(one `daa_analyst.py --serve` process, a state and an answer per line).
The state is a real one: examples/sales.csv's profile (tests/analyst's
MiniKernel) and a request that plans a group-by.  Prints the median and
p90 wall time of a call and the CPU of all calls (the analyst processes'
user+sys) for each way.

Usage: bench/analyst/bench_calls.py [N]   (default 200 calls each way)"""
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "analyst"))
from harness import ANALYST, PYTHON, MiniKernel  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SALES = os.path.join(HERE, "..", "..", "examples", "sales.csv")


def state():
    """A turn state with sales.csv's profile."""
    with tempfile.TemporaryDirectory() as project:
        os.makedirs(os.path.join(project, "data"))
        dst = os.path.join(project, "data", "sales.csv")
        with open(SALES, "rb") as src, open(dst, "wb") as out:
            out.write(src.read())
        k = MiniKernel(project, [{"name": "sales", "path": "data/sales.csv", "format": "csv"}])
        return {"request": "average revenue by region", "datasets": [k.profile("sales")],
                "conventions": {}, "steps": [], "digest": []}


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def per_process(doc):
    times = []
    for _ in range(N):
        t = time.perf_counter()
        p = subprocess.run([PYTHON, "-I", "-S", ANALYST], input=doc, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return times, p.stdout


def server(doc):
    p = subprocess.Popen([PYTHON, "-I", "-S", ANALYST, "--serve"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    times = []
    for _ in range(N):
        t = time.perf_counter()
        p.stdin.write(doc + b"\n")
        p.stdin.flush()
        line = p.stdout.readline()
        times.append(time.perf_counter() - t)
    p.stdin.close()
    p.wait()
    return times, line


def show(name, times, cpu):
    times = sorted(times)
    print("%-34s median %6.1f ms  p90 %6.1f ms  CPU %6.1f ms a call"
          % (name, 1000 * statistics.median(times), 1000 * times[int(0.9 * len(times))],
             1000 * cpu / len(times)))


def main():
    doc = json.dumps(state(), separators=(",", ":")).encode()
    print("%d calls each way; state %d bytes; %s" % (N, len(doc), PYTHON))
    c0 = children_cpu()
    t1, a1 = per_process(doc)
    c1 = children_cpu()
    t2, a2 = server(doc)
    c2 = children_cpu()
    assert json.loads(a1) == json.loads(a2), "the two ways answered differently"
    show("a process per call (baseline)", t1, c1 - c0)
    show("one server, a line per call", t2, c2 - c1)
    print("answer: %s" % json.loads(a2)["tool"])


if __name__ == "__main__":
    main()
