#!/usr/bin/python3
"""daad refuses a kernel as a client on its socket (server.c conn_peer_ok ->
server_peer_is_kernel).  A kernel cannot make a socket at all (seccomp), so
the positive control is a process that joins a live kernel's user namespace
(the mount-namespace layer gives each kernel its own) and then connects:
the same process is served before it joins and refused after.  The pid and
session rules are tested with a fake kernel list in
tests/sandbox_policy/test_peer_check."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kernel"))
from kcli import Session, skip_unless_built  # noqa: E402

# Runs in a child: ping, join the kernel's user namespace, ping again.
CHILD = r'''
import ctypes, os, sys
sys.path.insert(0, sys.argv[3])
from daad import Client
def ping():
    try:
        with Client(sys.argv[1], timeout=10) as c:
            return "served" if c.call("ping").get("pong") else "odd answer"
    except Exception as e:
        return "refused (%s)" % type(e).__name__
print("before:", ping())
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/proc/%s/ns/user" % sys.argv[2], os.O_RDONLY)
if libc.setns(fd, 0x10000000) != 0:
    print("setns failed:", os.strerror(ctypes.get_errno()))
    sys.exit(3)
print("after:", ping())
'''


def descends_from(pid, ancestor):
    """Is ancestor among pid's parents (via /proc/PID/stat)?"""
    for _ in range(64):
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def kernel_pids(daemon_pid):
    """Pids of this daemon's live kernels (daa_kernel.py processes in their
    own user namespace); other daemons' kernels (tests running alongside)
    are not ours to test with."""
    mine = os.stat("/proc/self/ns/user").st_ino
    out = []
    for p in os.listdir("/proc"):
        try:
            if (p.isdigit() and b"daa_kernel.py" in open("/proc/%s/cmdline" % p, "rb").read()
                    and os.stat("/proc/%s/ns/user" % p).st_ino != mine
                    and descends_from(int(p), daemon_pid)):
                out.append(int(p))
        except OSError:
            pass
    return out


def main():
    skip_unless_built()
    with Session() as s:
        r, p = s.run_json("1 + 1")
        assert r and r.get("ok"), p.stdout + p.stderr
        pids = kernel_pids(s.d.proc.pid)
        if not pids:
            print("skip: kernels do not run in a user namespace of their own (mount-namespace layer off)")
            sys.exit(77)
        res = subprocess.run([sys.executable, "-c", CHILD, s.d.sock, str(pids[0]),
                              os.path.join(HERE, "..", "lib")],
                             capture_output=True, text=True, timeout=60)
        print(res.stdout, res.stderr)
        assert "before: served" in res.stdout, "the control client was not served"
        assert "after: refused" in res.stdout, "a process in a kernel's namespace was served"
        assert "refused a connection from kernel process" in s.d.log_text(), "no log line"
        r, p = s.run_json("1 + 1")
        assert r and r.get("ok"), "the daemon stopped working: " + p.stdout + p.stderr
    print("ok: a process inside a kernel's namespace is refused, the same process outside served")


if __name__ == "__main__":
    main()
