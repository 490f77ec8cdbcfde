#!/usr/bin/python3
"""The other side of the attack suite: ordinary analysis works under the
same policy — read_csv, groupby, a RandomForest with n_jobs=2, a seaborn
plot, savefig, writing a table and a model to outputs/, tempfile, malloc's
heap on transparent huge pages (when the host has THP on), loops over large
temporaries without page faults, and copying a
data file into outputs/ with shutil (copy, copy2, copytree: they chmod the
copy to the source's mode), ordinary chmod of an output."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402


# the host's THP mode ("always [madvise] never"), None when it has no THP
try:
    with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
        HOST_THP = f.read()
except OSError:
    HOST_THP = None


def exists(*rel):
    def check(s, ctx, r):
        for p in rel:
            if not os.path.isfile(os.path.join(s.path, p)):
                return "%s is missing" % p
        return None
    return check


def copies_like_data(s, ctx, r):
    """The copies in outputs/ have the bytes and the mode of data/sales.csv."""
    src = os.path.join(s.path, "data", "sales.csv")
    with open(src, "rb") as f:
        want = f.read()
    mode = stat.S_IMODE(os.stat(src).st_mode)
    for rel in ("outputs/copy/sales.csv", "outputs/copy/sales2.csv", "outputs/copy/tree/sales.csv"):
        p = os.path.join(s.path, rel)
        if not os.path.isfile(p):
            return "%s is missing" % rel
        with open(p, "rb") as f:
            if f.read() != want:
                return "%s differs from data/sales.csv" % rel
        if stat.S_IMODE(os.stat(p).st_mode) != mode:
            return "%s has mode %o, data/sales.csv %o" % (rel, stat.S_IMODE(os.stat(p).st_mode), mode)
    m = stat.S_IMODE(os.stat(os.path.join(s.path, "outputs/copy/report.txt")).st_mode)
    if m != 0o600:
        return "outputs/copy/report.txt has mode %o, not 600" % m
    return None


ATTACKS = [
    Attack("read_csv", '''
import pandas as pd
sales = pd.read_csv("data/sales.csv")
assert len(sales) == 2000, len(sales)
sales.head()
''', "ok"),
    Attack("groupby", '''
by = sales.groupby("region")["revenue"].sum().sort_values()
assert len(by) > 1
by
''', "ok"),
    Attack("RandomForest n_jobs=2", '''
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import cross_val_score
X = sales[["units", "unit_price", "discount"]]
y = sales["revenue"]
m = RandomForestRegressor(n_estimators=40, n_jobs=2, random_state=0).fit(X, y)
score = cross_val_score(RandomForestRegressor(n_estimators=20, n_jobs=2), X, y, cv=3).mean()
assert score > 0.5, score
round(score, 3)
''', "ok"),
    Attack("seaborn plot and savefig", '''
import seaborn as sns
import matplotlib.pyplot as plt
ax = sns.barplot(data=sales, x="region", y="revenue")
plt.savefig("outputs/plots/by_region.png")
''', "ok", exists("outputs/plots/by_region.png")),
    Attack("tables and models to outputs/", '''
import pickle, tempfile
os.makedirs("outputs/tables", exist_ok=True)
by.to_csv("outputs/tables/by_region.csv")
os.makedirs("outputs/models", exist_ok=True)
pickle.dump(m, open("outputs/models/rf.pkl", "wb"))
with tempfile.NamedTemporaryFile() as t:
    t.write(b"scratch")
''', "ok", exists("outputs/tables/by_region.csv", "outputs/models/rf.pkl")),
    Attack("numpy, scipy, threads", '''
import numpy as np, scipy.stats, threading
a = np.random.default_rng(0).normal(size=(300, 300))
np.linalg.inv(a @ a.T + np.eye(300))
results = []
ts = [threading.Thread(target=lambda: results.append(scipy.stats.norm.ppf(0.975))) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
assert len(results) == 4
''', "ok"),
    # daad sets GLIBC_TUNABLES=glibc.malloc.hugetlb=1 and the sandbox shows
    # /sys/kernel/mm/transparent_hugepage/ (read-only), where glibc learns
    # whether THP is on: then malloc madvises its heap for huge pages (fewer
    # page faults at every kernel start).  THPeligible, not AnonHugePages:
    # whether a huge page was free at the time is the host's business.
    Attack("malloc's heap on transparent huge pages", '''
assert "glibc.malloc.hugetlb=1" in os.environ.get("GLIBC_TUNABLES", "").split(":"), os.environ.get("GLIBC_TUNABLES")
THP = "/sys/kernel/mm/transparent_hugepage/enabled"
mode = %(host_thp)r   # the host's; the kernel must see the same, or none when the host has none
seen = open(THP).read() if os.path.exists(THP) else None
assert seen == mode, (seen, mode)
if mode and "[never]" not in mode:
    heap, name = [], None
    for line in open("/proc/self/smaps"):
        if not line.split(maxsplit=1)[0].endswith(":"):   # a mapping's first line
            name = line.split()[-1]
        elif line.startswith("THPeligible:") and name == "[heap]":
            heap.append(line.split()[1])
    assert "1" in heap, ("no heap mapping eligible for huge pages", mode, heap)
mode
''' % {"host_thp": HOST_THP}, "ok"),
    # daad's malloc settings for kernels (kern_proc.c): a loop that makes and
    # drops ~1 MiB temporaries reuses the heap's memory.  glibc's defaults
    # gave the pages back and faulted them in again each time (480 faults
    # an iteration); hugetlb=1 alone zeroed a fresh 2 MiB page each time (1).
    Attack("loops over ~1 MiB temporaries take no page faults", '''
import resource
s = pd.Series(np.arange(131072, dtype=float))
faults = {}
for loop in ("series", "buffers"):
    for i in range(310):
        if i == 10:   # past glibc's first large frees, which set its thresholds
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        if loop == "series":
            (s * 2 + 1).sum()
        else:
            a = bytearray(1 << 20); b = bytearray(1 << 20); del a, b
    faults[loop] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
assert max(faults.values()) < 30, ("page faults in 300 iterations", faults)
''', "ok"),
    Attack("shutil.copy of a data file into outputs/", '''
import shutil
os.makedirs("outputs/copy", exist_ok=True)
shutil.copy("data/sales.csv", "outputs/copy/sales.csv")
shutil.copy2("data/sales.csv", "outputs/copy/sales2.csv")
shutil.copytree("data", "outputs/copy/tree", dirs_exist_ok=True)
shutil.copymode("data/sales.csv", "outputs/copy/sales.csv")
with open("outputs/copy/report.txt", "w") as f:
    f.write("private")
os.chmod("outputs/copy/report.txt", 0o600)
os.chmod("outputs/copy/sales.csv", 0o444)
os.chmod("outputs/copy/sales.csv", 0o755)
shutil.copymode("data/sales.csv", "outputs/copy/sales.csv")
sorted(os.listdir("outputs/copy"))
''', "ok", copies_like_data),
]

if __name__ == "__main__":
    sys.exit(run_suite("positive", ATTACKS))
