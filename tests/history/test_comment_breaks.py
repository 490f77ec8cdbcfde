#!/usr/bin/python3
"""tests/history/test_comment_breaks.py — history scripts are exactly the
code that ran (issue 13 item 6).  A turn (scripted through the fake OpenAI
server) whose request and step purposes hold every line break Python's
tokenizer or str.splitlines() knows (\\r, \\n, \\r\\n, \\v, \\f, \\x1c-\\x1e,
\\x85, \\u2028, \\u2029), other control characters and an encoding
declaration ("coding: latin-1"), each followed by code (INJ_k = 1): the
saved history/NNN_*.py parses (as bytes, the way python3 reads a file) to
the same AST as the code that ran; no INJ_ name is in it, nor in the script
`daa export --script` writes, which still parses; a re-run of the step
succeeds.  The kernel is tests/lib/fake_kernel.py: what is tested is the
daemon's saving of the script, not Python."""
import ast
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from histlib import ROOT, run_with_fake  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "agent"))
from agentlib import call, final, reply  # noqa: E402

BREAKS = ["\r", "\n", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
          "\x1b", "\x7f", "\x08", "\x9b"]


def laced(head):
    """head, then each break followed by a line of code."""
    return head + "".join("%sINJ_%d = 1" % (b, i) for i, b in enumerate(BREAKS))


REQUEST = laced("coding: latin-1 -*- coding=ascii sum the units")
# plain Python: the fake kernel runs it (the test is about the saved script)
CODE1 = "units_total = int(sum([3, 5, 8]))\nprint('total', units_total)\n"
CODE2 = "half = units_total / 2\r\nprint('half', half)"   # \r\n line ends: as they ran


def injected(tree):
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id.startswith("INJ_")})


def body(s, fake):
    fake.set_script({"responses": [
        reply(call("run_python", "c1", code=CODE1, purpose=laced("coding: latin-1 total"))),
        reply(call("run_python", "c2", code=CODE2, purpose=laced("half\n"))),
        final("Done.")]})
    with s.d.client(timeout=120) as c:
        res = c.call("ask", {"project": "demo", "request": REQUEST})
    assert res["status"] == "done" and res["history"], res
    assert [st["ok"] for st in res["steps"]] == [True, True], res["steps"]
    path = os.path.join(s.path, res["history"])
    with open(path, "rb") as f:
        raw = f.read()
    tree = ast.parse(raw, path)   # bytes: an encoding declaration would apply
    ran = ast.parse(CODE1 + "\n" + CODE2)
    assert ast.dump(tree) == ast.dump(ran), (raw, ast.dump(tree))
    assert injected(tree) == [], raw
    text = raw.decode("utf-8")
    assert CODE2 in text, text
    text = text.replace(CODE2, "")   # the code's own \r\n stay as they ran
    assert "# request: coding\\x3a latin-1" in text, text[:300]
    for ch in BREAKS:
        for c in ch:
            assert c not in text or c == "\n", (repr(c), text[:400])
    assert text.count("\n") == len(text.splitlines()), "a break splitlines() honours is left"
    print("ok - the saved script parses to the AST of the code that ran; no break left the comments")

    h = s.daa("--json", "-p", "demo", "history")
    title = json.loads(h.stdout)["steps"][0]["title"]
    assert title.startswith("coding\\x3a latin-1") and "\\r" in title, title

    dest = os.path.join(s.d.dir, "export.py")
    s.daa("-p", "demo", "export", "--script", dest)
    with open(dest, "rb") as f:
        exported = f.read()
    etree = ast.parse(exported, dest)
    assert injected(etree) == [], exported[-800:]
    ran_dump = [ast.dump(n) for n in ran.body]
    got = [ast.dump(n) for n in etree.body]
    assert any(got[i:i + len(ran_dump)] == ran_dump for i in range(len(got))), "steps not in export"
    print("ok - export --script parses, holds the steps' code and nothing injected")

    p = s.daa("--json", "-p", "demo", "rerun", "1", check=False)
    r = json.loads(p.stdout)
    assert r["ok"] and "half" in r["ran"][0]["stdout"], r
    print("ok - the step re-runs")


if __name__ == "__main__":
    sys.exit(run_with_fake("daa-comment-breaks.", body, fake_kernel={}))
