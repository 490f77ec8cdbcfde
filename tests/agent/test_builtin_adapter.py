#!/usr/bin/python3
"""tests/agent/test_builtin_adapter.py — daemon/llm/llm_builtin.c against a
misbehaving analyst process (tests/agent/fake_analyst.py via
llm.analyst_cmd), once with a process per call and once as a server
(llm.analyst_serve: one process, a state and an answer per line, as the
bundled analyst runs): a hang hits the timeout, non-JSON output, a crash
(its stderr in the message), 5 MB of output (over the cap) — each fails the
turn with a clear message while the daemon stays up; the analyst runs with
a clean environment (no OPENAI_API_KEY); a normal answer still works after.
As a server also: two answers come from one process; an answer of two
lines fails; a failed call's process is replaced; a server that writes
while idle, or answers before it has read the whole state, is let go and
the next call gets a fresh one."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import API_KEY, PYTHON, check, project_with_sales, run_test  # noqa: E402

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_analyst.py")


def ask(c, request):
    return c.call("ask", timeout=60, project="p", request=request)


def misbehaviours(d):
    c = d.client(timeout=120)
    project_with_sales(c)
    expect = {"hang": "did not answer within", "garbage": "invalid output",
              "crash": "analyst exploded", "huge": "more than 4 MiB"}
    for word, msg in expect.items():
        r = ask(c, "please " + word)
        check(r["status"] == "failed" and msg in r["answer"], "%s: %r" % (word, r["answer"]))
    r = ask(c, "show env")
    env = json.loads(r["answer"])
    check(API_KEY not in json.dumps(env) and "OPENAI_API_KEY" not in env and "HOME" in env,
          "analyst environment %r" % env)
    r = ask(c, "all good")
    check(r["status"] == "done" and r["answer"] == "fine: all good", "after the failures: %r" % r)
    check(r["backend"] == "builtin", "backend %r" % r["backend"])
    return c


def server(d):
    c = misbehaviours(d)
    first, second = ask(c, "pid"), ask(c, "pid")
    check(first["status"] == "done" and first["answer"] == second["answer"],
          "two calls, one server: %r %r" % (first["answer"], second["answer"]))
    r = ask(c, "twolines")
    check(r["status"] == "failed" and "more than one line" in r["answer"], "two lines: %r" % r)
    third = ask(c, "pid")
    check(third["status"] == "done" and third["answer"] != first["answer"],
          "after a failed call, a fresh server: %r %r" % (first["answer"], third["answer"]))
    r = ask(c, "stray")
    check(r["status"] == "done" and r["answer"] == "stray answered", "stray: %r" % r)
    deadline = time.monotonic() + 30
    while "wrote while no call was waiting" not in d.log_text():
        check(time.monotonic() < deadline, "no log line for the server's stray output")
        time.sleep(0.05)
    fourth = ask(c, "pid")
    check(fourth["status"] == "done" and fourth["answer"] not in (third["answer"], first["answer"]),
          "a server that wrote while idle is let go: %r" % fourth["answer"])
    # an answer before the whole state was written (200 kB: more than a
    # pipe holds): the rest would be read as the next call's state
    r = ask(c, "early " + "x" * 200000)
    check(r["status"] == "done" and r["answer"].startswith("early "), "early: %r" % r)
    fifth = ask(c, "pid")
    check(fifth["status"] == "done" and fifth["answer"] != r["answer"].split()[1],
          "a server that answered before reading the whole state is let go: %r" % fifth)
    print("ok - as a server: one process for many calls, replaced after a failure, "
          "output while idle or an answer before the whole state")


def config(serve):
    return {"llm": {"backend": "builtin", "analyst_cmd": "%s %s" % (PYTHON, FAKE),
                    "analyst_serve": serve, "total_timeout_ms": 2000}}


if __name__ == "__main__":
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the analyst adapter; no step of its checks runs in a kernel
    run_test(misbehaviours, config(False), {"OPENAI_API_KEY": API_KEY}, fake_kernel={})
    print("ok - a process per call")
    run_test(server, config(True), {"OPENAI_API_KEY": API_KEY}, fake_kernel={})
    print("ok")
