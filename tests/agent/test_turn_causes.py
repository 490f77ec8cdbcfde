#!/usr/bin/python3
"""tests/agent/test_turn_causes.py — a turn whose kernel is killed or whose
dataset is deleted under it fails with the real cause (issue 14 item 6);
it used to end "done" with "I could not find ... among the columns" (the
builtin analyst, given a dataset without a profile) or whatever the model
said next.  Through a real daemon:

1. builtin analyst: the kernel is killed while the turn profiles a new
   dataset → failed, error "the kernel stopped while reading dataset ...";
2. fake OpenAI server: data/sales.csv is deleted while a step waits (the
   kernel has the dataset in memory from the profile), then the step reads
   it →
   failed, error "a dataset's file is gone: ...", the model not asked again;
3. fake OpenAI server: the kernel is killed during a run_python step →
   failed, error "the step could not finish: the kernel was killed ...",
   and the model is not asked again.
The next turn after each works."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import call, check, final, project_with_sales, reply, run_openai_test, run_test  # noqa: E402

GATE = ("import os, time\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/waiting', 'w').close()\n"
        "while not os.path.exists('outputs/go'):\n    time.sleep(0.05)\n")


def kernel_pids(c):
    ks = (c.call("status").get("kernels") or {}).get("kernels") or []
    return [k["pid"] for k in ks if k.get("project")]


def wait_for(cond, what, timeout=60):
    end = time.monotonic() + timeout
    while not cond():
        check(time.monotonic() < end, "timed out waiting for %s" % what)
        time.sleep(0.05)


def builtin_killed(d):
    c = d.client(timeout=120)
    path = c.call("project.create", name="p")["path"]
    big = os.path.join(d.dir, "big.csv")  # profiling it takes a while
    with open(big, "w") as f:
        f.write("day,region,units,revenue,note\n")
        for i in range(300000):
            f.write("2024-01-%02d,R%d,%d,%d.5,n%d\n" % (i % 28 + 1, i % 7, i % 13, i * 3 % 1000, i))
    c.call("data.add", project="p", path=big, timeout=120)
    m = c.send("ask", project="p", request="total revenue by region")
    c.wait_event("started")
    wait_for(lambda: kernel_pids(c), "the project's kernel")
    for pid in kernel_pids(c):
        os.kill(pid, signal.SIGKILL)
    r = c.wait(m, timeout=120)
    print("builtin, kernel killed while profiling: %s: %s" % (r["status"], r.get("error")))
    check(r["status"] == "failed" and "killed" in (r.get("error") or "") and
          "among the columns" not in r["answer"], "turn: %r %r" % (r["status"], r["answer"][:200]))
    r = c.call("ask", timeout=120, project="p", request="total revenue by region")
    check(r["status"] == "done" and "R0" in r["answer"], "the next turn: %r %r" % (r["status"], r["answer"][:200]))
    del path


def fake_cases(d, fake):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    gate_wait, gate_go = os.path.join(path, "outputs", "waiting"), os.path.join(path, "outputs", "go")
    # 2. the dataset deleted during a step
    fake.set_script([reply(call("run_python", "c2", code=GATE + "print(dfs['sales'].shape)\n",
                                purpose="read")), final("I did not understand")])
    c.call("watch", project="p")
    c.wait_event("profiled", timeout=120)  # the profile of data.add loaded it in the kernel
    m = c.send("ask", project="p", request="how big is sales")
    wait_for(lambda: os.path.exists(gate_wait), "the step to start")
    os.unlink(os.path.join(path, "data", "sales.csv"))
    open(gate_go, "w").close()
    r = c.wait(m, timeout=120)
    print("fake model, dataset deleted during a step: %s: %s" % (r["status"], r.get("error")))
    check(r["status"] == "failed" and "gone" in (r.get("error") or "") and "sales" in r["error"],
          "turn: %r %r" % (r["status"], r.get("error")))
    check(len(fake.requests()) == 1, "the model was asked again after the file went")
    os.unlink(gate_wait)
    os.unlink(gate_go)
    # 3. the kernel killed during a step
    fake.set_script([reply(call("run_python", "c1", code=GATE + "print(1)\n", purpose="wait")),
                     final("I did not understand")])
    m = c.send("ask", project="p", request="wait a bit")
    wait_for(lambda: os.path.exists(gate_wait), "the step to start")
    for pid in kernel_pids(c):
        os.kill(pid, signal.SIGKILL)
    r = c.wait(m, timeout=120)
    print("fake model, kernel killed during a step: %s: %s" % (r["status"], r.get("error")))
    check(r["status"] == "failed" and "could not finish" in (r.get("error") or "") and
          "killed" in r["error"], "turn: %r %r" % (r["status"], r.get("error")))
    check(len(fake.requests()) == 1, "the model was asked again after the kernel died")
    fake.set_script([final("fine again")])
    r = c.call("ask", timeout=120, project="p", request="still there?")
    check(r["status"] == "done" and r["answer"] == "fine again", "the next turn: %r" % r["status"])


if __name__ == "__main__":
    run_test(builtin_killed)
    run_openai_test(fake_cases, [])
    print("ok")
