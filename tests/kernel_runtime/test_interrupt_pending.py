#!/usr/bin/python3
"""Kernel runtime: the interrupt race.  A SIGINT that reaches the kernel
while it reads a request (before the handler is armed) interrupts that
request as soon as its work starts: an exec reports KeyboardInterrupt
without running (its variables untouched) and a profile an error reply;
the request after runs normally.  A SIGINT sent with the next request
while the kernel is still coming back from writing a reply interrupts
that next request the same way.  A SIGINT that lands after a step ended,
before its reply was ready, belongs to that finished step and is not
carried to the next one; a pending SIGINT is forgotten when any reply
(here a ping) is ready.
Deterministic: the test sends half of a request's frame, waits until the
kernel has read those bytes (SIOCOUTQ on our socket is 0), sends SIGINT,
then the rest; it drives the "after the step" case with an exception
whose __str__ waits for the test's go-file, and the "after a reply" case
with a thread holding the GIL 50 ms at a time.  Timeouts are hang guards only."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402


def wait_file(k, path):
    """Wait until path exists (hang guard only)."""
    deadline = time.monotonic() + 50
    while not os.path.exists(path):
        if time.monotonic() > deadline or k.proc.poll() is not None:
            raise RuntimeError("%s never appeared; kernel log:\n%s" % (path, k.log()))
        time.sleep(0.01)


def split_req(k, op, **kw):
    """A request whose SIGINT arrives while the kernel is reading it."""
    k.next_id += 1
    return k.send_split(dict(kw, op=op, id=k.next_id),
                        lambda: os.kill(k.proc.pid, signal.SIGINT))


k = kt.Kernel()
proj = kt.make_project({"sales.csv": "region,revenue\nnorth,10\nsouth,20\nnorth,5\n"})
try:
    kt.check(k.req("bind", project=proj)["ok"], "bind")
    kt.check(k.run("x = 41")["ok"], "set x")

    r = split_req(k, "exec", code="x += 1\nx", step="early")
    e = r.get("error") or {}
    kt.check(not r["ok"] and e.get("type") == "KeyboardInterrupt", "SIGINT while the exec was read: interrupted", r)
    kt.check("before it started" in e.get("message", "") and "daakernel" not in e.get("traceback", ""),
             "says it never started; no runtime frames", e)
    r = k.run("x")
    kt.check(r["ok"] and r["result"]["repr"] == "41", "the interrupted step did not run; next exec runs", r)

    r = split_req(k, "profile", dataset="sales")
    e = r.get("error") or {}
    kt.check(not r["ok"] and e.get("type") == "KeyboardInterrupt" and "profile" not in r,
             "SIGINT while the profile was read: interrupted", r)
    r = k.req("profile", dataset="sales")
    kt.check(r["ok"] and r["profile"]["rows"] == 3, "next profile runs", r)

    r = split_req(k, "ping")
    kt.check(r["ok"], "SIGINT during a ping: the ping answers", r)
    r = k.run("x + 1")
    kt.check(r["ok"] and r["result"]["repr"] == "42", "the ping's reply cleared the pending SIGINT", r)

    r = split_req(k, "vars")
    kt.check(r["ok"], "SIGINT during vars: vars answers", r)
    r = k.req("profile", dataset="sales")
    kt.check(r["ok"], "the vars reply cleared the pending SIGINT (profile runs)", r)

    # A SIGINT after the step's code ended, while its error is formatted.
    marker, go = os.path.join(proj, "outputs", "formatting"), os.path.join(proj, "outputs", "go")
    code = ("import os, time\n"
            "class Slow(Exception):\n"
            "    def __str__(self):\n"
            "        if not os.path.exists(%r):\n"
            "            open(%r, 'w').close()\n"
            "            for _ in range(5000):\n"
            "                if os.path.exists(%r): break\n"
            "                time.sleep(0.01)\n"
            "        return 'slow message'\n"
            "raise Slow()\n" % (go, marker, go))
    k.next_id += 1
    k.send({"op": "exec", "id": k.next_id, "code": code, "step": "late"})
    wait_file(k, marker)
    os.kill(k.proc.pid, signal.SIGINT)
    open(go, "w").close()
    r = k.read()
    e = r.get("error") or {}
    kt.check(not r["ok"] and e.get("type") == "Slow" and e.get("message") == "slow message",
             "SIGINT after the step ended does not change its reply", r)
    r = k.run("x * 2")
    kt.check(r["ok"] and r["result"]["repr"] == "82", "nor interrupt the next step", r)

    # A SIGINT for the next request that lands while the kernel is still
    # coming back from writing a reply (the daemon read it, sent the next
    # request and a SIGINT for it at once: a background profile giving way
    # to a step).  A thread that holds the GIL for 50 ms at a time keeps
    # the kernel's main thread there, after its write, long enough (the
    # runtime that cleared the pending SIGINT after the write lost 3 of 3).
    kt.check(k.run("import sys, threading\n"
                   "sys.setswitchinterval(0.05)\n"
                   "_spin_stop = []\n"
                   "def _spin():\n"
                   "    while not _spin_stop:\n"
                   "        pass\n"
                   "threading.Thread(target=_spin, daemon=True).start()")["ok"], "a GIL-holding thread")
    lost = 0
    for i in range(3):
        k.run("%d" % i)
        os.kill(k.proc.pid, signal.SIGINT)   # before the request: it cannot have started
        k.next_id += 1
        k.send({"op": "exec", "id": k.next_id, "code": "x += 1\nx", "step": "next-%d" % i})
        r = k.read()
        e = r.get("error") or {}
        lost += r["ok"]
        kt.check(not r["ok"] and e.get("type") == "KeyboardInterrupt" and "before it started" in e.get("message", ""),
                 "SIGINT sent with the request after a reply (%d): interrupts that request" % i, r)
    r = k.run("_spin_stop.append(1)\nsys.setswitchinterval(0.005)\nx")
    kt.check(r["ok"] and r["result"]["repr"] == "41" and not lost, "none of them ran", r)
finally:
    k.close()
kt.finish([proj])
