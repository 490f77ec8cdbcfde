#!/usr/bin/python3
"""tests/agent/test_hostile_input.py — input that used to fail a turn or
block the kernel (issue 14 item 7), each through a real daemon:

1. a model whose answer holds "\\u0000" and "\\ud800" escapes inside JSON
   strings (SSE chunks, and a whole non-streamed body): the turn is done and
   those characters are U+FFFD;
2. `daa run -f FILE` of a 2 MB one-line expression: answered (the kernel's
   ast.get_source_segment took minutes on such a line);
3. `daa run` of a step that ignores SIGINT and loops, then Ctrl-C on the
   CLI (kernel.interrupt): after kernel.kill_grace_ms the kernel is restarted,
   the CLI says so, and the next `run` works."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import DAA, check, project_with_sales, run_openai_test, run_test  # noqa: E402

GRACE_MS = 2000
BAD = "a\\u0000b\\ud800c\\udc00d"          # JSON text: NUL, lone high and low surrogates
GOOD = "a\ufffdb\ufffdc\ufffdd"


def chunk(content=None, finish=None):
    delta = {} if content is None else {"content": "@@"}
    ev = {"id": "c", "object": "chat.completion.chunk", "model": "fake-model",
          "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    text = json.dumps(ev)
    return "data: " + (text.replace("@@", content) if content is not None else text) + "\n\n"


def escapes(d, fake):
    c = d.client(timeout=60)
    project_with_sales(c)
    streamed = {"sse": [chunk("The answer: "), chunk(BAD), chunk(finish="stop")]}
    body = ('{"id": "c", "object": "chat.completion", "model": "fake-model", "choices": [{"index": 0, '
            '"finish_reason": "stop", "message": {"role": "assistant", "content": "Whole: %s"}}]}' % BAD)
    whole = {"body": body, "content_type": "application/json"}
    fake.set_script([streamed, whole])
    r = c.call("ask", timeout=60, project="p", request="say something odd")
    check(r["status"] == "done" and r["answer"] == "The answer: " + GOOD,
          "streamed escapes: %r %r %r" % (r["status"], r.get("answer"), r.get("error")))
    r = c.call("ask", timeout=60, project="p", request="and again")
    check(r["status"] == "done" and r["answer"] == "Whole: " + GOOD,
          "escapes in a whole body: %r %r %r" % (r["status"], r.get("answer"), r.get("error")))
    print("NUL and lone surrogates in streamed and whole answers: U+FFFD, turns done")


def kernel_cases(d):
    c = d.client(timeout=180)
    path = c.call("project.create", name="k")["path"]
    work = tempfile.mkdtemp(prefix="daa-hostile.")
    try:
        # 2. a 2 MB single line
        src = os.path.join(work, "long.py")
        with open(src, "w") as f:
            f.write("len('" + "a" * 2000000 + "')\n")
        p = d.cli("-p", "k", "--json", "run", "-f", src, "--scratch", timeout=150)
        check(p.returncode == 0, "2 MB line: exit %d: %s" % (p.returncode, p.stderr[-500:]))
        res = json.loads(p.stdout)
        check(res["ok"] and res["result"]["repr"] == "2000000", "2 MB line: %r" % res.get("result"))
        print("a 2 MB one-line expression ran")
        # 3. a step that ignores SIGINT, Ctrl-C on the CLI
        gate = os.path.join(path, "outputs", "looping")
        code = os.path.join(work, "stubborn.py")
        with open(code, "w") as f:
            f.write("import os, signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                    "os.makedirs('outputs', exist_ok=True)\nopen('outputs/looping', 'w').close()\n"
                    "while True:\n    time.sleep(0.05)\n")
        cli = subprocess.Popen([DAA, "--no-start", "-p", "k", "run", "-f", code], env=d.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 60
        while not os.path.exists(gate):
            check(time.monotonic() < end and cli.poll() is None, "the looping step did not start")
            time.sleep(0.05)
        cli.send_signal(signal.SIGINT)
        try:
            out, err = cli.communicate(timeout=60)  # 122 s before the fix: step limit + grace
        except subprocess.TimeoutExpired:
            cli.kill()
            check(False, "the interrupted step still blocks the kernel after 60 s")
        print("daa run after Ctrl-C: exit %d\n%s%s" % (cli.returncode, out, err))
        check(cli.returncode != 0 and "kernel was restarted" in out + err,
              "the CLI was not told the kernel was restarted")
        r = c.call("run", timeout=90, project="k", code="print(6 * 7)")
        check(r["ok"] and r["stdout"] == "42\n", "the next run: %r" % r)
        print("the next run works")
    finally:
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
    # is about the daemon, and its steps are plain Python the fake runs with exec()
    run_openai_test(escapes, [], fake_kernel={})
    run_test(kernel_cases, {"kernel": {"kill_grace_ms": GRACE_MS}}, fake_kernel={})
    print("ok")
