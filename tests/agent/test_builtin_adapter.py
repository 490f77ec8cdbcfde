#!/usr/bin/python3
"""tests/agent/test_builtin_adapter.py — daemon/llm/llm_builtin.c against a
misbehaving analyst process (tests/agent/fake_analyst.py via
llm.analyst_cmd): a hang hits the timeout, non-JSON output, a crash (its
stderr in the message), 5 MB of output (over the cap) — each fails the turn
with a clear message while the daemon stays up; the analyst runs with a
clean environment (no OPENAI_API_KEY); a normal answer still works after."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import API_KEY, PYTHON, check, project_with_sales, run_test  # noqa: E402

FAKE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_analyst.py")


def main(d):
    c = d.client(timeout=120)
    project_with_sales(c)
    expect = {"hang": "did not answer within", "garbage": "invalid output",
              "crash": "analyst exploded", "huge": "more than 4 MiB"}
    for word, msg in expect.items():
        r = c.call("ask", timeout=60, project="p", request="please " + word)
        check(r["status"] == "failed" and msg in r["answer"], "%s: %r" % (word, r["answer"]))
    r = c.call("ask", timeout=60, project="p", request="show env")
    env = json.loads(r["answer"])
    check(API_KEY not in json.dumps(env) and "OPENAI_API_KEY" not in env and "HOME" in env,
          "analyst environment %r" % env)
    r = c.call("ask", timeout=60, project="p", request="all good")
    check(r["status"] == "done" and r["answer"] == "fine: all good", "after the failures: %r" % r)
    check(r["backend"] == "builtin", "backend %r" % r["backend"])


if __name__ == "__main__":
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the analyst adapter; no step of its checks runs in a kernel
    run_test(main, {"llm": {"backend": "builtin", "analyst_cmd": "%s %s" % (PYTHON, FAKE),
                            "total_timeout_ms": 2000}}, {"OPENAI_API_KEY": API_KEY},
             fake_kernel={})
    print("ok")
