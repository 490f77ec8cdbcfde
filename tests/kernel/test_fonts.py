#!/usr/bin/python3
"""tests/kernel/test_fonts.py — matplotlib's font list, shared by the kernels
(daemon/kernel/kern_fonts.c): the first kernel of a daemon with an empty
cache builds its own while the font helper builds the shared list into
$XDG_CACHE_HOME/daa/matplotlib (0700, with its stamp); a later kernel starts
from a copy of that list (a marker the test puts into the shared list shows
up in the kernel's fontManager), cannot read or write the shared file, and
what it writes into its own copy does not change the shared one."""
import ast
import glob
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kcli import Session, rmtree, skip_unless_built  # noqa: E402


def wait_for(path, timeout=120):
    """The helper runs in the background: wait (bounded) for its stamp."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert time.monotonic() < deadline, "no %s after %d s" % (path, timeout)
        time.sleep(0.1)


def main():
    skip_unless_built()
    cache_home = tempfile.mkdtemp(prefix="daa-fonts-cache.")
    shared = os.path.join(cache_home, "daa", "matplotlib")
    try:
        with Session(extra_env={"XDG_CACHE_HOME": cache_home}) as s:
            # font_manager: a kernel started for a project imports matplotlib's
            # plotting parts (the font list) at its first plot (lazyplot.py)
            r, p = s.run_json("import glob, json, matplotlib.font_manager, os\n"
                              "[l] = glob.glob(os.path.join(matplotlib.get_cachedir(), 'fontlist-v*.json'))\n"
                              "json.dumps(sorted(e['fname'] for e in json.load(open(l))['ttflist']))")
            assert r and r["ok"], p.stdout
            own_fonts = json.loads(ast.literal_eval(r["result"]["repr"]))
            assert own_fonts, r
            print("ok - the first kernel built a font list in its own MPLCONFIGDIR")

            wait_for(os.path.join(shared, "stamp"))
            assert os.stat(shared).st_mode & 0o777 == 0o700, oct(os.stat(shared).st_mode)
            lists = glob.glob(os.path.join(shared, "fontlist-v*.json"))
            assert len(lists) == 1, lists
            with open(os.path.join(shared, "stamp")) as f:
                stamp = f.read()
            assert stamp.startswith("python /usr/bin/python3\nfont_manager /") and "\nfonts " in stamp, stamp
            print("ok - the font helper built the shared list (0700 folder, stamp)")

            with open(lists[0]) as f:
                fm = json.load(f)
            assert sorted(e["fname"] for e in fm["ttflist"]) == own_fonts, (fm["ttflist"], own_fonts)
            print("ok - the helper saw the fonts the kernel saw")
            fm["daa_test_marker"] = "shared"
            with open(lists[0], "w") as f:
                json.dump(fm, f)
            with open(lists[0], "rb") as f:
                before = f.read()

            s.daa("project", "new", "other")
            s.daa("-p", "other", "add", os.path.join(os.environ.get("DAA_ROOT", "."), "examples", "sales.csv"))
            s.project = "other"   # a second kernel, started after the list was shared
            r, p = s.run_json("import matplotlib.font_manager as f\n"
                              "getattr(f.fontManager, 'daa_test_marker', None)")
            assert r and r["ok"] and r["result"]["repr"] == "'shared'", p.stdout
            print("ok - a later kernel starts from the shared list (no rebuild)")

            r, p = s.run_json("open(%r, 'a')" % lists[0])
            assert r and not r["ok"] and r["error"]["type"] in (
                "PermissionError", "FileNotFoundError"), p.stdout
            r, p = s.run_json("import os, matplotlib\n"
                              "p = os.path.join(matplotlib.get_cachedir(), %r)\n"
                              "open(p, 'w').write('not a font list')" % os.path.basename(lists[0]))
            assert r and r["ok"], p.stdout
            with open(lists[0], "rb") as f:
                assert f.read() == before, "the shared list changed"
            print("ok - a kernel cannot reach the shared list; writing its own copy leaves it alone")
            assert s.alive()
    finally:
        rmtree(cache_home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
