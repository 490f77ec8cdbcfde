#!/usr/bin/python3
"""tests/profiles/test_cli_long.py — `daa profile` on a terminal, the way a
person runs it (a pseudo-terminal): while a big profile runs it says so
after a second, Ctrl-C interrupts it in the daemon's kernel ("kernel.interrupt sent",
the command ends with the interruption as the error), the daemon and the
kernel's variables survive, and the next `daa profile` makes the profile and
prints the summary; piped (no terminal) no notice is printed.  The kernel
is tests/lib/fake_kernel.py: its profile of "big" waits for a gate file
(interruptible, like the runtime's profile:
tests/kernel_runtime/test_interrupt.py), so the profile is surely still
running when Ctrl-C comes, and ends when the test opens the gate."""
import os
import pty
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from agentlib import DAA, check, run_test_in_dir  # noqa: E402
from proflib import GATE, gated_big_profile  # noqa: E402

ROWS = 600000
KERNEL = gated_big_profile(ROWS)


def read_until(fd, want, timeout=240):
    """Read the pty until `want` appears; all text read."""
    out, end = b"", time.monotonic() + timeout
    while want.encode() not in out:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError("no %r on the terminal; got %r" % (want, out.decode(errors="replace")))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out.decode(errors="replace")


def on_terminal(env, args):
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DAA, [DAA, "--no-start"] + args, env)
    return pid, fd


def profile_and_interrupt(d):
    """`daa profile big --refresh` on a terminal, Ctrl-C once it says it is
    profiling; (all text, wait status)."""
    pid, fd = on_terminal(d.env, ["-p", "p", "profile", "big", "--refresh"])
    read_until(fd, "profiling in the project's kernel")
    os.write(fd, b"\x03")                                   # Ctrl-C, as typed
    text = read_until(fd, "kernel.interrupt sent")
    try:
        text += read_until(fd, "\n", timeout=120)
        while True:
            text += os.read(fd, 4096).decode(errors="replace")
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    return text, status


def body(d, work):
    big = os.path.join(work, "big.csv")
    with open(big, "w") as f:
        f.write("id,a\n1,2\n")
    c = d.client(timeout=300)
    proj = c.call("project.create", name="p")["path"]
    c.call("run", project="p", code="keep = 7", timeout=120)
    c.call("data.add", project="p", path=big)   # its background profile is what we join
    text, status = profile_and_interrupt(d)
    check(os.WEXITSTATUS(status) == 1 and "interrupted" in text, "after Ctrl-C: %r (status %d)" % (text, status))
    r = c.call("run", project="p", code="keep", scratch=True, timeout=120)
    check(r["result"]["repr"] == "7", "the kernel lost its variables: %r" % r)
    print("ok - Ctrl-C on a long `daa profile` interrupts it in the kernel; variables kept")
    open(os.path.join(proj, GATE), "w").close()
    p = subprocess.run([DAA, "--no-start", "-p", "p", "profile", "big"], env=d.env,
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0 and "big: %d rows" % ROWS in p.stdout, "profile again: %r %r" % (p.stdout, p.stderr))
    check("profiling in the project's kernel" not in p.stderr, "notice printed without a terminal")
    print("ok - the next `daa profile` makes it and prints the summary; no notice when piped")


def main():
    run_test_in_dir("daa-clilong.", body, fake_kernel=KERNEL)


if __name__ == "__main__":
    main()
