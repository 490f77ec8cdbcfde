"""Shared helpers for the kernel runtime tests: start sandbox/python/daa_kernel.py
directly (no daemon) with a socketpair on fd 3, send requests, read replies.
Not a test itself (no test_ prefix)."""

import atexit
import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time

import msgpack

ROOT = os.environ.get("DAA_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
RUNTIME = os.path.join(ROOT, "sandbox", "python", "daa_kernel.py")
PYTHON = os.environ.get("DAA_PYTHON", "/usr/bin/python3")
REPLY_TIMEOUT = 60   # a hang guard only; never a pass/fail criterion

FAILS = []
_TEMP_DIRS = []   # removed at exit, whatever happens
_KERNELS = []     # closed (or killed) at exit
MPL_DIR = tempfile.mkdtemp(prefix="daa-kt-mpl-")
_TEMP_DIRS.append(MPL_DIR)


@atexit.register
def _cleanup():
    """Stop every kernel still running and remove the temp folders (the
    tests' trap: runs on failures and exceptions too).  Killed, as daad
    stops its kernels (kern_kill): a kernel that exits on its own tears
    down every module it imported, 0.1-0.2 s of CPU each; a test about
    that exit calls close() itself."""
    for k in _KERNELS:
        if k.proc.poll() is None:
            k.sock.close()
            try:
                os.killpg(k.proc.pid, signal.SIGKILL)
            except ProcessLookupError:   # it ended in between
                pass
            k.proc.wait()
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


# A kernel started for a project that waits for it, as daad starts every
# kernel but the warm spare: matplotlib is imported at the first plot
# (lazyplot.py).  args=() starts one as the warm spare is (test_plots runs
# both).
ON_DEMAND = ("--plots-on-demand",)


class Kernel:
    """One runtime process and our end of its socket."""

    def __init__(self, env_extra=None, unsandboxed=True, args=ON_DEMAND):
        # Python's fds are close-on-exec; only fd 3 (dup2'd in the child) is inherited.
        self.sock, theirs = socket.socketpair()
        env = {"PATH": "/usr/bin:/bin", "HOME": MPL_DIR, "LANG": "C.UTF-8", "MPLCONFIGDIR": MPL_DIR}
        if unsandboxed:
            env["DAA_KERNEL_UNSANDBOXED"] = "1"
        env.update(env_extra or {})
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([PYTHON, "-I", RUNTIME] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr, env=env,
                                     preexec_fn=lambda: os.dup2(theirs.fileno(), 3),
                                     close_fds=False, start_new_session=True)
        theirs.close()
        self.sock.settimeout(REPLY_TIMEOUT)
        _KERNELS.append(self)
        self.unp = msgpack.Unpacker(raw=False, strict_map_key=False)
        self.next_id = 0
        self.ready = self.read()

    def read(self):
        """The next message from the kernel (hang guard: REPLY_TIMEOUT)."""
        while True:
            for m in self.unp:
                return m
            data = self.sock.recv(1 << 16)
            if not data:
                raise EOFError("kernel closed the socket; its stderr:\n" + self.log())
            self.unp.feed(data)

    def send(self, msg):
        self.sock.sendall(msgpack.packb(msg, use_bin_type=True))

    def req(self, op, **kw):
        """Send one request and return its reply (checking the id)."""
        self.next_id += 1
        self.send(dict(kw, op=op, id=self.next_id))
        r = self.read()
        assert r.get("id") == self.next_id, "reply id %r != %r" % (r.get("id"), self.next_id)
        return r

    def unread(self):
        """Bytes we sent that the kernel has not read yet (SIOCOUTQ: for a
        Unix stream socket, what still sits in the peer's receive queue)."""
        buf = fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
        return struct.unpack("i", buf)[0]

    def send_split(self, msg, between):
        """Send the first half of msg's frame, wait until the kernel has read
        it (so it has written every earlier reply and is reading this
        request), call between(), send the rest; return the reply."""
        data = msgpack.packb(msg, use_bin_type=True)
        self.sock.sendall(data[:len(data) // 2])
        deadline = time.monotonic() + REPLY_TIMEOUT   # hang guard only
        while self.unread():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("kernel never read the request; its log:\n" + self.log())
            time.sleep(0.005)
        between()
        self.sock.sendall(data[len(data) // 2:])
        r = self.read()
        assert r.get("id") == msg.get("id"), "reply id %r != %r" % (r.get("id"), msg.get("id"))
        return r

    def run(self, code, step=None, **kw):
        return self.req("exec", code=code, step=step, **kw)

    def log(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def close(self):
        """Close the socket (the kernel exits) and reap; kill if it lingers."""
        try:
            self.sock.close()
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        return self.proc.returncode


def make_project(files=None):
    """A temp project folder with data/ files {name: text}; returns its path."""
    d = tempfile.mkdtemp(prefix="daa-kt-")
    _TEMP_DIRS.append(d)
    os.makedirs(os.path.join(d, "data"))
    for name, text in (files or {}).items():
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(os.path.join(d, "data", name), mode) as f:
            f.write(text)
    return d


def check(cond, what, detail=""):
    """Record one check; printed as TAP-like lines."""
    print("%s - %s%s" % ("ok" if cond else "not ok", what,
                         "" if cond or not detail else "\n    " + str(detail)[:2000]))
    if not cond:
        FAILS.append(what)
    return cond


def finish(cleanup=()):
    """Remove temp dirs; exit 1 if any check failed."""
    for d in cleanup:
        shutil.rmtree(d, ignore_errors=True)
    if FAILS:
        print("FAILED: %s" % ", ".join(FAILS))
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)
