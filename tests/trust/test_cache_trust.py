#!/usr/bin/python3
"""tests/trust/test_cache_trust.py — kernel code cannot poison the
loaded-dataset cache (.daa/cache) for later kernels, through a real daemon
and the builtin analyst:
- after `data.add` of a >1 MiB sales table the `cache` request right after
  bind writes the entry and the daemon records its SHA-256 in
  .daa/cache.json (which a kernel cannot write);
- `daa run` rewrites the entry with (1) a pickle that writes a marker file
  when loaded and (2) a frame with altered values; after a kernel restart,
  a daemon restart and an undo the analyst's "what is the total revenue"
  gives the right number, the marker is never created, and the daemon log
  says the entry was rebuilt;
- a kernel cannot write .daa/cache.json."""
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import check, run_test_in_dir  # noqa: E402

ROWS = 60000

EVIL = r'''
import glob, pickle
class Evil:
    def __reduce__(self):
        return (exec, ("open('outputs/pwned', 'w').write('pickle code ran')",))
for f in glob.glob('.daa/cache/*.pkl'):
    open(f, 'wb').write(pickle.dumps((Evil(), [])))
print(len(glob.glob('.daa/cache/*.pkl')))
'''

ALTER = r'''
import glob, pickle
fake = dfs['sales'].head(2).copy()
fake['revenue'] = 100000
for f in glob.glob('.daa/cache/*.pkl'):
    open(f, 'wb').write(pickle.dumps((fake, [])))
print(len(glob.glob('.daa/cache/*.pkl')))
'''


def write_sales(path):
    """A sales table over 1 MiB; returns its total revenue (an integer)."""
    total = 0
    with open(path, "w") as f:
        f.write("order_id,order_date,region,product,units,revenue\n")
        for i in range(ROWS):
            rev = (i * 37) % 500 + 1
            total += rev
            f.write("%d,2023-%02d-%02d,%s,Widget-%d,%d,%d\n"
                    % (100000 + i, i % 12 + 1, i % 28 + 1, ("North", "South")[i % 2], i % 7,
                       i % 9 + 1, rev))
    return total


def profile_ready(c):
    """Wait for the background profile (a kernel restart would cut it, and
    the analyst needs it): a hang guard, not a timing check."""
    end = time.monotonic() + 240
    while time.monotonic() < end:
        st = c.call("data.list", project="p")["datasets"][0]["profile"]["state"]
        if st in ("ready", "failed"):
            return st
        time.sleep(0.1)
    raise TimeoutError("the profile never finished")


def ask_total(d, c, want):
    r = c.call("ask", timeout=240, project="p", request="what is the total revenue")
    check(r["status"] == "done", "ask: %r %s" % (r["status"], r.get("answer")))
    check("{:,}".format(want) in r["answer"], "answer %r, want %s" % (r["answer"], want))
    return r


def ledger(proj):
    with open(os.path.join(proj, ".daa", "cache.json")) as f:
        return json.load(f)["files"]


def attack(d, code, what):
    profile_ready(d.client())
    p = d.cli("-p", "p", "run", code)
    check(p.returncode == 0 and p.stdout.strip() == "1", "%s step: %s %s" % (what, p.stdout, p.stderr))


def body(d, work):
    src = os.path.join(work, "sales.csv")
    total = write_sales(src)
    check(os.path.getsize(src) > (1 << 20), "the table is under 1 MiB")
    c = d.client(timeout=240)
    proj = c.call("project.create", name="p")["path"]
    c.call("data.add", project="p", path=src)
    ask_total(d, c, total)
    # the first turn set conventions (date columns), which key the cache:
    # a fresh kernel builds the entry for them
    profile_ready(c)
    check(d.cli("-p", "p", "kernel", "restart").returncode == 0, "kernel restart")
    check(d.cli("-p", "p", "run", "1", "--scratch").returncode == 0, "run after restart")
    entries = glob.glob(os.path.join(proj, ".daa", "cache", "*.pkl"))
    check(len(entries) == 1, "cache entries %r" % entries)
    led = ledger(proj)
    check(list(led) == [os.path.basename(entries[0])], "ledger %r" % led)
    print("ok - the cache entry is written before user code and its SHA-256 recorded")

    marker = os.path.join(proj, "outputs", "pwned")
    attack(d, EVIL, "malicious pickle")
    p = d.cli("-p", "p", "kernel", "restart")
    check(p.returncode == 0, "kernel restart: %s" % p.stderr)
    ask_total(d, c, total)
    check(not os.path.exists(marker), "the malicious pickle ran (marker written)")
    check("was changed after it was written" in d.log_text() and "rebuilt from data/" in d.log_text(),
          "no 'rebuilt' in the daemon log")
    print("ok - kernel restart: malicious pickle not loaded, rebuilt, right total")

    attack(d, ALTER, "altered values")
    d.restart()
    c = d.client(timeout=240)
    ask_total(d, c, total)
    check(d.log_text().count("rebuilt from data/") >= 1, "no 'rebuilt' after the daemon restart")
    entries = glob.glob(os.path.join(proj, ".daa", "cache", "*.pkl"))
    check([os.path.basename(e) for e in entries] == list(ledger(proj)), "ledger %r" % ledger(proj))
    print("ok - daemon restart: altered values ignored, rebuilt, right total")

    before = d.log_text().count("rebuilt from data/")
    attack(d, EVIL, "malicious pickle")
    c.call("history.undo", project="p")
    ask_total(d, c, total)
    check(not os.path.exists(marker), "the malicious pickle ran after undo")
    check(d.log_text().count("rebuilt from data/") > before, "no 'rebuilt' after undo")
    print("ok - undo: malicious pickle not loaded, rebuilt, right total")

    p = d.cli("--json", "-p", "p", "run", "open('.daa/cache.json', 'w').write('{}')", "--scratch")
    r = json.loads(p.stdout)
    check(not r["ok"] and r["error"]["type"] == "PermissionError", "kernel wrote the ledger: %r" % r)
    check(ledger(proj), "ledger emptied")
    print("ok - a kernel cannot write .daa/cache.json")


def main():
    run_test_in_dir("daa-cache.", body)


if __name__ == "__main__":
    main()
