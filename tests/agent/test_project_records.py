#!/usr/bin/python3
"""tests/agent/test_project_records.py — the agent keeps one record per
project (its slot in the project handle): two projects each hold a turn
waiting for the user's answer (ask_user, interactive); the pending
question, `cancel` and `answer` find the turn of the project they name and
no other; the cancelled project can then be deleted (its close callback
finds a record with no turn), and the other project's turn takes its
answer and finishes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import call, check, final, reply, run_openai_test  # noqa: E402

SCRIPT = [reply(call("ask_user", "a1", question="Which column in p?")),
          reply(call("ask_user", "a2", question="Which column in q?")),
          final("q: the answer was used.")]


def main(d, fake):
    del fake
    c = d.client(timeout=60)
    c.call("project.create", name="p")
    c.call("project.create", name="q")
    mid_p = c.send("ask", project="p", request="sum something", interactive=True)
    c.wait_event("question")
    start = len(c.events)
    mid_q = c.send("ask", project="q", request="sum something else", interactive=True)
    c.wait_event("question", start=start)
    qs = {n: c.call("turns.list", project=n).get("question") for n in ("p", "q")}
    check(qs["p"] and qs["p"]["text"] == "Which column in p?" and qs["q"] and
          qs["q"]["text"] == "Which column in q?", "pending questions: %r" % qs)
    c.call("cancel", project="p")
    r = c.wait(mid_p)
    check(r["status"] == "cancelled", "the cancelled project's turn: %r" % r)
    c.call("project.delete", project="p")
    print("ok - each project's question is its own; cancel ended only p's turn; p deleted")
    c.call("answer", project="q", text="revenue")
    r = c.wait(mid_q)
    check(r["status"] == "done" and r["answer"] == "q: the answer was used.",
          "the other project's turn: %r" % r)
    print("ok - the turn waiting in the other project went on and finished")


if __name__ == "__main__":
    run_openai_test(main, SCRIPT, fake_kernel={})
