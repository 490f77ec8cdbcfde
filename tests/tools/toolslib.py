"""tests/tools/toolslib.py — what the daa_tools tests share: sandbox/python
on the path, headless matplotlib, a skip (exit 77) when Debian's scientific
Python is missing, one scratch folder removed at exit, the check that a
report is a self-contained HTML page, and a runner that times each test."""
import atexit
import html.parser
import os
import shutil
import sys
import tempfile
import time

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "sandbox", "python"))
os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import numpy as np  # noqa: F401  (re-exported)
    import pandas as pd  # noqa: F401
    import sklearn.datasets  # noqa: F401
except ImportError as e:
    print("skip: %s (run with /usr/bin/python3)" % e)
    sys.exit(77)

import daa_tools  # noqa: E402,F401

TMP = tempfile.mkdtemp(prefix="daa-tools-")
os.environ["MPLCONFIGDIR"] = os.path.join(TMP, "mpl")
atexit.register(shutil.rmtree, TMP, True)


class Links(html.parser.HTMLParser):
    """Collects every src/href and counts start/end tags."""

    def __init__(self):
        super().__init__()
        self.refs, self.imgs, self.open = [], 0, []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href"):
                self.refs.append(v or "")
        self.imgs += tag == "img"
        if tag not in ("meta", "img", "br", "link", "input", "hr"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, "unbalanced </%s> after %s" % (tag, self.open[-3:])
        self.open.pop()


def check_html(path):
    """The report parses, is balanced and references nothing outside itself."""
    p = Links()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.startswith("<!DOCTYPE html>"), text[:50]
    p.feed(text)
    p.close()
    assert not p.open, "unclosed tags: %s" % p.open
    bad = [r for r in p.refs if not r.startswith("data:image/png;base64,")]
    assert not bad, "external references: %s" % bad[:3]
    return p


def run_tests(*tests):
    """Run each test function, printing how long it took."""
    for t in tests:
        t0 = time.monotonic()
        t()
        print("#   %s: %.1f s" % (t.__name__, time.monotonic() - t0))
