#!/usr/bin/python3
"""Kernel runtime: bind waits until the kernel's mount helper has ended
(daakernel/seal.py helper_gone) before sealing and running user code.  The
helper (sandbox/sbx_ns.c) is the kernel's one child, pid 2 of its pid
namespace, and exits after it has mounted the project and replied: on a
loaded machine that exit was still under way when user code listed /proc
(tests/sandbox/test_attack_proc.py saw pid 2).  Here a child plays the
helper, with SIGCHLD ignored as in a kernel (sbx_spawn.c): it must be gone
when helper_gone returns True, a child that stays past the limit gives
False, and no child at all gives True."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kt  # noqa: E402

sys.path.insert(0, os.path.join(kt.ROOT, "sandbox", "python"))
from daakernel import seal  # noqa: E402


def child(seconds):
    """A child that ends after `seconds` (the helper's slow exit)."""
    pid = os.fork()
    if pid == 0:
        time.sleep(seconds)
        os._exit(0)
    return pid


def exists(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # as in a kernel with a helper
kt.check(seal.helper_gone(1.0), "no child: gone at once")
pid = child(0.3)
kt.check(seal.helper_gone(30.0) and not exists(pid), "a child ending later: waited for until it is gone")
pid = child(30)
kt.check(not seal.helper_gone(0.2) and exists(pid), "a child still there after the limit: False")
os.kill(pid, signal.SIGKILL)
kt.check(seal.helper_gone(30.0), "gone once killed")
sys.exit(kt.finish())
