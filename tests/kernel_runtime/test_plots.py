#!/usr/bin/python3
"""Kernel runtime: matplotlib figures become files outputs/plots/<step>_<n>.png
(valid PNGs, 100 dpi), are closed after the step, plt.show() saves and closes
like an inline backend, and an absurd figure size is scaled down with a note
instead of being allocated."""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402


def png_size(path):
    """(width, height) from a PNG header, or None when not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


k = kt.Kernel()
proj = kt.make_project()
try:
    kt.check(k.req("bind", project=proj)["ok"], "bind")
    r = k.run("fig, ax = plt.subplots(figsize=(4, 3))\nax.plot([1, 3, 2])\nax.set_title('t')",
              step="003_plot-revenue")
    kt.check(r["ok"] and r["figures"] == ["outputs/plots/003_plot-revenue_1.png"], "figure listed", r)
    path = os.path.join(proj, "outputs", "plots", "003_plot-revenue_1.png")
    size = png_size(path) if os.path.exists(path) else None
    kt.check(size is not None and 0 < size[0] <= 400 and 0 < size[1] <= 300, "valid PNG near 400x300", size)
    r = k.run("plt.get_fignums()")
    kt.check(r["ok"] and r["result"]["repr"] == "[]" and r["figures"] == [], "figures closed after the step", r)

    r = k.run("plt.plot([1, 2])\nplt.show()\nplt.plot([2, 1])\nplt.figure()\nplt.bar(['a'], [1])",
              step="multi")
    kt.check(r["figures"] == ["outputs/plots/multi_1.png", "outputs/plots/multi_2.png",
                              "outputs/plots/multi_3.png"], "plt.show() saves; numbering continues", r)
    kt.check(all(os.path.exists(os.path.join(proj, f)) for f in r["figures"]), "all three files exist")

    r = k.run("plt.plot([1, 2])\nraise ValueError('after plotting')", step="failing")
    kt.check(not r["ok"] and r["figures"] == ["outputs/plots/failing_1.png"], "figure saved even when the step fails", r)

    r = k.run("plt.figure(figsize=(400, 400), dpi=300)\nplt.plot([1, 2])", step="huge")
    size = png_size(os.path.join(proj, "outputs", "plots", "huge_1.png")) if r["figures"] else None
    kt.check(r["ok"] and size is not None and max(size) <= 8000 and size[0] * size[1] <= 16e6,
             "huge figure scaled down", (r, size))
    kt.check("scaled down" in r["stderr"], "note about scaling on stderr", r["stderr"])

    r = k.run("import seaborn as sns\nsns.histplot(x=np.arange(50))", step="sns")
    kt.check(r["ok"] and r["figures"] == ["outputs/plots/sns_1.png"], "seaborn figure saved", r)
    r = k.run("dfp = pd.DataFrame({'a': [1, 2, 3]})\ndfp.plot()", step="pandas")
    kt.check(r["ok"] and r["figures"] == ["outputs/plots/pandas_1.png"] and "Axes" in r["result"]["type"],
             "pandas .plot() figure saved", r)
    r = k.run("plt.plot([1])", step="../../evil name")
    kt.check(r["figures"] and all("/" not in f[len("outputs/plots/"):] for f in r["figures"])
             and r["figures"][0].startswith("outputs/plots/"), "step name sanitised for the file name", r)
finally:
    k.close()
kt.finish([proj])
