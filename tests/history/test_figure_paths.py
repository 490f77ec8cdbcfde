#!/usr/bin/python3
"""tests/history/test_figure_paths.py — paths a kernel reports are never
acted on (issue 13 item 1).  Step code reaches the runtime's list of saved
figures (through gc: closures do not hide it from that) and appends
data/sales.csv, ../conventions.json, history/001_run.py, .daa, data,
history and ".."-paths to it; it also plants symlinks in outputs/plots
named like its own figures (pointing at data/, conventions.json and a
file outside the project; the test plants them when the sandbox refuses),
and before the second re-run outputs/plots becomes a symlink to data/ and
the third step fails.  Through `daa run` and two `daa rerun`s
(one where the last step fails): data/, history/, .daa/ and
conventions.json stay name- and byte-identical (.daa/history.json aside
during the first re-run: it records the statuses), the replies list only
the figures really drawn, and `daa export --notebook --with-outputs`
embeds none of the symlinks' targets."""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from histlib import Session, skip_unless_built, step_run  # noqa: E402

POISON = ("import gc\n"
          "def _poison():\n"
          "    bad = ['data/sales.csv', '../conventions.json', 'conventions.json',\n"
          "           'history/001_run.py', '.daa', 'data', 'history', '.daa/history.json',\n"
          "           'outputs/../data/sales.csv', '/etc/hostname', 'outputs/plots/../../data']\n"
          "    n = 0\n"
          "    for o in gc.get_objects():\n"
          "        if isinstance(o, list) and o and all(isinstance(x, str) for x in o) and \\\n"
          "                any(x.startswith('outputs/plots/') for x in o):\n"
          "            o.extend(bad)\n"
          "            n += 1\n"
          "    print('poisoned', n > 0)\n")

STEP1 = ("import os\n"
         "plt.plot([1, 2, 3])\n"
         "plt.show()\n"
         "for i, target in ((5, '../../data'), (6, '../../conventions.json'),\n"
         "                  (7, '../../data/sales.csv'), (8, '/etc/hostname')):\n"
         "    for stem in ('001_run', '001_run.rerun'):\n"
         "        try:\n"
         "            os.symlink(target, 'outputs/plots/%s_%d.png' % (stem, i))\n"
         "        except OSError:\n"
         "            pass  # the sandbox forbids symlinks; the test plants them\n"
         + POISON + "_poison()\n")

STEP2 = ("plt.plot([3, 2, 1])\n"
         "plt.show()\n" + POISON + "_poison()\n"
         "x = 2\n")

# the third step fails when outputs/fail exists (the second re-run)
STEP3 = ("import os\n"
         "plt.plot([0, 1])\n"
         "plt.show()\n" + POISON + "_poison()\n"
         "if os.path.exists('outputs/fail'):\n"
         "    raise RuntimeError('step 3 fails now')\n")


def plant(s):
    """Symlinks named like step figures (a sandbox that lets the kernel make
    symlinks, or anything else writing outputs/, could make them)."""
    for i, target in ((5, "../../data"), (6, "../../conventions.json"),
                      (7, "../../data/sales.csv"), (8, "/etc/hostname")):
        for stem in ("001_run", "001_run.rerun", "002_run.rerun"):
            p = os.path.join(s.path, "outputs", "plots", "%s_%d.png" % (stem, i))
            if not os.path.lexists(p):
                os.symlink(target, p)


def tree(path, skip=()):
    """{relative name: bytes or 'dir' or 'link:target'} of a folder or file."""
    out = {}
    if os.path.isfile(path) and not os.path.islink(path):
        with open(path, "rb") as f:
            return {"": f.read()}
    for dirpath, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, path)
            if rel in skip:
                continue
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                with open(p, "rb") as f:
                    out[rel] = f.read()
    return out


def snapshot(s, skip_state=False):
    skip = {"history.json"} if skip_state else set()
    return {"data": tree(os.path.join(s.path, "data")),
            "history": tree(os.path.join(s.path, "history")),
            ".daa": tree(os.path.join(s.path, ".daa"), skip),
            "conventions.json": tree(os.path.join(s.path, "conventions.json"))}


def same(a, b, what):
    for k in a:
        assert a[k] == b[k], "%s: %s changed: %s" % (what, k, sorted(set(a[k]) ^ set(b[k])) or
                                                    [n for n in a[k] if a[k][n] != b[k].get(n)])


def main():
    skip_unless_built()
    with Session() as s:
        s.daa("-p", "demo", "conventions", "set", "currency", "EUR")
        r = step_run(s, STEP1)
        assert "poisoned True" in r["stdout"], r
        assert r["figures"] == ["outputs/plots/001_run_1.png"], r["figures"]
        r = step_run(s, STEP2)
        assert r["figures"] == ["outputs/plots/002_run_1.png"], r["figures"]
        r = step_run(s, STEP3)
        assert r["figures"] == ["outputs/plots/003_run_1.png"], r["figures"]
        print("ok - a run's reply lists the figures it drew, not the list kernel code edited")

        # the background profile of sales.csv writes .daa/profiles and
        # .daa/view when it finishes: let it finish before the snapshot
        s.daa("--json", "-p", "demo", "profile", "sales", timeout=300)
        plant(s)
        before = snapshot(s, skip_state=True)
        p = s.daa("--json", "-p", "demo", "rerun", "1", check=False)
        res = json.loads(p.stdout)
        assert res["ok"], res
        assert [st["figures"] for st in res["ran"]] == [
            ["outputs/plots/001_run_1.png"], ["outputs/plots/002_run_1.png"],
            ["outputs/plots/003_run_1.png"]], res["ran"]
        same(before, snapshot(s, skip_state=True), "rerun 1")
        print("ok - rerun: nothing outside outputs/ moved or removed; figures as drawn")

        before = snapshot(s)
        with open(os.path.join(s.path, "outputs", "fail"), "w") as f:
            f.write("1")
        plots = os.path.join(s.path, "outputs", "plots")
        os.rename(plots, plots + "_real")
        os.symlink("../data", plots)
        p = s.daa("--json", "-p", "demo", "rerun", "2", check=False)
        res = json.loads(p.stdout)
        assert not res["ok"] and res["failed"] == "history/003_run.py", res
        after = snapshot(s, skip_state=True)
        same({k: v for k, v in before.items() if k != ".daa"}, after, "rerun 2")
        assert set(before[".daa"]) == set(after[".daa"]) | {"history.json"}, \
            set(before[".daa"]) ^ set(after[".daa"])
        same({".daa": {k: v for k, v in before[".daa"].items() if k != "history.json"}},
             {".daa": after[".daa"]}, "rerun 2")
        print("ok - a failing re-run step (outputs/plots a symlink to data/) removed nothing")

        os.unlink(plots)
        os.rename(os.path.join(s.path, "outputs", "plots_real"), plots)
        nb = os.path.join(s.d.dir, "nb.ipynb")
        s.daa("-p", "demo", "export", "--notebook", nb, "--with-outputs")
        with open(nb) as f:
            cells = json.load(f)["cells"]
        images = [o["data"]["image/png"] for c in cells if c["cell_type"] == "code"
                  for o in c.get("outputs", []) if o.get("output_type") == "display_data"]
        assert len(images) == 3, len(images)  # step 3 failed: it keeps its previous figure
        for img in images:
            assert base64.b64decode(img).startswith(b"\x89PNG"), img[:40]
        h = s.daa("--json", "-p", "demo", "history")
        outs = {st["n"]: st["outputs"] for st in json.loads(h.stdout)["steps"]}
        assert outs[1] == ["outputs/plots/001_run_1.png"], outs
        print("ok - history and the notebook list regular figure files only (no symlink target)")
        assert s.alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
