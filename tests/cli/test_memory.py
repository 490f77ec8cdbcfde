#!/usr/bin/python3
"""tests/cli/test_memory.py — `daa log` and `daa summary` against a private
daad with the builtin analyst: an empty project says so, a turn shows up as
model calls (one line each, full entries with --json) and as a recap, and
an edited, re-run step shows its new output under "The steps now"; bad
-n values are usage errors; methods reject bad params."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from daad import Daad, RpcError  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DAA_BUILD", os.path.join(ROOT, "build"))
DAA = os.path.join(BUILD, "bin", "daa")


def daa(d, *args):
    p = subprocess.run([DAA, "--no-start"] + list(args), env=d.env, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def main():
    if not os.path.exists(DAA):
        print("daa not built")
        return 77
    with Daad() as d:
        rc, out, _ = daa(d, "project", "new", "m")
        assert rc == 0, out
        rc, out, _ = daa(d, "-p", "m", "log")
        assert rc == 0 and "no model calls yet" in out, out
        rc, out, _ = daa(d, "-p", "m", "summary")
        assert rc == 0 and "no turn yet" in out, out
        print("ok - an empty project says it has no log and no recap")

        rc, out, err = daa(d, "-p", "m", "add", os.path.join(ROOT, "examples", "sales.csv"))
        assert rc == 0, out + err
        rc, out, err = daa(d, "-p", "m", "ask", "total revenue")
        assert rc == 0 and "926,287.51" in out, out + err
        rc, out, _ = daa(d, "-p", "m", "log")
        lines = [l for l in out.splitlines() if l.strip()]
        assert len(lines) == 2, out  # run_python, then final_answer
        assert "turn 1" in lines[0] and "builtin" in lines[0] and "run_python" in lines[0], out
        assert "final_answer" in lines[1], out
        print("ok - daa log: one line per model call, oldest first")

        rc, out, _ = daa(d, "--json", "-p", "m", "log", "-n", "1")
        res = json.loads(out)
        assert len(res["entries"]) == 1 and res["entries"][0]["response"]["tool"] == "final_answer", res
        assert res["entries"][0]["request"]["state"]["request"] == "total revenue", res
        print("ok - daa log --json -n 1: the newest whole entry")

        rc, out, _ = daa(d, "-p", "m", "summary")
        assert rc == 0 and "## Turn 1" in out and "total revenue" in out and "926,287.51" in out, out
        print("ok - daa summary prints the recap")

        # the recap is written per turn; an edit and a re-run made later
        # must show in `daa summary` too (issue 15.10)
        d.call("history.edit", {"project": "m", "step": 1,
                                "text": "print('edited total', 12345)\n"})
        rc, out, _ = daa(d, "-p", "m", "summary")
        assert rc == 0 and "## The steps now" in out and "001_" in out and "edited" in out, out
        rc, out, err = daa(d, "-p", "m", "rerun", "1")
        assert rc == 0, out + err
        rc, out, _ = daa(d, "-p", "m", "summary")
        now = out.split("## The steps now", 1)[1]
        assert "ok — edited total 12345" in now and "926,287.51" not in now, out
        res = json.loads(daa(d, "--json", "-p", "m", "summary")[1])
        assert "edited total 12345" in res["now"] and "## Turn 1" in res["text"], res
        print("ok - daa summary shows the steps as they are after an edit and a re-run")

        for bad in ("x", "-1", "501"):
            rc, out, err = daa(d, "-p", "m", "log", "-n", bad)
            assert rc == 2 and "-n" in err, (bad, rc, err)
        try:
            d.call("log.tail", {"project": "m", "n": "ten"})
            raise AssertionError("a string n was accepted")
        except RpcError as e:
            assert e.code == -32602, e
        try:
            d.call("summary.get", {"project": "nope"})
            raise AssertionError("a missing project was accepted")
        except RpcError as e:
            assert e.code == -32004, e
        print("ok - bad -n values, wrong types and unknown projects are refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
