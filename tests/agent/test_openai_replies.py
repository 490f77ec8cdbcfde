#!/usr/bin/python3
"""tests/agent/test_openai_replies.py — odd model replies, handled without
harm: a text-only reply with a fenced python block (models without tool
calling) runs the code and a later plain-text reply is the answer; tool
arguments that are not JSON and an unknown tool go back to the model as
errors it can correct; a model that never answers stops at the cap of 8
model calls; an empty reply fails the turn honestly.  The kernel is
tests/lib/fake_kernel.py: the fenced step is plain Python (what is tested
is that it runs and its output reaches the model)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import call, check, final, project_with_sales, reply, run_openai_test  # noqa: E402


def ask(c, fake, script, request):
    fake.set_script({"responses": script})
    return c.call("ask", timeout=90, project="p", request=request)


def text_code(c, fake, path):
    r = ask(c, fake, [{"reply": {"content": "Let me count.\n```python\nprint(len(range(2000)) * 3)\n```\n"}},
                      {"reply": {"content": "There are 6000 thirds."}}], "count thrice")
    check(r["status"] == "done" and r["answer"] == "There are 6000 thirds.", "text code: %r" % r)
    check(len(r["steps"]) == 1 and r["steps"][0]["ok"] and "6000" in r["steps"][0]["stdout"], "steps %r" % r["steps"])
    m = fake.requests()[1]["body"]["messages"]
    check(m[-2]["role"] == "assistant" and "tool_calls" not in m[-2], "assistant text message %r" % m[-2])
    check(m[-1]["role"] == "user" and "6000" in m[-1]["content"], "result as a user message %r" % m[-1])
    check(r["history"] and "* 3" in open(os.path.join(path, r["history"])).read(), "history %r" % r["history"])


def bad_calls(c, fake):
    bad_args = reply({"id": "b1", "name": "run_python", "arguments": "{not json"})
    unknown = reply(call("launch_rockets", "b2", target="moon"))
    r = ask(c, fake, [bad_args, unknown, final("Sorry, fixed.")], "bad calls")
    check(r["status"] == "done" and r["answer"] == "Sorry, fixed.", "bad calls: %r" % r)
    reqs = fake.requests()
    t1 = reqs[1]["body"]["messages"][-1]
    check(t1["role"] == "tool" and t1["tool_call_id"] == "b1" and t1["content"], "bad-args result %r" % t1)
    t2 = reqs[2]["body"]["messages"][-1]
    names = [t["function"]["name"] for t in reqs[2]["body"]["tools"]]
    check(t2["role"] == "tool" and t2["tool_call_id"] == "b2" and
          t2["content"].startswith('there is no tool named "launch_rockets": use ') and
          all(n in t2["content"] for n in names), "unknown-tool result %r (tools %r)" % (t2, names))


def caps(c, fake):
    chatter = [reply(call("remember_convention", "k%d" % i, key="k%d" % i, value=i, why="x")) for i in range(12)]
    r = ask(c, fake, chatter, "never ends")
    check(r["status"] == "failed" and "8 model calls" in r["answer"], "cap: %r" % r["answer"])
    check(len(fake.requests()) == 8, "%d model calls" % len(fake.requests()))
    r = ask(c, fake, [{"reply": {"content": "   "}}], "empty")
    check(r["status"] == "failed" and ("empty" in r["answer"] or "neither text nor a tool call" in r["answer"]),
          "empty reply: %r" % r["answer"])


def main(d, fake):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    text_code(c, fake, path)
    bad_calls(c, fake)
    caps(c, fake)
    c.call("ping")


if __name__ == "__main__":
    run_openai_test(main, [], fake_kernel={})
    print("ok")
