#!/usr/bin/python3
"""tests/agent/test_openai_steps.py — agent turns against the fake OpenAI
server (tests/llm/fake_openai.py), checking what the daemon sends as well as
what it answers: a plot in one step (history, log, summary written); failing
code then fixed (the traceback goes back through prompts/fix_error.txt);
three failures in a row and the same error twice end the turn honestly; the
API key never reaches a file, a log or a reply.  The kernel is
tests/lib/fake_kernel.py answering the two pandas steps as the runtime
would (a figure and the total; a KeyError) from KERNEL, and profiling
sales with its column names: what is tested is the agent loop, not
pandas."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import (API_KEY, assert_no_key, call, check, final, project_with_sales,  # noqa: E402
                      reply, run_openai_test)

PLOT = ("import matplotlib.pyplot as plt\n"
        "s = dfs['sales'].copy()\n"
        "s['order_date'] = pd.to_datetime(s['order_date'])\n"
        "m = s.set_index('order_date')['revenue'].resample('MS').sum()\n"
        "plt.figure(); m.plot(title='Revenue per month'); plt.ylabel('revenue')\n"
        "print(round(m.sum(), 2))\n")

COLUMNS = ["order_id", "order_date", "region", "product", "category", "units", "unit_price",
           "revenue", "customer_id", "discount"]
KERNEL = {
    "profile": [{"code": "sales", "reply": {"profile": {
        "name": "sales", "rows": 2000, "columns": [{"name": n} for n in COLUMNS]}}}],
    "exec": [{"code": PLOT, "figures": 1, "stdout": "1234567.89\n"},
             {"code": "dfs['sales']['no_such_col'].sum()",
              "error": {"type": "KeyError", "message": "'no_such_col'",
                        "traceback": "Traceback (most recent call last):\nKeyError: 'no_such_col'\n"}},
             {"code": "print(dfs['sales']['revenue'].sum())", "stdout": "1234567.89\n"}]}

SCRIPT = [
    # turn 1: a plot in one step
    reply(call("run_python", "c1", code=PLOT, purpose="plot revenue per month")),
    final("Revenue per month is plotted in the figure."),
    # turn 2: a failing step, then the fix
    reply(call("run_python", "c2", code="dfs['sales']['no_such_col'].sum()", purpose="total")),
    reply(call("run_python", "c3", code="print(dfs['sales']['revenue'].sum())", purpose="total")),
    final("The total revenue is shown above."),
    # turn 3: three different failures in a row
    reply(call("run_python", "c4", code="1/0", purpose="a")),
    reply(call("run_python", "c5", code="undefined_name", purpose="b")),
    reply(call("run_python", "c6", code="int('x')", purpose="c")),
    # turn 4: the same error twice
    reply(call("run_python", "c7", code="raise ValueError('bad input')", purpose="d")),
    reply(call("run_python", "c8", code="raise ValueError('bad input')", purpose="d")),
    final("never reached: the turn must stop before"),
]


def msgs_of(req):
    return req["body"]["messages"]


def plot_turn(d, fake, c, path):
    r = c.call("ask", timeout=90, project="p", request="plot revenue over time")
    check(r["status"] == "done", "turn 1: %r %s" % (r["status"], r.get("answer")))
    check(r["answer"] == "Revenue per month is plotted in the figure.", "answer %r" % r["answer"])
    check(r["backend"] == "openai" and r["model"] == "fake-model", "backend %r %r" % (r["backend"], r["model"]))
    check(len(r["figures"]) == 1 and os.path.isfile(os.path.join(path, r["figures"][0])), "figures %r" % r["figures"])
    check(r["history"] and open(os.path.join(path, r["history"])).read().count("resample('MS')") == 1,
          "history %r" % r["history"])
    reqs = fake.requests()
    check(len(reqs) == 2, "%d requests for turn 1" % len(reqs))
    first = reqs[0]["body"]
    names = sorted(t["function"]["name"] for t in first.get("tools", []))
    check(names == ["ask_user", "final_answer", "remember_convention", "run_python"], "tools %r" % names)
    m = msgs_of(reqs[0])
    system = open(os.path.join(os.environ.get("DAA_ROOT", "."), "prompts", "system.txt")).read()
    check(m[0]["role"] == "system" and system.split("{{")[0][:60] in m[0]["content"], "system prompt not from prompts/")
    # the tools' table (daemon/agent/agent_tools.c) gives both the schema and the prompt's lines
    check(all(("\n- %s{" % n) in m[0]["content"] for n in names) and "{{tools}}" not in m[0]["content"],
          "a tool sent without its line in the system prompt")
    check(m[1]["role"] == "user" and "plot revenue over time" in m[1]["content"] and
          "order_date" in m[1]["content"], "user message lacks request or profile")
    check(reqs[0]["headers"].get("authorization") == "Bearer " + API_KEY, "the key was not sent to the server")
    m2 = msgs_of(reqs[1])
    check(m2[-2]["role"] == "assistant" and m2[-2]["tool_calls"][0]["id"] == "c1", "assistant tool_calls %r" % m2[-2])
    check(m2[-1]["role"] == "tool" and m2[-1]["tool_call_id"] == "c1" and
          "outputs/plots/" in m2[-1]["content"], "tool result %r" % m2[-1])
    logs = glob.glob(os.path.join(path, "llm_log_*.jsonl"))
    lines = [json.loads(x) for x in open(logs[0])]
    check(len(lines) == 2 and lines[0]["model"] and lines[0]["request"] and "latency_ms" in lines[0],
          "log lines %r" % lines[:1])
    check("plot revenue over time" in open(os.path.join(path, "llm_summary.md")).read(), "summary")
    return r


def fixed_turn(d, fake, c, path):
    fake.set_script({"responses": SCRIPT[2:]})
    r = c.call("ask", timeout=90, project="p", request="total revenue")
    check(r["status"] == "done", "turn 2: %r %s" % (r["status"], r.get("answer")))
    check([s["ok"] for s in r["steps"]] == [False, True], "steps %r" % r["steps"])
    check("KeyError" in (r["steps"][0]["error"] or ""), "first step error %r" % r["steps"][0]["error"])
    reqs = fake.requests()
    fix = msgs_of(reqs[1])[-1]
    check(fix["role"] == "tool" and fix["tool_call_id"] == "c2" and "KeyError" in fix["content"] and
          "attempt 1 of 3" in fix["content"], "error-fixing message %r" % fix)
    hist = open(os.path.join(path, r["history"])).read()
    check("no_such_col" not in hist and "['revenue'].sum()" in hist, "history holds failed code:\n" + hist)
    return r


def failing_turns(d, fake, c, path):
    r = c.call("ask", timeout=90, project="p", request="do something impossible")
    check(r["status"] == "failed", "turn 3: %r" % r["status"])
    check("3 attempts" in r["answer"] and "could not" in r["answer"], "give-up answer %r" % r["answer"])
    check(r["history"] is None and len(r["steps"]) == 3, "turn 3 result %r" % r)
    r2 = c.call("ask", timeout=90, project="p", request="again")
    check(r2["status"] == "failed" and "same error" in r2["answer"] and "bad input" in r2["answer"],
          "turn 4: %r %r" % (r2["status"], r2["answer"]))
    check(len(fake.requests()) == 5, "the model was called after giving up: %d" % len(fake.requests()))
    return [r, r2]


def main(d, fake):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    results = [plot_turn(d, fake, c, path), fixed_turn(d, fake, c, path)]
    fake.set_script({"responses": SCRIPT[5:]})
    results += failing_turns(d, fake, c, path)
    summary = open(os.path.join(path, "llm_summary.md")).read()
    check(summary.count("## Turn") == 4, "summary sections:\n" + summary)
    c.call("ping")
    assert_no_key(d, *results)


if __name__ == "__main__":
    run_openai_test(main, SCRIPT, fake_kernel=KERNEL)
    print("ok")
