#!/usr/bin/python3
"""tests/agent/test_builtin.py — the agent turn with the builtin analyst (no
LLM configured): "plot revenue over time" on examples/sales.csv gives a PNG,
a history script, the LLM log and the summary; a question the analyst asks
(two datasets: which one?) resolves through `answer` on another connection;
events reach a watching client; a word that fits two columns is asked about
and the answer, saved as a convention, is used by the next turn."""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import ROOT, check, project_with_sales, run_test  # noqa: E402


def plot_turn(d):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    # both datasets from the start: the kernel is bound with the datasets it sees first
    c.call("data.add", project="p", path=os.path.join(ROOT, "examples", "customers.csv"))
    w = d.client()
    w.call("watch", project="p")
    r = c.call("ask", timeout=120, project="p", request="plot revenue over time")
    check(r["status"] == "done", "status %r: %s" % (r["status"], r.get("answer")))
    check(r["backend"] == "builtin", "backend %r" % r["backend"])
    check(r["figures"], "no figure in %r" % r)
    for f in r["figures"]:
        check(f.endswith(".png") and os.path.isfile(os.path.join(path, f)), "figure %s missing" % f)
    check(r["history"] and os.path.isfile(os.path.join(path, r["history"])), "history %r" % r["history"])
    hist = open(os.path.join(path, r["history"])).read()
    check("plot revenue over time" in hist and "backend: builtin" in hist, "history header:\n" + hist)
    check(r["steps"] and r["steps"][0]["ok"] and r["steps"][0]["code"].strip(), "steps %r" % r["steps"])
    check(r["answer"].strip(), "empty answer")
    logs = glob.glob(os.path.join(path, "llm_log_*.jsonl"))
    check(len(logs) == 1, "llm logs %r" % logs)
    lines = [json.loads(x) for x in open(logs[0])]
    check(len(lines) >= 2 and all(x["turn"] == r["turn"] for x in lines), "log lines %r" % lines)
    check(all(x.get("request") and x.get("response") for x in lines), "log without request/response")
    summary = open(os.path.join(path, "llm_summary.md")).read()
    check("plot revenue over time" in summary and r["history"] in summary, "summary:\n" + summary)
    # the events reached the watcher, in order, ending with done
    w.wait_event("done", timeout=30)
    kinds = w.kinds()
    for k in ("queued", "started", "thinking", "code", "output", "done"):
        check(k in kinds, "watcher missed %s: %r" % (k, kinds))
    check(kinds.index("started") < kinds.index("code") < kinds.index("output") < kinds.index("done"),
          "event order %r" % kinds)
    conv = c.call("conventions.get", project="p")["conventions"]
    check(conv.get("sales.date_column", {}).get("value") == "order_date" and
          conv["sales.date_column"].get("source") == "inferred" and
          "order_date" in conv.get("date_columns", {}).get("value", []) and
          "signup_date" in conv["date_columns"]["value"] and
          conv.get("date_format", {}).get("value", {}).get("order_date") == "%Y-%m-%d" and
          "date_column" not in conv, "inferred conventions %r" % conv)
    return path, r["turn"]


def question_turn(d, path):
    c = d.client(timeout=120)
    r = c.call("ask", timeout=120, project="p", request="how many rows are there")
    check(r["status"] == "question", "expected a question, got %r: %s" % (r["status"], r.get("answer")))
    q = r["question"]
    check(q and "sales" in q["choices"] and "customers" in q["choices"], "question %r" % q)
    other = d.client(timeout=120)
    r2 = other.call("answer", timeout=120, project="p", text="sales")
    check(r2["status"] == "done", "after answer: %r %s" % (r2["status"], r2.get("answer")))
    check(r2["turn"] == r["turn"], "answer resumed turn %r, asked %r" % (r2["turn"], r["turn"]))
    rows = sum(1 for _ in open(os.path.join(ROOT, "examples", "sales.csv"))) - 1
    check(str(rows) in r2["answer"].replace(",", ""), "answer %r (expected %d rows)" % (r2["answer"], rows))
    try:
        other.call("answer", project="p", text="again")
        check(False, "answer without a question succeeded")
    except Exception as e:
        check(getattr(e, "code", None) == -32031, "answer without question: %r" % e)
    return r2["turn"]


def alias_turns(d):
    """A word that fits two columns: the analyst asks, the answer becomes the
    convention alias.revenue (source "user"), and the next turn uses it."""
    c = d.client(timeout=120)
    c.call("project.create", name="q")
    csv = os.path.join(d.dir, "shop.csv")
    with open(csv, "w") as f:
        f.write("day,gross revenue,net revenue\n")
        for i in range(1, 29):
            f.write("2024-02-%02d,%d,%d\n" % (i, 100 + i, 80 + i))
    c.call("data.add", project="q", path=csv)
    r = c.call("ask", timeout=120, project="q", request="total revenue")
    check(r["status"] == "question" and sorted(r["question"]["choices"]) == ["gross revenue", "net revenue"],
          "expected a question about the columns: %r" % r)
    r = c.call("answer", timeout=120, project="q", text="net revenue")
    check(r["status"] == "done" and "2,646" in r["answer"], "after the answer: %r" % r.get("answer"))
    conv = c.call("conventions.get", project="q")["conventions"]
    check(conv.get("alias.revenue", {}).get("value") == "net revenue" and
          conv["alias.revenue"]["source"] == "user", "alias convention %r" % conv)
    r = c.call("ask", timeout=120, project="q", request="average revenue")
    check(r["status"] == "done" and "94.50" in r["answer"], "the next turn did not use the convention: %r" % r)


def main(d):
    path, t1 = plot_turn(d)
    t2 = question_turn(d, path)
    check(t2 == t1 + 1, "turn numbers %d then %d" % (t1, t2))
    turns = [json.loads(x) for x in open(os.path.join(path, ".daa", "turns.jsonl"))]
    check([t["turn"] for t in turns] == [t1, t2], "turns.jsonl %r" % turns)
    alias_turns(d)


if __name__ == "__main__":
    run_test(main)
    print("ok")
