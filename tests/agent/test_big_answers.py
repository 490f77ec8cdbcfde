#!/usr/bin/python3
"""tests/agent/test_big_answers.py — a model answer too big for daa is bounded
and costs nobody else anything (issue 14 item 3, issue 13 item 7).

Through a real daemon and the fake OpenAI server, streamed and not streamed:
  1. a 50 MB answer, 2. an endless answer.
Each ends its turn "failed" with an error naming the cap and the setting
(llm.max_reply_bytes), while a watcher that reads nothing until the end and
the asker of the next queued turn keep their connections and get their
events and answers.  The daemon's peak RSS stays under RSS_MAX_MB, the
project's files stay small, and every request carries max_tokens (4096 by
default, the configured value otherwise)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import check, final, run_openai_test  # noqa: E402

RSS_MAX_MB = 120      # the daemon's peak resident size (VmHWM), whole test
FILES_MAX = 4 << 20   # bytes written into the project (outside data/) by the whole test
BIG = 50 * 1000 * 1000


def flood(nbytes):
    return {"flood": {"bytes": nbytes, "piece": 65536}}


def vm_hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def project_bytes(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        if os.path.relpath(root, path).split(os.sep)[0] == "data":
            continue
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def one_case(d, fake, label, big, turn):
    """Turn `turn` gets the big answer; turn+1 (queued by another client)
    a normal one; a third client watches and reads only at the end."""
    fake.set_script([big, final("the queued turn's answer (%s)" % label)])
    asker, nxt, watcher = d.client(timeout=120), d.client(timeout=120), d.client(timeout=120)
    watcher.call("watch", project="p")
    m1 = asker.send("ask", project="p", request="write me a very long answer (%s)" % label)
    asker.wait_turn_event(turn, "started")
    m2 = nxt.send("ask", project="p", request="then a short one (%s)" % label)
    r1 = asker.wait(m1, timeout=120)
    print("%s: status %s, error: %s" % (label, r1["status"], r1.get("error")))
    check(r1["status"] == "failed", "%s: the turn ended %r" % (label, r1["status"]))
    err = r1.get("error") or ""
    check("llm.max_reply_bytes" in err and "1.0 MiB" in err,
          "%s: the error does not name the cap and the setting: %r" % (label, err))
    check(len(r1.get("answer") or "") < 4096, "%s: the failed turn's answer is %d bytes"
          % (label, len(r1.get("answer") or "")))
    r2 = nxt.wait(m2, timeout=120)
    check(r2["status"] == "done" and r2["turn"] == turn + 1 and label in r2["answer"],
          "%s: the next queued ask got %r" % (label, r2))
    watcher.wait_turn_event(turn + 1, "done", timeout=60)  # still connected, nothing lost
    dones = [e for e in watcher.events if isinstance(e, dict) and e.get("kind") == "done"]
    check([e["turn"] for e in dones] == [turn, turn + 1], "%s: the watcher saw %r"
          % (label, [e.get("turn") for e in dones]))
    text = sum(len(e.get("text") or "") for e in watcher.events
               if isinstance(e, dict) and e.get("kind") == "thinking")
    nthink = sum(1 for e in watcher.events if isinstance(e, dict) and e.get("kind") == "thinking")
    print("%s: the watcher got %d thinking events (%d bytes of text)" % (label, nthink, text))
    for c in (asker, nxt, watcher):
        c.close()


def run(stream, max_tokens):
    def main(d, fake):
        c = d.client(timeout=120)
        path = c.call("project.create", name="p")["path"]  # no data: the model is all
        pid = d.d.proc.pid
        one_case(d, fake, "50 MB%s" % (" streamed" if stream else ""), flood(BIG), 1)
        one_case(d, fake, "endless%s" % (" streamed" if stream else ""), flood(None), 3)
        for r in fake.requests():
            got = r["body"].get("max_tokens")
            check(got == (max_tokens or 4096), "a request carried max_tokens %r" % got)
        rss, files = vm_hwm_mb(pid), project_bytes(path)
        print("stream=%s: daemon peak RSS %.1f MB (bound %d), project files %d bytes (bound %d)"
              % (stream, rss, RSS_MAX_MB, files, FILES_MAX))
        check(rss < RSS_MAX_MB, "the daemon's peak RSS is %.1f MB" % rss)
        check(files < FILES_MAX, "the project's files take %d bytes" % files)
        c.close()
    extra = {"stream": stream, "idle_timeout_ms": 20000, "total_timeout_ms": 60000}
    if max_tokens:
        extra["max_tokens"] = max_tokens
    run_openai_test(main, [], llm_extra=extra)


def run_truncated():
    """llm.max_reply_bytes raised to 8 MiB: a 6 MB answer is taken, and the
    `done` event and the TURN RESULT carrying it are cut with a marker
    (PROTOCOL.md), so a watcher that reads nothing until the end stays."""
    def main(d, fake):
        c = d.client(timeout=120)
        c.call("project.create", name="p")
        fake.set_script([flood(6 * 1000 * 1000)])
        watcher = c
        watcher.call("watch", project="p")
        asker = d.client(timeout=120)
        r = asker.call("ask", timeout=120, project="p", request="a 6 MB answer please")
        check(r["status"] == "done", "the 6 MB answer ended %r: %s" % (r["status"], r.get("error")))
        check(r.get("truncated") is True and "cut by daa" in r["answer"] and len(r["answer"]) < 4200000,
              "the TURN RESULT was not cut (%d bytes)" % len(r["answer"]))
        watcher.wait_turn_event(1, "done", timeout=60)
        done = [e for e in watcher.events if isinstance(e, dict) and e.get("kind") == "done"][0]
        check(done.get("truncated") is True and "cut by daa" in done["answer"]
              and len(done["answer"]) < (1 << 20), "the done event was not cut (%d bytes)" % len(done["answer"]))
        print("6 MB answer: result %d bytes, done event %d bytes, both marked truncated"
              % (len(r["answer"]), len(done["answer"])))
    run_openai_test(main, [], llm_extra={"stream": False, "max_reply_bytes": 8 << 20})


if __name__ == "__main__":
    run(True, None)
    run(False, 1000)
    run_truncated()
    print("ok")
