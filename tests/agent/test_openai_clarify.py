#!/usr/bin/python3
"""tests/agent/test_openai_clarify.py — clarification and memory with the
fake OpenAI server: a non-interactive ask answers "question" at once, every
subscriber sees the question, `answer` on another connection resumes the
turn and its answer becomes a convention (source "user") that the next
turn's prompt carries; remember_convention is saved with source "agent";
an interactive ask keeps waiting through the question; a new ask supersedes
an unanswered question; two clients asking
one project at once are queued, both answered, and both see all events.
The kernel is tests/lib/fake_kernel.py (no step runs: only the profile's
column names matter, for the answer that names a column)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import call, check, final, project_with_sales, reply, run_openai_test  # noqa: E402

Q = "Which column holds the amount sold?"
# examples/sales.csv's columns, as the fake kernel's profile of it
COLUMNS = ["order_id", "order_date", "region", "product", "category", "units", "unit_price",
           "revenue", "customer_id", "discount"]
KERNEL = {"profile": [{"code": "sales", "reply": {"profile": {
    "name": "sales", "rows": 2000, "columns": [{"name": n} for n in COLUMNS]}}}]}


def clarify(d, fake, c):
    fake.set_script({"responses": [
        reply(call("ask_user", "q1", question=Q, choices=["revenue", "unit_price"])),
        final("Using revenue as the amount.")]})
    w = d.client()
    w.call("watch", project="p")
    r = c.call("ask", timeout=60, project="p", request="total amount sold")
    check(r["status"] == "question" and r["question"]["text"] == Q and
          r["question"]["choices"] == ["revenue", "unit_price"], "question result %r" % r)
    ev = w.wait_event("question", timeout=10)
    check(ev["text"] == Q and ev["turn"] == r["turn"], "watcher's question event %r" % ev)
    other = d.client(timeout=60)
    tl = other.call("turns.list", project="p")
    check(tl["busy"] and tl["question"] == {"turn": r["turn"], "text": Q, "choices": ["revenue", "unit_price"]},
          "turns.list while the question waits: %r" % tl.get("question"))
    r2 = other.call("answer", timeout=60, project="p", text="revenue")
    check(r2["status"] == "done" and r2["answer"] == "Using revenue as the amount.", "after answer %r" % r2)
    reqs = fake.requests()
    last = reqs[-1]["body"]["messages"][-1]
    check(last["role"] == "tool" and last["tool_call_id"] == "q1" and "revenue" in last["content"] and
          Q in last["content"], "the answer as tool result %r" % last)
    conv = c.call("conventions.get", project="p")["conventions"]
    key = "column_for.which-column-holds-the-amount-sold"
    check(conv.get(key, {}).get("value") == "revenue" and conv[key]["source"] == "user",
          "convention from the answer: %r" % conv)
    w.wait_event("answered", timeout=10)
    w.wait_event("done", timeout=10)
    check(other.call("turns.list", project="p")["question"] is None, "a question after the answer")
    return key


def remember(d, fake, c, key):
    fake.set_script({"responses": [
        reply(call("remember_convention", "m1", key="fiscal_year_start", value="April",
                   why="the user's company starts its year in April")),
        final("Noted.")]})
    r = c.call("ask", timeout=60, project="p", request="our fiscal year starts in April")
    check(r["status"] == "done", "remember turn %r" % r)
    user = fake.requests()[0]["body"]["messages"][1]["content"]
    check(key in user and '"revenue"' in user, "the next prompt lacks the learned convention:\n" + user)
    conv = c.call("conventions.get", project="p")["conventions"]
    check(conv.get("fiscal_year_start", {}).get("source") == "agent", "agent convention %r" % conv)
    fake.set_script({"responses": [final("ok")]})
    c.call("ask", timeout=60, project="p", request="anything")
    user = fake.requests()[0]["body"]["messages"][1]["content"]
    check("fiscal_year_start" in user and "April" in user, "prompt lacks the agent's convention")
    check("our fiscal year starts in April" in user, "prompt lacks the digest of earlier turns")


def interactive(d, fake, c):
    fake.set_script({"responses": [
        reply(call("ask_user", "q2", question="Monthly or weekly?", choices=["monthly", "weekly"])),
        final("Monthly it is.")]})
    start = len(c.events)
    mid = c.send("ask", project="p", request="trend", interactive=True)
    c.wait_event("question", timeout=30, start=start)
    other = d.client(timeout=60)
    r2 = other.call("answer", timeout=60, project="p", text="monthly")
    r = c.wait(mid, timeout=30)
    check(r["status"] == "done" and r2["status"] == "done" and r["answer"] == "Monthly it is.",
          "interactive: %r / %r" % (r, r2))


def superseded(d, fake, c):
    """A new ask while a question waits ends the suspended turn (cancelled)."""
    fake.set_script({"responses": [
        reply(call("ask_user", "q3", question="Which year?", choices=["2023", "2024"])),
        final("Something else, done.")]})
    r = c.call("ask", timeout=60, project="p", request="revenue of the year")
    check(r["status"] == "question", "expected a question: %r" % r)
    start = len(c.events)
    r2 = c.call("ask", timeout=60, project="p", request="something else")
    check(r2["status"] == "done" and r2["answer"] == "Something else, done." and r2["turn"] == r["turn"] + 1,
          "the new request: %r" % r2)
    ends = [e for e in c.events[start:] if e.get("kind") == "done" and e.get("turn") == r["turn"]]
    check(ends and ends[0]["status"] == "cancelled", "the suspended turn did not end cancelled: %r" % ends)
    try:
        c.call("answer", project="p", text="2024")
        check(False, "answer after the question was superseded succeeded")
    except Exception as e:
        check(getattr(e, "code", None) == -32031, "late answer: %r" % e)


def two_clients(d, fake):
    fake.set_script({"responses": [final("first done", delay_ms=1500), final("second done")]})
    a, b = d.client(timeout=60), d.client(timeout=60)
    ma = a.send("ask", project="p", request="from A")
    a.wait_event("thinking", timeout=30)
    mb = b.send("ask", project="p", request="from B")
    qb = b.wait_event("queued", timeout=10)
    check(qb["position"] == 1, "B's queued event %r" % qb)
    ra, rb = a.wait(ma, timeout=30), b.wait(mb, timeout=30)
    check(ra["status"] == rb["status"] == "done" and ra["answer"] == "first done" and
          rb["answer"] == "second done" and rb["turn"] == ra["turn"] + 1, "results %r / %r" % (ra, rb))
    for cl, name in ((a, "A"), (b, "B")):
        for t in (ra["turn"], rb["turn"]):
            for kind in ("started", "done"):
                if cl is b and t == ra["turn"] and kind == "started":
                    continue  # B subscribed after A's turn had started
                try:
                    cl.wait_turn_event(t, kind, timeout=10)
                except TimeoutError:
                    check(False, "%s did not see %s of turn %d: %r" % (name, kind, t, cl.kinds()))


def main(d, fake):
    c = d.client(timeout=120)
    project_with_sales(c)
    key = clarify(d, fake, c)
    remember(d, fake, c, key)
    interactive(d, fake, c)
    superseded(d, fake, c)
    two_clients(d, fake)


if __name__ == "__main__":
    run_openai_test(main, [], fake_kernel=KERNEL)
    print("ok")
