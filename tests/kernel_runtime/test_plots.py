#!/usr/bin/python3
"""Kernel runtime: matplotlib figures become files outputs/plots/<step>_<n>.png
(valid PNGs, 100 dpi), are closed after the step, plt.show() saves and closes
like an inline backend, and an absurd figure size is scaled down with a note
instead of being allocated.

Four kernels: one started with --plots-on-demand (a kernel a project
waits for; daakernel/lazyplot.py) runs every check, its first plot through
the namespace's `plt` stand-in; a second such kernel plots first by `import
matplotlib.pyplot` and plt.show() in the same step (the import hook; pandas'
.plot() and seaborn import pyplot the same way, and daa_tools' helpers
too); a third through the namespace's `matplotlib` stand-in; one that
imported matplotlib at start (a warm spare) saves at plt.show() as well.
In the on-demand ones pyplot is not imported before the first plot (nor
by daa_tools)."""

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


def fresh(args):
    """A kernel (runtime args), bound to a new project: (kernel, project)."""
    k = kt.Kernel(args=args)
    proj = kt.make_project()
    kt.check(k.ready["libs"].get("matplotlib"), "matplotlib's version in the ready event", k.ready)
    kt.check(k.req("bind", project=proj)["ok"], "bind")
    r = k.run("import sys\n'matplotlib.pyplot' in sys.modules", step="before")
    want = "False" if args else "True"
    kt.check(r["ok"] and r["result"]["repr"] == want, "pyplot imported before a plot: %s" % want, r)
    return k, proj


def check_show(k, proj, code, what):
    """code's first figure saved at its plt.show(), a second at the step's end."""
    r = k.run(code, step="first")
    want = ["outputs/plots/first_1.png", "outputs/plots/first_2.png"]
    kt.check(r["ok"] and r["figures"] == want and "non-interactive" not in r["stderr"],
             "%s: plt.show() saved the first figure, the step's end the second" % what, r)
    kt.check(all(png_size(os.path.join(proj, f)) for f in want), "valid PNGs", want)
    return r


def check_plots(k, proj):
    """The figure rules, in one (bound) kernel."""
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
for args, check in ((kt.ON_DEMAND, None),
                    (kt.ON_DEMAND, "import matplotlib.pyplot as p2\np2.plot([1, 2])\np2.show()\n"
                                   "p2.plot([2, 1])"),
                    (kt.ON_DEMAND, "matplotlib.pyplot.plot([1, 2])\nmatplotlib.pyplot.show()\n"
                                   "print(matplotlib.get_backend())\nplt.plot([2, 1])"),
                    ((), "plt.plot([1, 2])\nplt.show()\nplt.plot([2, 1])")):
    k, proj = fresh(args)
    done.append(proj)
    try:
        if check is None:
            check_plots(k, proj)
        else:
            r = check_show(k, proj, check, "on demand, pyplot imported by the step" if args else "warm")
            if "get_backend" in check:
                kt.check(r["stdout"].strip() == "agg", "on demand: `matplotlib` in the namespace "
                         "brings pyplot too (as at start), backend Agg", r)
    finally:
        k.close()
kt.finish(done)
