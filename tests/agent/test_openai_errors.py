#!/usr/bin/python3
"""tests/agent/test_openai_errors.py — the model misbehaving, seen through
whole agent turns: 429 with Retry-After, 500 then success, a body that is
not JSON, the connection dropped mid-stream, and a slow model cancelled by
the user (status "cancelled" at once, the daemon fine afterwards), and a
cancel while code runs (the kernel is interrupted and still works).  The
retry policy itself is tested in tests/llm; here we check that each case
ends the turn with the right status and an answer a user can act on."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import assert_no_key, check, final, project_with_sales, run_openai_test  # noqa: E402

ERR = {"error": {"message": "boom", "type": "server_error"}}


def ask(c, fake, script, request):
    fake.set_script({"responses": script})
    return c.call("ask", timeout=90, project="p", request=request)


def retries(c, fake):
    r = ask(c, fake, [{"status": 429, "headers": {"Retry-After": "1"}, "body": ERR},
                      final("after the 429")], "first")
    check(r["status"] == "done" and r["answer"] == "after the 429", "429: %r %r" % (r["status"], r["answer"]))
    check(len(fake.requests()) == 2, "429: %d requests" % len(fake.requests()))
    r = ask(c, fake, [{"status": 500, "body": ERR}, final("after the 500")], "second")
    check(r["status"] == "done" and r["answer"] == "after the 500", "500: %r %r" % (r["status"], r["answer"]))
    return r


def garbage(c, fake):
    bad = {"status": 200, "body": "this is { not json", "content_type": "application/json"}
    r = ask(c, fake, [bad, bad, bad, bad], "third")
    check(r["status"] == "failed", "invalid JSON: %r %r" % (r["status"], r["answer"]))
    check("model" in r["answer"] and r["error"], "invalid JSON answer %r / %r" % (r["answer"], r["error"]))
    drop = final("never complete", drop_after=2)
    r2 = ask(c, fake, [drop, drop, drop, drop], "fourth")
    check(r2["status"] == "failed" and r2["error"], "dropped stream: %r %r" % (r2["status"], r2["answer"]))
    r3 = ask(c, fake, [drop, final("recovered after a drop")], "fifth")
    check(r3["status"] == "done" and r3["answer"] == "recovered after a drop",
          "drop then success: %r %r" % (r3["status"], r3["answer"]))
    return [r, r2, r3]


def cancel(d, c, fake):
    fake.set_script({"responses": [final("too late", delay_ms=30000)], "then": final("next")})
    start = len(c.events)
    mid = c.send("ask", project="p", request="slow one")
    c.wait_event("thinking", timeout=30, start=start)
    other = d.client()
    t0 = time.monotonic()
    res = other.call("cancel", project="p")
    check(res == {"cancelled": True}, "cancel result %r" % res)
    r = c.wait(mid, timeout=20)
    check(r["status"] == "cancelled", "cancelled turn: %r" % r["status"])
    check(time.monotonic() - t0 < 15, "cancel did not stop the turn promptly")  # hang guard only
    done = c.wait_event("done", timeout=10, start=start)
    check(done["status"] == "cancelled", "done event %r" % done)
    check(other.call("cancel", project="p") == {"cancelled": False}, "second cancel")
    r2 = c.call("ask", timeout=60, project="p", request="after the cancel")
    check(r2["status"] == "done" and r2["answer"] == "next", "turn after cancel: %r" % r2)
    return [r, r2]


def cancel_code(d, c, fake, path):
    """Cancel while code runs: the kernel is interrupted (the code never gets
    to its end), and the next turn runs code again."""
    from agentlib import call, reply
    slow = ("open('outputs/started', 'w').close()\nimport time\n"
            "for _ in range(600): time.sleep(0.05)\nopen('outputs/finished', 'w').close()\n")
    fake.set_script({"responses": [
        reply(call("run_python", "s1", code=slow, purpose="wait")),
        reply(call("run_python", "s2", code="print('kernel alive', 6 * 7)", purpose="check")),
        final("The kernel still works.")]})
    mid = c.send("ask", project="p", request="a long computation")
    end = time.monotonic() + 60
    while not os.path.exists(os.path.join(path, "outputs", "started")):
        check(time.monotonic() < end, "the slow code never started")  # hang guard
        time.sleep(0.05)
    other = d.client()
    check(other.call("cancel", project="p") == {"cancelled": True}, "cancel during code")
    r = c.wait(mid, timeout=20)
    check(r["status"] == "cancelled", "cancelled during code: %r" % r["status"])
    r2 = c.call("ask", timeout=60, project="p", request="is the kernel alive")
    check(r2["status"] == "done" and "kernel alive 42" in r2["steps"][0]["stdout"], "after the cancel: %r" % r2)
    check(not os.path.exists(os.path.join(path, "outputs", "finished")), "the cancelled code ran to its end")
    return [r, r2]


def main(d, fake):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    results = [retries(c, fake)] + garbage(c, fake) + cancel(d, c, fake) + cancel_code(d, c, fake, path)
    c.call("ping")
    assert_no_key(d, *results)


if __name__ == "__main__":
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    run_openai_test(main, [], {"stream": True}, fake_kernel={})
    print("ok")
