#!/usr/bin/python3
"""Attack suite: resources, under small limits from config.json (2 GB of
memory, 64 MB files, 512 fds, 3 s per step).  A memory bomb, an infinite
loop, a disk fill, 10k threads, fd exhaustion: each ends (error or a killed
kernel), the daemon stays responsive and the next step works.  The attacks
that only the time limit stops here (the growing bomb faults its pages in
slower than 2 GB in 3 s on a 2-core VM; 10**6 Python frames take longer
than 3 s) and the loop that ignores SIGINT run under a 1 s limit of their
own (`daa run --timeout 1`): spinning 3 s longer proves nothing more."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402


def small_file(s, ctx, r):
    p = os.path.join(s.path, "outputs", "fill.bin")
    size = os.path.getsize(p) if os.path.exists(p) else 0
    if os.path.exists(p):
        os.remove(p)
    return "outputs/fill.bin grew to %d bytes (limit 64 MB)" % size if size > 64 << 20 else None


def timed_out_after(secs):
    """A check: the step ended with the time-limit error for `secs` seconds
    (the CLI prints the error response as {error: {code, message}})."""
    def check(s, ctx, r):
        e = (r or {}).get("error") or {}
        if e.get("code") == -32021 and "longer than %d s" % secs in e.get("message", ""):
            return None
        return "expected the %d s step time-limit error, got %s" % (secs, r)
    return check


ATTACKS = [
    Attack("memory bomb (one block)", '''
probe("8GB", lambda: len(bytearray(8 << 30)))
''', "blocked"),
    Attack("memory bomb (growing)", '''
def grow():
    keep = []
    while True:
        keep.append(bytearray(64 << 20))
probe("grow", grow)
''', "contained", timeout=1),
    Attack("infinite loop", '''
while True:
    pass
''', "contained", timed_out_after(3)),
    Attack("infinite loop ignoring SIGINT", '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
''', "contained", timed_out_after(1), timeout=1),
    Attack("disk fill", '''
def fill():
    with open("outputs/fill.bin", "wb") as f:
        for _ in range(1024):
            f.write(b"x" * (1 << 20))
probe("fill", fill)
''', "blocked", small_file),
    Attack("disk fill in tmp (many files)", '''
import tempfile
def many():
    d = tempfile.mkdtemp()
    for i in range(200):
        with open(os.path.join(d, str(i)), "wb") as f:
            f.write(b"x" * (1 << 20))
    return False
probe("tmpfill", many)
''', "contained"),
    Attack("10k threads", '''
import threading
stop = threading.Event()
def spawn():
    ts = []
    try:
        for i in range(10000):
            t = threading.Thread(target=stop.wait, daemon=True)
            t.start()
            ts.append(t)
    finally:
        stop.set()
        print("threads started:", len(ts))
    return len(ts) >= 10000 or False
probe("threads", spawn)
''', "contained"),
    Attack("fd exhaustion", '''
fds = []
def exhaust():
    while len(fds) < 100000:
        fds.append(os.open("/dev/null", os.O_RDONLY))
    return len(fds)
probe("fds", exhaust)
for fd in fds:
    os.close(fd)
''', "blocked"),
    Attack("deep recursion", '''
import sys
sys.setrecursionlimit(10**6)
def r(n):
    return r(n + 1)
probe("recursion", lambda: r(0))
''', "contained", timeout=1),
]

if __name__ == "__main__":
    cfg = {"kernel": {"step_timeout_s": 3, "kill_grace_ms": 1000, "mem_mb": 2048, "fsize_mb": 64, "nofile": 512}}
    sys.exit(run_suite("resources", ATTACKS, config=cfg))
