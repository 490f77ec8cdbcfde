#!/usr/bin/python3
"""Attack suite: leaks.  The daemon's API key is not in os.environ; the
kernel holds no fd of the daemon's (only stdio and its channel); it cannot
signal the daemon or anything outside its sandbox (probed with signal 0 for
kill(-1): a real kill(-1) would hit every process of this uid if it worked)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attacklib import SECRET, Attack, run_suite  # noqa: E402


def daemon_alive(s, ctx, r):
    return None if s.d.proc.poll() is None else "the daemon died"


ATTACKS = [
    Attack("API key in os.environ", '''
probe("environ", lambda: [k for k, v in os.environ.items() if "@SECRET@" in v or "KEY" in k or "TOKEN" in k] or False)
probe("environ-bytes", lambda: b"@SECRET@" in open("/proc/self/environ", "rb").read() or False)
'''.replace("@SECRET@", SECRET), "blocked"),
    Attack("API key in the parent's memory", '''
probe("ppid-environ", lambda: open("/proc/%d/environ" % os.getppid(), "rb").read())
probe("ppid-cmdline", lambda: open("/proc/%d/mem" % os.getppid(), "rb").read(1))
''', "blocked"),
    Attack("inherited fds", '''
def extra_fds():
    mine = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            t = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        mine.append((int(fd), t))
    bad = [(fd, t) for fd, t in mine if "daad" in t or t.endswith(".log") or "daa.sock" in t]
    sockets = [fd for fd, t in mine if t.startswith("socket:")]
    print("fds:", mine)
    return bad or (len(sockets) > 1 and sockets) or False
probe("fds", extra_fds)
''', "blocked"),
    Attack("signals to the daemon", '''
import signal
probe("sig0-daemon", lambda: os.kill(@DAEMON_PID@, 0) or True)
probe("sigterm-daemon", lambda: os.kill(@DAEMON_PID@, signal.SIGTERM) or True)
probe("sigstop-daemon", lambda: os.kill(@DAEMON_PID@, signal.SIGSTOP) or True)
probe("killpg-daemon", lambda: os.killpg(os.getpgid(@DAEMON_PID@), 0) or True)
''', "blocked", daemon_alive),
    Attack("kill(-1)", '''
probe("kill-minus-1", lambda: os.kill(-1, 0) or True)
# in its own pid namespace pid 1 is the kernel itself (the host's init has no pid here)
probe("kill-pid1", lambda: os.getpid() != 1 and (os.kill(1, 0) or True))
''', "blocked", daemon_alive),
    Attack("session and terminal", '''
import fcntl, termios
probe("tiocsti", lambda: fcntl.ioctl(0, termios.TIOCSTI, b"x"))
probe("setsid-new-tty", lambda: os.open("/dev/tty", os.O_RDWR))
''', "blocked"),
]

if __name__ == "__main__":
    sys.exit(run_suite("leaks", ATTACKS))
