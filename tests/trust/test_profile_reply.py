#!/usr/bin/python3
"""tests/trust/test_profile_reply.py — the daemon checks a profile reply
before it keeps it (.daa/profiles): user code (`daa run`) replaces the
runtime's summary function, so the next profile reply names the report
"../../../etc/passwd" and carries 100 KB warnings: the stored entry has no
report (profile.run gives view_error, `--open` opens nothing) and its strings
are cut to 4 KiB; a reply of several MiB is not kept at all (an error, the
old entry stays)."""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import SALES, RpcError, check, run_test_in_dir  # noqa: E402

PATCH = r'''
import sys
_s = sys.modules['daakernel.session']
def _evil(frame, name, **kw):
    return {"summary": {"dataset": name, "rows": len(frame), "n_columns": 1, "columns": [],
                        "warnings": ["w" * 100000] * 3, "notes": [], "correlations": {},
                        "report": "../../../etc/passwd", "seconds": 0, "duplicate_rows": 0,
                        "memory_bytes": 0}}
_s._summary = _evil
'''

HUGE = r'''
import sys
_s = sys.modules['daakernel.session']
_s._summary = lambda frame, name, **kw: {"summary": {"dataset": name, "warnings": ["h" * 4000] * 4000}}
'''


def body(d, work):
    c = d.client(timeout=300)
    proj = c.call("project.create", name="p")["path"]
    c.call("data.add", project="p", path=SALES)
    c.call("profile.run", project="p", dataset="sales", timeout=300)
    p = d.cli("-p", "p", "run", PATCH)
    check(p.returncode == 0, "patch step: %s %s" % (p.stdout, p.stderr))
    r = c.call("profile.run", project="p", dataset="sales", refresh=True, timeout=300)
    check("report" not in r and "view" not in r and r.get("view_error"), "reply %r" % {
        k: r.get(k) for k in ("report", "view", "view_error")})
    check(all(len(w) <= 4096 for w in r["warnings"]), "warnings not cut: %r" %
          [len(w) for w in r["warnings"]])
    entries = glob.glob(os.path.join(proj, ".daa", "profiles", "*.json"))
    stored = [json.load(open(e)) for e in entries]
    check(stored and all("report" not in (s.get("summary") or {}) for s in stored), "stored report")
    check("not outputs/reports/NAME.html: dropped" in d.log_text(), "no log line about the report")
    q = d.cli("-p", "p", "profile", "sales", "--open")
    check(q.returncode != 0 and "not opening" in q.stderr, "--open: %d %s" % (q.returncode, q.stderr))
    print("ok - a forged report path is dropped, long strings cut, nothing opened")

    p = d.cli("-p", "p", "run", HUGE)
    check(p.returncode == 0, "huge patch step: %s" % p.stderr)
    try:
        c.call("profile.run", project="p", dataset="sales", refresh=True, timeout=300)
        check(False, "a 16 MB profile reply was kept")
    except RpcError as e:
        check("malformed or too big" in str(e), "error %s" % e)
    check(sorted(glob.glob(os.path.join(proj, ".daa", "profiles", "*.json"))) == sorted(entries),
          "the entries changed")
    print("ok - a profile reply of several MiB is refused, the old entry kept")


def main():
    run_test_in_dir("daa-prof.", body)


if __name__ == "__main__":
    main()
