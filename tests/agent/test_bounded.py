#!/usr/bin/python3
"""tests/agent/test_bounded.py — the prompt stays bounded however long the
project's history grows: a scripted model runs 100 turns (code + a longish
answer each); the first request of turn 100 is at most 1.5x the size of
turn 5's (sizes measured on the recorded requests), while the digest still
names recent turns.  Also: the turns survive a daemon restart (numbering
and digest come back from disk)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import call, check, final, project_with_sales, reply, run_openai_test  # noqa: E402

N = 100


def script():
    out = []
    for i in range(1, N + 1):
        code = "x%d = dfs['sales']['revenue'].nlargest(%d).sum()\nprint('step %d', x%d)\n" % (i, i % 7 + 1, i, i)
        out.append(reply(call("run_python", "r%d" % i, code=code, purpose="step %d" % i)))
        out.append(final(("Turn %d: the sum of the largest revenues is printed above. " % i) * 4))
    return out


def size(req):
    return len(json.dumps(req["body"]["messages"]))


def main(d, fake):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    for i in range(1, N + 1):
        r = c.call("ask", timeout=60, project="p", request="request number %d: sum the top revenues" % i)
        check(r["status"] == "done" and r["turn"] == i, "turn %d: %r %s" % (i, r["status"], r.get("answer")))
    reqs = fake.requests()
    check(len(reqs) == 2 * N, "%d requests" % len(reqs))
    s5, s100 = size(reqs[2 * 4]), size(reqs[2 * (N - 1)])
    print("first request of turn 5: %d bytes, of turn %d: %d bytes" % (s5, N, s100))
    check(s100 <= 1.5 * s5, "the prompt grew from %d to %d bytes" % (s5, s100))
    user = reqs[2 * (N - 1)]["body"]["messages"][1]["content"]
    check("request number 99" in user and "request number 98" in user, "the digest lacks recent turns")
    check("request number 3:" not in user, "old turns were not trimmed")
    check(len(os.listdir(os.path.join(path, "history"))) == N, "history scripts")
    d.restart()
    fake.set_script({"responses": [final("after the restart")]})
    c = d.client(timeout=120)
    r = c.call("ask", timeout=60, project="p", request="one more")
    check(r["status"] == "done" and r["turn"] == N + 1, "after a restart: turn %r" % r["turn"])
    user = fake.requests()[0]["body"]["messages"][1]["content"]
    check("request number %d" % N in user, "the digest did not survive the restart")


# The kernels are tests/lib/fake_kernel.py (ready in ms): this test is about
# the prompt, not pandas, so each step's reply is scripted (a realistic
# "step N <sum>" line); the saved scripts and turns are the daemon's own.
FAKE_KERNEL = {"exec": [{"match": r"^x(\d+) = dfs\['sales'\]\['revenue'\]\.nlargest",
                         "stdout": "step \\1 104523.87\n"}]}


if __name__ == "__main__":
    run_openai_test(main, script(), fake_kernel=FAKE_KERNEL)
    print("ok")
