#!/usr/bin/python3
"""tests/kernel/test_refresh.py — a kernel already bound to a project learns
about a dataset added later (`dfs[...]`, and `df` when it becomes the only
one) and about conventions set later, without a restart; variables survive."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from daad import Daad  # noqa: E402

BUILD = os.environ.get("DAA_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


def run(d, code):
    r = d.call("run", {"project": "p", "code": code, "scratch": True})
    assert r["ok"], r
    return r["result"]["repr"] if r.get("result") else r["stdout"]


def main():
    if not os.path.exists(os.path.join(BUILD, "bin", "daad")):
        print("daad not built")
        sys.exit(77)
    src = tempfile.mkdtemp(prefix="daa-refresh.")
    try:
        check(src)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    return 0


def check(src):
    """The checks, with the two datasets written into src."""
    a, b = os.path.join(src, "a.csv"), os.path.join(src, "b.csv")
    with open(a, "w") as f:
        f.write("x,when\n1,2024-01-02\n2,2024-02-03\n")
    with open(b, "w") as f:
        f.write("y\n10\n20\n30\n")
    with Daad() as d:
        d.call("project.create", {"name": "p"})
        d.call("data.add", {"project": "p", "path": a})
        assert run(d, "keep = 41; len(df)") == "2"
        d.call("data.add", {"project": "p", "path": b})
        assert run(d, "int(dfs['b']['y'].sum())") == "60", "a dataset added later loads"
        assert run(d, "sorted(dfs)") == "['a', 'b']"
        print("ok - a dataset added after the kernel was bound is in dfs")
        assert run(d, "str(dfs['a']['when'].dtype)") == "'object'"
        d.call("conventions.set", {"project": "p", "key": "date_column", "value": "when"})
        assert run(d, "str(dfs['a']['when'].dtype)").startswith("'datetime64"), \
            "a convention set later is applied at the next load"
        print("ok - a convention set later applies without a restart")
        assert run(d, "keep + 1") == "42"
        print("ok - variables survive the refresh")


if __name__ == "__main__":
    sys.exit(main())
