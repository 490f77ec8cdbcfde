#!/usr/bin/python3
"""Kernel runtime: matplotlib figures become files outputs/plots/<step>_<n>.png
(valid PNGs, 100 dpi), are closed after the step, plt.show() saves and closes
like an inline backend, and an absurd figure size is scaled down with a note
instead of being allocated.  Twice: in a kernel that imported matplotlib at
start (a warm spare) and in one that imports it when a step first plots
(--plots-on-demand, a kernel a project waits for; daakernel/lazyplot.py),
where each way of reaching pyplot gets the same figures: the namespace's
`plt`, `import matplotlib.pyplot` then plt.show() in the same step, seaborn,
pandas' .plot(), daa_tools' plot helpers."""

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


def check_on_demand():
    """Each way to pyplot, each the first plot of a fresh on-demand kernel."""
    firsts = [("import matplotlib.pyplot as p2\np2.plot([1, 2])\np2.show()\np2.plot([2, 1])", 2),
              ("import seaborn as sns\nsns.histplot(x=np.arange(50))", 1),
              ("pd.DataFrame({'a': [1, 2, 3]}).plot()", 1),
              ("daa_tools.bar(['a', 'b'], [1, 2], title='t')", 1),
              ("matplotlib.use('Agg')\nplt.plot([1])\nplt.show()", 1)]
    projects = []
    for code, n in firsts:
        k = kt.Kernel(args=["--plots-on-demand"])
        try:
            kt.check(k.ready["libs"].get("matplotlib"), "on demand: matplotlib's version in the ready event",
                     k.ready)
            proj = kt.make_project()
            projects.append(proj)
            kt.check(k.req("bind", project=proj)["ok"], "bind")
            r = k.run("import sys\n'matplotlib.pyplot' in sys.modules", step="before")
            kt.check(r["ok"] and r["result"]["repr"] == "False", "on demand: pyplot not imported at bind", r)
            r = k.run(code, step="first")
            want = ["outputs/plots/first_%d.png" % (i + 1) for i in range(n)]
            kt.check(r["ok"] and r["figures"] == want and "non-interactive" not in r["stderr"],
                     "on demand, first plot by %r: %s" % (code.splitlines()[0], want), r)
            kt.check(all(png_size(os.path.join(proj, f)) for f in want), "valid PNGs", want)
            r = k.run("plt.get_fignums()")
            kt.check(r["ok"] and r["result"]["repr"] == "[]", "closed after the step", r)
        finally:
            k.close()
    return projects


def check_plots(k, proj):
    """The figure rules, in one kernel."""
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


done = []
for args in ([], ["--plots-on-demand"]):
    k = kt.Kernel(args=args)
    done.append(kt.make_project())
    try:
        check_plots(k, done[-1])
    finally:
        k.close()
done += check_on_demand()
kt.finish(done)
