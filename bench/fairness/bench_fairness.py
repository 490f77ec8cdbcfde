#!/usr/bin/python3
"""bench/fairness/bench_fairness.py — does one busy client hold up the others?

Starts a private daad (tests/lib/daad.py) with a project of --steps history
steps (history/NNN_x.py written directly, statuses in .daa/history.json,
a few figures in outputs/plots), then measures `ping` latency as seen by a
client while others load the daemon:

  flood  one client pipelines --flood `history.list` calls (reading its
         replies in a separate process) while another pings in a loop.
  mixed  --clients clients x --calls calls each (ping, history.list,
         data.list, project.list, status, project.info in turn), one call
         in flight per client, from build/bench/mixed_load (C, one process;
         --py-mixed: Python, over --procs processes); the latency of every
         ping is kept.

Replies are framed, not decoded (msgpack's skip), so the figures are the
daemon's, not the Python client's decoding of 1,000-step listings.

Each scenario runs twice in the same run, against the same build:
"before" = the daemon started with DAA_FAIR_BUDGET=0 DAA_HISTORY_INDEX=0
(a connection's whole input served at once, history.list read from disk
every time: the behaviour before the budget and the index), "after" = the
defaults.  Prints p50 / p99 / max ping latency side by side, and checks
that history.list answers the same in both.  Not a test (timings depend on
the machine).  Usage: bench/fairness/bench_fairness.py [--steps N] ...
"""
import argparse
import json
import multiprocessing as mp
import os
import selectors
import socket
import subprocess
import sys
import time

import msgpack

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from daad import Daad  # noqa: E402

STEP = ("# daa turn — 2026-12-01 10:00\n# request: step number %d of the bench\n\n"
        "import pandas as pd\nx%d = %d * 2\nprint(x%d)\n")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def make_project(d, name, steps):
    """A project with `steps` steps, some statuses and figures; its path."""
    r = d.call("project.create", {"name": name})
    path = r["path"]
    for n in range(1, steps + 1):
        with open(os.path.join(path, "history", "%03d_step-%d.py" % (n, n)), "w") as f:
            f.write(STEP % (n, n, n, n))
    state = {}
    for n in range(1, steps + 1, 7):
        state["%03d_step-%d" % (n, n)] = {"status": "stale" if n % 2 else "edited"}
    for n in range(3, steps + 1, 50):
        state["%03d_step-%d" % (n, n)] = {"status": "failed", "error": "Traceback: boom %d" % n}
    with open(os.path.join(path, ".daa", "history.json"), "w") as f:
        json.dump(state, f)
    for n in range(1, steps + 1, 10):
        for k in (1, 2):
            with open(os.path.join(path, "outputs", "plots", "%03d_step-%d_%d.png" % (n, n, k)),
                      "wb") as f:
                f.write(PNG)
    with open(os.path.join(path, "data", "t.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    return path


def connect(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    return s


def req(msgid, method, params=None):
    return msgpack.packb([0, msgid, method, [params] if params is not None else []])


def skip_all(unpacker):
    """Skip the complete messages buffered (not decoded: the client's own
    cost stays out of the figures); how many."""
    n = 0
    while True:
        try:
            unpacker.skip()
        except msgpack.OutOfData:
            return n
        n += 1


def read_replies(s, unpacker, want):
    """Read until `want` messages arrived (no notifications are asked for,
    so every message is a response); their count."""
    got = 0
    while got < want:
        data = s.recv(1 << 20)
        if not data:
            break
        unpacker.feed(data)
        got += skip_all(unpacker)
    return got


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


# ---------- flood ----------

def flood_proc(sock_path, project, n, ready, done):
    """Pipeline n history.list calls, then read every reply."""
    s = connect(sock_path)
    ready.wait()
    s.sendall(b"".join(req(i + 1, "history.list", {"project": project}) for i in range(n)))
    got = read_replies(s, msgpack.Unpacker(), n)
    done.value = got
    s.close()


def scenario_flood(d, project, n):
    """Ping latencies (ms) while one client floods; also the flood's length."""
    ping = connect(d.sock)
    unp = msgpack.Unpacker()
    ready, done = mp.Event(), mp.Value("i", -1)
    p = mp.Process(target=flood_proc, args=(d.sock, project, n, ready, done))
    p.start()
    lat, msgid = [], 0
    t0 = time.monotonic()
    ready.set()
    time.sleep(0.02)  # let the flood arrive first
    while p.is_alive() or msgid == 0:
        msgid += 1
        a = time.monotonic()
        ping.sendall(req(msgid, "ping"))
        read_replies(ping, unp, 1)
        lat.append((time.monotonic() - a) * 1000)
        time.sleep(0.005)
    p.join()
    ping.close()
    return lat, time.monotonic() - t0, done.value


# ---------- mixed ----------

def mixed_proc(sock_path, project, nclients, calls, ready, out):
    """nclients connections, one call in flight each, `calls` calls each."""
    mix = [("ping", None), ("history.list", {"project": project}), ("data.list", {"project": project}),
           ("ping", None), ("project.list", None), ("status", None),
           ("project.info", {"project": project})]
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(nclients):
        s = connect(sock_path)
        c = {"s": s, "u": msgpack.Unpacker(), "n": 0,
             "k": i, "t": 0.0, "m": None}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    ready.wait()

    def send(c):
        m, p = mix[(c["k"] + c["n"]) % len(mix)]
        c["m"], c["t"] = m, time.monotonic()
        c["s"].sendall(req(c["n"] + 1, m, p))

    lat, live = [], len(conns)
    for c in conns:
        send(c)
    while live:
        for key, _ in sel.select():
            c = key.data
            data = c["s"].recv(1 << 20)
            if not data:
                raise SystemExit("the daemon closed a connection")
            c["u"].feed(data)
            for _ in range(skip_all(c["u"])):
                if c["m"] == "ping":
                    lat.append((time.monotonic() - c["t"]) * 1000)
                c["n"] += 1
                if c["n"] < calls:
                    send(c)
                else:
                    live -= 1
                    sel.unregister(c["s"])
    out.put(lat)


def scenario_mixed(d, project, clients, calls, procs):
    ready, q = mp.Event(), mp.Queue()
    per = [clients // procs + (i < clients % procs) for i in range(procs)]
    ps = [mp.Process(target=mixed_proc, args=(d.sock, project, k, calls, ready, q)) for k in per if k]
    for p in ps:
        p.start()
    time.sleep(0.5)  # every connection open
    t0 = time.monotonic()
    ready.set()
    lat = []
    for _ in ps:
        lat += q.get()
    for p in ps:
        p.join()
    return lat, time.monotonic() - t0


MIXED_C = os.path.join(ROOT, os.environ.get("BUILD", "build"), "bench", "mixed_load")


def daemon_cpu(d):
    f = open("/proc/%d/stat" % d.proc.pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def scenario_mixed_c(d, project, clients, calls):
    """The same load from bench/fairness/mixed_load.c (one C process)."""
    out = subprocess.run([MIXED_C, d.sock, project, str(clients), str(calls)],
                         capture_output=True, text=True, check=True).stdout.split()
    return {"n": int(out[0]), "p50": float(out[1]), "p99": float(out[2]), "max": float(out[3]),
            "wall": float(out[4])}


def history_reply(d, project):
    with d.client() as c:
        return c.call("history.list", {"project": project})


class QuietDaad(Daad):
    """The test daemon without debug logging (one log line per request)."""

    def command(self):
        return [os.path.join(ROOT, os.environ.get("BUILD", "build"), "bin", "daad"),
                "--foreground", "--log-level", "warn"]


def run(args, label, env):
    with QuietDaad(extra_env=env, config={"max_clients": 1000}) as d:
        make_project(d, "bench", args.steps)
        hist = history_reply(d, "bench")
        history_reply(d, "bench")  # warm
        fl = scenario_flood(d, "bench", args.flood)
        c0 = daemon_cpu(d)
        if os.access(MIXED_C, os.X_OK) and not args.py_mixed:
            mx = scenario_mixed_c(d, "bench", args.clients, args.calls)
        else:
            lat, wall = scenario_mixed(d, "bench", args.clients, args.calls, args.procs)
            mx = {"n": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99), "max": max(lat),
                  "wall": wall}
        mx["cpu"] = daemon_cpu(d) - c0
    return {"label": label, "flood": fl, "mixed": mx, "history": hist}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1600)
    ap.add_argument("--flood", type=int, default=300)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--only", choices=["before", "after"])
    ap.add_argument("--py-mixed", action="store_true",
                    help="the mixed load from Python processes, not build/bench/mixed_load")
    args = ap.parse_args()
    runs = []
    if args.only != "after":
        runs.append(run(args, "before", {"DAA_FAIR_BUDGET": "0", "DAA_HISTORY_INDEX": "0"}))
    if args.only != "before":
        runs.append(run(args, "after", {}))
    print("steps=%d (history.list lists %d), flood=%d history.list, mixed=%d clients x %d calls"
          % (args.steps, len(runs[0]["history"]["steps"]), args.flood, args.clients, args.calls))
    print("%-42s" % "ping latency, ms" + "".join("%14s" % r["label"] for r in runs))
    rows = [
        ("flood: pings answered", lambda r: "%d" % len(r["flood"][0])),
        ("flood: ping p50", lambda r: "%.1f" % pct(r["flood"][0], 50)),
        ("flood: ping p99", lambda r: "%.1f" % pct(r["flood"][0], 99)),
        ("flood: ping max", lambda r: "%.1f" % max(r["flood"][0])),
        ("flood: all history.list took, s", lambda r: "%.2f" % r["flood"][1]),
        ("mixed: pings answered", lambda r: "%d" % r["mixed"]["n"]),
        ("mixed: ping p50", lambda r: "%.1f" % r["mixed"]["p50"]),
        ("mixed: ping p99", lambda r: "%.1f" % r["mixed"]["p99"]),
        ("mixed: ping max", lambda r: "%.1f" % r["mixed"]["max"]),
        ("mixed: all calls took, s", lambda r: "%.2f" % r["mixed"]["wall"]),
        ("mixed: daemon CPU time, s", lambda r: "%.2f" % r["mixed"]["cpu"]),
    ]
    for name, f in rows:
        print("%-42s" % name + "".join("%14s" % f(r) for r in runs))
    if len(runs) == 2:
        a, b = runs[0]["history"], runs[1]["history"]
        same = a["steps"] == b["steps"] and a["project"] == b["project"]
        print("history.list identical before/after: %s" % ("yes" if same else "NO"))


if __name__ == "__main__":
    main()
