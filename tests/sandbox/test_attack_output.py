#!/usr/bin/python3
"""Attack suite: output abuse.  100 MB of stdout, 100 MB straight to fd 1,
a 40000x40000 figure, invalid UTF-8 and lone surrogates, a huge repr: each
reply arrives bounded, the daemon stays responsive."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import Attack, run_suite  # noqa: E402


def bounded(limit):
    def check(s, ctx, r):
        if r is None:
            return "no reply"
        n = len(r.get("stdout", "")) + len(r.get("stderr", ""))
        if n > limit:
            return "the reply carried %d bytes of output" % n
        rep = (r.get("result") or {}).get("repr") or ""
        return "a %d-byte repr" % len(rep) if len(rep) > limit else None
    return check


ATTACKS = [
    Attack("100 MB of stdout", '''
import sys
for _ in range(100):
    sys.stdout.write("x" * (1 << 20))
''', "contained", lambda s, ctx, r: bounded(1 << 20)(s, ctx, r) or (
        None if r.get("ok") and r.get("truncated") is True else "expected ok and truncated")),
    Attack("100 MB straight to fd 1 and 2", '''
chunk = b"y" * (1 << 20)
for _ in range(50):
    os.write(1, chunk)
    os.write(2, chunk)
print("BLOCKED raw-fd-flood (if the daemon survives)")
''', "blocked", bounded(1 << 20)),
    Attack("40000x40000 figure", '''
import matplotlib.pyplot as plt
def big():
    fig = plt.figure(figsize=(400, 400), dpi=100)
    fig.gca().plot([0, 1], [0, 1])
    fig.savefig("outputs/huge.png")
    return os.path.getsize("outputs/huge.png")
probe("huge-figure", big)
plt.close("all")
''', "contained"),
    Attack("invalid UTF-8 and surrogates", '''
import sys
sys.stdout.buffer.write(b"\\xff\\xfe\\xc3(\\x00 bad bytes\\n") if hasattr(sys.stdout, "buffer") else None
print("lone surrogate: \\udcff")
class Evil:
    def __repr__(self):
        return "\\ud800\\udfff\\x00\\xff"
Evil()
''', "contained", bounded(1 << 20)),
    Attack("huge repr", '''
list(range(10 ** 7))
''', "contained", bounded(1 << 20)),
    Attack("huge DataFrame preview", '''
import pandas as pd, numpy as np
pd.DataFrame(np.zeros((2000, 3000)))
''', "contained", bounded(1 << 20)),
]

if __name__ == "__main__":
    sys.exit(run_suite("output abuse", ATTACKS))
