#!/usr/bin/python3
"""tests/agent/cli_turns.py — the agent turn through the real `daa` CLI
(run by test_cli_builtin and test_cli_openai, one daemon each):
  builtin analyst (no LLM configured): `daa ask "plot revenue over time"`
    prints the answer and a PNG path that exists, and a history script;
  fake OpenAI server: a question without a terminal exits 3, then
    `daa answer` finishes the turn; on a terminal (a pty), the question is
    asked in place and the typed answer finishes the turn (exit 0)."""
import os
import pty
import re
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import (DAA, call, check, final, project_with_sales, reply,  # noqa: E402
                      run_openai_test, run_test, skip)

Q = "Which column holds the amount sold?"


def builtin(d):
    c = d.client(timeout=120)
    path = project_with_sales(c)
    r = d.cli("-p", "p", "ask", "plot revenue over time", input="")
    check(r.returncode == 0, "daa ask exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr))
    pngs = re.findall(r"(\S+\.png)", r.stdout)
    check(pngs, "no PNG path printed:\n" + r.stdout)
    for p in pngs:
        full = p if os.path.isabs(p) else os.path.join(path, p)
        check(os.path.isfile(full), "printed PNG %s does not exist" % p)
    hist = os.listdir(os.path.join(path, "history"))
    check(len(hist) == 1 and hist[0].startswith("001_") and hist[0].endswith(".py"), "history %r" % hist)


def pty_run(d, args, answer, timeout=60):
    """Run daa in a pty; type `answer` once Q shows; (exit code, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DAA, [DAA, "--no-start"] + args, d.env)
    out, typed, end = b"", False, time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        if not typed and Q.encode() in out:
            os.write(fd, answer.encode() + b"\n")
            typed = True
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def openai(d, fake):
    c = d.client(timeout=120)
    project_with_sales(c)
    ask = reply(call("ask_user", "q1", question=Q, choices=["revenue", "unit_price"]))
    fake.set_script({"responses": [ask, final("Total revenue is 42.")]})
    r = d.cli("-p", "p", "ask", "total amount sold", input="")
    check(r.returncode == 3, "non-interactive question: exit %d\n%s\n%s" % (r.returncode, r.stdout, r.stderr))
    check(Q in r.stdout + r.stderr, "the question was not shown:\n" + r.stdout + r.stderr)
    r = d.cli("-p", "p", "answer", "revenue", input="")
    check(r.returncode == 0 and "Total revenue is 42." in r.stdout,
          "daa answer: exit %d\n%s\n%s" % (r.returncode, r.stdout, r.stderr))
    fake.set_script({"responses": [ask, final("Total revenue is 43.")]})
    code, out = pty_run(d, ["-p", "p", "ask", "total amount sold"], "revenue")
    check(code == 0 and "Total revenue is 43." in out, "on a tty: exit %d\n%s" % (code, out))
    last = fake.requests()[-1]["body"]["messages"][-1]
    check(last["role"] == "tool" and "revenue" in last["content"], "typed answer not sent: %r" % last)


if __name__ == "__main__":
    if not os.access(DAA, os.X_OK):
        skip("the daa CLI is not built")
    if sys.argv[1:] == ["openai"]:
        # fake_kernel={}: kernels are tests/lib/fake_kernel.py (ready in ms); this test
        # is about the daemon, and its steps are plain Python the fake runs with exec()
        run_openai_test(openai, [], fake_kernel={})
    else:
        run_test(builtin)
    print("ok")
