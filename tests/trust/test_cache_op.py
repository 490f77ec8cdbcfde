#!/usr/bin/python3
"""tests/trust/test_cache_op.py — the runtime's `cache` request, without a
daemon (sandbox/KERNEL.md): it writes the entry of a large dataset and
reports the SHA-256 of exactly the bytes on disk; with that hash given at
the next bind the entry is checked, not rebuilt; a foreign entry is
rebuilt and reported; a step never writes the cache; `cache` after a step
is refused; a FIFO planted as an entry does not hang the kernel; a step
loading a dataset whose entry does not match the given hash reads data/
and says so on stderr."""
import hashlib
import os
import pickle
import sys

ROOT = os.environ.get("DAA_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "kernel_runtime"))
import kt  # noqa: E402

ROWS = 150000
big = "id,v\n" + "".join("%d,%d\n" % (i, i * 3) for i in range(ROWS))
total = sum(i * 3 for i in range(ROWS))
proj = kt.make_project({"big.csv": big})
cache = os.path.join(proj, ".daa", "cache")
os.makedirs(cache)
DS = [{"name": "big", "path": "data/big.csv", "format": "csv"}]


def bound(files):
    k = kt.Kernel()
    r = k.req("bind", project=proj, datasets=DS, cache={"files": files})
    kt.check(r["ok"], "bind", r)
    return k


k = bound({})
r = k.req("cache")
kt.check(r["ok"] and len(r["written"]) == 1 and not r["rebuilt"], "cache writes one entry", r)
name, digest = next(iter(r["written"].items()))
with open(os.path.join(cache, name), "rb") as f:
    kt.check(hashlib.sha256(f.read()).hexdigest() == digest, "reported hash is the file's", r)
r = k.run("int(dfs['big']['v'].sum())")
kt.check(r["ok"] and r["result"]["repr"] == str(total), "the frame built by cache is used", r)
r = k.req("cache")
kt.check(not r["ok"] and r["error"]["type"] == "PermissionError", "cache after a step refused", r)
k.close()

k = bound({name: digest})
r = k.req("cache")
kt.check(r["ok"] and r["checked"] == [name] and not r["written"], "a recorded entry is only checked", r)
k.close()

with open(os.path.join(cache, name), "wb") as f:
    f.write(pickle.dumps((__import__("pandas").DataFrame({"v": [1]}), [])))
k = bound({name: digest})
r = k.run("int(dfs['big']['v'].sum())")
kt.check(r["ok"] and r["result"]["repr"] == str(total), "a changed entry is not used by a step", r)
kt.check("was changed after it was written" in r["stderr"], "the step says so", r)
kt.check(os.listdir(cache) == [name], "a step does not write the cache", os.listdir(cache))
k.close()

k = bound({name: digest})
r = k.req("cache")
kt.check(r["ok"] and r["rebuilt"] and r["rebuilt"][0]["why"] == "changed after it was written",
         "a changed entry is rebuilt", r)
digest2 = r["written"][name]
k.close()

os.remove(os.path.join(cache, name))
os.mkfifo(os.path.join(cache, name))
k = bound({name: digest2})
r = k.req("cache")
kt.check(r["ok"] and r["rebuilt"] and r["rebuilt"][0]["why"] == "not written by daa",
         "a FIFO entry is replaced, not read", r)
k.close()
kt.finish()
