#!/usr/bin/python3
"""Kernel runtime: SIGINT interrupts a running step (busy loop, sleep) with a
KeyboardInterrupt error and the kernel keeps serving; a SIGINT between steps
is dropped when the next reply (a ping) is written; user code replacing the
SIGINT handler does not disable it.  A profile request is interrupted the
same way — in the light profile and in daa_tools' summary — with a
KeyboardInterrupt error reply; the namespace survives, no temp file or
figure is left behind.  (test_interrupt_pending.py: the interrupt race.)
No timing decides pass/fail: the code writes a marker file when it is
running, and the test waits for that file (with a hang guard)."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402


def interrupt_when_started(k, marker, code=None, **req):
    """Send code (which touches marker, then runs forever) or another request,
    SIGINT it once it runs, return the reply."""
    k.next_id += 1
    k.send(dict(req, id=k.next_id) if req else
           {"op": "exec", "id": k.next_id, "code": code, "step": "loop"})
    deadline = time.monotonic() + 50   # hang guard only
    while not os.path.exists(marker):
        if time.monotonic() > deadline or k.proc.poll() is not None:
            raise RuntimeError("step never started; kernel log:\n" + k.log())
        time.sleep(0.02)
    os.kill(k.proc.pid, signal.SIGINT)
    os.unlink(marker)
    return k.read()


k = kt.Kernel()
proj = kt.make_project()
marker = os.path.join(proj, "outputs", "running")
try:
    kt.check(k.req("bind", project=proj)["ok"], "bind")
    kt.check(k.run("n = 0")["ok"], "set n")
    r = interrupt_when_started(k, marker, "open(%r, 'w').close()\nwhile True:\n    n += 1" % marker)
    e = r.get("error") or {}
    kt.check(not r["ok"] and e.get("type") == "KeyboardInterrupt", "busy loop interrupted", r)
    kt.check('File "<loop>", line' in e.get("traceback", "") and "daakernel" not in e.get("traceback", ""),
             "interrupt traceback in user code only", e)
    r = k.run("n > 0")
    kt.check(r["ok"] and r["result"]["repr"] == "True", "next exec works, namespace kept", r)

    r = interrupt_when_started(k, marker, "import time\nopen(%r, 'w').close()\ntime.sleep(3600)" % marker)
    kt.check((r.get("error") or {}).get("type") == "KeyboardInterrupt", "sleep interrupted", r)

    # an interrupt inside a package's __init__: the package is dropped but
    # the submodule it had imported stays; importing the package again must
    # bind that submodule to it (the runtime forgets such half imports)
    pkgs = os.path.join(proj, "outputs", "pkgs")
    first = os.path.join(pkgs, "first")
    os.makedirs(os.path.join(pkgs, "halfpkg"))
    with open(os.path.join(pkgs, "halfpkg", "sub.py"), "w") as f:
        f.write("VALUE = 7\n")
    with open(os.path.join(pkgs, "halfpkg", "__init__.py"), "w") as f:
        f.write("import os\nimport halfpkg.sub\nif os.path.exists(%r):\n"
                "    open(%r, 'w').close()\n    while True:\n        pass\n" % (first, marker))
    open(first, "w").close()
    r = interrupt_when_started(k, marker, "import sys\nsys.path.insert(0, %r)\nimport halfpkg" % pkgs)
    kt.check((r.get("error") or {}).get("type") == "KeyboardInterrupt", "import interrupted", r)
    os.unlink(first)
    r = k.run("import halfpkg\nhalfpkg.sub.VALUE")
    kt.check(r["ok"] and r["result"]["repr"] == "7", "the package imports whole after an interrupted import", r)

    os.kill(k.proc.pid, signal.SIGINT)   # between requests: pending until the ping's reply
    r = k.req("ping")
    kt.check(r["ok"], "SIGINT between steps: ping answers", r)
    r = k.run("1 + 1")
    kt.check(r["ok"] and r["result"]["repr"] == "2", "exec after idle SIGINT and a ping", r)

    # profile: the light profile hashes the cells (nunique), daa_tools' summary
    # measures them (memory_usage(deep=True) -> __sizeof__): each blocks there.
    r = k.run("import os, time\n"
              "class Slow:\n"
              "    def __init__(self, where): self.where = where\n"
              "    def __hash__(self):\n"
              "        if self.where == 'hash':\n"
              "            open(%r, 'w').close(); time.sleep(3600)\n"
              "        return 1\n"
              "    def __eq__(self, other): return self is other\n"
              "    def __sizeof__(self):\n"
              "        if self.where == 'size':\n"
              "            open(%r, 'w').close(); time.sleep(3600)\n"
              "        return 64\n"
              "slow_light = pd.DataFrame({'v': [Slow('hash'), Slow('hash')], 'n': [1, 2]})\n"
              "slow_summary = pd.DataFrame({'v': [Slow('size'), Slow('size')], 'n': [1, 2]})\n"
              "kept = 'yes'" % (marker, marker))
    kt.check(r["ok"], "slow frames defined", r)
    r = interrupt_when_started(k, marker, op="profile", dataset="slow_light")
    e = r.get("error") or {}
    kt.check(not r["ok"] and e.get("type") == "KeyboardInterrupt" and "profile" not in r
             and "interrupted" in e.get("message", "") and e.get("traceback") == "",
             "light profile interrupted: KeyboardInterrupt error reply", r)
    r = k.req("profile", dataset="slow_summary")
    kt.check(r["ok"] and r["profile"]["rows"] == 2, "the light profile never measures cells", r)
    r = interrupt_when_started(k, marker, op="profile", dataset="slow_summary", summary=True)
    e = r.get("error") or {}
    kt.check(not r["ok"] and e.get("type") == "KeyboardInterrupt" and "summary_error" not in r,
             "profile interrupted in daa_tools' summary: KeyboardInterrupt error reply", r)
    r = k.run("(kept, n > 0, type(slow_light).__name__, plt.get_fignums())")
    kt.check(r["ok"] and r["result"]["repr"] == "('yes', True, 'DataFrame', [])",
             "after interrupted profiles the namespace is intact, no figure left open", r)
    reports = os.path.join(proj, "outputs", "reports")
    left = [f for f in os.listdir(reports) if f.endswith(".tmp")] if os.path.isdir(reports) else []
    kt.check(not left, "no temp file left in outputs/reports", left)
    kt.check(k.run("ok_frame = pd.DataFrame({'a': [1, 2, 3]})")["ok"], "a plain frame")
    r = k.req("profile", dataset="ok_frame", summary=True)
    kt.check(r["ok"] and r["profile"]["rows"] == 3 and r.get("summary", {}).get("rows") == 3,
             "the next profile (with summary) works", r)

    kt.check(k.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)")["ok"], "user ignores SIGINT")
    r = interrupt_when_started(k, marker, "open(%r, 'w').close()\nwhile True:\n    pass" % marker)
    kt.check((r.get("error") or {}).get("type") == "KeyboardInterrupt", "handler reinstalled for each step", r)
    r = k.run("'alive'")
    kt.check(r["ok"] and r["result"]["repr"] == "'alive'", "still serving", r)
finally:
    k.close()
kt.finish([proj])
