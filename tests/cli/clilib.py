"""tests/cli/clilib.py — helpers for the daa CLI tests: run the daa binary
under a clean environment (env -i style: only what the test passes), with a
timeout that only guards against hangs, and small check helpers."""
import os
import select
import subprocess
import sys
import time

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("DAA_BUILD") or os.path.join(ROOT, "build")
DAA = os.path.join(BUILD, "bin", "daa")
DAAD = os.path.join(BUILD, "bin", "daad")
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def __repr__(self):
        return "exit %s\n--- stdout ---\n%s--- stderr ---\n%s" % (self.rc, self.out, self.err)


def daa(args, env, cwd=None, stdin="", timeout=60, exe=DAA):
    """Run daa with exactly env; returns a Result."""
    p = subprocess.run([exe] + list(args), env=env, cwd=cwd, input=stdin, text=True,
                       capture_output=True, timeout=timeout)
    return Result(p)


def pty_run(args, env, reply, timeout=120):
    """Run daa on a pseudo-terminal; answer `reply` (unless None) at the first '> ' prompt."""
    master, slave = os.openpty()
    p = subprocess.Popen([DAA] + args, env=env, stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True)
    os.close(slave)
    out, sent, deadline = b"", False, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if reply is not None and not sent and b"\n> " in out:
                    os.write(master, reply.encode() + b"\n")
                    sent = True
            elif p.poll() is not None:
                break
        return p.wait(timeout=10), out.decode("utf-8", "replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect(r, rc, what, out=None, err=None):
    """r exited with rc and its stdout/stderr hold the given texts."""
    check(r.rc == rc, "%s: expected exit %d, got %r" % (what, rc, r))
    for s in ([out] if isinstance(out, str) else out or []):
        check(s in r.out, "%s: %r not in stdout: %r" % (what, s, r))
    for s in ([err] if isinstance(err, str) else err or []):
        check(s in r.err, "%s: %r not in stderr: %r" % (what, s, r))


def run_tests(tests):
    """TAP output, exit 1 on any failure."""
    failed = 0
    for i, t in enumerate(tests, 1):
        try:
            t()
            print("ok %d - %s" % (i, t.__name__))
        except Exception:  # noqa: BLE001 — report each failure, go on
            import traceback
            failed += 1
            print("not ok %d - %s" % (i, t.__name__))
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    print("1..%d" % len(tests))
    sys.exit(1 if failed else 0)
