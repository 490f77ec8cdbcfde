#!/usr/bin/python3
"""Kernel runtime: SIGINT interrupts a running step (busy loop, sleep) with a
KeyboardInterrupt error and the kernel keeps serving; a SIGINT between steps
is ignored; user code replacing the SIGINT handler does not disable it.
No timing decides pass/fail: the step writes a marker file when it is
running, and the test waits for that file (with a hang guard)."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402


def interrupt_when_started(k, marker, code):
    """Send code (which touches marker, then runs forever), SIGINT it once it
    runs, return the reply."""
    k.next_id += 1
    k.send({"op": "exec", "id": k.next_id, "code": code, "step": "loop"})
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

    os.kill(k.proc.pid, signal.SIGINT)   # between steps: must be ignored
    r = k.req("ping")
    kt.check(r["ok"], "SIGINT between steps ignored", r)
    r = k.run("1 + 1")
    kt.check(r["ok"] and r["result"]["repr"] == "2", "exec after idle SIGINT", r)

    kt.check(k.run("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)")["ok"], "user ignores SIGINT")
    r = interrupt_when_started(k, marker, "open(%r, 'w').close()\nwhile True:\n    pass" % marker)
    kt.check((r.get("error") or {}).get("type") == "KeyboardInterrupt", "handler reinstalled for each step", r)
    r = k.run("'alive'")
    kt.check(r["ok"] and r["result"]["repr"] == "'alive'", "still serving", r)
finally:
    k.close()
kt.finish([proj])
