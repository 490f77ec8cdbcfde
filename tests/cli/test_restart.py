#!/usr/bin/python3
"""tests/cli/test_restart.py — clients waiting while a real daad is killed
with SIGKILL (issue 14):

- `daa run` (running), a second `daa run` (queued behind it) and `daa ask`
  (queued) each say plainly that daad restarted or stopped while they
  waited and that the result is unknown, and exit 4 (like "unreachable");
- `daa chat` (reading a pipe, --no-start) with a /run pending says the
  same, waits for the daemon to come back (restarted here as systemd or a
  person would), connects again and goes on: the next /run works.
"""
import os
import queue
import subprocess
import sys
import threading

from clilib import DAA, ROOT, check, run_tests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from daad import Daad, HANG_TIMEOUT  # noqa: E402
# Daad(fake_kernel={}): this test is about the server, not Python; its kernels
# (the warm spare, and the steps it runs: plain Python) are tests/lib/fake_kernel.py, ready in ms


D = None
LOST = "daad restarted (or stopped) while waiting for"
SLEEP = "import time; time.sleep(300)"


class Proc:
    """A daa process whose stdout and stderr lines are read as they come."""

    def __init__(self, args, stdin=subprocess.DEVNULL):
        self.p = subprocess.Popen([DAA, "--no-start", "-p", "r"] + args, env=D.env, stdin=stdin,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.seen = []
        self.open = 2
        for f in (self.p.stdout, self.p.stderr):
            threading.Thread(target=self.reader, args=(f,), daemon=True).start()

    def reader(self, f):
        for ln in f:
            self.lines.put(ln)
        self.lines.put(None)  # end of this stream

    def wait_line(self, text):
        """Wait (hang guard only) until a line holding text came; returns it,
        or None when the process closed its output first."""
        while self.open:
            ln = self.lines.get(timeout=HANG_TIMEOUT * 4)
            if ln is None:
                self.open -= 1
                continue
            self.seen.append(ln)
            if text in ln:
                return ln
        return None

    def finish(self):
        rc = self.p.wait(timeout=HANG_TIMEOUT)
        while self.open:
            ln = self.lines.get(timeout=HANG_TIMEOUT)
            if ln is None:
                self.open -= 1
            else:
                self.seen.append(ln)
        return rc, "".join(self.seen)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def queued_run():
    """A `daa run` waiting behind the run that holds the kernel (started just
    before: tried again while it is not there yet)."""
    while True:
        q = Proc(["run", "print(1)"])
        if q.wait_line("waiting for the project's"):
            return q
        check(q.finish()[0] == 0, "a run before the long one: %r" % q.seen)


def test_waiting_clients_after_sigkill():
    a = Proc(["run", SLEEP])
    b = c = None
    try:
        b = queued_run()  # so a's run holds the kernel
        c = Proc(["ask", "--batch", "total revenue"])
        c.wait_line("queued")
        D.kill9()
        for name, p in (("run (running)", a), ("run (queued)", b), ("ask (queued)", c)):
            rc, out = p.finish()
            check(rc == 4 and LOST in out and "result is unknown" in out and "daa history" in out,
                  "%s after SIGKILL: exit %d\n%s" % (name, rc, out))
    finally:
        for p in (a, b, c):
            if p:
                p.kill()


def test_chat_reconnects():
    D.start()
    chat = Proc(["chat"], stdin=subprocess.PIPE)
    q = None
    try:
        chat.p.stdin.write("/run " + SLEEP + "\n")
        chat.p.stdin.flush()
        q = queued_run()  # so the chat's /run holds the kernel
        D.kill9()
        chat.wait_line("their result is unknown")
        chat.wait_line("lost the daemon; connecting again")
        D.start()
        chat.wait_line("connected again to project r")
        chat.p.stdin.write("/run print(6*7)\n")
        chat.p.stdin.close()
        chat.wait_line("42")
        rc, out = chat.finish()
        check(rc == 0, "chat after the restart: exit %d\n%s" % (rc, out))
        rc, out = q.finish()
        check(rc == 4 and LOST in out, "the queued run: exit %d\n%s" % (rc, out))
    finally:
        chat.kill()
        if q:
            q.kill()


def main():
    global D
    with Daad(fake_kernel={}) as d:
        D = d
        d.call("project.create", {"name": "r"})
        d.call("data.add", {"project": "r", "path": os.path.join(ROOT, "examples", "sales.csv")})
        run_tests([test_waiting_clients_after_sigkill, test_chat_reconnects])


if __name__ == "__main__":
    sys.exit(main())
